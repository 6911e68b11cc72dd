"""Incremental catalog sync: one shop's offers from 1688 into Product/Sku + the change log.

The contract (docs/contracts.md; 1688's answer shapes and prices: docs/protocol.md):
- the cursor is the end of the last fully committed modify-time window; a run fixes its window
  at start, [cursor - overlap, now), pages through [cursor, now) sorted by ID, then counts the
  overlap on both sides and pages through it only when the counts differ (docs/protocol.md,
  "The overlap");
- pages commit together, a few at a time (the first ones one by one, then up to
  PAGES_PER_COMMIT, or after COMMIT_SECONDS); the cursor moves to the window's end in the
  transaction of the last page, so a crash anywhere loses nothing and a re-run duplicates
  nothing (unchanged offers are recognised by their modify stamp, change rows are unique per
  remote change); the write path is sync/ingest.py;
- details (`alibaba.product.get`) are fetched only for offers whose modify stamp differs from
  ours, and not at all when the list items carry SKUs, prices and stock, so the cost follows
  the number of changes, not the catalog size; a page's lookups use the (shop, offer_id) index;
- a detail that says "does not exist" for a listed offer is read again by the next run
  (`Shop.pending_offers`), not again in this one, and the offer is marked gone only on a
  second miss;
- price changes are logged as 1688 has them per quoteType (offer tiers, SKU price, SKU tiers,
  stock); a value 1688 does not send is unknown, never a change.

Offset paging over a window that shrinks (an offer modified during the run leaves it) can skip
an offer that did not change: when the window's `totalRecords` moves during a pass, the pass is
repeated (it is cheap: unchanged offers need no detail) and the cursor only advances after a
stable pass.
"""

import gc
import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.alerts import engine as alerts
from catalog.alerts.failures import classify
from catalog.models import OfferDataProblem, Product, Shop, SyncRun
from catalog.shops.clients import call_as_shop, client_or_new
from erp1688.messages import render
from erp1688.refusals import Refused
from open1688 import BusinessError, Open1688Client
from open1688.types import ProductDetail, ProductSummary
from sync import answer_domain, ingest
from sync.ingest import DELISTED_STATUSES, Known
from sync.locks import held_lock, holder

# The change rules, where catalog/watch/services.py has always imported them.
from sync.price_changes import change_maker, offer_changes, sku_changes, tiers_json

__all__ = [
    "DELISTED_STATUSES", "SyncRefused", "change_maker", "lock_key", "lock_owner",
    "offer_changes", "sku_changes", "start_run", "sync_shop", "tiers_json",
]  # fmt: skip

log = logging.getLogger(__name__)

PAGE_SIZE = 20  # the list API's maximum
MAX_PASSES = 3
# A commit costs a round trip or an fsync, and each page's own transaction was a large part of
# an ingest: pages are written together, the first ones one by one (a short run, and the first
# page of a long one, is seen at once), then 2, 4, ... up to this many (1,000 offers: at a
# real quota of 10 calls a second COMMIT_SECONDS decides long before).
PAGES_PER_COMMIT = 50
COMMIT_SECONDS = 5.0  # ...and at least this often while pages come slowly (progress, lock)


class SyncRefused(Refused):
    """Another sync of the same shop holds the lock (the run is recorded "skipped")."""

    def __init__(self, shop: Shop, holder_name: str | None):
        super().__init__(
            "sync_running",
            _("%(shop)s was not synced: %(holder)s of this shop is still running."),
            params={"shop": shop, "holder": holder_name or _("another sync")},
        )


@dataclass
class Window:
    start: datetime | None
    end: datetime


@dataclass
class _Seen:
    """What this run has listed, and the offers whose detail 1688 said does not exist in this
    run: such an offer is not read again before a later run (one run counts one miss, which
    the next run confirms or clears: `_note_detail_outcomes`)."""

    offers: set[int] = field(default_factory=set)
    missed: set[int] = field(default_factory=set)


def lock_key(shop_id: int) -> str:
    return f"erp1688:sync:shop:{shop_id}"


def start_run(shop: Shop, kind: str = SyncRun.Kind.INCREMENTAL, job_id: str = "") -> SyncRun:
    return SyncRun.objects.create(shop=shop, kind=kind, job_id=job_id)


