"""Incremental sync against the sandbox gateway over real HTTP, with a real RQ worker on Redis."""

import math
import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import PriceStockChange, Product, Shop, Sku, SyncRun
from catalog.shops.clients import make_client
from open1688 import RefreshTokenExpiredError
from sync.catalog_sync import DELISTED_STATUSES, SyncRefused, start_run, sync_shop
from sync.jobs import enqueue_due_syncs_job, enqueue_sync
from sync.scheduling import due_shops
from tests.conftest import run_worker
from tests.sync_state import expected_changes, logged_changes, remote_values

pytestmark = pytest.mark.django_db(transaction=True)


def seed(sandbox, shop, count):
    return sandbox.control("seed", {"member_id": shop.member_id, "count": count, "seed": 7})


def sync_via_worker(shop, kind=SyncRun.Kind.INCREMENTAL) -> SyncRun:
    run = enqueue_sync(shop, kind=kind)
    run_worker("sync")
    run.refresh_from_db()
    return run


def sandbox_skus(sandbox, shop, product_ids):
    """What 1688 (the sandbox) says now: {(offer, sku): (price, stock)}."""
    with make_client() as client:
        details = [client.get_product(shop.access_token, pid) for pid in product_ids]
    return {(d.product_id, s.sku_id): (s.price, s.amount_on_sale) for d in details for s in d.skus}


def local_skus(shop):
    return {
        (s.product.offer_id, s.sku_id): (s.price, s.stock)
        for s in Sku.objects.filter(product__shop=shop).select_related("product")
    }


def test_first_sync_mirrors_the_catalog(sandbox, connected_shop):
    seeded = seed(sandbox, connected_shop, 45)["product_ids"]
    run = sync_via_worker(connected_shop)

    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert sorted(Product.objects.values_list("offer_id", flat=True)) == sorted(seeded)
    assert local_skus(connected_shop) == sandbox_skus(sandbox, connected_shop, seeded)
    assert run.offers_created == 45 and run.changes_written == 0
    assert PriceStockChange.objects.count() == 0
    connected_shop.refresh_from_db()
    assert connected_shop.sync_cursor == run.window_end == run.cursor_after
    assert connected_shop.last_synced_at is not None


def test_next_sync_costs_what_changed_and_logs_each_change_once(sandbox, connected_shop, settings):
    settings.SYNC_OVERLAP_SECONDS = 0  # so the window holds only what changed since the cursor
    seeded = seed(sandbox, connected_shop, 60)["product_ids"]
    assert sync_via_worker(connected_shop).status == SyncRun.Status.SUCCEEDED
    before = remote_values(connected_shop, seeded)

    report = sandbox.control(
        "mutate",
        {"member_id": connected_shop.member_id, "price": 4, "stock": 3, "new": 2, "seed": 3},
    )
    touched = set(report["price_changed"]) | set(report["stock_changed"]) | set(report["created"])
    sandbox.reset_stats()
    run = sync_via_worker(connected_shop)

    calls = sandbox.calls()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert calls.get("alibaba.product.get", 0) == len(touched)
    assert calls.get("alibaba.product.list.get", 0) == math.ceil(len(touched) / 20)
    after = sandbox_skus(sandbox, connected_shop, sorted(touched))
    assert {k: v for k, v in local_skus(connected_shop).items() if k in after} == after

    # One row per value that moved, at every level 1688 has one (offer tiers, SKU price, SKU
    # tiers, stock); a value 1688 does not send (a quoteType-2 SKU's price) writes nothing.
    expected = expected_changes(before, remote_values(connected_shop, seeded + report["created"]))
    assert logged_changes(connected_shop) == expected and expected
    assert Product.objects.filter(shop=connected_shop).count() == 62

    # A third run with nothing new: no detail call, no change row, the cursor still advances.
    sandbox.reset_stats()
    third = sync_via_worker(connected_shop)
    assert third.status == SyncRun.Status.SUCCEEDED
    assert sandbox.calls().get("alibaba.product.get", 0) == 0
    assert third.changes_written == 0 and PriceStockChange.objects.count() == len(expected)
    assert third.cursor_after > run.cursor_after


