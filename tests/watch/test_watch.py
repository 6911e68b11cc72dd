"""Watching suppliers: watch offers of another seller, read them from the buyer side,
log their moves in the shop sync's change log (source "watch"), poll through a Redis cache.
Everything against the sandbox over HTTP, with real Redis."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import ChangeSource, Channel, PriceStockChange, WatchedOffer
from catalog.watch import services as watch
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused
from tests.factories import UserFactory

SUPPLIER = "b2b-2209600001"
DETAIL = "product.search.queryProductDetail"


@pytest.fixture
def supplier(sandbox):
    sandbox.new_seller(SUPPLIER, "义乌源头工厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 12, "seed": 7})["product_ids"]
    return ids


def offer_with_skus(sandbox, ids) -> tuple[int, list[dict]]:
    """A published offer of the supplier with at least two SKUs, and its SKUs (control API)."""
    offers = {o["productID"]: o for o in sandbox.get("offers", member_id=SUPPLIER)["offers"]}
    for offer_id in ids:
        if offers[offer_id]["status"] != "published":
            continue
        detail = watch.sourcing.read_supplier_offer(offer_id)
        if len(detail.skus) >= 2 and all(s.price is not None for s in detail.skus):
            return offer_id, [{"skuId": s.sku_id, "price": s.price} for s in detail.skus]
    raise AssertionError("no offer with priced SKUs in the seed")


@pytest.fixture
def operator(db):
    return UserFactory(username="op", roles=["operator"])


def test_parse_offer_refs_reads_ids_and_links_and_refuses_the_rest():
    text = "624378391372\nhttps://detail.1688.com/offer/624378391373.html?spm=a, 624378391372"
    assert watch.parse_offer_refs(text) == [624378391372, 624378391373]
    with pytest.raises(Refused) as refused:
        watch.parse_offer_refs("624378391372 https://example.com/x abc")
    assert refused.value.code == RefusalCode.WATCH_BAD_REFS
    assert "abc" in refused.value.message
    with pytest.raises(Refused):
        watch.parse_offer_refs("  ")
    with pytest.raises(Refused):
        watch.parse_offer_refs("9999999999999999999")  # beyond a 64-bit id


def test_watch_reads_follows_snapshots_and_logs_moves_as_watched(
    sandbox, connected_shop, supplier, operator, settings
):
    offer_id, skus = offer_with_skus(sandbox, supplier)
    result = watch.watch_offers(
        user=operator, refs=f"https://detail.1688.com/offer/{offer_id}.html"
    )
    assert [w.offer_id for w in result.added] == [offer_id] and not result.failed
    watched = WatchedOffer.objects.get(offer_id=offer_id)
    assert watched.followed and watched.last_read_channel == Channel.MANUAL
    assert watched.supplier_member_id == SUPPLIER and watched.supplier_company == "义乌源头工厂"
    assert set(watched.snapshot["skus"]) == {str(s["skuId"]) for s in skus}
    follows = sandbox.get("follows", app_key=settings.OPEN1688_APP_KEY)["follows"]
    assert [f["product_id"] for f in follows] == [offer_id]
    assert not PriceStockChange.objects.exists()  # a first read has nothing to compare with

    first = skus[0]
    new_price = (Decimal(first["price"]) + Decimal("1.50")).quantize(Decimal("0.01"))
    sandbox.control(
        "offers/update",
        {"product_id": offer_id, "sku_prices": {str(first["skuId"]): str(new_price)},
         "sku_stock": {str(skus[1]["skuId"]): 7}},
    )  # fmt: skip
    outcome = watch.reread(offer_id, channel=Channel.POLL, fresh=True)
    assert outcome.changes == 2 and not outcome.error
    rows = {(r.field, r.remote_sku_id): r for r in PriceStockChange.objects.all()}
    price = rows[("price", first["skuId"])]
    assert (price.old_value, price.new_value) == (Decimal(first["price"]), new_price)
    assert price.source == ChangeSource.WATCH and price.watched_offer_id == watched.pk
    assert price.product_id is None and price.shop_id is None
    assert rows[("stock", skus[1]["skuId"])].new_stock == 7
    watched.refresh_from_db()
    assert watched.last_change_channel == Channel.POLL and watched.last_changed_at

    # Read again with nothing moved: nothing more.
    assert watch.reread(offer_id, channel=Channel.MANUAL, fresh=True).changes == 0
    assert PriceStockChange.objects.count() == 2


def test_a_second_read_inside_the_cache_ttl_makes_no_request(
    sandbox, connected_shop, supplier, operator, settings
):
    settings.WATCH_CACHE_SECONDS = 60
    offer_id = supplier[0]
    watch.watch_offers(user=operator, refs=str(offer_id))
    sandbox.reset_stats()
    first = watch.poll_due(interval=timedelta(0))
    second = watch.poll_due(interval=timedelta(0))
    assert (first.offers, first.from_cache) == (1, 1)  # the watch's own read is cached
    assert (second.offers, second.from_cache) == (1, 1)
    assert sandbox.calls().get(DETAIL, 0) == 0
    watch.forget_cached(offer_id)
    watch.poll_due(interval=timedelta(0))
    assert sandbox.calls()[DETAIL] == 1  # the cache gone: one request, then cached again
    watch.poll_due(interval=timedelta(0))
    assert sandbox.calls()[DETAIL] == 1


def test_the_scheduled_poll_reads_only_due_offers_and_logs_moves(
    sandbox, connected_shop, supplier, operator, settings
):
    settings.WATCH_CACHE_SECONDS = 0  # no cache: every poll read asks 1688
    tiered = [i for i in supplier if watch.sourcing.read_supplier_offer(i).price_ranges]
    watch.watch_offers(user=operator, refs=f"{tiered[0]} {tiered[1]}")
    assert watch.poll_due().offers == 0  # just read: not due
    WatchedOffer.objects.filter(offer_id=tiered[0]).update(
        last_read_at=timezone.now() - timedelta(hours=2)
    )
    sandbox.control("offers/update", {"product_id": tiered[0], "tier_delta": "-0.50"})
    sandbox.control("offers/update", {"product_id": tiered[1], "tier_delta": "-0.50"})
    result = watch.poll_due()
    assert result.offers == 1 and not result.errors  # the other one is not due yet
    rows = PriceStockChange.objects.filter(field="tier_price")
    assert {r.watched_offer.offer_id for r in rows} == {tiered[0]}
    assert all(r.new_value == r.old_value - Decimal("0.50") for r in rows if r.old_value > 1)
    assert WatchedOffer.objects.get(offer_id=tiered[0]).last_change_channel == Channel.POLL


def test_watching_needs_the_operator_permission_and_a_shop(sandbox, supplier, db):
    viewer = UserFactory(username="viewer", roles=["viewer"])
    with pytest.raises(PermissionRefused):
        watch.watch_offers(user=viewer, refs=str(supplier[0]))
    with pytest.raises(Refused) as refused:
        watch.watch_offers(user=None, refs=str(supplier[0]))
    assert refused.value.code == RefusalCode.SOURCING_NO_SHOP
    assert not WatchedOffer.objects.exists()


def test_an_unknown_offer_is_reported_not_watched(sandbox, connected_shop, operator):
    result = watch.watch_offers(user=operator, refs="999999999999")
    assert not result.added and result.failed[0][0] == 999999999999
    assert not WatchedOffer.objects.exists()


def test_unwatch_unfollows_and_keeps_the_history(
    sandbox, connected_shop, supplier, operator, settings
):
    watch.watch_offers(user=operator, refs=str(supplier[0]))
    watched = WatchedOffer.objects.get()
    watch.unwatch(user=operator, watched=watched)
    watched.refresh_from_db()
    assert not watched.active and not watched.followed
    assert sandbox.get("follows", app_key=settings.OPEN1688_APP_KEY)["follows"] == []
    assert watch.reread(supplier[0], channel=Channel.POLL).error == "not watched"
    again = watch.watch_offers(user=operator, refs=str(supplier[0]))
    assert [w.pk for w in again.added] == [watched.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_rereads_of_one_offer_write_each_move_once(sandbox, connected_shop, supplier):
    """Two workers re-reading the same offer at once (two pushes for one change): the per-offer
    lock makes the second compare with what the first stored."""
    import threading

    from django.db import connection

    offer_id, skus = offer_with_skus(sandbox, supplier)
    watch.watch_offers(user=None, refs=str(offer_id))
    new_price = str(Decimal(skus[0]["price"]) + Decimal("0.70"))
    sandbox.control(
        "offers/update", {"product_id": offer_id, "sku_prices": {str(skus[0]["skuId"]): new_price}}
    )
    results = []

    def worker():
        try:
            results.append(watch.reread(offer_id, channel=Channel.PUSH_HTTP, fresh=True))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.changes for r in results) == [0, 0, 0, 1]
    assert PriceStockChange.objects.filter(watched_offer__offer_id=offer_id).count() == 1
