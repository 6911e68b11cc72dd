"""The sync's write path: a batch of parsed offers into Product/Sku and the change log.

Rows are built straight from the parsed answers as tuples for the driver (sync/ingest_sql.py):
no model instances, no per-value field preparation. The answer is stored as the text 1688 sent
when it can be (no second encoding of ~3 KB per offer); tiers are written as the JSON text the
ORM would write. SKU writes that change nothing are skipped by the database (the upsert's
WHERE), and the change rows come from the stored values read in one query per batch.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from catalog.alerts import engine as alerts
from catalog.models import ChangeSource, PriceStockChange, Shop, Sku, SyncRun
from open1688.types import PriceRange, ProductDetail
from sync import answer_domain
from sync.ingest_sql import Writer, aware, writer
from sync.price_changes import moved, offer_changes, sku_changes

DELISTED_STATUSES = {"member deleted", "delete", "deleted", "outdated", "expired"}
CENT = Decimal("0.01")
# A change row's value columns, in sync/ingest_sql.py CHANGE_COLUMNS order.
VALUE_COLUMNS = ("old_value", "new_value", "old_stock", "new_stock")
# As the ORM writes a JSONField (so stored text compares equal to what it would have written).
encode = DjangoJSONEncoder(check_circular=False).encode  # parsed answers hold no cycles


class Known(NamedTuple):
    """What the mirror holds of one offer, read to compare (values as the database gives)."""

    id: int
    modified: datetime | None
    delisted_at: object
    price_ranges: str
    amount_on_sale: int | None


def known_offers(shop_id: int, offer_ids, w: Writer | None = None) -> dict[int, Known]:
    rows = (w or writer()).known_products(shop_id, list(offer_ids))
    return {row[0]: Known(*row[1:]) for row in rows}


def tiers_text(tiers: tuple[PriceRange, ...]) -> str:
    """`encode(price_changes.tiers_json(tiers))`, written out (prices are digits and a dot)."""
    return "[" + ", ".join(
        f'{{"start_quantity": {t.start_quantity}, "price": "{t.price}"}}' for t in tiers
    ) + "]"  # fmt: skip


def raw_text(detail: ProductDetail) -> str:
    """The answer as stored: its text as received when that is the whole answer in plain
    JSON (which both databases read as the parsed object), else encoded again."""
    received = detail.received  # plain JSON (open1688/transport.py), else None
    if received is not None:
        try:
            return received.decode()
        except UnicodeDecodeError:
            pass
    return encode(detail.raw)


def sort_figures(detail: ProductDetail) -> tuple[Decimal | None, int]:
    """The lowest price and the SKU count the product list sorts by, as
    catalog.models.shops.lowest_price() and sku_count() compute them from the stored rows: the
    last of (at most three) tiers, else the cheapest SKU."""
    if detail.price_ranges:
        low = detail.price_ranges[:3][-1].price
    else:
        prices = [s.price for s in detail.skus if s.price is not None]
        low = min(prices) if prices else None
    return low, len({s.sku_id for s in detail.skus})


def _old_price(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def _old_tiers(text: str | None) -> list:
    return json.loads(text) if text and text != "[]" else []


def write(run: SyncRun, shop: Shop, details: list[ProductDetail], known: dict[int, Known]):
    """Write the batch's offers (inside the caller's transaction): new and changed offers in
    one upsert, their SKUs in another, SKUs 1688 no longer lists deleted, then one change row
    per real move. An offer whose answer is outside 1688's domain is left out and listed as
    a data problem of the shop (sync/answer_domain.py)."""
    details = answer_domain.quarantine(shop, details)
    if not details:
        return
    w = writer()
    now = timezone.now()
    at = w.time(now)
    products, kept, changes = [], [], []
    for d in details:
        old = known.get(d.product_id)
        delisted = at if d.status in DELISTED_STATUSES else None
        if old is not None:
            if delisted is not None and old.delisted_at is not None:
                delisted = w.time(aware(old.delisted_at))  # when it first went away
            elif delisted is not None:
                run.offers_delisted += 1
            stamp = w.time(d.modify_time or now)
            make = _maker(old.id, None, 0, stamp)
            changes += offer_changes(make, _old_tiers(old.price_ranges), old.amount_on_sale, d)
        keep = d.from_list and "attributes" not in d.raw  # a list item may leave them out
        low, count = sort_figures(d)
        row = (
            shop.pk, d.product_id, d.subject[:255], d.category_id, d.status[:40], d.unit[:20],
            d.min_order_quantity, d.amount_on_sale, d.quote_type, d.cargo_number[:64],
            tiers_text(d.price_ranges), encode(list(d.images)),
            "[]" if keep else encode(list(d.attributes)),
            w.time(d.create_time), w.time(d.modify_time), raw_text(d), at, at, delisted,
            low, count,
        )  # fmt: skip
        (kept if keep else products).append(row)
    ids = {offer_id: k.id for offer_id, k in known.items()}
    ids.update(w.upsert_products(products, kept))
    missing = [d.product_id for d in details if d.product_id not in ids]
    ids.update((offer_id, k.id) for offer_id, k in known_offers(shop.pk, missing, w).items())
    created = sum(1 for d in details if d.product_id not in known)
    run.offers_created += created
    run.offers_updated += len(details) - created
    changes += _write_skus(w, details, known, ids, now)
    tail = (shop.pk, at, run.pk, ChangeSource.SYNC.value)
    w.insert_changes([row + tail for row in changes])
    run.changes_written += len(changes)
    rules = alerts.wants_changes(shop_ids={shop.pk}) if changes else []
    if rules:
        alerts.on_changes(changes=[_instance(row + tail) for row in changes], rules=rules)


def _maker(product_id: int, sku_pk: int | None, remote_sku_id: int, stamp):
    """A `make` for sync/price_changes.py giving the driver's change rows of one subject."""

    def make(field: str, before, after, tier_start_quantity: int = 0) -> list[tuple]:
        if not moved(before, after):
            return []
        columns = PriceStockChange.value_columns(field, before, after)
        values = (columns.get(name) for name in VALUE_COLUMNS)
        return [(product_id, sku_pk, remote_sku_id, field, tier_start_quantity, *values, stamp)]

    return make


