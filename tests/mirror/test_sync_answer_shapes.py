"""Over real HTTP against the sandbox: 1688's answer shapes, prices per quoteType,
the platform's auth/quota/ACL errors and transient detail failures."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from catalog.models import PriceStockChange, Product, Shop, Sku, SyncRun
from catalog.shops.clients import make_client
from open1688 import BusinessError
from tests.conftest import run_worker
from tests.sync_state import expected_changes, logged_changes, remote_values

pytestmark = pytest.mark.django_db(transaction=True)


def sync(shop) -> SyncRun:
    from sync.jobs import enqueue_sync

    run = enqueue_sync(shop)
    run_worker("sync")
    run.refresh_from_db()
    return run


def seed(sandbox, shop, count, seed=7) -> list[int]:
    answer = sandbox.control("seed", {"member_id": shop.member_id, "count": count, "seed": seed})
    return answer["product_ids"]


def switch(sandbox, **values) -> None:
    sandbox.control("switches", {"app_key": settings.OPEN1688_APP_KEY, **values})


def local_values(shop) -> dict[tuple, object]:
    """The mirror, keyed like tests.sync_state.remote_values."""
    values = {}
    for product in Product.objects.filter(shop=shop).prefetch_related("skus"):
        pid = product.offer_id
        for tier in product.price_ranges:
            values[(pid, 0, "tier_price", tier["start_quantity"])] = Decimal(tier["price"])
        skus = list(product.skus.all())
        if not skus:
            values[(pid, 0, "stock", 0)] = product.amount_on_sale
        for sku in skus:
            values[(pid, sku.sku_id, "price", 0)] = sku.price
            values[(pid, sku.sku_id, "stock", 0)] = sku.stock
            for tier in sku.price_ranges:
                key = (pid, sku.sku_id, "tier_price", tier["start_quantity"])
                values[key] = Decimal(tier["price"])
    return values


def test_tier_drop_of_a_quote_type_2_offer_writes_one_row_per_tier(sandbox, connected_shop):
    ids = seed(sandbox, connected_shop, 30)
    assert sync(connected_shop).status == SyncRun.Status.SUCCEEDED
    offer = (
        Product.objects.filter(quote_type=2, skus__isnull=False, offer_id__in=ids)
        .distinct()
        .first()
    )
    assert offer is not None, "the sandbox seeds quoteType-2 offers"
    assert not offer.skus.filter(price__isnull=False).exists()  # their SKUs carry no price
    old_tiers = {t["start_quantity"]: Decimal(t["price"]) for t in offer.price_ranges}

    sandbox.control("offers/update", {"product_id": offer.offer_id, "tier_delta": "-8"})
    run = sync(connected_shop)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    rows = PriceStockChange.objects.filter(product=offer).order_by("tier_start_quantity")
    assert [(r.field, r.remote_sku_id) for r in rows] == [("tier_price", 0)] * len(old_tiers)
    assert {r.tier_start_quantity: (r.old_value, r.new_value) for r in rows} == {
        start: (price, price - 8) for start, price in old_tiers.items()
    }
    assert run.changes_written == len(old_tiers)
    first = rows[0]
    with translation.override("zh-hans"):
        assert str(first.tier_label) == f"起批 {first.tier_start_quantity} 件"
    with translation.override("en"):
        assert str(first.tier_label) == f"from {first.tier_start_quantity} pieces"

    again = sync(connected_shop)
    assert again.changes_written == 0 and PriceStockChange.objects.count() == len(old_tiers)


SHAPES = [
    # (list nesting, total key, list items carry SKUs)
    ("result.result.pageResult", "totalRecords", False),  # the official SDK's model
    ("result.pageResult", "totalCount", False),  # how real parsers read it
    ("result.pageResult", "totalRecords", True),
    ("result.result.pageResult", "totalCount", True),
]


@pytest.mark.parametrize(("nesting", "total", "list_skus"), SHAPES)
def test_sync_in_each_answer_shape(sandbox, connected_shop, settings, nesting, total, list_skus):
    settings.SYNC_OVERLAP_SECONDS = 0
    switch(sandbox, list_nesting=nesting, list_total=total, list_skus=list_skus)
    ids = seed(sandbox, connected_shop, 45)
    sandbox.reset_stats()

    first = sync(connected_shop)

    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    assert first.offers_created == 45 and first.changes_written == 0
    details = sandbox.calls().get("alibaba.product.get", 0)
    assert details == (0 if list_skus else 45)  # list items with SKUs: list calls only
    assert local_values(connected_shop) == remote_values(connected_shop, ids)

    before = remote_values(connected_shop, ids)
    report = sandbox.control(
        "mutate",
        {"member_id": connected_shop.member_id, "price": 5, "stock": 4, "new": 2, "seed": 5},
    )
    sandbox.reset_stats()
    second = sync(connected_shop)

    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    touched = {*report["price_changed"], *report["stock_changed"], *report["created"]}
    assert sandbox.calls().get("alibaba.product.get", 0) == (0 if list_skus else len(touched))
    every = ids + report["created"]
    assert local_values(connected_shop) == remote_values(connected_shop, every)
    expected = expected_changes(before, remote_values(connected_shop, every))
    assert logged_changes(connected_shop) == expected and expected

    third = sync(connected_shop)
    assert third.status == SyncRun.Status.SUCCEEDED and third.changes_written == 0
    assert PriceStockChange.objects.count() == len(expected)


def test_transient_not_exist_of_a_new_offer_is_read_by_the_next_run(
    sandbox, connected_shop, settings
):
    settings.SYNC_OVERLAP_SECONDS = 0
    seed(sandbox, connected_shop, 5)
    sync(connected_shop)
    (new_offer,) = seed(sandbox, connected_shop, 1, seed=8)  # appears now
    sandbox.fault("alibaba.product.get", "not_found", times=1)

    run = sync(connected_shop)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert not Product.objects.filter(offer_id=new_offer).exists()
    assert Shop.objects.get(pk=connected_shop.pk).pending_offers == {str(new_offer): 1}

    sandbox.reset_stats()
    later = sync(connected_shop)  # nothing new in its window: the pending offer is read anyway

    assert later.status == SyncRun.Status.SUCCEEDED, later.error
    assert sandbox.calls().get("alibaba.product.get") == 1
    product = Product.objects.get(offer_id=new_offer)
    assert product.delisted_at is None and later.offers_created == 1
    assert Sku.objects.filter(product=product).count() == len(
        make_client().get_product(connected_shop.access_token, new_offer).skus
    )
    assert Shop.objects.get(pk=connected_shop.pk).pending_offers == {}


# -- the platform's errors, over HTTP (the one table: open1688/errors.py) -----------------


def test_unauthorised_answer_refreshes_once_and_the_call_is_retried(sandbox, connected_shop):
    seed(sandbox, connected_shop, 3)
    sandbox.fault("alibaba.product.list.get", "unauthorized", times=1)
    sandbox.reset_stats()
    old_token = connected_shop.access_token

    run = sync(connected_shop)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    calls = sandbox.calls()
    assert calls.get("getToken") == 1 and calls.get("alibaba.product.list.get") == 2
    assert Shop.objects.get(pk=connected_shop.pk).access_token != old_token
    assert Product.objects.count() == 3


def test_spent_paid_quota_stops_the_sync_at_once(sandbox, connected_shop):
    seed(sandbox, connected_shop, 3)
    sandbox.fault("alibaba.product.list.get", "no_usage_left", times=5)
    sandbox.reset_stats()

    run = sync(connected_shop)

    assert run.status == SyncRun.Status.FAILED
    assert "the app's paid call quota is spent" in run.error
    assert "gw.NoUsageLeftError" in run.error
    assert sandbox.calls().get("alibaba.product.list.get") == 1  # no retry, no backoff


def test_request_limit_is_a_rate_error_that_is_retried(sandbox, connected_shop):
    seed(sandbox, connected_shop, 3)
    sandbox.fault("alibaba.product.list.get", "request_limit", times=1)
    sandbox.reset_stats()

    run = sync(connected_shop)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert sandbox.calls().get("alibaba.product.list.get") == 2


def test_acl_decline_is_recorded_on_the_shop_with_the_api(sandbox, connected_shop, admin_client):
    seed(sandbox, connected_shop, 3)
    sandbox.fault("alibaba.product.get", "acl_decline", times=3)

    run = sync(connected_shop)

    assert run.status == SyncRun.Status.FAILED and "gw.APIACLDecline" in run.error
    shop = Shop.objects.get(pk=connected_shop.pk)
    (declined,) = shop.declined_apis
    assert declined["api"] == "alibaba.product.get" and declined["code"] == "gw.APIACLDecline"
    assert declined["at"]
    assert shop.status == Shop.Status.ACTIVE  # the shop's tokens are fine: nothing to re-authorise
    page = admin_client.get(f"/admin/catalog/shop/{shop.pk}/change/")
    assert page.status_code == 200 and "alibaba.product.get (" in page.content.decode()

    # Granted since: the next answer of that API clears the note.
    sandbox.control("faults", method="DELETE")
    again = sync(shop)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert Shop.objects.get(pk=shop.pk).declined_apis == []
    page = admin_client.get(f"/admin/catalog/shop/{shop.pk}/change/")
    assert "alibaba.product.get (" not in page.content.decode()


def test_error_bodies_give_their_request_id(sandbox, connected_shop):
    sandbox.fault("alibaba.product.get", "business_error", times=1)
    sandbox.fault("alibaba.product.get", "http500", times=1)
    with make_client(max_retries=0) as client:
        with pytest.raises(BusinessError):
            client.get_product(connected_shop.access_token, 1)
        with pytest.raises(Exception) as raised:
            client.get_product(connected_shop.access_token, 1)
    assert raised.value.request_id


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="EXPLAIN QUERY PLAN is SQLite's",
)
def test_a_pages_product_lookup_uses_the_shop_offer_unique_index():
    from django.db import connection

    from sync.catalog_sync import _products_by_offer_id
    from tests.factories import ShopFactory

    connected_shop = ShopFactory()

    Product.objects.bulk_create(
        Product(shop=connected_shop, offer_id=600000000000 + i, subject=str(i)) for i in range(300)
    )
    ids = [600000000000 + i for i in range(0, 300, 15)]
    with CaptureQueriesContext(connection) as queries:
        found = _products_by_offer_id(connected_shop, ids)
        (query,) = queries.captured_queries
    assert sorted(found) == ids
    sql, params = (
        Product.objects.filter(shop=connected_shop, offer_id__in=ids)
        .order_by()
        .query.sql_with_params()
    )
    assert "ORDER BY" not in query["sql"]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    # the (shop, offer_id) unique index, not a walk of the shop through the modified-time index
    assert "offer_id=?" in plan and "product_shop_modified" not in plan, plan


def test_spent_paid_quota_stops_an_upload_without_a_timed_retry(sandbox, connected_shop):
    import django_rq

    from catalog.models import UploadBatch
    from tests.publishing.test_upload_job import ADD, make_batch, remote_offers, submit_batch

    batch = make_batch(connected_shop, 2)
    sandbox.fault(ADD, "no_usage_left")
    submit_batch(batch)
    run_worker("upload")

    batch.refresh_from_db()
    assert "the app's paid call quota is spent" in batch.last_error
    assert batch.items_pending == 2 and remote_offers(sandbox, connected_shop) == []
    assert sandbox.calls().get(ADD) == 1  # not retried by the client
    assert django_rq.get_queue("upload").scheduled_job_registry.get_job_ids() == []
    assert batch.status != UploadBatch.Status.DONE