def sync_shop(
    run: SyncRun,
    *,
    client: Open1688Client | None = None,
    progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Run one sync (incremental or full) for `run.shop`; the outcome is recorded on `run`.

    One sync per shop at a time, under a lock this run renews while it works (sync/locks.py):
    a run killed mid-way stops blocking the shop within LOCK_TTL_SECONDS. Raises SyncRefused
    (the run recorded "skipped", naming the holder) when another run holds the shop.
    """
    key = lock_key(run.shop_id)
    with held_lock(key, owner=lock_owner(run)) as lock:
        if lock is None:
            refusal = SyncRefused(run.shop, holder(key))
            _finish(run, SyncRun.Status.SKIPPED, refusal.message)
            raise refusal
        report = progress or (lambda _run: None)

        def report_and_check(current: SyncRun) -> None:
            lock.check()  # after each committed page: stop if the lock was lost
            report(current)

        try:
            with client_or_new(client) as api, rare_collections():
                _run(run, api, report_and_check)
        except Exception as exc:
            _finish(run, SyncRun.Status.FAILED, _describe(exc), classify(exc))
            raise
    return run


_collections_lock = threading.Lock()
_collections_held = [0, None]  # runs inside, the thresholds before the first


@contextmanager
def rare_collections(gen0: int = 20_000):
    """Python's cyclic collector at its defaults runs every 700 allocations and now and then
    walks every object alive; a run allocates millions of short-lived ones (parsed answers,
    rows) and holds a batch of them, so collecting took ~15 % of an ingest. Reference counting
    frees those at once; the collector runs rarer while any run is inside (process-wide, so
    counted: the last one out restores the thresholds)."""
    with _collections_lock:
        if _collections_held[0] == 0:
            _collections_held[1] = before = gc.get_threshold()
            gc.set_threshold(max(before[0], gen0), *before[1:])
        _collections_held[0] += 1
    try:
        yield
    finally:
        with _collections_lock:
            _collections_held[0] -= 1
            if _collections_held[0] == 0:
                gc.set_threshold(*_collections_held[1])


def lock_owner(run: SyncRun) -> str:
    """The name a run's lock carries (`holder()` shows it; the dead-run sweep compares it)."""
    return f"run {run.pk}"


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:2000]


def _finish(run: SyncRun, status: str, error: str = "", error_kind: str = "") -> None:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.error_kind = error_kind
    fields = ["status", "error", "error_kind", "finished_at"]
    if status != SyncRun.Status.SKIPPED:
        run.offers_mirrored = Product.objects.filter(shop_id=run.shop_id).count()
        fields.append("offers_mirrored")
    run.save(update_fields=fields)
    alerts.on_run_finished(run=run)  # sync failing / recovered, offers gone, authorisation
    if status == SyncRun.Status.SUCCEEDED:
        from catalog.publishing.upload.audits import (
            settle_from_mirror,  # upload imports the sync's modules
        )

        settle_from_mirror(shop_id=run.shop_id)  # staged items in audit move on


def _run(run: SyncRun, client: Open1688Client, progress) -> None:
    shop = Shop.objects.get(pk=run.shop_id)
    if not shop.is_syncable:  # the rule of Shop.objects.syncable()
        raise RuntimeError(f"shop is {shop.get_status_display()}: {render(shop.status_reason)}")
    full = run.kind == SyncRun.Kind.FULL
    if shop.sync_cursor is None and not full:
        run.kind = SyncRun.Kind.FIRST  # no cursor yet: it reads everything, say so
    now = timezone.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # 1688 times carry ms
    overlap = timedelta(seconds=settings.SYNC_OVERLAP_SECONDS)
    start = None if full or shop.sync_cursor is None else shop.sync_cursor - overlap
    window = Window(start=start, end=now)
    run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
    run.cursor_before, run.window_start, run.window_end = shop.sync_cursor, window.start, window.end
    run.save()

    pending_at_start = set(shop.pending_offers)  # read again after the window
    seen = _Seen()
    if start is None or not overlap:
        _read_passes(run, shop, client, window, seen, progress, advance_to=window.end)
    else:
        # What changed since the cursor first, then the overlap: listed again only when
        # 1688 counts in it other than the mirror (docs/protocol.md, "The overlap").
        since = Window(start=shop.sync_cursor, end=now)
        _read_passes(run, shop, client, since, seen, progress, advance_to=None)
        overlap_window = Window(start=start, end=shop.sync_cursor)
        if _overlap_agrees(run, shop, client, overlap_window):
            _advance(run, shop, now)
        else:
            _read_passes(run, shop, client, overlap_window, seen, progress, advance_to=now)
    _read_pending(run, shop, client, pending_at_start)
    if full:
        _reconcile_missing(run, shop, client, seen.offers)
    _finish(run, SyncRun.Status.SUCCEEDED)


