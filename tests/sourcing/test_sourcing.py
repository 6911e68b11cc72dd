"""Sourcing as a buyer: the buyer-side detail of other sellers' offers, follow,
keyword and image search, staging found offers, all against the sandbox over HTTP."""

import io
import json
from decimal import Decimal

import pytest
import requests
from django.urls import reverse
from PIL import Image

from catalog.models import UploadBatch, UploadItem
from catalog.shops.clients import make_client
from catalog.sourcing import services as sourcing
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused
from open1688 import BusinessError
from open1688.client import SEARCH_NAMESPACE
from tests.factories import UploadBatchFactory, UserFactory
from tests.sandbox.publishing_kit import Seller, legacy_offer, ready_seller_via_client

SUPPLIER = "b2b-2209500001"
DETAIL = "product.search.queryProductDetail"


@pytest.fixture
def supplier(sandbox):
    """Another seller (not the connected shop) with 40 offers, and its own token."""
    answer = sandbox.new_seller(SUPPLIER, "义乌源头工厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 40, "seed": 21})["product_ids"]
    return {"token": answer["access_token"], "ids": ids}


@pytest.fixture
def api(sandbox):
    with make_client(backoff_base=0.01, backoff_max=0.05) as client:
        yield client


def published(api, supplier) -> list:
    """The supplier's published offers as the supplier itself reads them (product.get)."""
    details = [api.get_product(supplier["token"], i) for i in supplier["ids"]]
    return [d for d in details if d.status == "published"]


# --- the buyer-side detail ------------------------------------------------------------------


def test_buyer_detail_maps_string_prices_skus_and_tiers(api, supplier, connected_shop):
    own_views = published(api, supplier)
    by_tiers = next(d for d in own_views if d.quote_type in (0, 2) and d.skus)
    by_sku = next(d for d in own_views if d.quote_type == 1)
    for own in (by_tiers, by_sku):
        bought = api.get_buyer_offer(connected_shop.access_token, own.product_id)
        raw = bought.raw
        # Its own shape: string prices, productSkuInfos/skuAttributes, priceRangeList.
        assert all(isinstance(t["price"], str) for t in raw["productSaleInfo"]["priceRangeList"])
        assert all(isinstance(s["price"], str | None) for s in raw["productSkuInfos"])
        assert "skuInfos" not in raw and "saleInfo" not in raw
        assert bought.offer_id == own.product_id and bought.subject == own.subject
        assert bought.quote_type == own.quote_type
        assert bought.price_ranges == own.price_ranges  # Decimal, same tiers
        assert all(isinstance(t.price, Decimal) for t in bought.price_ranges)
        assert bought.price_span() == own.price_span()
        assert [s.sku_id for s in bought.skus] == [s.sku_id for s in own.skus]
        for mine, theirs in zip(own.skus, bought.skus, strict=True):
            assert theirs.amount_on_sale == mine.amount_on_sale
            assert [a["value"] for a in theirs.attributes] == [
                a["attributeValue"] for a in mine.attributes
            ]
            assert bought.sku_tiers(theirs)[0].price == own.sku_tiers(mine)[0].price
        assert bought.supplier.member_id == SUPPLIER
        assert bought.supplier.company_name == "义乌源头工厂"
        assert bought.supplier.open_id and bought.supplier.trade_medal_level
        assert bought.supplier.composite_score is not None
    # The SKU-priced offer: every SKU has its own price, as a Decimal read from a string.
    bought = api.get_buyer_offer(connected_shop.access_token, by_sku.product_id)
    assert all(s.price == m.price for s, m in zip(bought.skus, by_sku.skus, strict=True))


def test_product_get_of_another_seller_is_refused_while_the_buyer_detail_reads_it(
    api, supplier, connected_shop
):
    offer_id = supplier["ids"][0]
    with pytest.raises(BusinessError) as refused:
        api.get_product(connected_shop.access_token, offer_id)
    assert refused.value.code == "PRODUCT_NOT_EXIST"
    detail = sourcing.read_supplier_offer(offer_id)  # the first connected shop's token
    assert detail.offer_id == offer_id
    with pytest.raises(Refused) as missing:
        sourcing.read_supplier_offer(999_999_999_999)
    assert missing.value.code == RefusalCode.OFFER_NOT_FOUND


def test_read_supplier_offer_without_a_connected_shop_is_refused(sandbox, db):
    with pytest.raises(Refused) as refused:
        sourcing.read_supplier_offer(620_000_000_001)
    assert refused.value.code == RefusalCode.SOURCING_NO_SHOP


def test_follow_and_unfollow_are_recorded_per_app_and_member(
    sandbox, supplier, connected_shop, settings
):
    first, second = supplier["ids"][:2]
    sourcing.follow_offer(first)
    sourcing.follow_offer(second)
    sourcing.follow_offer(first)  # again: still one row
    rows = sandbox.get("follows", app_key=settings.OPEN1688_APP_KEY)["follows"]
    assert [(r["member_id"], r["product_id"]) for r in rows] == [
        (connected_shop.member_id, first),
        (connected_shop.member_id, second),
    ]
    sourcing.unfollow_offer(first)
    rows = sandbox.get("follows", app_key=settings.OPEN1688_APP_KEY)["follows"]
    assert [r["product_id"] for r in rows] == [second]
    with pytest.raises(Refused) as refused:
        sourcing.follow_offer(999_999_999_999)
    assert refused.value.code == RefusalCode.OFFER_NOT_FOUND


# --- keyword search -------------------------------------------------------------------------


@pytest.fixture
def instant_audit(sandbox):
    """Offers published in a test are decided at once (`published`, so found by search)
    instead of `auditing` for 3 s (docs/sandbox-control.md, "Publishing")."""
    sandbox.control("switches", {"audit_seconds": 0, "audit_reject_share": 0})
    yield
    sandbox.control("switches", {"audit_seconds": 3})


def _new_offer(seller: Seller, subject: str, cargo: str, price: str, minimum: int) -> dict:
    """A dress without SKUs as 1688 accepts it: the seller's photobank picture, freight
    template and address, the leaf's required attributes with 货号 `cargo`
    (tests/sandbox/publishing_kit.py)."""
    return legacy_offer(
        seller.photo,
        seller.template,
        seller.address,
        cargo=cargo,
        productType="wholesale",
        categoryID=1031918,
        subject=subject,
        description="<p>沙箱</p>",
        skuInfos=[],
        saleInfo={
            "priceRanges": [{"startQuantity": minimum, "price": Decimal(price)}],
            "amountOnSale": 500,
            "minOrderQuantity": minimum,
            "unit": "件",
            "quoteType": 0,
        },
    )


@pytest.mark.usefixtures("instant_audit")
def test_keyword_search_ranks_a_title_match_first_and_filters_work(api, supplier, connected_shop):
    token = supplier["token"]
    seller = ready_seller_via_client(api, token)
    exact = api.add_product(
        token, _new_offer(seller, "沙箱独家 碎花连衣裙 夏季", "KW-1", "55.00", 2)
    )
    partial = api.add_product(token, _new_offer(seller, "碎花半身裙 百搭", "KW-2", "12.00", 50))
    query = sourcing.KeywordQuery(keyword="沙箱独家 碎花连衣裙")
    page = sourcing.search_by_keyword(user=None, query=query)
    ids = [o.offer_id for o in page.items]
    assert ids[0] == exact  # the whole keyword in the title ranks first
    assert partial in ids  # a piece of the keyword (碎花) still matches, lower
    assert ids.index(partial) > 0

    everything = sourcing.search_by_keyword(
        user=None, query=sourcing.KeywordQuery(keyword="裙"), page_size=50
    )
    assert everything.total_records > 2
    cheap = sourcing.search_by_keyword(
        user=None,
        query=sourcing.KeywordQuery(
            keyword="裙", price_min=Decimal("10"), price_max=Decimal("30"), sort="price:asc"
        ),
        page_size=50,
    )
    prices = [o.price for o in cheap.items]
    assert prices and all(Decimal("10") <= p <= Decimal("30") for p in prices)
    assert prices == sorted(prices) and partial in [o.offer_id for o in cheap.items]
    small_orders = sourcing.search_by_keyword(
        user=None, query=sourcing.KeywordQuery(keyword="碎花", min_order_max=5), page_size=50
    )
    found = [o.offer_id for o in small_orders.items]
    assert exact in found and partial not in found
    assert all(o.min_order_quantity <= 5 for o in small_orders.items)
    dresses = sourcing.search_by_keyword(
        user=None, query=sourcing.KeywordQuery(keyword="裙", category_id=1031918), page_size=50
    )
    assert dresses.items
    for offer in dresses.items[:5]:
        assert api.get_buyer_offer(connected_shop.access_token, offer.offer_id).category_id == (
            1031918
        )
    by_sales = sourcing.search_by_keyword(
        user=None, query=sourcing.KeywordQuery(keyword="裙", sort="monthSold:desc"), page_size=50
    )
    sold = [o.month_sold or 0 for o in by_sales.items]
    assert sold == sorted(sold, reverse=True)
    second = sourcing.search_by_keyword(
        user=None, query=sourcing.KeywordQuery(keyword="裙"), page=2, page_size=5
    )
    assert second.current_page == 2
    assert not {o.offer_id for o in second.items} & {o.offer_id for o in everything.items[:5]}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (sourcing.KeywordQuery(keyword="  "), "search.bad_query"),
        (sourcing.KeywordQuery(keyword="裙", sort="random"), "search.bad_query"),
        (
            sourcing.KeywordQuery(keyword="裙", price_min=Decimal(9), price_max=Decimal(1)),
            "search.bad_query",
        ),
    ],
)
def test_bad_keyword_queries_are_refused(connected_shop, query, code):
    with pytest.raises(Refused) as refused:
        sourcing.search_by_keyword(user=None, query=query)
    assert refused.value.code == code


