"""Incremental catalog sync: one shop's offers from 1688 into Product/Sku + the change log.

The contract (../shared/DESIGN.md, "Incremental sync"):
- the cursor is the end of the last fully committed modify-time window; a run fixes its window
  at start, [cursor - overlap, now), and pages through it sorted by ID;
- each page commits in its own transaction; the cursor moves to the window's end in the
  transaction of the last page, so a crash anywhere loses nothing and a re-run duplicates
  nothing (unchanged offers are recognised by their modify stamp, change rows are unique per
  remote change);
- details (`alibaba.product.get`) are fetched only for offers whose modify stamp differs from
  ours, so the cost follows the number of changes, not the catalog size.

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
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import PriceStockChange, Product, Shop, Sku, SyncRun
from erp1688.refusals import Refused
from sync.gateway import call_as_shop, client_or_new
from sync.locks import held_lock, holder
from sync.open1688 import BusinessError, Open1688Client
from sync.open1688.types import ProductDetail, ProductSummary

log = logging.getLogger(__name__)

PAGE_SIZE = 20  # the list API's maximum
MAX_PASSES = 3
DELISTED_STATUSES = {"member deleted", "delete", "deleted", "outdated", "expired"}
PRODUCT_FIELDS = [
    "subject", "category_id", "status", "unit", "min_order_quantity", "amount_on_sale",
    "quote_type", "cargo_number", "price_ranges", "images", "attributes", "remote_created_at",
    "remote_modified_at", "raw", "last_seen_at", "delisted_at",
]  # fmt: skip
SKU_FIELDS = ["spec_id", "attributes", "cargo_number", "sku_code", "price", "retail_price", "stock"]


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
            _finish(run, SyncRun.Status.FAILED, _describe(exc))
            raise
    return run


def lock_owner(run: SyncRun) -> str:
    """The name a run's lock carries (`holder()` shows it; the dead-run sweep compares it)."""
    return f"run {run.pk}"


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"[:2000]


def _finish(run: SyncRun, status: str, error: str = "") -> None:
    run.status, run.error, run.finished_at = status, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])


def _run(run: SyncRun, client: Open1688Client, progress) -> None:
    shop = Shop.objects.get(pk=run.shop_id)
    if shop.status != Shop.Status.ACTIVE:
        raise RuntimeError(f"shop is {shop.get_status_display()}: {shop.status_reason}")
    full = run.kind == SyncRun.Kind.FULL
    now = timezone.now()
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # 1688 times carry ms
    overlap = timedelta(seconds=settings.SYNC_OVERLAP_SECONDS)
    start = None if full or shop.sync_cursor is None else shop.sync_cursor - overlap
    window = Window(start=start, end=now)
    run.status, run.started_at = SyncRun.Status.RUNNING, timezone.now()
    run.cursor_before, run.window_start, run.window_end = shop.sync_cursor, window.start, window.end
    run.save()

    seen: set[int] = set()
    for _pass in range(MAX_PASSES):
        if _read_window(run, shop, client, window, seen, progress):
            break
    else:
        raise RuntimeError(
            f"the window kept changing during {MAX_PASSES} passes; the cursor was not advanced"
        )
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


def _store_page(run, shop, client, items, seen: set[int], advance_to: datetime | None) -> None:
    known = {
        p.offer_id: p
        for p in Product.objects.filter(shop=shop, offer_id__in=[i.product_id for i in items])
    }
    changed = [i for i in items if _has_changed(i, known.get(i.product_id))]
    changed_ids = {i.product_id for i in changed}
    details, vanished = [], []
    for item in changed:
        # The list carries no SKUs, prices or stock: one detail call per changed offer.
        run.requests_made += 1
        try:
            details.append(call_as_shop(shop, client, client.get_product, item.product_id))
        except BusinessError as exc:
            if not _is_not_found(exc):
                raise
            vanished.append(item.product_id)  # deleted between the list and the detail call
            continue
        run.details_fetched += 1
    run.offers_seen += len(items)
    seen.update(i.product_id for i in items)
    with transaction.atomic():
        unchanged_ids = [known[i].pk for i in known if i not in changed_ids]
        Product.objects.filter(pk__in=unchanged_ids).update(last_seen_at=timezone.now())
        if details:
            _upsert(run, shop, details, known)
        if vanished:
            _mark_gone(run, shop, vanished)
        if advance_to is not None:
            Shop.objects.filter(pk=shop.pk).update(
                sync_cursor=advance_to, last_synced_at=timezone.now()
            )
            shop.sync_cursor = run.cursor_after = advance_to
        run.save()


def _is_not_found(exc: BusinessError) -> bool:
    return "NOT_EXIST" in (exc.code or "").upper()


def _mark_gone(run: SyncRun, shop: Shop, offer_ids: list[int]) -> None:
    run.offers_delisted += Product.objects.filter(
        shop=shop, offer_id__in=offer_ids, delisted_at__isnull=True
    ).update(delisted_at=timezone.now(), status="delete")


def _has_changed(item: ProductSummary, product: Product | None) -> bool:
    if product is None or item.modify_time is None:
        return True
    return product.remote_modified_at != item.modify_time


