"""Answers outside 1688's own domain (sync/answer_domain.py), over the real sandbox: a SKU stock
of 99,999,999,999,999 or a negative price quarantines that offer (not mirrored, not logged, no
alert, listed with its reason on the shop page), the rest of the shop syncs, every page answers
200, and a later sane answer clears the problem. Stock rows keep counts in their own columns,
which hold any 64-bit count on both backends, and the migration that moved them keeps old rows.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from catalog.alerts.rules import create_rule
from catalog.models import Alert, OfferDataProblem, PriceStockChange, Product, Sku, SyncRun
from sync.catalog_sync import start_run, sync_shop
from tests.factories import PriceStockChangeFactory

pytestmark = pytest.mark.django_db(transaction=True)
ABSURD_STOCK = 99_999_999_999_999


def sync(shop) -> SyncRun:
    run = sync_shop(start_run(shop))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def priced_skus(shop) -> list[Sku]:
    """SKUs with a price of their own (quoteType 1), one per offer."""
    skus = {}
    for sku in Sku.objects.filter(product__shop=shop, price__isnull=False).order_by("sku_id"):
        skus.setdefault(sku.product_id, sku)
    return list(skus.values())


def update(sandbox, sku: Sku, **change) -> None:
    sandbox.control("offers/update", {"product_id": sku.product.offer_id, **change})


def pages(client, shop, product) -> dict[str, int]:
    urls = {
        "dashboard": reverse("home"),
        "shop": reverse("catalog:shop_detail", args=[shop.pk]),
        "change log": reverse("catalog:change_list"),
        "product": reverse("catalog:product_detail", args=[product.pk]),
        "products": reverse("catalog:product_list"),
        "csv": reverse("catalog:change_export", args=["csv"]),
        "xlsx": reverse("catalog:change_export", args=["xlsx"]),
    }
    answers = {}
    for name, url in urls.items():
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)  # an export breaks while it streams
        answers[name] = response.status_code
    return answers


def test_an_absurd_stock_or_a_negative_price_quarantines_that_offer_only(
    sandbox, connected_shop, staff_client, staff_user, scoreboard
):
    shop = connected_shop
    sandbox.control("seed", {"member_id": shop.member_id, "count": 30, "seed": 41})
    assert sync_shop(start_run(shop, kind=SyncRun.Kind.FULL)).status == SyncRun.Status.SUCCEEDED
    absurd, negative, sane = priced_skus(shop)[:3]
    create_rule(user=staff_user, kind="stock_below", threshold=Decimal(10))
    create_rule(user=staff_user, kind="price_change", threshold=Decimal(5))
    mirrored = {s.pk: (s.stock, s.price) for s in (absurd, negative)}

    update(sandbox, absurd, sku_stock={str(absurd.sku_id): ABSURD_STOCK})
    update(sandbox, negative, sku_prices={str(negative.sku_id): "-5.00"})
    update(sandbox, sane, sku_stock={str(sane.sku_id): 3})
    scoreboard.hostile(2)
    sync(shop)  # on PostgreSQL this failed with "numeric field overflow", every run

    for sku in (absurd, negative):  # the mirror keeps what it knew; nothing logged or alerted
        sku.refresh_from_db()
        assert (sku.stock, sku.price) == mirrored[sku.pk]
        assert not PriceStockChange.objects.filter(product=sku.product_id).exists()
        assert not Alert.objects.filter(product=sku.product_id).exists()
    sane.refresh_from_db()
    assert sane.stock == 3  # the rest of the shop synced, and its alert fired
    assert PriceStockChange.objects.get(product=sane.product_id, field="stock").new_stock == 3
    assert Alert.objects.filter(product=sane.product_id).exists()
    problems = {p.offer_id: p for p in OfferDataProblem.objects.filter(shop=shop)}
    assert set(problems) == {absurd.product.offer_id, negative.product.offer_id}

    answers = pages(staff_client, shop, absurd.product)
    assert set(answers.values()) == {200}, answers
    url = reverse("catalog:shop_detail", args=[shop.pk])
    page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Data problems" in page and str(absurd.product.offer_id) in page
    assert f"SKU {absurd.sku_id}&#x27;s stock is {ABSURD_STOCK}" in page
    assert f"SKU {negative.sku_id}&#x27;s price is -5" in page
    page = staff_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "数据问题" in page and f"SKU {absurd.sku_id} 的库存为 {ABSURD_STOCK}" in page

    # Read again unchanged: still held, once per offer. Then 1688 answers sane values: cleared,
    # and the move from the mirror's value to the sane one is logged as usual.
    sync(shop)
    assert OfferDataProblem.objects.filter(shop=shop).count() == 2
    update(sandbox, absurd, sku_stock={str(absurd.sku_id): 12})
    update(sandbox, negative, sku_prices={str(negative.sku_id): "7.50"})
    sync(shop)
    assert not OfferDataProblem.objects.filter(shop=shop).exists()
    absurd.refresh_from_db()
    negative.refresh_from_db()
    assert (absurd.stock, negative.price) == (12, Decimal("7.50"))
    row = PriceStockChange.objects.get(product=absurd.product_id, field="stock")
    assert (row.old_stock, row.new_stock) == (mirrored[absurd.pk][0], 12)
    assert PriceStockChange.objects.get(product=negative.product_id, field="price").new_value == (
        Decimal("7.50")
    )


def test_an_offer_first_seen_with_a_negative_stock_is_not_mirrored(
    sandbox, connected_shop, scoreboard
):
    shop = connected_shop
    sandbox.control("seed", {"member_id": shop.member_id, "count": 5, "seed": 42})
    sync(shop)
    sku = Sku.objects.filter(product__shop=shop).order_by("sku_id").first()
    offer_id = sku.product.offer_id
    Product.objects.filter(pk=sku.product_id).delete()  # as if never seen
    update(sandbox, sku, sku_stock={str(sku.sku_id): -1})
    scoreboard.hostile()
    sync(shop)
    assert not Product.objects.filter(shop=shop, offer_id=offer_id).exists()
    assert Product.objects.filter(shop=shop).count() == 4
    (problem,) = OfferDataProblem.objects.filter(shop=shop)
    assert problem.offer_id == offer_id and problem.subject
    assert "-1" in [reason["params"]["value"] for reason in problem.reasons]


def test_stock_rows_hold_any_64_bit_count_and_pages_show_it(staff_client):
    big = 2**63 - 1
    row = PriceStockChangeFactory(field="stock", old_value=None, new_value=None)
    PriceStockChange.objects.filter(pk=row.pk).update(old_stock=-big, new_stock=big)
    row.refresh_from_db()
    assert (row.old_stock, row.new_stock, row.new_shown) == (-big, big, big)
    for url in (reverse("catalog:change_list"), reverse("home")):
        response = staff_client.get(url)
        assert response.status_code == 200 and str(big) in response.content.decode()
    export = staff_client.get(reverse("catalog:change_export", args=["csv"]))
    assert export.status_code == 200
    assert str(big) in b"".join(export.streaming_content).decode("utf-8-sig")


def test_the_migration_moves_stock_rows_to_the_stock_columns_and_keeps_them():
    before, after = [("catalog", "0015_verbose_names")], [("catalog", "0016_change_stock_columns")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    shop = old.get_model("catalog", "Shop").objects.create(member_id="b2b-m1", name="旧店")
    product = old.get_model("catalog", "Product").objects.create(
        shop=shop, offer_id=1, subject="旧商品"
    )
    now = timezone.now()
    change = old.get_model("catalog", "PriceStockChange")
    common = {"shop": shop, "product": product, "remote_modified_at": now}
    change.objects.create(field="stock", old_value=500, new_value=483, **common)
    change.objects.create(
        field="price", old_value=Decimal("19.90"), new_value=Decimal("18.80"), remote_sku_id=1,
        **common,
    )  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = {r.field: r for r in PriceStockChange.objects.all()}
    assert (rows["stock"].old_stock, rows["stock"].new_stock) == (500, 483)
    assert (rows["stock"].old_value, rows["stock"].new_value) == (None, None)
    assert (rows["price"].old_value, rows["price"].new_value) == (
        Decimal("19.90"),
        Decimal("18.80"),
    )
    assert rows["price"].old_stock is None