def _write_skus(w: Writer, details, known, ids: dict[int, int], now) -> list[tuple]:
    """Every SKU of the batch (the database skips rows that did not change), the change rows
    against what was stored, and SKUs 1688 no longer lists deleted."""
    written = [ids[d.product_id] for d in details if d.product_id in known]
    stored = {(row[1], row[2]): row for row in w.skus_of(written)}
    rows, changes = {}, []
    for d in details:
        product_id = ids[d.product_id]
        stamp = None
        for info in d.skus:
            key = (product_id, info.sku_id)
            rows[key] = (
                product_id, info.sku_id, info.spec_id[:64], encode(list(info.attributes)),
                info.cargo_number[:64], info.sku_code[:64], info.price, info.retail_price,
                info.amount_on_sale, tiers_text(info.price_ranges),
            )  # fmt: skip
            old = stored.get(key)
            if old is None:
                continue
            stamp = stamp or w.time(d.modify_time or now)
            make = _maker(product_id, old[0], info.sku_id, stamp)
            changes += sku_changes(make, _old_price(old[3]), _old_tiers(old[5]), old[4], info)
    w.upsert_skus(list(rows.values()))
    gone = [
        Sku(id=row[0], product_id=row[1], sku_id=row[2], attributes=json.loads(row[6]))
        for key, row in stored.items()
        if key not in rows
    ]
    if gone:
        alerts.on_skus_gone(skus=gone)
        Sku.objects.filter(pk__in=[s.pk for s in gone]).delete()
    return changes


def _instance(row: tuple) -> PriceStockChange:
    """A change row as the alert rules read it (built only when a rule may read it)."""
    (product_id, sku_id, remote_sku_id, field, quantity, old_value, new_value, old_stock,
     new_stock, stamp, shop_id, observed, run_id, source) = row  # fmt: skip
    return PriceStockChange(
        product_id=product_id, sku_id=sku_id, remote_sku_id=remote_sku_id, field=field,
        tier_start_quantity=quantity, old_value=old_value, new_value=new_value,
        old_stock=old_stock, new_stock=new_stock, remote_modified_at=aware(stamp),
        shop_id=shop_id, observed_at=aware(observed), sync_run_id=run_id, source=source,
    )  # fmt: skip
