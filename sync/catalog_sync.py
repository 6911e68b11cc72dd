"""Incremental catalog sync: one shop's offers from 1688 into Product/Sku + the change log.

The contract (docs/contracts.md; 1688's answer shapes and prices: docs/protocol.md):
- the cursor is the end of the last fully committed modify-time window; a run fixes its window
  at start, [cursor - overlap, now), and pages through it sorted by ID;
- each page commits in its own transaction; the cursor moves to the window's end in the
  transaction of the last page, so a crash anywhere loses nothing and a re-run duplicates
  nothing (unchanged offers are recognised by their modify stamp, change rows are unique per
  remote change);
- details (`alibaba.product.get`) are fetched only for offers whose modify stamp differs from
  ours, and not at all when the list items carry SKUs, prices and stock, so the cost follows
  the number of changes, not the catalog size; a page's lookups use the (shop, offer_id) index;
- a detail that says "does not exist" for a listed offer is read again by the next run
  (`Shop.pending_offers`) and the offer is marked gone only on a second miss;
- price changes are logged as 1688 has them per quoteType (offer tiers, SKU price, SKU tiers,
  stock); a value 1688 does not send is unknown, never a change.

Offset paging over a window that shrinks (an offer modified during the run leaves it) can skip
an offer that did not change: when the window's `totalRecords` moves during a pass, the pass is
repeated (it is cheap: unchanged offers need no detail) and the cursor only advances after a
stable pass.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.alerts import engine as alerts
from catalog.alerts.failures import classify
from catalog.models import PriceStockChange, Product, Shop, Sku, SyncRun
from catalog.shops.clients import call_as_shop, client_or_new
from erp1688.messages import render
from erp1688.refusals import Refused
from open1688 import BusinessError, Open1688Client
from open1688.types import PriceRange, ProductDetail, ProductSummary, SkuInfo
from sync import answer_domain
from sync.locks import held_lock, holder

log = logging.getLogger(__name__)

PAGE_SIZE = 20  # the list API's maximum
MAX_PASSES = 3
DELISTED_STATUSES = {"member deleted", "delete", "deleted", "outdated", "expired"}
PRODUCT_FIELDS = [
    "subject", "category_id", "status", "unit", "min_order_quantity", "amount_on_sale",
    "quote_type", "cargo_number", "price_ranges", "images", "attributes", "remote_created_at",
    "remote_modified_at", "raw", "last_seen_at", "delisted_at",
]  # fmt: skip
SKU_FIELDS = [
    "spec_id", "attributes", "cargo_number", "sku_code", "price", "retail_price", "stock",
    "price_ranges",
]  # fmt: skip


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
            with client_or_new(client) as api:
                _run(run, api, report_and_check)
        except Exception as exc:
            _finish(run, SyncRun.Status.FAILED, _describe(exc), classify(exc))
            raise
    return run


def lock_owner(run: SyncRun) -> str:
    """The name a run's lock carries (`holder()` shows it; the dead-run sweep compares it)."""
    return f"run {run.pk}"


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:2000]