def test_exact_change_rows_for_a_precise_change(sandbox, connected_shop):
    offer_id = seed(sandbox, connected_shop, 3)["product_ids"][0]
    sync_via_worker(connected_shop)
    sku = Sku.objects.filter(product__offer_id=offer_id).order_by("sku_id").first()
    old_price, old_stock = sku.price, sku.stock
    sandbox.control(
        "offers/update",
        {
            "product_id": offer_id,
            "sku_prices": {str(sku.sku_id): "88.80"},
            "sku_stock": {str(sku.sku_id): old_stock + 7},
        },
    )
    run = sync_via_worker(connected_shop)
    rows = {c.field: c for c in PriceStockChange.objects.filter(sku=sku)}
    assert run.changes_written == 2 == PriceStockChange.objects.count()
    assert (rows["price"].old_value, rows["price"].new_value) == (old_price, Decimal("88.80"))
    assert (rows["stock"].old_stock, rows["stock"].new_stock) == (old_stock, old_stock + 7)
    assert (
        rows["price"].remote_modified_at
        == Product.objects.get(offer_id=offer_id).remote_modified_at
    )


def test_crash_after_some_pages_loses_and_duplicates_nothing(sandbox, connected_shop, settings):
    settings.SYNC_OVERLAP_SECONDS = 0
    seeded = seed(sandbox, connected_shop, 50)["product_ids"]
    sync_via_worker(connected_shop)
    before = remote_values(connected_shop, seeded)
    sandbox.control("mutate", {"member_id": connected_shop.member_id, "price": 50, "seed": 9})
    cursor = Shop.objects.get(pk=connected_shop.pk).sync_cursor

    def crash_after_first_page(run):
        if run.pages == 1:
            raise RuntimeError("worker killed")

    crashed = start_run(connected_shop)
    with pytest.raises(RuntimeError):
        sync_shop(crashed, progress=crash_after_first_page)
    crashed.refresh_from_db()
    assert crashed.status == SyncRun.Status.FAILED and "worker killed" in crashed.error
    assert Shop.objects.get(pk=connected_shop.pk).sync_cursor == cursor  # not advanced
    assert PriceStockChange.objects.count() > 0  # the first page was committed

    rerun = sync_via_worker(connected_shop)
    assert rerun.status == SyncRun.Status.SUCCEEDED
    assert local_skus(connected_shop) == sandbox_skus(
        sandbox, connected_shop, sorted(Product.objects.values_list("offer_id", flat=True))
    )
    # every change once (logged_changes fails on a duplicate), none missing
    expected = expected_changes(before, remote_values(connected_shop, seeded))
    assert logged_changes(connected_shop) == expected and expected


def test_two_syncs_of_one_shop_never_run_together(sandbox, connected_shop):
    seed(sandbox, connected_shop, 30)
    sandbox.fault("alibaba.product.list.get", "slow", times=1, delay=1.5)
    first = start_run(connected_shop)
    worker = threading.Thread(target=sync_shop, args=(first,))
    worker.start()
    try:
        # Wait until the first run holds the lock (it is running), then try a second one.
        for _ in range(100):
            first.refresh_from_db()
            if first.status == SyncRun.Status.RUNNING:
                break
            threading.Event().wait(0.02)
        second = start_run(connected_shop)
        with pytest.raises(SyncRefused):
            sync_shop(second)
    finally:
        worker.join()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == SyncRun.Status.SUCCEEDED
    assert second.status == SyncRun.Status.SKIPPED
    assert Product.objects.count() == 30


def test_expired_access_token_is_refreshed(sandbox, connected_shop):
    seed(sandbox, connected_shop, 5)
    old_token = connected_shop.access_token
    sandbox.control("tokens/expire", {"access_token": old_token})
    run = sync_via_worker(connected_shop)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    connected_shop.refresh_from_db()
    assert connected_shop.access_token != old_token
    assert Product.objects.count() == 5


def test_dead_refresh_token_marks_the_shop_and_stops_scheduling_it(sandbox, connected_shop):
    sandbox.control("tokens/expire", {"access_token": connected_shop.access_token})
    sandbox.control("tokens/expire", {"refresh_token": connected_shop.refresh_token})
    run = start_run(connected_shop)
    with pytest.raises(RefreshTokenExpiredError):
        sync_shop(run)
    run.refresh_from_db()
    connected_shop.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert connected_shop.status == Shop.Status.NEEDS_REAUTH
    assert "refresh token" in connected_shop.status_reason
    assert connected_shop not in due_shops()