def _read_passes(run, shop, client, window: Window, seen, progress, *, advance_to) -> None:
    """Read the window until a pass is stable; `advance_to`: the cursor's new value, set in
    the last page's transaction (None: the cursor stays)."""
    for _pass in range(MAX_PASSES):
        if _read_window(run, shop, client, window, seen, progress, advance_to):
            return
    raise RuntimeError(
        f"the window kept changing during {MAX_PASSES} passes; the cursor was not advanced"
    )


def _overlap_agrees(run, shop: Shop, client, window: Window) -> bool:
    """Whether 1688 lists as many offers modified in the overlap as the mirror holds (or holds
    as data problems) with a stamp in it: one call of one item. Read after the window since
    the cursor, so an offer modified again has left the overlap on both sides; any other
    difference (an offer indexed late, one purged) lists the overlap again."""
    page = call_as_shop(
        shop,
        client,
        client.list_products,
        page_no=1,
        page_size=1,
        start_modify_time=window.start,
        end_modify_time=window.end,
        order_by="ID",
    )
    run.requests_made += 1
    run.pages += 1
    stamped = {"remote_modified_at__gte": window.start, "remote_modified_at__lt": window.end}
    mirrored = Product.objects.filter(shop=shop, **stamped).count()
    mirrored += OfferDataProblem.objects.filter(shop=shop, **stamped).count()
    return page.total_records == mirrored


def _advance(run, shop: Shop, to: datetime) -> None:
    with transaction.atomic():
        Shop.objects.filter(pk=shop.pk).update(sync_cursor=to, last_synced_at=timezone.now())
        shop.sync_cursor = run.cursor_after = to
        run.save()


@dataclass
class _Batch:
    """Pages read but not written yet: what one commit writes."""

    pages: int = 0
    began: float = field(default_factory=time.monotonic)
    known: dict[int, Known] = field(default_factory=dict)  # the mirror before, by offer id
    details: dict[int, ProductDetail] = field(default_factory=dict)  # new and changed offers
    unchanged: list[int] = field(default_factory=list)  # product ids listed unchanged
    missed: list[int] = field(default_factory=list)  # offer ids whose detail "does not exist"

    def due(self, commits: int) -> bool:
        size = min(PAGES_PER_COMMIT, 2 ** max(0, commits - 1))
        return self.pages >= size or time.monotonic() - self.began >= COMMIT_SECONDS


def _read_window(run, shop, client, window: Window, seen: _Seen, progress, advance_to) -> bool:
    """One pass over the window. True when it was stable (and the cursor, when `advance_to`,
    has advanced to it)."""
    page_no, first_total, batch, commits = 1, None, _Batch(), 0
    while True:
        page = call_as_shop(
            shop,
            client,
            client.list_products,
            page_no=page_no,
            page_size=PAGE_SIZE,
            start_modify_time=window.start,
            end_modify_time=window.end,
            order_by="ID",
        )
        run.requests_made += 1
        run.pages += 1
        first_total = page.total_records if first_total is None else first_total
        run.offers_total = page.total_records  # the progress bar's 100 %
        is_last = not page.items or page_no * PAGE_SIZE >= page.total_records
        stable = page.total_records == first_total
        _read_page(run, shop, client, page.items, seen, batch)
        if is_last or batch.due(commits):
            _commit(run, shop, batch, advance_to=advance_to if is_last and stable else None)
            batch, commits = _Batch(), commits + 1
            progress(run)
        if is_last:
            return stable
        page_no += 1


def _products_by_offer_id(shop: Shop, offer_ids) -> dict[int, Known]:
    """What the mirror holds of a page's offers, in one query through the (shop, offer_id)
    unique index (no ordering: SQLite would walk the shop through another index)."""
    return ingest.known_offers(shop.pk, offer_ids)


def _read_page(run, shop, client, items, seen: _Seen, batch: _Batch) -> None:
    """Compare a page with the mirror and fetch the details of new and changed offers."""
    known = _products_by_offer_id(shop, [i.product_id for i in items])
    for item in items:
        offer_id, product = item.product_id, known.get(item.product_id)
        if offer_id in seen.missed:  # listed again (a page re-read, a pass repeated)
            continue
        earlier = batch.details.get(offer_id)  # listed twice before a commit
        if not _has_changed(item, product, earlier):
            if product is not None:
                batch.unchanged.append(product.id)
            continue
        if product is not None:
            batch.known.setdefault(offer_id, product)
        detail = item.detail  # the list item carries SKUs, prices and stock
        if detail is None:
            detail = _fetch_detail(run, shop, client, offer_id)
        if detail is None:
            batch.missed.append(offer_id)
            seen.missed.add(offer_id)
        else:
            batch.details[offer_id] = detail
    batch.pages += 1
    seen.offers.update(i.product_id for i in items)
    run.offers_seen = len(seen.offers)  # distinct: a repeated pass or a page re-read counts once


