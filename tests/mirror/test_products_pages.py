"""The staff product list and product page: data shown, filters, search, sort, export, query
counts that do not grow with the page, and refusal without the view permission."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from catalog.models import PriceStockChange
from tests.factories import (
    PriceStockChangeFactory,
    ProductFactory,
    ShopFactory,
    SkuFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
LIST = reverse("catalog:product_list")


@pytest.fixture
def viewer(client):
    user = UserFactory(username="viewer")
    user.user_permissions.add(
        Permission.objects.get(codename="view_product"),
        Permission.objects.get(codename="view_pricestockchange"),
    )
    client.force_login(user)
    return client


def records(response) -> list:
    return list(response.context["page"].rows)


def shown(response) -> list[str]:
    return [product.subject for product in records(response)]


def test_list_shows_price_range_stock_skus_and_last_change(viewer):
    product = ProductFactory(
        subject="夏季纯棉短袖T恤",
        amount_on_sale=None,
        price_ranges=[
            {"start_quantity": 2, "price": "19.90"},
            {"start_quantity": 50, "price": "17.5"},
        ],
    )
    SkuFactory(product=product, stock=30)
    SkuFactory(product=product, stock=12)
    change = PriceStockChangeFactory(sku=product.skus.first())
    response = viewer.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "夏季纯棉短袖T恤" in html
    assert "¥17.50–19.90" in html
    row = records(response)[0]
    assert (row.sku_count, row.sku_stock, row.last_change_at) == (2, 42, change.observed_at)
    assert reverse("catalog:product_detail", args=[product.pk]) in html


def test_search_by_title_offer_id_and_sku_cargo_number(viewer):
    shirt = ProductFactory(subject="纯棉T恤", cargo_number="TS-1")
    cup = ProductFactory(subject="保温杯", offer_id=612345678901)
    SkuFactory(product=cup, cargo_number="CUP-RED-500")
    ProductFactory(subject="雨伞")
    assert shown(viewer.get(LIST, {"q": "T恤"})) == [shirt.subject]
    assert shown(viewer.get(LIST, {"q": "612345678901"})) == [cup.subject]
    assert shown(viewer.get(LIST, {"q": "cup-red"})) == [cup.subject]
    assert shown(viewer.get(LIST, {"q": "ts-1"})) == [shirt.subject]


def test_filters_shop_status_price_stock_category_and_recent_change(viewer):
    shop = ShopFactory(name="义乌二店")
    cheap = ProductFactory(
        shop=shop,
        subject="cheap",
        amount_on_sale=5,
        price_ranges=[{"start_quantity": 1, "price": "3.00"}],
        raw={"categoryName": "女装T恤"},
    )
    dear = ProductFactory(
        subject="dear",
        status="auditing",
        amount_on_sale=500,
        price_ranges=[{"start_quantity": 1, "price": "300.00"}],
        raw={"categoryName": "保温杯"},
    )
    gone = ProductFactory(subject="gone", delisted_at=timezone.now(), amount_on_sale=100)
    PriceStockChangeFactory(sku=SkuFactory(product=dear))
    old = PriceStockChangeFactory(sku=SkuFactory(product=gone))
    PriceStockChange.objects.filter(pk=old.pk).update(
        observed_at=timezone.now() - timedelta(days=40)
    )

    assert shown(viewer.get(LIST, {"shop": shop.pk})) == ["cheap"]
    assert shown(viewer.get(LIST, {"status": "auditing"})) == ["dear"]
    assert shown(viewer.get(LIST, {"status": "gone"})) == ["gone"]
    assert shown(viewer.get(LIST, {"price_min": "100"})) == ["dear"]
    assert shown(viewer.get(LIST, {"price_max": "10", "price_min": "1"})) == ["cheap"]
    assert shown(viewer.get(LIST, {"stock_below": "10"})) == ["cheap"]
    assert shown(viewer.get(LIST, {"category": "T恤"})) == ["cheap"]
    assert shown(viewer.get(LIST, {"changed_days": "7"})) == ["dear"]
    assert sorted(shown(viewer.get(LIST, {"changed_days": "60"}))) == ["dear", "gone"]
    assert cheap.pk not in {p.pk for p in records(viewer.get(LIST, {"status": "auditing"}))}


def test_per_sku_prices_stand_in_when_the_offer_has_no_tiers(viewer):
    product = ProductFactory(subject="per SKU", price_ranges=[])
    SkuFactory(product=product, price=Decimal("8.00"))
    SkuFactory(product=product, price=Decimal("12.50"))
    response = viewer.get(LIST, {"price_min": "10"})
    assert shown(response) == ["per SKU"]
    assert "¥8.00–12.50" in response.content.decode()


def test_sort_by_title_and_stock(viewer):
    for title, stock in (("b", 3), ("a", 9), ("c", 1)):
        ProductFactory(subject=title, amount_on_sale=stock)
    assert shown(viewer.get(LIST, {"sort": "subject"})) == ["a", "b", "c"]
    assert shown(viewer.get(LIST, {"sort": "-subject"})) == ["c", "b", "a"]
    assert shown(viewer.get(LIST, {"sort": "stock"})) == ["c", "b", "a"]


def test_bad_filters_are_form_errors_not_server_errors(viewer):
    for params in (
        {"price_min": "abc"},
        {"stock_below": "1" * 40},
        {"changed_days": "-3"},
        {"status": "nope"},
        {"shop": "99999999999999999999"},
        {"page": "9" * 30},
        {"page": "5"},  # past the last page
        {"sort": "raw"},
    ):
        response = viewer.get(LIST, params)
        assert response.status_code == 200, params


def test_pages_without_count_and_constant_queries(viewer):
    shop = ShopFactory()

    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert viewer.get(LIST).status_code == 200
        return queries

    for n in range(10):
        SkuFactory(product=ProductFactory(shop=shop, subject=f"p{n}"))
    ten = page_queries()
    for n in range(10, 50):
        product = ProductFactory(shop=shop, subject=f"p{n}")
        PriceStockChangeFactory(sku=SkuFactory(product=product))
    fifty = page_queries()
    assert len(ten) == len(fifty)
    counts = [q["sql"].upper() for q in fifty if "COUNT(" in q["sql"].upper()]
    assert all("LIMIT" in sql for sql in counts)  # a small list is counted, never past a bound
    for n in range(50, 60):
        ProductFactory(shop=shop, subject=f"p{n}")
    response = viewer.get(LIST)
    assert len(shown(response)) == 50 and response.context["page"].has_next
    assert len(shown(viewer.get(LIST + response.context["pager"]["next"]))) == 10


def test_export_holds_the_filtered_products(viewer):
    ProductFactory(subject="=cmd|' /C calc'!A0", cargo_number="A1")
    ProductFactory(subject="雨伞", cargo_number="B2")
    response = viewer.get(reverse("catalog:product_export", args=["csv"]), {"q": "cmd"})
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert rows[1][1] == "'=cmd|' /C calc'!A0"  # formula escaped
    response = viewer.get(reverse("catalog:product_export", args=["xlsx"]), {"q": "雨伞"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and values[1][1] == "雨伞"


def test_product_page_tables_and_chart_data(viewer):
    product = ProductFactory(
        subject="保温杯",
        attributes=[{"attributeID": 287, "attributeName": "材质", "value": "不锈钢"}],
    )
    sku = SkuFactory(product=product, stock=90)
    start = timezone.now() - timedelta(days=3)
    for day, (old, new) in enumerate([("19.90", "18.80"), ("18.80", "17.00")]):
        PriceStockChangeFactory(
            sku=sku, old_value=old, new_value=new, observed_at=start + timedelta(days=day),
            remote_modified_at=start + timedelta(days=day),
        )  # fmt: skip
    PriceStockChangeFactory(sku=sku, field="stock", old_value=100, new_value=90, observed_at=start)
    response = viewer.get(reverse("catalog:product_detail", args=[product.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "不锈钢" in html and "echarts.min.js" in html and 'id="chart-data"' in html
    chart = response.context["page"].chart
    assert [point[1] for point in chart["price"][0]["data"]] == [19.9, 18.8, 17.0, 17.0]
    assert [point[1] for point in chart["stock"][0]["data"]] == [100, 90, 90]
    embedded = html.split('id="chart-data" type="application/json">')[1].split("</script>")[0]
    assert json.loads(embedded) == json.loads(json.dumps(chart))
    assert sum(len(group.rows) for group in response.context["change_groups"]) == 3


def test_product_page_of_a_missing_product_is_404(viewer):
    assert viewer.get(reverse("catalog:product_detail", args=[999999])).status_code == 404
    assert viewer.get("/catalog/products/99999999999999999999999/").status_code == 404


def test_refused_without_the_view_permission(client):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(LIST).status_code == 403
    product = ProductFactory()
    assert client.get(reverse("catalog:product_detail", args=[product.pk])).status_code == 403
    assert client.get(reverse("catalog:product_export", args=["csv"])).status_code == 403


def test_anonymous_goes_to_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_bulk_sync_and_stage_copies_through_the_services(sandbox, connected_shop, client):
    from catalog.models import Product, SyncRun, UploadItem
    from sync.jobs import enqueue_sync
    from tests.conftest import run_worker
    from tests.factories import UploadBatchFactory

    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 3, "seed": 7})
    enqueue_sync(connected_shop)
    run_worker("sync")
    products = list(Product.objects.filter(shop=connected_shop).order_by("id")[:2])
    assert len(products) == 2
    client.force_login(UserFactory(username="boss", is_superuser=True))
    bulk = reverse("catalog:product_bulk")
    selected = [str(p.pk) for p in products]

    queued_before = SyncRun.objects.filter(status=SyncRun.Status.QUEUED).count()
    response = client.post(bulk, {"action": "sync", "select": selected, "next": LIST})
    assert response.status_code == 302 and response["Location"] == LIST
    assert SyncRun.objects.filter(shop=connected_shop, status="queued").count() == queued_before + 1

    batch = UploadBatchFactory(shop=connected_shop)
    response = client.post(bulk, {"action": "copy", "select": selected, "batch": batch.pk})
    assert response["Location"] == reverse("catalog:batch_detail", args=[batch.pk])
    copied = set(batch.items.values_list("source_offer_id", flat=True))
    assert copied == {p.offer_id for p in products}
    assert batch.items.filter(source=UploadItem.Source.COPY).count() == 2


def test_bulk_actions_refused_for_a_viewer(viewer):
    product = ProductFactory()
    batch_page = viewer.post(
        reverse("catalog:product_bulk"), {"action": "sync", "select": [product.pk]}, follow=True
    )
    assert batch_page.status_code == 200
    assert "permission" in batch_page.content.decode() or "权限" in batch_page.content.decode()


def test_tier_price_changes_get_their_own_line_in_the_chart(viewer):
    product = ProductFactory(subject="阶梯价")
    start = timezone.now() - timedelta(days=2)
    PriceStockChangeFactory(
        sku=SkuFactory(product=product),
        field=PriceStockChange.Field.TIER_PRICE,
        tier_start_quantity=3,
        remote_sku_id=0,
        old_value=Decimal("258.00"),
        new_value=Decimal("250.00"),
        observed_at=start,
    )
    response = viewer.get(reverse("catalog:product_detail", args=[product.pk]))
    (line,) = response.context["page"].chart["price"]
    assert "3" in line["name"] and [p[1] for p in line["data"]] == [258.0, 250.0, 250.0]
    assert "¥250.00" in response.content.decode()


def test_search_with_many_matches_pages_along_the_list_order(viewer, monkeypatch):
    from catalog.mirror import selectors as product_selectors

    monkeypatch.setattr(product_selectors, "SEARCH_ID_LIMIT", 1)  # "many" = more than one
    for n in range(3):
        SkuFactory(product=ProductFactory(subject=f"保温杯 {n}"), cargo_number=f"BW-{n}")
    ProductFactory(subject="雨伞", cargo_number="BW-X")
    assert sorted(shown(viewer.get(LIST, {"q": "保温杯"}))) == ["保温杯 0", "保温杯 1", "保温杯 2"]
    assert len(shown(viewer.get(LIST, {"q": "bw-"}))) == 4


def test_sku_prices_as_1688_has_them(viewer):
    product = ProductFactory(
        unit="件", price_ranges=[{"start_quantity": 3, "price": "258.00"}], quote_type=2
    )
    shared = SkuFactory(product=product, price=None)
    own = SkuFactory(
        product=product, price=None, price_ranges=[{"start_quantity": 1, "price": "9.5"}]
    )
    priced = SkuFactory(product=product, price=Decimal("12.00"))
    response = viewer.get(reverse("catalog:product_detail", args=[product.pk]))
    prices = dict((sku.pk, text) for sku, text in response.context["page"].skus)
    assert prices[priced.pk] == "¥12.00"
    assert prices[own.pk] == "≥1件 ¥9.50"
    assert prices[shared.pk] not in ("—", "")  # "the offer's tiers", in the page's language


@pytest.mark.django_db(transaction=True)
def test_category_filter_matches_offers_as_the_sync_stored_them(sandbox, connected_shop, client):
    """Synced over HTTP: a detail answer nests categoryName under productInfo; a list item
    carries none, and the shop's category tree names its id."""
    from catalog.models import CategoryNode, Product
    from catalog.publishing.categories import refresh_tree
    from sandbox.world.catalog_gen import CATEGORIES
    from sync.jobs import enqueue_sync
    from tests.conftest import run_worker

    names = {category.category_id: category.name for category in CATEGORIES}
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 12, "seed": 29})
    enqueue_sync(connected_shop)
    run_worker("sync")
    products = list(Product.objects.filter(shop=connected_shop))
    assert len(products) == 12
    assert all("categoryName" not in p.raw for p in products)  # not at the top level
    client.force_login(UserFactory(username="boss", is_superuser=True))
    category_id = products[0].category_id
    name = names[category_id]
    expected = {p.pk for p in products if name in names[p.category_id]}
    response = client.get(LIST, {"category": name})
    assert {p.pk for p in records(response)} == expected
    assert name in response.content.decode()  # the rows name their category
    assert {p.pk for p in records(client.get(LIST, {"category": str(category_id)}))} == {
        p.pk for p in products if p.category_id == category_id
    }

    # A list-shaped raw answer without the name: the category tree, read from 1688, names it.
    Product.objects.filter(pk=products[0].pk).update(raw={"productID": products[0].offer_id})
    assert products[0].pk not in {p.pk for p in records(client.get(LIST, {"category": name}))}
    refresh_tree(connected_shop)
    assert CategoryNode.objects.filter(category_id=category_id).exists()
    assert products[0].pk in {p.pk for p in records(client.get(LIST, {"category": name}))}