# --- image search ---------------------------------------------------------------------------


def _picture_of(api, connected_shop, offer_id) -> bytes:
    detail = api.get_buyer_offer(connected_shop.access_token, offer_id)
    answer = requests.get(detail.images[0], timeout=10)
    assert answer.status_code == 200
    return answer.content


def test_image_search_finds_the_offer_from_a_resized_recompressed_picture(
    api, supplier, connected_shop
):
    offer_id = published(api, supplier)[5].product_id
    original = Image.open(io.BytesIO(_picture_of(api, connected_shop, offer_id)))
    smaller = io.BytesIO()
    original.resize((173, 151)).save(smaller, format="JPEG", quality=45)  # squashed, lossy
    image_id = sourcing.upload_search_image(user=None, image=smaller.getvalue())
    assert isinstance(image_id, str) and image_id
    found = sourcing.search_by_image(user=None, image_id=image_id)
    assert found.items[0].offer_id == offer_id
    # By the picture's address: 1688 (here the sandbox) fetches it.
    detail = api.get_buyer_offer(connected_shop.access_token, offer_id)
    by_address = sourcing.search_by_image(user=None, image_url=detail.images[0])
    assert by_address.items[0].offer_id == offer_id


def test_a_large_picture_is_shrunk_under_300_kb_and_still_found(api, supplier, connected_shop):
    offer_id = published(api, supplier)[7].product_id
    original = Image.open(io.BytesIO(_picture_of(api, connected_shop, offer_id)))
    big = original.convert("RGB").resize((2400, 2400))
    noise = Image.effect_noise((2400, 2400), 40).convert("RGB")
    big = Image.blend(big, noise, 0.12)  # grain that makes the PNG large
    raw = io.BytesIO()
    big.save(raw, format="PNG")
    assert raw.tell() > 3 * sourcing.UPLOAD_MAX_BYTES
    small = sourcing.shrink_for_upload(raw.getvalue())
    assert len(small) <= sourcing.UPLOAD_MAX_BYTES
    assert Image.open(io.BytesIO(small)).format == "JPEG"
    image_id = sourcing.upload_search_image(user=None, image=raw.getvalue())
    assert sourcing.search_by_image(user=None, image_id=image_id).items[0].offer_id == offer_id


