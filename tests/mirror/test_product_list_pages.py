"""The product list pages by key, not by OFFSET: every product once whatever the sort and its
ties, the same queries on a deep page as on the first, and a total that is counted only where
counting is cheap (the planner's estimate, said to be one, elsewhere)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.mirror import pages as product_pages
from catalog.mirror.selectors import product_list_queryset
from catalog.models import Product, SyncRun
from sync.jobs import enqueue_sync
from tests.conftest import run_worker
from tests.factories import (
    PriceStockChangeFactory,
    ProductFactory,
    ShopFactory,
    SkuFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
LIST = reverse("catalog:product_list")
SORTS = [
    "-modified", "modified", "subject", "-subject", "stock", "-stock", "price", "-price",
    "sku_count", "-sku_count",
]  # fmt: skip


@pytest.fixture
def viewer(client):
    client.force_login(UserFactory(username="pager", permissions=["view_product"]))
    return client


@pytest.fixture
def many(db):
    """130 products: sort values shared by ten at a time, and some without any (NULL)."""
    shop = ShopFactory()
    moment = timezone.now().replace(microsecond=0)
    products = []
    for n in range(130):
        tie = n % 13
        products.append(
            ProductFactory(
                shop=shop,
                subject=f"商品 {tie:02d}",
                remote_modified_at=None if tie == 0 else moment - timedelta(hours=tie),
                amount_on_sale=None if tie == 1 else tie * 10,
                sort_price=None if tie == 2 else Decimal(tie * 3) / 2,
                sort_sku_count=tie % 4,
            )
        )
    return products


def walk(client, params: dict, direction: str = "next") -> list[list[int]]:
    """Follow the next (or, from the last page, the previous) links; the pages' product ids."""
    start = {**params, "last": "1"} if direction == "previous" else params
    response = client.get(LIST, start)
    pages = []
    while True:
        assert response.status_code == 200
        pages.append([product.pk for product in response.context["page"].rows])
        link = response.context["pager"][direction]
        if not link:
            return pages
        assert len(pages) < 100, "the pages never end"
        response = client.get(LIST + link)


@pytest.mark.parametrize("sort", SORTS)
def test_every_product_once_forwards_and_backwards(viewer, many, sort):
    forwards = walk(viewer, {"sort": sort, "size": "25"})
    ids = [pk for page in forwards for pk in page]
    assert len(ids) == 130 and set(ids) == {p.pk for p in many}
    assert [len(page) for page in forwards] == [25, 25, 25, 25, 25, 5]
    backwards = walk(viewer, {"sort": sort, "size": "25"}, direction="previous")
    assert [pk for page in reversed(backwards) for pk in page] == ids


def test_the_order_is_the_sort_with_ties_broken_by_id(viewer, many):
    ids = [pk for page in walk(viewer, {"sort": "subject", "size": "50"}) for pk in page]
    expected = sorted(many, key=lambda p: (p.subject, p.pk))
    assert ids == [p.pk for p in expected]


def test_a_deep_page_costs_what_the_first_costs(viewer, many):
    for product in many[:60]:
        PriceStockChangeFactory(sku=SkuFactory(product=product))

    def queries(url, params=None):
        with CaptureQueriesContext(connection) as captured:
            response = viewer.get(url, params)
        assert response.status_code == 200
        return response, [q["sql"].upper() for q in captured]

    first, first_sql = queries(LIST, {"size": "25"})
    response = first
    for _ in range(4):
        response, deep_sql = queries(LIST + response.context["pager"]["next"])
    assert response.context["pager"]["number"] == 5
    assert len(deep_sql) == len(first_sql)
    assert not any("OFFSET" in sql for sql in first_sql + deep_sql)
    last, last_sql = queries(LIST + first.context["pager"]["last"])
    # The last page is the last 25 rows (pages by key are not aligned to a count).
    assert len(last.context["page"].rows) == 25 and len(last_sql) == len(first_sql)


def test_price_and_sku_count_order_the_list(viewer, many):
    ids = [pk for page in walk(viewer, {"sort": "-price", "size": "50"}) for pk in page]
    priced = [p for p in many if p.sort_price is not None]
    priced.sort(key=lambda p: (p.sort_price, p.pk), reverse=True)
    unpriced = sorted((p for p in many if p.sort_price is None), key=lambda p: -p.pk)
    # Offers without a price sort where the database puts NULL: first descending on PostgreSQL.
    nulls_first = connection.features.nulls_order_largest
    expected = unpriced + priced if nulls_first else priced + unpriced
    assert ids == [p.pk for p in expected]
    ids = [pk for page in walk(viewer, {"sort": "sku_count", "size": "50"}) for pk in page]
    assert ids == [p.pk for p in sorted(many, key=lambda p: (p.sort_sku_count, p.pk))]


