"""What a follow rule wants an own offer to be, given its supplier's last read: the target
prices, stock and listing, computed from the mirror (Product/Sku) and the watched offer's
snapshot only — no 1688 call, no write. The engine (catalog/follow/engine.py) turns a target
into live-edit drafts; the dry run and the margin report (catalog/follow/selectors.py) show it.

Targets are absolute (a price, a stock number, a status), never deltas: computed again from the
latest snapshot, a burst of supplier moves ends in one value, and a move already followed
computes to what the offer already has, so nothing is sent twice.
"""

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from catalog.models import FollowRule, Product
from catalog.publishing.bulk_edit import new_price
from sync.catalog_sync import DELISTED_STATUSES

CENT = Decimal("0.01")
LISTED = "published"
GONE = "gone"  # not a 1688 status: the supplier offer no longer exists (read refused)
ZERO, DELIST = FollowRule.SoldOut.ZERO, FollowRule.SoldOut.DELIST


def decimal_or_none(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass
class Value:
    """One value of the own offer: its key as the live-edit planner takes it ("sku:<Sku pk>",
    "tier:<start quantity>", "offer"), what the mirror has, what the rule wants, and the
    supplier's value it was computed from (the cost, for prices)."""

    key: str
    label: str
    before: Decimal | int | None
    after: Decimal | int
    supplier: Decimal | int | None = None

    @property
    def changes(self) -> bool:
        return self.before is None or Decimal(str(self.before)) != Decimal(str(self.after))

    @property
    def share(self) -> Decimal:
        """How far the value moves, as a share of where it was (0.1 = 10 %)."""
        if self.before in (None, 0):
            return Decimal("1") if self.changes else Decimal("0")
        before = Decimal(str(self.before))
        return abs(Decimal(str(self.after)) - before) / abs(before)


@dataclass
class Target:
    """What the rule wants; empty lists and `status` None: nothing to do."""

    prices: list[Value] = field(default_factory=list)
    stocks: list[Value] = field(default_factory=list)
    status: str | None = None  # "delist" | "relist"
    # Prices the ceiling keeps below cost plus the minimum margin: these wait for a person.
    below_margin: list[Value] = field(default_factory=list)
    supplier_state: str = LISTED  # "published", "sold_out", "gone" or the supplier's status

    @property
    def price_changes(self) -> list[Value]:
        return [v for v in self.prices if v.changes]

    @property
    def stock_changes(self) -> list[Value]:
        return [v for v in self.stocks if v.changes]

    @property
    def empty(self) -> bool:
        return not (self.price_changes or self.stock_changes or self.status)


# --- the supplier side ----------------------------------------------------------------------


def tier_price(tiers: list[dict], quantity: int) -> Decimal | None:
    """The price a buyer of `quantity` pays under `tiers` (the highest tier it reaches; below
    the first tier, the first tier's price)."""
    chosen = None
    for tier in sorted(tiers or [], key=lambda t: int(t.get("start_quantity") or 0)):
        price = decimal_or_none(tier.get("price"))
        if price is None:
            continue
        if chosen is None or int(tier.get("start_quantity") or 0) <= quantity:
            chosen = price
    return chosen


def supplier_price(snapshot: dict, supplier_sku_id: int | None, quantity: int = 1):
    """The supplier's unit price of one SKU (its own price or tiers), else the offer's tiers."""
    sku = (snapshot.get("skus") or {}).get(str(supplier_sku_id)) if supplier_sku_id else None
    if sku:
        own = tier_price(sku.get("price_ranges") or [], quantity)
        if own is not None:
            return own
        price = decimal_or_none(sku.get("price"))
        if price is not None:
            return price
    return tier_price(snapshot.get("price_ranges") or [], quantity)


def supplier_stock(snapshot: dict, supplier_sku_id: int | None) -> int | None:
    if supplier_sku_id:
        sku = (snapshot.get("skus") or {}).get(str(supplier_sku_id))
        return None if sku is None or sku.get("stock") is None else int(sku["stock"])
    value = snapshot.get("amount_on_sale")
    return None if value is None else int(value)


def supplier_state(snapshot: dict, *, gone: bool = False) -> str:
    """ "gone", the supplier's own status when not on sale, "sold_out" or "published"."""
    if gone:
        return GONE
    status = str(snapshot.get("status") or LISTED)
    if status in DELISTED_STATUSES:
        return status
    skus = snapshot.get("skus") or {}
    stocks = [s.get("stock") for s in skus.values()] if skus else [snapshot.get("amount_on_sale")]
    known = [int(s) for s in stocks if s is not None]
    if known and not any(known):
        return "sold_out"
    return LISTED


def unavailable(state: str) -> bool:
    return state == GONE or state in DELISTED_STATUSES


# --- the rule's arithmetic --------------------------------------------------------------------


def rule_price(rule: FollowRule, cost: Decimal) -> tuple[Decimal, bool]:
    """cost × (1 + margin) + fixed, rounded as the bulk edit rounds, then kept between the
    floor (and cost plus the minimum margin) and the ceiling. Returns (price, below_margin):
    True when the ceiling is below cost plus the minimum margin (the price is then the
    lowest allowed, and a person decides)."""
    multiply = 1 + Decimal(rule.margin_percent) / 100
    round_to = Decimal(rule.round_to) if rule.round_to else None
    price = new_price(cost, multiply=multiply, add=rule.fixed_add or None, round_to=round_to)
    lowest = (cost * (1 + Decimal(rule.min_margin_percent) / 100)).quantize(
        CENT, rounding=ROUND_CEILING
    )
    if rule.floor is not None:
        lowest = max(lowest, Decimal(rule.floor))
    lowest = max(lowest, CENT)
    if rule.ceiling is not None and Decimal(rule.ceiling) < lowest:
        return lowest, True
    price = max(price, lowest)
    if rule.ceiling is not None:
        price = min(price, Decimal(rule.ceiling))
    return price.quantize(CENT), False


def rule_stock(rule: FollowRule, supplier: int) -> int:
    stock = max(0, supplier - rule.stock_buffer)
    return stock if rule.stock_cap is None else min(stock, rule.stock_cap)


# --- one own offer ------------------------------------------------------------------------------


def by_sku(product: Product, skus) -> bool:
    """The own offer is priced per SKU (else by the offer's quantity tiers): as the planner."""
    return product.quote_type == 1 or (
        product.quote_type is None and bool(skus) and all(s.price is not None for s in skus)
    )


def compute(
    rule: FollowRule,
    product: Product,
    skus: list,
    sku_map: dict[int, int],
    snapshot: dict,
    *,
    gone: bool = False,
    delisted_by_rule: bool = False,
) -> Target:
    """The target of `product` (its `skus`, each Sku pk mapped to a supplier SKU id by
    `sku_map`) under `rule`, from the supplier's `snapshot`. Own SKUs not mapped are left as
    they are (an offer whose SKUs are all unmapped follows the supplier offer as a whole only
    for its tiers and, without SKUs, its stock)."""
    target = Target(supplier_state=supplier_state(snapshot, gone=gone))
    state = target.supplier_state
    own_listed = product.status == LISTED
    if unavailable(state) or (state == "sold_out" and rule.sold_out == DELIST):
        action = rule.gone if unavailable(state) else rule.sold_out
        if action == DELIST:
            target.status = "delist" if own_listed else None
        else:
            target.stocks = _stocks(rule, product, skus, sku_map, snapshot, zero=True)
        return target
    if product.status in DELISTED_STATUSES and delisted_by_rule and rule.relist:
        target.status = "relist"
    if rule.follow_price:
        target.prices = _prices(rule, product, skus, sku_map, snapshot, target)
    if rule.follow_stock or state == "sold_out":
        target.stocks = _stocks(rule, product, skus, sku_map, snapshot, zero=state == "sold_out")
    return target


def _prices(rule, product, skus, sku_map, snapshot, target: Target) -> list[Value]:
    values = []

    def value(key: str, label: str, before, cost: Decimal | None) -> None:
        if cost is None or cost <= 0:
            return
        after, below = rule_price(rule, cost)
        item = Value(key, label, decimal_or_none(before), after, cost)
        values.append(item)
        if below and item.changes:
            target.below_margin.append(item)

    if by_sku(product, skus):
        for sku in skus:
            if sku.price is not None and sku.pk in sku_map:
                cost = supplier_price(snapshot, sku_map[sku.pk])
                value(f"sku:{sku.pk}", str(sku)[:255], sku.price, cost)
        return values
    own_tiers = sorted(product.price_ranges or [], key=lambda t: int(t.get("start_quantity") or 0))
    supplier_tiers = sorted(
        snapshot.get("price_ranges") or [], key=lambda t: int(t.get("start_quantity") or 0)
    )
    mapped = [sku_map[s.pk] for s in skus if s.pk in sku_map]
    same_shape = rule.tiers == FollowRule.Tiers.FOLLOW and len(own_tiers) == len(supplier_tiers)
    for index, tier in enumerate(own_tiers):
        start = int(tier.get("start_quantity") or 1)
        if same_shape:
            cost = decimal_or_none(supplier_tiers[index].get("price"))
        elif supplier_tiers:
            cost = tier_price(supplier_tiers, start)
        else:  # the supplier prices per SKU: the dearest mapped SKU is the tier's cost
            prices = [supplier_price(snapshot, sku_id, start) for sku_id in mapped]
            prices = [p for p in prices if p is not None]
            cost = max(prices) if prices else None
        value(f"tier:{start}", f"≥ {start}", tier.get("price"), cost)
    return values


def _stocks(rule, product, skus, sku_map, snapshot, *, zero: bool) -> list[Value]:
    """Each own SKU's stock (or the offer's, without SKUs) from its supplier SKU's; `zero`: 0
    for every one (the supplier sold out or went away)."""
    values = []
    if not skus:
        if product.amount_on_sale is None and not zero:
            return []
        supplier = supplier_stock(snapshot, None)
        if zero or supplier is not None:
            after = 0 if zero else rule_stock(rule, supplier)
            values.append(Value("offer", "", product.amount_on_sale, after, supplier))
        return values
    for sku in skus:
        if sku.stock is None:
            continue  # unknown here: the planner cannot write it either
        if zero:
            values.append(Value(f"sku:{sku.pk}", str(sku)[:255], sku.stock, 0, 0))
            continue
        if sku.pk not in sku_map:
            continue
        supplier = supplier_stock(snapshot, sku_map[sku.pk])
        if supplier is not None:
            after = rule_stock(rule, supplier)
            values.append(Value(f"sku:{sku.pk}", str(sku)[:255], sku.stock, after, supplier))
    return values