def test_transparent_png_is_flattened_on_white():
    picture = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    raw = io.BytesIO()
    picture.save(raw, format="PNG")
    small = Image.open(io.BytesIO(sourcing.shrink_for_upload(raw.getvalue())))
    assert small.getpixel((25, 25)) >= (250, 250, 250)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not a picture at all", "image.invalid"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image.invalid"),
        (b"x" * (sourcing.IMAGE_MAX_BYTES + 1), "image.too_large"),
    ],
)
def test_bad_pictures_are_refused_before_any_call(sandbox, connected_shop, data, code):
    sandbox.reset_stats()
    with pytest.raises(Refused) as refused:
        sourcing.upload_search_image(user=None, image=data)
    assert refused.value.code == code
    assert "product.image.upload" not in sandbox.calls()


def test_image_upload_sends_upload_image_param_and_reads_the_string_success(
    api, supplier, connected_shop, sandbox
):
    picture = _picture_of(api, connected_shop, supplier["ids"][0])
    import base64

    answer = api.call(
        SEARCH_NAMESPACE,
        "product.image.upload",
        {"uploadImageParam": {"imageBase64": base64.b64encode(picture).decode()}},
        access_token=connected_shop.access_token,
    )
    assert answer["result"]["success"] == "true"  # a string, not a JSON true
    assert isinstance(answer["result"]["result"], str)
    assert api.upload_image(connected_shop.access_token, picture)  # the client reads it


