"""The sync's overlap: the minutes before the cursor are counted on both sides and listed again
only when 1688 and the mirror disagree (docs/protocol.md, "The overlap"). Against the sandbox
over HTTP, its product list lagging the modify stamp where a test says so."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest

from catalog.models import Product, Sku, SyncRun
from catalog.shops.clients import make_client
from sync.catalog_sync import start_run, sync_shop

pytestmark = pytest.mark.django_db(transaction=True)


def sync(shop) -> SyncRun:
    run = sync_shop(start_run(shop))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


@pytest.fixture
def index_lag(sandbox):
    """The sandbox's list index lagging the modify stamp by this many seconds."""
    lag = 0.6
    sandbox.control("switches", {"list_index_lag_seconds": lag})
    yield lag
    sandbox.control("switches", {"list_index_lag_seconds": 0})


def test_a_run_with_nothing_new_costs_two_list_calls(sandbox, connected_shop, settings):
    settings.SYNC_OVERLAP_SECONDS = 300
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 50, "seed": 5})
    sync(connected_shop)
    sandbox.control("mutate", {"member_id": connected_shop.member_id, "price": 30, "seed": 6})
    changed = sync(connected_shop)
    assert changed.details_fetched == 30 and changed.changes_written > 0

    # The 30 moves lie within the overlap now (the seed, a past year, before it): counted, not
    # listed again.
    sandbox.reset_stats()
    quiet = sync(connected_shop)
    calls = sandbox.calls()
    assert calls.get("alibaba.product.list.get") == 2, calls  # since the cursor; the count
    assert calls.get("alibaba.product.get", 0) == 0
    assert quiet.requests_made == 2 and quiet.changes_written == 0
    assert quiet.cursor_after > changed.cursor_after
    assert quiet.window_start == changed.cursor_after - timedelta(seconds=300)


def test_an_offer_listed_late_is_found_by_the_overlaps_count(
    sandbox, connected_shop, settings, index_lag
):
    settings.SYNC_OVERLAP_SECONDS = 300
    seeded = sandbox.control(
        "seed", {"member_id": connected_shop.member_id, "count": 25, "seed": 8}
    )["product_ids"]
    assert sync(connected_shop).offers_created == 25

    offer_id = seeded[3]
    sku = Sku.objects.filter(product__offer_id=offer_id).order_by("sku_id").first()
    sandbox.control(
        "offers/update", {"product_id": offer_id, "sku_prices": {str(sku.sku_id): "66.60"}}
    )
    # Modified before this run's start, listed only after it: the run cannot see it, and its
    # cursor passes the offer's stamp.
    blind = sync(connected_shop)
    assert blind.details_fetched == 0
    sku.refresh_from_db()
    assert sku.price != Decimal("66.60")

    time.sleep(index_lag)  # now listed, with a stamp before the cursor
    sandbox.reset_stats()
    found = sync(connected_shop)
    sku.refresh_from_db()
    assert sku.price == Decimal("66.60")
    assert found.details_fetched == 1 and found.changes_written == 1
    calls = sandbox.calls()
    # Since the cursor; the count (1688: the one offer, the mirror: none, a seller's first
    # seed being its past year); the overlap's one page.
    assert calls.get("alibaba.product.list.get") == 3, calls
    with make_client() as client:
        remote = client.get_product(connected_shop.access_token, offer_id)
    stored = Product.objects.get(shop=connected_shop, offer_id=offer_id)
    assert stored.remote_modified_at == remote.modify_time

    # And the next run agrees with 1688 again: counted, not listed.
    sandbox.reset_stats()
    sync(connected_shop)
    assert sandbox.calls().get("alibaba.product.list.get") == 2