def _finish(run: SyncRun, status: str, error: str = "", error_kind: str = "") -> None:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.error_kind = error_kind
    run.save(update_fields=["status", "error", "error_kind", "finished_at"])
    alerts.on_run_finished(run=run)  # sync failing / recovered, offers gone, authorisation
    if status == SyncRun.Status.SUCCEEDED:
        from catalog.publishing.upload.run import (
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
    seen: set[int] = set()
    for _pass in range(MAX_PASSES):
        if _read_window(run, shop, client, window, seen, progress):
            break
    else:
        raise RuntimeError(
            f"the window kept changing during {MAX_PASSES} passes; the cursor was not advanced"
        )
    _read_pending(run, shop, client, pending_at_start)
    if full:
        _reconcile_missing(run, shop, client, seen)
    _finish(run, SyncRun.Status.SUCCEEDED)


def _read_window(run, shop, client, window: Window, seen: set[int], progress) -> bool:
    """One pass over the window. True when it was stable and the cursor has advanced."""
    page_no, first_total = 1, None
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
        _store_page(
            run,
            shop,
            client,
            page.items,
            seen,
            advance_to=window.end if is_last and stable else None,
        )
        progress(run)
        if is_last:
            return stable
        page_no += 1


def _products_by_offer_id(shop: Shop, offer_ids) -> dict[int, Product]:
    """One page's products by offer id through the (shop, offer_id) unique index: without
    `.order_by()` the query inherits Product.Meta.ordering and SQLite walks the whole shop
    through the modified-time index, so a page would cost more as the mirror grows."""
    products = Product.objects.filter(shop=shop, offer_id__in=list(offer_ids)).order_by()
    # The answer as received and the pictures are only ever overwritten by the sync: not read.
    return {p.offer_id: p for p in products.defer("raw", "images")}


def _store_page(run, shop, client, items, seen: set[int], advance_to: datetime | None) -> None:
    known = _products_by_offer_id(shop, [i.product_id for i in items])
    changed = [i for i in items if _has_changed(i, known.get(i.product_id))]
    changed_ids = {i.product_id for i in changed}
    details, missed = [], []
    for item in changed:
        if item.detail is not None:  # the list item carries SKUs, prices and stock
            details.append(item.detail)
            continue
        detail = _fetch_detail(run, shop, client, item.product_id)
        if detail is None:
            missed.append(item.product_id)
        else:
            details.append(detail)
    seen.update(i.product_id for i in items)
    run.offers_seen = len(seen)  # distinct offers: a repeated pass or a page re-read counts once
    with transaction.atomic():
        unchanged_ids = [known[i].pk for i in known if i not in changed_ids]
        Product.objects.filter(pk__in=unchanged_ids).update(last_seen_at=timezone.now())
        if details:
            _upsert(run, shop, details, known)
        _note_detail_outcomes(run, shop, read=[d.product_id for d in details], missed=missed)
        if advance_to is not None:
            Shop.objects.filter(pk=shop.pk).update(
                sync_cursor=advance_to, last_synced_at=timezone.now()
            )
            shop.sync_cursor = run.cursor_after = advance_to
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
                _upsert(run, shop, [detail], _products_by_offer_id(shop, [offer_id]))
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


def _has_changed(item: ProductSummary, product: Product | None) -> bool:
    if product is None or item.modify_time is None:
        return True
    return product.remote_modified_at != item.modify_time


def tiers_json(tiers: tuple[PriceRange, ...]) -> list[dict]:
    return [{"start_quantity": t.start_quantity, "price": str(t.price)} for t in tiers]


def _product_values(detail: ProductDetail, now: datetime) -> dict:
    delisted = detail.status in DELISTED_STATUSES
    values = {
        "subject": detail.subject[:255],
        "category_id": detail.category_id,
        "status": detail.status[:40],
        "unit": detail.unit[:20],
        "min_order_quantity": detail.min_order_quantity,
        "amount_on_sale": detail.amount_on_sale,
        "quote_type": detail.quote_type,
        "cargo_number": detail.cargo_number[:64],
        "price_ranges": tiers_json(detail.price_ranges),
        "images": list(detail.images),
        "attributes": list(detail.attributes),
        "remote_created_at": detail.create_time,
        "remote_modified_at": detail.modify_time,
        "raw": detail.raw,
        "last_seen_at": now,
        "delisted_at": now if delisted else None,
    }
    if detail.from_list and "attributes" not in detail.raw:
        del values["attributes"]  # a list item may leave them out: keep what the mirror has
    return values


def _upsert(run: SyncRun, shop: Shop, details: list[ProductDetail], known: dict) -> None:
    """Write one page's offers: one INSERT ... ON CONFLICT DO UPDATE for new and changed offers
    together (bulk_update's CASE per row and field cost 60-70 % of an incremental run),
    then their SKUs the same way, then the change rows. An offer whose answer is outside
    1688's domain is left out and listed as a data problem of the shop (sync/answer_domain.py)."""
    details = answer_domain.quarantine(shop, details)
    if not details:
        return
    now = timezone.now()
    rows, changes, created = [], [], 0
    for detail in details:
        values = _product_values(detail, now)
        product = known.get(detail.product_id)
        if product is None:
            created += 1
            product = Product(shop=shop, offer_id=detail.product_id, first_seen_at=now)
        else:
            if values["delisted_at"] and product.delisted_at:
                values["delisted_at"] = product.delisted_at  # keep when it first went away
            elif values["delisted_at"]:
                run.offers_delisted += 1
            changes.extend(_offer_level_changes(run, product, detail, now))
        for name, value in values.items():
            setattr(product, name, value)
        rows.append(product)
    _upsert_rows(Product, rows, ["shop", "offer_id"], PRODUCT_FIELDS)
    run.offers_created += created
    run.offers_updated += len(rows) - created
    products = {p.offer_id: p for p in rows}
    changes.extend(_upsert_skus(run, details, products, now))
    # The product list's price and SKU-count sorts read stored figures: one UPDATE a page.
    Product.objects.filter(pk__in=[p.pk for p in rows]).refresh_sort_figures()
    # Unique per remote change: a row a re-run finds again is left alone (DO NOTHING).
    _upsert_rows(PriceStockChange, changes, [], None)
    run.changes_written += len(changes)
    alerts.on_changes(changes=changes)  # price change %, stock below N (catalog/alerts/engine.py)


def _upsert_rows(model, rows: list, unique: list[str], fields: list[str] | None) -> None:
    """INSERT ... ON CONFLICT (`unique`) DO UPDATE SET `fields` ... RETURNING id, for new and
    known rows alike, one statement per batch; each row gets its primary key. Without
    `fields`: ON CONFLICT DO NOTHING (rows already there are left as they are).

    Written out here rather than by bulk_create(update_conflicts=True): the SQL is the same,
    but the ORM's per-value compilation was most of an ingest's time. Values are
    still prepared by each field (pre_save, get_db_prep_save), as the ORM does."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    conflict = [meta.get_field(name).column for name in unique]
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    names = ", ".join(quote(f.column) for f in columns)
    head = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES "  # noqa: S608 (model names)
    if fields:
        updated = [meta.get_field(name).column for name in fields]
        tail = (
            f" ON CONFLICT ({', '.join(map(quote, conflict))}) DO UPDATE SET "
            + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updated)
            + f" RETURNING {quote(meta.pk.column)}"
        )
    else:
        tail = " ON CONFLICT DO NOTHING"
    batch = max(1, connection.ops.bulk_batch_size(columns, rows))
    with connection.cursor() as cursor:
        for begin in range(0, len(rows), batch):
            part = rows[begin : begin + batch]
            params = [
                f.get_db_prep_save(f.pre_save(row, True), connection)
                for row in part
                for f in columns
            ]
            cursor.execute(head + ", ".join([row_sql] * len(part)) + tail, params)
            if not fields:
                continue
            for row, (key,) in zip(part, cursor.fetchall(), strict=True):
                row.pk = key
                row._state.adding, row._state.db = False, connection.alias


def _change(run, product: Product, sku: Sku | None, remote_sku_id: int, stamp, now):
    """A factory of one product's (or SKU's) change rows (see change_maker)."""
    return change_maker(
        stamp,
        now,
        shop_id=product.shop_id,
        product=product,
        sku=sku,
        remote_sku_id=remote_sku_id,
        sync_run=run,
    )


def change_maker(stamp, now, **row):
    """A factory of change rows for one subject (`row`: the PriceStockChange fields naming
    it: own offer and SKU, or a watched offer (catalog/watch/services.py), and the source); a
    missing value
    is "unknown": None on either side writes nothing."""

    def make(field: str, before, after, tier_start_quantity: int = 0):
        if before is None or after is None or Decimal(before) == Decimal(after):
            return []
        return [
            PriceStockChange(
                field=field,
                tier_start_quantity=tier_start_quantity,
                **PriceStockChange.value_columns(field, before, after),
                remote_modified_at=stamp or now,
                observed_at=now,
                **row,
            )
        ]

    return make


def _tier_changes(make, old_tiers: list[dict], new_tiers: tuple[PriceRange, ...]) -> list:
    """One row per tier whose price moved ("起批 3 件: ¥258 → ¥250"); a tier only on one side
    (added or removed) is unknown on the other and writes nothing."""
    old = {
        int(t["start_quantity"]): t["price"]
        for t in old_tiers
        if t.get("start_quantity") is not None and t.get("price") is not None
    }
    rows = []
    for tier in new_tiers:
        rows += make(
            PriceStockChange.Field.TIER_PRICE, old.get(tier.start_quantity), tier.price,
            tier.start_quantity,
        )  # fmt: skip
    return rows


def _offer_level_changes(run, product: Product, detail: ProductDetail, now) -> list:
    """The offer's own tiers (remote_sku_id 0), with or without SKUs: for quoteType 0 and 2
    they are the price of every SKU. Offer stock only when the offer has no SKUs (otherwise
    it is the SKUs' total and their rows say it)."""
    make = _change(run, product, None, 0, detail.modify_time, now)
    return offer_changes(make, product.price_ranges, product.amount_on_sale, detail)


def offer_changes(make, old_tiers: list[dict], old_stock, detail: ProductDetail) -> list:
    """The offer-level rows (remote_sku_id 0) between a mirror's tiers/stock and `detail`."""
    rows = _tier_changes(make, old_tiers, detail.price_ranges)
    if not detail.skus:
        rows += make(PriceStockChange.Field.STOCK, old_stock, detail.amount_on_sale)
    return rows


def sku_changes(make, old_price, old_tiers: list[dict], old_stock, info: SkuInfo) -> list:
    """One SKU's rows: its price, its own tiers and its stock."""
    rows = make(PriceStockChange.Field.PRICE, old_price, info.price)
    rows += _tier_changes(make, old_tiers, info.price_ranges)
    rows += make(PriceStockChange.Field.STOCK, old_stock, info.amount_on_sale)
    return rows


def _upsert_skus(run, details: list[ProductDetail], products: dict, now) -> list[PriceStockChange]:
    """The page's SKUs: compared with the mirror in memory, and only new or different ones
    written (one upsert); SKUs 1688 no longer lists are deleted."""
    existing: dict[tuple[int, int], Sku] = {
        (s.product_id, s.sku_id): s
        for s in Sku.objects.filter(product_id__in=[p.pk for p in products.values()]).order_by()
    }
    rows, changes, keep = [], [], set()
    for detail in details:
        product = products[detail.product_id]
        for info in detail.skus:
            values = {
                "spec_id": info.spec_id[:64],
                "attributes": list(info.attributes),
                "cargo_number": info.cargo_number[:64],
                "sku_code": info.sku_code[:64],
                "price": info.price,
                "retail_price": info.retail_price,
                "stock": info.amount_on_sale,
                "price_ranges": tiers_json(info.price_ranges),
            }
            sku = existing.get((product.pk, info.sku_id))
            keep.add((product.pk, info.sku_id))
            if sku is None:
                rows.append(Sku(product=product, sku_id=info.sku_id, **values))
                continue
            make = _change(run, product, sku, info.sku_id, detail.modify_time, now)
            changes += sku_changes(make, sku.price, sku.price_ranges, sku.stock, info)
            if all(getattr(sku, name) == value for name, value in values.items()):
                continue  # nothing to write
            for name, value in values.items():
                setattr(sku, name, value)
            rows.append(sku)
    _upsert_rows(Sku, rows, ["product", "sku_id"], SKU_FIELDS)
    gone = [s for key, s in existing.items() if key not in keep]
    if gone:
        alerts.on_skus_gone(skus=gone)
        Sku.objects.filter(pk__in=[s.pk for s in gone]).delete()
    return changes


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
                _upsert(run, shop, [detail], _products_by_offer_id(shop, [offer_id]))
            pending = {k: v for k, v in shop.pending_offers.items() if k != str(offer_id)}
            if pending != shop.pending_offers:
                Shop.objects.filter(pk=shop.pk).update(pending_offers=pending)
                shop.pending_offers = pending
            run.save()