def _product_values(detail: ProductDetail, now: datetime) -> dict:
    delisted = detail.status in DELISTED_STATUSES
    return {
        "subject": detail.subject[:255],
        "category_id": detail.category_id,
        "status": detail.status[:40],
        "unit": detail.unit[:20],
        "min_order_quantity": detail.min_order_quantity,
        "amount_on_sale": detail.amount_on_sale,
        "quote_type": detail.quote_type,
        "cargo_number": detail.cargo_number[:64],
        "price_ranges": [
            {"start_quantity": r.start_quantity, "price": str(r.price)} for r in detail.price_ranges
        ],
        "images": list(detail.images),
        "attributes": list(detail.attributes),
        "remote_created_at": detail.create_time,
        "remote_modified_at": detail.modify_time,
        "raw": detail.raw,
        "last_seen_at": now,
        "delisted_at": now if delisted else None,
    }


def _upsert(run: SyncRun, shop: Shop, details: list[ProductDetail], known: dict) -> None:
    now = timezone.now()
    new, updated, changes = [], [], []
    for detail in details:
        values = _product_values(detail, now)
        product = known.get(detail.product_id)
        if product is None:
            new.append(Product(shop=shop, offer_id=detail.product_id, first_seen_at=now, **values))
            continue
        if values["delisted_at"] and product.delisted_at:
            values["delisted_at"] = product.delisted_at  # keep when it first went away
        elif values["delisted_at"]:
            run.offers_delisted += 1
        changes.extend(_offer_level_changes(run, product, detail, now))
        for name, value in values.items():
            setattr(product, name, value)
        updated.append(product)
    Product.objects.bulk_create(new)
    Product.objects.bulk_update(updated, PRODUCT_FIELDS)
    run.offers_created += len(new)
    run.offers_updated += len(updated)
    # bulk_create does not return ids on every backend: read the page's products back once.
    products = {
        p.offer_id: p
        for p in Product.objects.filter(shop=shop, offer_id__in=[d.product_id for d in details])
    }
    changes.extend(_upsert_skus(run, details, products, now))
    created = PriceStockChange.objects.bulk_create(changes, ignore_conflicts=True)
    run.changes_written += len(created)


def _sku_changes(
    run, product: Product, sku: Sku | None, remote_sku_id: int, old: dict, new: dict, stamp, now
):
    for field in (PriceStockChange.Field.PRICE, PriceStockChange.Field.STOCK):
        before, after = old[field], new[field]
        if _same(before, after):
            continue
        yield PriceStockChange(
            shop_id=product.shop_id,
            product=product,
            sku=sku,
            remote_sku_id=remote_sku_id,
            field=field,
            old_value=before,
            new_value=after,
            remote_modified_at=stamp or now,
            observed_at=now,
            sync_run=run,
        )


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return Decimal(a) == Decimal(b)


def _offer_level_changes(run, product: Product, detail: ProductDetail, now):
    """Offers without SKUs carry price and stock on the offer itself (remote_sku_id 0)."""
    if detail.skus:
        return []
    new_price = min((r.price for r in detail.price_ranges), default=None)
    old = {"price": product.min_price, "stock": product.amount_on_sale}
    new = {"price": new_price, "stock": detail.amount_on_sale}
    return list(_sku_changes(run, product, None, 0, old, new, detail.modify_time, now))


def _upsert_skus(run, details: list[ProductDetail], products: dict, now) -> list[PriceStockChange]:
    existing: dict[tuple[int, int], Sku] = {
        (s.product_id, s.sku_id): s for s in Sku.objects.filter(product__in=products.values())
    }
    new, updated, changes, keep = [], [], [], set()
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
            }
            sku = existing.get((product.pk, info.sku_id))
            keep.add((product.pk, info.sku_id))
            if sku is None:
                new.append(Sku(product=product, sku_id=info.sku_id, **values))
                continue
            old = {"price": sku.price, "stock": sku.stock}
            fresh = {"price": info.price, "stock": info.amount_on_sale}
            changes.extend(
                _sku_changes(run, product, sku, info.sku_id, old, fresh, detail.modify_time, now)
            )
            for name, value in values.items():
                setattr(sku, name, value)
            updated.append(sku)
    Sku.objects.bulk_create(new)
    Sku.objects.bulk_update(updated, SKU_FIELDS)
    gone = [s.pk for key, s in existing.items() if key not in keep]
    Sku.objects.filter(pk__in=gone).delete()
    return changes


def _reconcile_missing(run: SyncRun, shop: Shop, client: Open1688Client, seen: set[int]) -> None:
    """Full resync: local offers the listing no longer shows are asked for one by one."""
    missing = Product.objects.filter(shop=shop, delisted_at__isnull=True).exclude(offer_id__in=seen)
    for product in missing.iterator():
        run.requests_made += 1
        try:
            detail = call_as_shop(shop, client, client.get_product, product.offer_id)
        except BusinessError as exc:
            if not _is_not_found(exc):
                raise
            _mark_gone(run, shop, [product.offer_id])
            continue
        with transaction.atomic():
            _upsert(run, shop, [detail], {product.offer_id: product})
    run.save()