def test_full_resync_marks_offers_gone_from_1688(sandbox, connected_shop):
    ids = seed(sandbox, connected_shop, 8)["product_ids"]
    sync_via_worker(connected_shop)
    report = sandbox.control(
        "mutate", {"member_id": connected_shop.member_id, "delist": 2, "seed": 4}
    )
    run = sync_via_worker(connected_shop, kind=SyncRun.Kind.FULL)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    delisted = set(
        Product.objects.filter(delisted_at__isnull=False).values_list("offer_id", flat=True)
    )
    offers = sandbox.get("offers", member_id=connected_shop.member_id)["offers"]
    off_sale = {o["productID"] for o in offers if o["status"] in DELISTED_STATUSES}
    assert set(report["delisted"]) <= off_sale
    assert delisted == off_sale
    assert Product.objects.count() == len(ids)


def test_sync_shops_command_runs_inline_with_progress(sandbox, connected_shop, capsys):
    seed(sandbox, connected_shop, 25)
    call_command("sync_shops", "--shop", connected_shop.member_id)
    out = capsys.readouterr().out
    assert "page 2: 25 offers seen" in out and "done, 25 seen, 25 new" in out
    with pytest.raises(CommandError, match="no shop with id or member id 'b2b-nobody'"):
        call_command("sync_shops", "--shop", "b2b-nobody")


def test_due_shops_are_enqueued_by_the_periodic_job(sandbox, connected_shop):
    seed(sandbox, connected_shop, 3)
    assert enqueue_due_syncs_job() == 1
    assert enqueue_due_syncs_job() == 0  # already queued
    run_worker("sync")
    assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED
    assert enqueue_due_syncs_job() == 0  # synced within the interval


def test_admin_sync_now_action_enqueues(sandbox, connected_shop, admin_client):
    seed(sandbox, connected_shop, 4)
    answer = admin_client.post(
        "/admin/catalog/shop/",
        {"action": "sync_now", "_selected_action": [connected_shop.pk]},
        follow=True,
    )
    assert answer.status_code == 200
    run_worker("sync")
    assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED
    assert Product.objects.count() == 4


def test_offer_modified_mid_run_does_not_make_the_pass_skip_others(sandbox, connected_shop):
    ids = sorted(seed(sandbox, connected_shop, 45)["product_ids"])

    def modify_first_offer_after_page_one(run):
        if run.pages == 1:
            # It leaves the window, so offset paging shifts every later offer up by one.
            detail = sandbox_skus(sandbox, connected_shop, [ids[0]])
            sku_id = next(iter(detail))[1]
            sandbox.control("offers/update", {"product_id": ids[0], "sku_stock": {str(sku_id): 1}})

    run = start_run(connected_shop)
    sync_shop(run, progress=modify_first_offer_after_page_one)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.pages > 3  # a second pass over the shrunken window
    assert sorted(Product.objects.values_list("offer_id", flat=True)) == ids
    # The modified offer is newer than the window: the next run reads it.
    nxt = sync_via_worker(connected_shop)
    assert nxt.details_fetched >= 1
    assert PriceStockChange.objects.filter(product__offer_id=ids[0], field="stock").count() == 1


def test_full_resync_marks_offers_deleted_on_1688(sandbox, connected_shop):
    from tests.factories import ProductFactory

    ids = seed(sandbox, connected_shop, 3)["product_ids"]
    ghost = ProductFactory(shop=connected_shop, offer_id=699999999999)  # 1688 no longer has it
    run = sync_via_worker(connected_shop, kind=SyncRun.Kind.FULL)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    ghost.refresh_from_db()
    assert ghost.delisted_at is not None and run.offers_delisted >= 1
    assert Product.objects.filter(offer_id__in=ids).count() == 3


def test_offer_deleted_between_list_and_detail_is_marked_gone_on_a_second_miss(
    sandbox, connected_shop, settings
):
    settings.SYNC_OVERLAP_SECONDS = 0
    seed(sandbox, connected_shop, 5)
    sync_via_worker(connected_shop)
    report = sandbox.control(
        "mutate", {"member_id": connected_shop.member_id, "stock": 2, "seed": 1}
    )
    sandbox.fault("alibaba.product.get", "not_found", times=1)
    run = sync_via_worker(connected_shop)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # One miss may be transient: kept to be read again, not marked gone yet.
    assert not Product.objects.filter(status="delete").exists()
    (pending,) = Shop.objects.get(pk=connected_shop.pk).pending_offers
    assert int(pending) in report["stock_changed"] and run.details_fetched == 1
    sandbox.reset_stats()

    sandbox.fault("alibaba.product.get", "not_found", times=1)
    second = sync_via_worker(connected_shop)  # the second miss confirms it
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    gone = Product.objects.filter(status="delete", delisted_at__isnull=False)
    assert gone.count() == 1 and gone.get().offer_id == int(pending)
    assert second.offers_delisted == 1 and sandbox.calls()["alibaba.product.get"] == 1
    assert Shop.objects.get(pk=connected_shop.pk).pending_offers == {}


