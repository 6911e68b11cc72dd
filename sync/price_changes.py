"""Which price and stock moves are change rows (docs/contracts.md, "Incremental sync"): prices
as 1688 has them per quoteType (offer tiers, SKU price, SKU tiers) and stock; a value 1688 does
not send is unknown, never a change.

The rules take a `make(field, before, after, tier_start_quantity=0)` that turns one move into
rows: the sync's makes plain tuples for the driver (sync/ingest.py), a watched offer's re-read
makes PriceStockChange instances (`change_maker`, catalog/watch/services.py).
"""

from decimal import Decimal

from catalog.models import PriceStockChange
from open1688.types import PriceRange, ProductDetail, SkuInfo

STOCK = PriceStockChange.Field.STOCK
PRICE = PriceStockChange.Field.PRICE
TIER_PRICE = PriceStockChange.Field.TIER_PRICE


def tiers_json(tiers: tuple[PriceRange, ...]) -> list[dict]:
    return [{"start_quantity": t.start_quantity, "price": str(t.price)} for t in tiers]


def moved(before, after) -> bool:
    """Whether a value moved: both sides known and different (None is unknown, never a move)."""
    return before is not None and after is not None and Decimal(before) != Decimal(after)


def change_maker(stamp, now, **row):
    """A factory of change rows for one subject (`row`: the PriceStockChange fields naming
    it: own offer and SKU, or a watched offer (catalog/watch/services.py), and the source); a
    missing value is "unknown": None on either side writes nothing."""

    def make(field: str, before, after, tier_start_quantity: int = 0):
        if not moved(before, after):
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
        rows += make(TIER_PRICE, old.get(tier.start_quantity), tier.price, tier.start_quantity)
    return rows


def offer_changes(make, old_tiers: list[dict], old_stock, detail: ProductDetail) -> list:
    """The offer-level rows (remote_sku_id 0) between a mirror's tiers/stock and `detail`:
    the offer's own tiers, with or without SKUs (for quoteType 0 and 2 they are the price of
    every SKU); its stock only when it has no SKUs (otherwise the SKUs' rows say it)."""
    rows = _tier_changes(make, old_tiers, detail.price_ranges)
    if not detail.skus:
        rows += make(STOCK, old_stock, detail.amount_on_sale)
    return rows


def sku_changes(make, old_price, old_tiers: list[dict], old_stock, info: SkuInfo) -> list:
    """One SKU's rows: its price, its own tiers and its stock."""
    rows = make(PRICE, old_price, info.price)
    rows += _tier_changes(make, old_tiers, info.price_ranges)
    rows += make(STOCK, old_stock, info.amount_on_sale)
    return rows