@pytest.mark.django_db(transaction=True)
def test_the_sync_stores_the_figures_the_sorts_read(viewer, sandbox, connected_shop):
    seeded = sandbox.control(
        "seed", {"member_id": connected_shop.member_id, "count": 12, "seed": 4}
    )

    def sync():
        run = enqueue_sync(connected_shop)
        run_worker("sync")
        run.refresh_from_db()
        assert run.status == SyncRun.Status.SUCCEEDED, run.error

    def stored_equals_shown():
        for product in product_list_queryset().filter(shop=connected_shop):
            assert product.sort_price == product.low_price, product.offer_id
            assert product.sort_sku_count == product.sku_count, product.offer_id

    sync()
    stored_equals_shown()
    assert Product.objects.filter(sort_sku_count__gt=0).exists()
    cheapest = Product.objects.get(offer_id=seeded["product_ids"][5])
    sandbox.control(
        "offers/update",
        {"product_id": cheapest.offer_id, "price_ranges": [{"startQuantity": 1, "price": "0.05"}]},
    )
    sync()
    stored_equals_shown()
    rows = viewer.get(LIST, {"sort": "price"}).context["page"].rows
    assert [p for p in rows if p.sort_price is not None][0].offer_id == cheapest.offer_id
    assert "¥0.05" in viewer.get(LIST, {"sort": "price"}).content.decode()


def test_page_size_choice(viewer, many):
    assert len(viewer.get(LIST, {"size": "100"}).context["page"].rows) == 100
    assert len(viewer.get(LIST, {"size": "7"}).context["page"].rows) == 50  # not offered


def test_odd_keys_fall_back_to_the_first_page(viewer, many):
    for params in (
        {"after": "not-a-key"},
        {
            "before": "W251bGwsIDFd",
            "sort": "subject",
        },  # [null, 1] for a sort whose column has no NULL
        {"after": "eyJhIjogMX0", "sort": "subject"},
        {"after": "x" * 5000},
        {"sort": "raw", "after": "W251bGwsIDFd"},
    ):
        response = viewer.get(LIST, params)
        assert response.status_code == 200, params
        assert len(response.context["page"].rows) == 50, params


def _counts(captured) -> list[str]:
    """Row counts (the list's own per-row SKU count is a COUNT inside its page query)."""
    return [q["sql"].upper() for q in captured if q["sql"].upper().startswith("SELECT COUNT(")]


def _analyze():
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE catalog_product" if connection.vendor == "postgresql" else "ANALYZE"
        )


def test_the_whole_list_shows_the_estimate_without_counting(viewer, many, monkeypatch):
    monkeypatch.setattr(product_pages, "EXACT_COUNT_LIMIT", 100)
    _analyze()
    with CaptureQueriesContext(connection) as captured:
        response = viewer.get(LIST)
    assert not any(_counts(captured))
    total = response.context["pager"]["total"]
    assert not total.exact and not total.floor and total.number == 130
    assert 'id="product-total"' in response.content.decode()


def test_a_small_filtered_list_is_counted_exactly(viewer, many, monkeypatch):
    monkeypatch.setattr(product_pages, "EXACT_COUNT_LIMIT", 100)
    _analyze()
    few = ShopFactory()
    for _ in range(3):
        ProductFactory(shop=few)
    with CaptureQueriesContext(connection) as captured:
        response = viewer.get(LIST, {"shop": few.pk})
    total = response.context["pager"]["total"]
    assert (total.number, total.exact) == (3, True)
    counts = _counts(captured)
    assert len(counts) == 1 and "LIMIT 101" in counts[0]  # bounded, whatever the table's size


def test_a_big_filtered_list_is_estimated_or_a_floor(viewer, many, monkeypatch):
    monkeypatch.setattr(product_pages, "EXACT_COUNT_LIMIT", 20)
    _analyze()
    total = viewer.get(LIST, {"q": "商品"}).context["pager"]["total"]
    assert not total.exact
    if connection.vendor == "postgresql":  # EXPLAIN's row estimate
        assert not total.floor and total.number > 20
    else:
        assert total.floor and total.number == 20


def test_two_character_terms_find_titles_and_cargo_numbers(viewer):
    cotton = ProductFactory(subject="夏季纯棉短袖T恤", cargo_number="AB-1")
    SkuFactory(product=ProductFactory(subject="保温杯"), cargo_number="xy-500")
    ProductFactory(subject="雨伞", cargo_number="CD-2")

    def found(term):
        return {p.subject for p in viewer.get(LIST, {"q": term}).context["page"].rows}

    assert found("纯棉") == {cotton.subject}
    assert found("短袖") == {cotton.subject}
    assert found("ab") == {cotton.subject}  # any case, as icontains
    assert found("XY") == {"保温杯"}
    assert found("棉短") == {cotton.subject}
    assert found("棉伞") == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bigram index is PostgreSQL's")
def test_two_character_terms_are_served_by_an_index():
    from catalog.mirror.selectors import _contains
    from catalog.models import Product, Sku

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for model, column in ((Product, "subject"), (Product, "cargo_number"), (Sku, "cargo_number")):
        plan = model.objects.filter(_contains(model, column, "纯棉")).explain()
        assert any("Index Scan on" in line and "_bigrams" in line for line in plan.splitlines())
