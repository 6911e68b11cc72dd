"""A supplier's whole store (product.search.querySellerOfferList) against the sandbox over HTTP:
the listing pages through a 500-offer supplier finding each published offer exactly once, the
store page searches within it, opens from a watched offer or a search result, watches and
stages from it, and says so in a sentence when 1688 declines the permission."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from catalog.models import UploadItem, WatchedOffer
from catalog.shops.clients import make_client
from open1688 import PermissionDeniedError
from open1688.apis.search import SELLER_OFFERS_API as API
from tests.factories import UploadBatchFactory

SUPPLIER = "b2b-2209500077"


@pytest.fixture
def supplier(sandbox):
    sandbox.new_seller(SUPPLIER, "永康五金源头厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 500, "seed": 27})["product_ids"]
    offers = sandbox.get("offers", member_id=SUPPLIER, limit=1000)["offers"]
    published = {o["productID"]: o["subject"] for o in offers if o["status"] == "published"}
    assert len(ids) == 500 and len(published) > 100
    return published


def _open_id(connected_shop, offer_id) -> str:
    with make_client() as client:
        return client.get_buyer_offer(connected_shop.access_token, offer_id).supplier.open_id


def test_the_listing_pages_through_500_offers_finding_each_once(supplier, connected_shop):
    open_id = _open_id(connected_shop, next(iter(supplier)))
    seen = []
    with make_client() as client:
        first = client.query_seller_offers(connected_shop.access_token, open_id, page_size=50)
        assert first.total_records == len(supplier)
        for page in range(1, first.total_page + 1):
            found = client.query_seller_offers(
                connected_shop.access_token, open_id, page=page, page_size=50
            )
            seen += [offer.offer_id for offer in found.items]
        assert len(seen) == len(set(seen)) and set(seen) == set(supplier)
        word = next(iter(supplier.values())).split()[0][:2]
        within = client.query_seller_offers(
            connected_shop.access_token, open_id, keyword=word, page_size=50
        )
        expected = {i for i, subject in supplier.items() if word in subject}
        assert within.total_records == len(expected)
        assert {o.offer_id for o in within.items} <= expected
        nobody = client.query_seller_offers(connected_shop.access_token, "0" * 32)
        assert nobody.total_records == 0 and not nobody.items


def test_a_declined_permission_is_a_typed_error(sandbox, supplier, connected_shop):
    open_id = _open_id(connected_shop, next(iter(supplier)))
    sandbox.control("acl", {"app_key": settings.OPEN1688_APP_KEY, "declined": [API]})
    with make_client() as client, pytest.raises(PermissionDeniedError):
        client.query_seller_offers(connected_shop.access_token, open_id)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_page_says_when_1688_declines_the_permission(
    sandbox, supplier, connected_shop, staff_client, language
):
    open_id = _open_id(connected_shop, next(iter(supplier)))
    sandbox.control("acl", {"app_key": settings.OPEN1688_APP_KEY, "declined": [API]})
    page = staff_client.get(
        reverse("catalog:supplier_store"), {"seller": open_id}, HTTP_ACCEPT_LANGUAGE=language
    )
    text = page.content.decode()
    with translation.override(language):
        expected = translation.gettext(
            "1688 has not granted this app the cross-border sourcing permission, so a "
            "supplier's whole store cannot be listed. Ask whoever manages the app on the "
            "1688 open platform to add it; searching by keyword or picture and watching "
            "offers still work."
        )
    assert page.status_code == 200 and expected.replace("'", "&#x27;") in text
    if language == "zh-hans":
        assert "跨境" in text
    assert API not in text  # no API name for staff


def test_store_page_from_a_search_result_pages_searches_watches_and_stages(
    supplier, connected_shop, staff_client
):
    store = reverse("catalog:supplier_store")
    first_id = next(iter(supplier))
    opened = staff_client.get(store, {"offer": first_id})
    assert opened.status_code == 302
    page = staff_client.get(opened["Location"])
    results = page.context["results"]
    assert results.total_records == len(supplier) and len(results.items) == 20
    assert page.context["links"]["next"] and "永康五金源头厂" in page.content.decode()
    following = staff_client.get(store + page.context["links"]["next"])
    assert not {o.offer_id for o in following.context["results"].items} & {
        o.offer_id for o in results.items
    }
    seller = page.context["seller"]
    word = next(iter(supplier.values())).split()[0][:2]
    searched = staff_client.get(store, {"seller": seller, "keyword": word})
    assert all(word in o.subject for o in searched.context["results"].items)
    target = searched.context["results"].items[0].offer_id
    here = searched.context["here"]
    watched = staff_client.post(reverse("catalog:watch_add"), {"offer_id": target, "next": here})
    assert watched["Location"] == here and WatchedOffer.objects.get().offer_id == target
    batch = UploadBatchFactory(shop=connected_shop)
    staged = staff_client.post(
        reverse("catalog:sourcing_stage"), {"offer_id": target, "batch": batch.pk, "next": here}
    )
    assert staged["Location"] == here
    assert UploadItem.objects.filter(batch=batch).count() == 1


def test_a_watched_offer_links_to_its_suppliers_store(supplier, connected_shop, staff_client):
    target = next(iter(supplier))
    staff_client.post(reverse("catalog:watch_add"), {"offer_id": target})
    watched = WatchedOffer.objects.get()
    detail = staff_client.get(reverse("catalog:watch_detail", args=[watched.pk]))
    assert watched.supplier_open_id and watched.supplier_open_id in detail.content.decode()
    page = staff_client.get(reverse("catalog:supplier_store"), {"seller": watched.supplier_open_id})
    assert page.context["results"].total_records == len(supplier)
