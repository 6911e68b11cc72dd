"""The watchlist's staff pages: add by id/link in bulk or from a search result, the
list with freshness and channel, a watched offer's page with its supplier and market figures
(or "not granted"), remove and read again, the dashboard block, refusals and bad input."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Channel, PriceStockChange, WatchedOffer
from catalog.watch import services as watch
from tests.factories import UserFactory

SUPPLIER = "b2b-2209900001"
MARKET = "product.analyze.getPerdaySellQuantityTrendNew"


@pytest.fixture
def offers(sandbox, connected_shop):
    sandbox.new_seller(SUPPLIER, "杭州箱包厂")
    return sandbox.control("seed", {"member_id": SUPPLIER, "count": 6, "seed": 9})["product_ids"]


@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(username="op", roles=["operator"]))
    return client


def test_operator_watches_pasted_ids_and_links_and_sees_them_listed(operator_client, offers):
    text = f"{offers[0]}\nhttps://detail.1688.com/offer/{offers[1]}.html, {offers[0]}"
    answer = operator_client.post(reverse("catalog:watch_list"), {"refs": text}, follow=True)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert set(WatchedOffer.objects.values_list("offer_id", flat=True)) == set(offers[:2])
    assert "杭州箱包厂" in html and 'class="watched-offer"' in html
    assert "Manual" in html or "手动" in html  # the channel of the first read


def test_bad_refs_are_a_form_error_not_a_500(operator_client, offers):
    answer = operator_client.post(reverse("catalog:watch_list"), {"refs": "abc https://x.y/"})
    assert answer.status_code == 200
    assert "abc" in answer.content.decode() and not WatchedOffer.objects.exists()
    answer = operator_client.post(reverse("catalog:watch_list"), {"refs": "1" * 60})
    assert answer.status_code == 200 and not WatchedOffer.objects.exists()
    answer = operator_client.post(reverse("catalog:watch_add"), {"offer_id": "\x00"})
    assert answer.status_code == 302 and not WatchedOffer.objects.exists()


def test_watch_button_of_a_search_result_adds_it_and_goes_back(operator_client, offers):
    search = reverse("catalog:sourcing_search")
    page = operator_client.get(search, {"keyword": "包"})
    assert page.context["watch_url"] == reverse("catalog:watch_add")
    back = f"{search}?keyword=%E5%8C%85"
    answer = operator_client.post(
        reverse("catalog:watch_add"), {"offer_id": offers[2], "next": back}
    )
    assert answer.status_code == 302 and answer["Location"] == back
    assert WatchedOffer.objects.get().offer_id == offers[2]
    outside = operator_client.post(
        reverse("catalog:watch_add"), {"offer_id": offers[2], "next": "https://evil.example/"}
    )
    assert outside["Location"] == reverse("catalog:watch_list")


def test_a_viewer_sees_the_list_but_may_not_watch(client, offers):
    client.force_login(UserFactory(username="viewer", roles=["viewer"]))
    assert client.get(reverse("catalog:watch_list")).status_code == 200
    answer = client.post(reverse("catalog:watch_add"), {"offer_id": offers[0]})
    assert answer.status_code == 403 and not WatchedOffer.objects.exists()
    answer = client.post(reverse("catalog:watch_list"), {"refs": str(offers[0])})
    assert answer.status_code == 403 and not WatchedOffer.objects.exists()


def test_offer_page_shows_supplier_history_and_market_figures(
    operator_client, sandbox, offers, settings
):
    watch.watch_offers(user=None, refs=f"{offers[0]} {offers[1]}")
    watched = WatchedOffer.objects.get(offer_id=offers[0])
    detail = watch.sourcing.read_supplier_offer(offers[0])
    if detail.price_ranges:
        sandbox.control("offers/update", {"product_id": offers[0], "tier_delta": "1.00"})
    else:
        sku = detail.skus[0]
        sandbox.control(
            "offers/update",
            {"product_id": offers[0], "sku_prices": {str(sku.sku_id): str(sku.price + 1)}},
        )
    answer = operator_client.post(reverse("catalog:watch_reread", args=[watched.pk]))
    assert answer.status_code == 302
    assert PriceStockChange.objects.filter(watched_offer=watched).exists()
    page = operator_client.get(reverse("catalog:watch_detail", args=[watched.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "杭州箱包厂" in html and SUPPLIER in html  # company and seller id
    siblings = [w.offer_id for w in page.context["siblings"]]
    assert siblings == [offers[1]]
    assert page.context["chart"]["price"]  # the history chart has a price line
    market = page.context["market"]
    assert market["granted"] and len(market["series"]) == 2
    assert len(market["series"][0]["points"]) == 90
    assert WatchedOffer.objects.get(pk=watched.pk).last_change_channel == Channel.MANUAL
    # The change log lists the watched offer's row, linked to its page.
    log = operator_client.get(
        reverse("catalog:change_list"), {"source": "watch", "product": offers[0]}
    )
    assert reverse("catalog:watch_detail", args=[watched.pk]) in log.content.decode()
    other = operator_client.get(reverse("catalog:change_list"), {"product": offers[1]})
    assert reverse("catalog:watch_detail", args=[watched.pk]) not in other.content.decode()
    export = operator_client.get(reverse("catalog:change_export", args=["csv"]))
    assert export.status_code == 200 and str(offers[0]) in b"".join(export).decode()


def test_market_figures_not_granted_are_said_so(operator_client, sandbox, offers, settings):
    sandbox.control("switches", {"app_key": settings.OPEN1688_APP_KEY, "denied_apis": [MARKET]})
    watch.watch_offers(user=None, refs=str(offers[0]))
    watched = WatchedOffer.objects.get()
    page = operator_client.get(reverse("catalog:watch_detail", args=[watched.pk]))
    assert page.status_code == 200 and not page.context["market"]["granted"]
    assert 'id="market-not-granted"' in page.content.decode()


def test_stop_watching_and_the_dashboard_block(operator_client, sandbox, offers, settings):
    watch.watch_offers(user=None, refs=str(offers[0]))
    watched = WatchedOffer.objects.get()
    home = operator_client.get(reverse("home")).content.decode()
    assert 'id="watched-freshness"' in home and str(offers[0]) in home
    answer = operator_client.post(reverse("catalog:watch_remove", args=[watched.pk]))
    assert answer.status_code == 302
    watched.refresh_from_db()
    assert not watched.active
    assert sandbox.get("follows", app_key=settings.OPEN1688_APP_KEY)["follows"] == []
    listed = operator_client.get(reverse("catalog:watch_list"))
    assert list(listed.context["offers"]) == []
    assert list(operator_client.get(reverse("catalog:watch_list"), {"show": "all"}).context[
        "offers"
    ]) == [watched]  # fmt: skip


def test_unknown_watched_offer_pages_are_404(operator_client, db):
    assert operator_client.get(reverse("catalog:watch_detail", args=[999])).status_code == 404
    assert operator_client.post(reverse("catalog:watch_remove", args=[999])).status_code == 404


def test_price_of_a_watched_offer_in_the_list_is_its_lowest(db):
    watched = WatchedOffer.objects.create(
        offer_id=1,
        snapshot={
            "price_ranges": [{"start_quantity": 1, "price": "9.50"}],
            "skus": {"5": {"price": "8.20", "stock": 3}},
            "amount_on_sale": 3,
        },
    )
    assert watched.min_price == Decimal("8.20") and watched.stock == 3


def test_admin_lists_watched_offers_and_raw_push_messages_read_only(client, db):
    from catalog.models import PushMessage

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    WatchedOffer.objects.create(offer_id=42, subject="灯")
    PushMessage.objects.create(msg_id=7, topic="PRODUCT_X", channel=Channel.PUSH_HTTP, raw={})
    assert "灯" in client.get(reverse("admin:catalog_watchedoffer_changelist")).content.decode()
    assert client.get(reverse("admin:catalog_pushmessage_changelist")).status_code == 200
    assert client.get(reverse("admin:catalog_pushmessage_add")).status_code == 403