def _commit(run, shop, batch: _Batch, advance_to: datetime | None) -> None:
    with transaction.atomic():
        writer = ingest.writer()
        writer.touch(batch.unchanged, timezone.now())
        if batch.details:
            ingest.write(run, shop, list(batch.details.values()), batch.known)
        _note_detail_outcomes(run, shop, read=list(batch.details), missed=batch.missed)
        if advance_to is not None:
            _advance(run, shop, advance_to)  # the same transaction (saves the run)
        else:
            run.save()


def _fetch_detail(run, shop, client, offer_id: int) -> ProductDetail | None:
    """The offer's detail, or None when 1688 answered that it does not exist."""
    run.requests_made += 1
    try:
        detail = call_as_shop(shop, client, client.get_product, offer_id)
    except BusinessError as exc:
        if not _is_not_found(exc):
            raise
        return None
    run.details_fetched += 1
    return detail


def _note_detail_outcomes(run, shop: Shop, *, read: list[int], missed: list[int]) -> None:
    """Keep the shop's pending set in step (inside the page's transaction).

    A detail that answers "does not exist" for an offer the list just showed may be transient
    (seen right after an offer appears): the offer is kept pending and read again by the next
    run; it is marked gone only on a second miss in a later run (or by a full resync).
    """
    pending = dict(shop.pending_offers)
    before = dict(pending)
    for offer_id in read:
        pending.pop(str(offer_id), None)
    gone = []
    for offer_id in missed:
        misses = pending.get(str(offer_id), 0) + 1
        if misses >= 2:
            pending.pop(str(offer_id))
            gone.append(offer_id)
        else:
            pending[str(offer_id)] = misses
    if gone:
        _mark_gone(run, shop, gone)
    if pending != before:
        Shop.objects.filter(pk=shop.pk).update(pending_offers=pending)
        shop.pending_offers = pending


def _read_pending(run, shop: Shop, client, offer_ids: set[str]) -> None:
    """Offers left pending by an earlier run and not settled by this run's window."""
    for key in sorted(offer_ids & set(shop.pending_offers)):
        offer_id = int(key)
        detail = _fetch_detail(run, shop, client, offer_id)
        with transaction.atomic():
            if detail is not None:
                ingest.write(run, shop, [detail], _products_by_offer_id(shop, [offer_id]))
            _note_detail_outcomes(
                run,
                shop,
                read=[offer_id] if detail else [],
                missed=[] if detail else [offer_id],
            )
            run.save()


def _is_not_found(exc: BusinessError) -> bool:
    return "NOT_EXIST" in (exc.code or "").upper()


def _mark_gone(run: SyncRun, shop: Shop, offer_ids: list[int]) -> None:
    answer_domain.clear(shop, offer_ids)
    run.offers_delisted += Product.objects.filter(
        shop=shop, offer_id__in=offer_ids, delisted_at__isnull=True
    ).update(delisted_at=timezone.now(), status="delete")


def _has_changed(item: ProductSummary, product: Known | None, earlier=None) -> bool:
    if item.modify_time is None:
        return True
    if earlier is not None:
        return earlier.modify_time != item.modify_time
    return product is None or product.modified != item.modify_time


def _reconcile_missing(run: SyncRun, shop: Shop, client: Open1688Client, seen: set[int]) -> None:
    """Full resync: local offers the listing no longer shows are asked for one by one; a
    "does not exist" here is confirmed (the listing does not show it either): gone."""
    local = Product.objects.filter(shop=shop, delisted_at__isnull=True).order_by("offer_id")
    # Compared here, not in SQL: `NOT IN (...)` with every seen id overflows SQLite's limit
    # of bound parameters on a large mirror.
    missing = [oid for oid in local.values_list("offer_id", flat=True) if oid not in seen]
    for offer_id in missing:
        detail = _fetch_detail(run, shop, client, offer_id)
        with transaction.atomic():
            if detail is None:
                _mark_gone(run, shop, [offer_id])
            else:
                ingest.write(run, shop, [detail], _products_by_offer_id(shop, [offer_id]))
            pending = {k: v for k, v in shop.pending_offers.items() if k != str(offer_id)}
            if pending != shop.pending_offers:
                Shop.objects.filter(pk=shop.pk).update(pending_offers=pending)
                shop.pending_offers = pending
            run.save()