def restock(sandbox, offer_id: int, stock: int) -> None:
    """Set an offer's stock on 1688 (its first SKU's, when it has SKUs)."""
    sku = Sku.objects.filter(product__offer_id=offer_id).order_by("sku_id").first()
    change = {"sku_stock": {str(sku.sku_id): stock}} if sku else {"amount_on_sale": stock}
    sandbox.control("offers/update", {"product_id": offer_id, **change})


def test_an_offer_missed_again_in_the_same_run_counts_one_miss(sandbox, connected_shop, settings):
    """A pass read again because the window moved under it (an offer listed late) finds the
    offer 1688 just said does not exist: one run counts one miss, so the offer is not marked
    gone before a later run reads it again."""
    settings.SYNC_OVERLAP_SECONDS = 0
    ids = sorted(seed(sandbox, connected_shop, 30)["product_ids"])
    sync_via_worker(connected_shop)
    live = Product.objects.filter(offer_id__in=ids[:20], delisted_at__isnull=True)
    missed = min(live.values_list("offer_id", flat=True))  # on page 1, listed on 1688
    late = ids[29]  # beyond the 25 changed
    for offer_id in ids[:25]:
        restock(sandbox, offer_id, 777)
    lag = 1.0
    sandbox.control("switches", {"list_index_lag_seconds": lag})
    time.sleep(lag)  # the 25 are listed now; the next change is listed `lag` later
    restock(sandbox, late, 778)
    sandbox.fault("alibaba.product.list.get", "slow", times=1, delay=0)  # page 1 at once
    sandbox.fault("alibaba.product.list.get", "slow", times=1, delay=lag + 0.5)  # page 2 after
    # Pass 1 reads the 25 and the late one, in list order; `missed` is not found. Pass 2 (the
    # total moved) finds only `missed` still to read: it would be its second miss.
    before = ids.index(missed)
    if before:
        sandbox.fault("alibaba.product.get", "slow", times=before, delay=0)
    sandbox.fault("alibaba.product.get", "not_found", times=1)
    sandbox.fault("alibaba.product.get", "slow", times=25 - before, delay=0)
    sandbox.fault("alibaba.product.get", "not_found", times=1)
    try:
        run = sync_via_worker(connected_shop)
    finally:
        sandbox.control("switches", {"list_index_lag_seconds": 0})
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.offers_seen == 26 and run.details_fetched == 25
    assert run.offers_delisted == 0
    assert not Product.objects.filter(offer_id=missed, delisted_at__isnull=False).exists()
    assert Shop.objects.get(pk=connected_shop.pk).pending_offers == {str(missed): 1}
    (unread,) = sandbox.get("faults")["faults"]  # the second "not found" was never asked for
    assert (unread["api"], unread["kind"]) == ("alibaba.product.get", "not_found")

    second = sync_via_worker(connected_shop)  # a later run reads it again: the second miss
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert second.offers_delisted == 1 and second.details_fetched == 0
    assert Product.objects.get(offer_id=missed).status == "delete"
    assert Shop.objects.get(pk=connected_shop.pk).pending_offers == {}


def test_other_business_errors_fail_the_run_visibly_and_keep_the_cursor(sandbox, connected_shop):
    seed(sandbox, connected_shop, 3)
    sandbox.fault("alibaba.product.get", "business_error", times=1)
    run = sync_via_worker(connected_shop)
    assert run.status == SyncRun.Status.FAILED and "SANDBOX_REJECTED" in run.error
    assert Shop.objects.get(pk=connected_shop.pk).sync_cursor is None
    assert sync_via_worker(connected_shop).status == SyncRun.Status.SUCCEEDED


def test_job_past_its_timeout_is_recorded_failed_and_releases_the_shop(
    sandbox, connected_shop, settings
):
    settings.SYNC_JOB_TIMEOUT = 1
    seed(sandbox, connected_shop, 3)
    sandbox.fault("alibaba.product.list.get", "slow", times=1, delay=2.5)
    run = sync_via_worker(connected_shop)
    assert run.status == SyncRun.Status.FAILED and "Timeout" in run.error
    assert Shop.objects.get(pk=connected_shop.pk).sync_cursor is None
    settings.SYNC_JOB_TIMEOUT = 60
    assert sync_via_worker(connected_shop).status == SyncRun.Status.SUCCEEDED