# --- staging found offers (copy via the buyer-side detail) ----------------------------------


@pytest.mark.usefixtures("instant_audit")
def test_stage_offers_copies_through_the_buyer_detail(sandbox, api, supplier, connected_shop):
    # An offer the supplier published as 1688 accepts it (its leaf's required attributes).
    seller = ready_seller_via_client(api, supplier["token"])
    offer_id = api.add_product(
        supplier["token"], legacy_offer(seller.photo, seller.template, seller.address)
    )
    batch = UploadBatchFactory(shop=connected_shop)
    sandbox.reset_stats()
    result = sourcing.stage_offers(user=None, batch=batch, offer_ids=[offer_id])
    calls = sandbox.calls()
    assert calls.get(DETAIL) == 1 and "alibaba.product.get" not in calls
    (item,) = result.created
    bought = api.get_buyer_offer(connected_shop.access_token, offer_id)
    assert item.source == UploadItem.Source.COPY and item.source_offer_id == offer_id
    assert item.title == bought.subject and item.category_id == bought.category_id
    assert item.images == list(bought.images)
    assert len(item.skus) == len(bought.skus)
    assert item.validation_errors == {}
    assert sourcing.stage_offers(user=None, batch=batch, offer_ids=[offer_id]).skipped == [offer_id]


def test_stage_into_a_batch_that_is_not_a_draft_is_refused(connected_shop, supplier):
    batch = UploadBatchFactory(shop=connected_shop, status=UploadBatch.Status.DONE)
    with pytest.raises(Refused) as refused:
        sourcing.stage_offers(user=None, batch=batch, offer_ids=[supplier["ids"][0]])
    assert refused.value.code == RefusalCode.BATCH_NOT_DRAFT


def test_a_viewer_may_search_but_not_stage(connected_shop, supplier):
    viewer = UserFactory(roles=["viewer"])
    page = sourcing.search_by_keyword(user=viewer, query=sourcing.KeywordQuery(keyword="裙"))
    assert page.items
    batch = UploadBatchFactory(shop=connected_shop)
    with pytest.raises(PermissionRefused):
        sourcing.stage_offers(user=viewer, batch=batch, offer_ids=[supplier["ids"][0]])
    assert batch.items.count() == 0


# --- the staff pages ------------------------------------------------------------------------


def test_keyword_page_searches_pages_and_stages(client, connected_shop, supplier):
    operator = UserFactory(roles=["operator"])
    client.force_login(operator)
    batch = UploadBatchFactory(shop=connected_shop, name="夏季连衣裙")
    url = reverse("catalog:sourcing_search")
    assert client.get(url).status_code == 200
    page = client.get(url, {"keyword": "裙", "sort": "price:asc", "price_max": "80"})
    html = page.content.decode()
    assert page.status_code == 200 and "夏季连衣裙" in html
    results = page.context["results"]
    assert results.items and all(o.price <= 80 for o in results.items)
    assert page.context["watch_url"] is None or "watch-form" in html
    if results.total_page > 1:
        assert "page=2" in page.context["links"]["next"]
    offer_id = results.items[0].offer_id
    back = f"{url}?keyword=%E8%A3%99"
    answer = client.post(
        reverse("catalog:sourcing_stage"),
        {"offer_id": offer_id, "batch": batch.pk, "next": back},
    )
    assert answer.status_code == 302 and answer["Location"] == back
    assert list(batch.items.values_list("source_offer_id", flat=True)) == [offer_id]
    # An outside `next` is not followed.
    answer = client.post(
        reverse("catalog:sourcing_stage"),
        {"offer_id": offer_id, "batch": batch.pk, "next": "https://evil.example/"},
    )
    assert answer["Location"] == url


def test_the_documented_filters_and_a_sales_floor_narrow_the_page(client, connected_shop, supplier):
    client.force_login(UserFactory(roles=["operator"]))
    url = reverse("catalog:sourcing_search")

    def found(**params) -> tuple[set[int], int]:
        page = client.get(url, {"keyword": "裙", **params})
        assert page.status_code == 200 and not page.context["form"].errors
        results = page.context["results"]
        return {o.offer_id for o in results.items}, results.total_records

    everything, total = found()
    fast, fast_total = found(filters="shipIn48Hours")
    _both, both_total = found(filters=["shipIn48Hours", "certifiedFactory"])
    assert 0 < fast_total < total and fast != everything
    assert both_total <= fast_total
    sold = sorted(
        o.month_sold or 0
        for o in sourcing.search_by_keyword(
            user=None, query=sourcing.KeywordQuery(keyword="裙"), page_size=50
        ).items
    )
    floor = sold[len(sold) // 2] or 1
    _busy, busy_total = found(sold_30_days=str(floor))
    assert 0 < busy_total < total
    html = client.get(url, {"keyword": "裙"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "ship within 48 hours" in html
    refused = client.get(url, {"keyword": "裙", "filters": "minOrderQuantity:2"})
    assert "filters" in refused.context["form"].errors  # only the offered codes


@pytest.mark.parametrize(
    "params",
    [
        {"keyword": "裙", "price_min": "9", "price_max": "1"},
        {"keyword": "裙", "page": "0"},
        {"keyword": "裙", "page": "abc"},
        {"keyword": "裙\x00"},
        {"keyword": "裙", "sort": "nonsense"},
        {"keyword": "裙", "category": "-1"},
        {"keyword": "裙", "min_order": "1" * 30},
        {"keyword": "x" * 500},
    ],
)
def test_bad_search_input_is_a_form_error_not_a_500(staff_client, connected_shop, params):
    page = staff_client.get(reverse("catalog:sourcing_search"), params)
    assert page.status_code == 200
    assert page.context["form"].errors and page.context["results"] is None


def test_search_page_without_a_connected_shop_says_so(staff_client, sandbox):
    page = staff_client.get(reverse("catalog:sourcing_search"), {"keyword": "裙"})
    assert page.status_code == 200
    assert "Connect a 1688 shop first" in page.content.decode() or "请先连接" in (
        page.content.decode()
    )


def test_image_page_uploads_a_file_and_pages_by_image_id(
    staff_client, api, supplier, connected_shop
):
    offer_id = published(api, supplier)[3].product_id
    picture = _picture_of(api, connected_shop, offer_id)
    url = reverse("catalog:sourcing_image")
    upload = io.BytesIO(picture)
    upload.name = "photo.jpg"
    answer = staff_client.post(url, {"image": upload})
    assert answer.status_code == 302 and "image_id=" in answer["Location"]
    page = staff_client.get(answer["Location"])
    assert page.context["results"].items[0].offer_id == offer_id
    detail = api.get_buyer_offer(connected_shop.access_token, offer_id)
    page = staff_client.get(url, {"image_url": detail.images[0]})
    assert page.context["results"].items[0].offer_id == offer_id


@pytest.mark.parametrize(
    ("name", "data"),
    [("notes.txt", b"hello"), ("fake.jpg", b"\xff\xd8\xff\xe0 broken"), ("empty.png", b"")],
)
def test_image_page_refuses_bad_files_with_a_message(staff_client, connected_shop, name, data):
    upload = io.BytesIO(data)
    upload.name = name
    page = staff_client.post(reverse("catalog:sourcing_image"), {"image": upload})
    assert page.status_code == 200
    assert page.context["results"] is None


@pytest.mark.parametrize(
    "params", [{"image_url": "javascript:alert(1)"}, {"image_id": "../../x"}, {"page": "-3"}]
)
def test_image_page_bad_query_is_not_a_500(staff_client, connected_shop, params):
    page = staff_client.get(reverse("catalog:sourcing_image"), params)
    assert page.status_code == 200 and page.context["results"] is None


def test_stage_page_refuses_a_viewer_with_the_styled_page(client, connected_shop, supplier):
    client.force_login(UserFactory(roles=["viewer"]))
    batch = UploadBatchFactory(shop=connected_shop)
    answer = client.post(
        reverse("catalog:sourcing_stage"), {"offer_id": supplier["ids"][0], "batch": batch.pk}
    )
    assert answer.status_code == 403
    assert batch.items.count() == 0


def test_stage_page_with_bad_input_redirects_with_a_message(staff_client, connected_shop):
    answer = staff_client.post(reverse("catalog:sourcing_stage"), {"offer_id": "x", "batch": "y"})
    assert answer.status_code == 302
    messages = [str(m) for m in answer.wsgi_request._messages]
    assert messages


def test_sourcing_answers_are_json_the_sandbox_counts(sandbox, connected_shop, supplier):
    """The sandbox answers the buyer detail for any seller; the seller-side API does not."""
    sandbox.reset_stats()
    sourcing.read_supplier_offer(supplier["ids"][1])
    assert sandbox.calls() == {DETAIL: 1}
    assert json.dumps(sandbox.get("follows", app_key="nobody")) == '{"follows": []}'


def test_image_page_refuses_a_file_over_10_mb(staff_client, connected_shop, sandbox):
    sandbox.reset_stats()
    upload = io.BytesIO(b"\xff\xd8\xff\xe0" + b"0" * (sourcing.IMAGE_MAX_BYTES + 10))
    upload.name = "huge.jpg"
    page = staff_client.post(reverse("catalog:sourcing_image"), {"image": upload})
    assert page.status_code == 200 and page.context["results"] is None
    assert page.context["upload_form"].errors
    assert "product.image.upload" not in sandbox.calls()
