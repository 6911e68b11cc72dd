"""A supplier's offer moves: its prices (tiers, SKU prices, per-SKU tiers), its stock (per SKU
or sold out) and its listing state (delisted, back on sale, gone), as a seller does on 1688.
Used by the control API (``POST /_sandbox/offers/move``); the push messages 1688 sends for
the move are written by push_messages.detect (docs/sandbox-control.md)."""

from decimal import Decimal, InvalidOperation

from . import catalog_gen
from .offers import Offer
from .store import Store

DELISTED = "outdated"  # what alibaba.product.expire leaves, and what the product reads as off sale
GONE = "member deleted"  # the buyer detail answers 商品不存在 for it
ON_SALE = "published"
GONE_STATUSES = ("member deleted", "deleted")
LISTINGS = {"delist": DELISTED, "relist": ON_SALE, "gone": GONE}


class UnknownOffer(LookupError):
    pass


class MoveRefused(ValueError):
    """A move 1688 would not allow (a deleted offer cannot come back on sale)."""


def move_offer(
    store: Store,
    product_id: int,
    *,
    price_factor=None,
    price_delta=None,
    price_ranges: list[dict] | None = None,
    sku_prices: dict | None = None,
    stock: int | None = None,
    sku_stock: dict | None = None,
    sold_out: bool = False,
    listing: str | None = None,
) -> Offer:
    """Apply one move in one transaction with one new modify stamp. Prices: every tier, SKU
    price and per-SKU tier times ``price_factor`` or plus ``price_delta`` yuan (rounded half
    up to the cent, never below a cent), then ``price_ranges`` replaces the offer's tiers and
    ``sku_prices`` sets single SKUs. Stock: ``stock`` for every SKU (or the offer without
    SKUs), then ``sku_stock`` per SKU; ``sold_out`` sets all of it to 0. SKUs are named by
    skuId or specId. ``listing``: delist, relist or gone."""
    factor = None if price_factor in (None, "") else _positive(price_factor, "price_factor")
    delta = None if price_delta in (None, "") else _number(price_delta, "price_delta")
    if listing is not None and listing not in LISTINGS:
        raise ValueError(f"listing must be one of {', '.join(LISTINGS)}")
    asked = (factor, delta, price_ranges, sku_prices, stock, sku_stock, listing)
    if all(value in (None, {}) for value in asked) and not sold_out:
        raise ValueError("nothing to move: give a price, stock, sold_out or listing change")
    with store.write() as conn:
        offer = store.load_offer(conn, product_id)
        if offer is None:
            raise UnknownOffer(f"no offer {product_id}")
        info = offer.info
        if listing == "relist" and info.get("status") in GONE_STATUSES:
            raise MoveRefused(f"offer {product_id} is deleted: it cannot be relisted")
        skus = _sku_index(info)
        if factor is not None or delta is not None:
            _move_prices(info, factor, delta)
        if price_ranges is not None:
            info["saleInfo"]["priceRanges"] = _tiers(price_ranges)
        for key, price in (sku_prices or {}).items():
            _sku(skus, key)["price"] = _price(price)
        _set_stock(info, skus, stock, sku_stock, sold_out)
        if listing is not None:
            info["status"] = LISTINGS[listing]
        offer.last_update_ms = store.clock.next_stamp(offer.last_update_ms)
        store.replace_offer(conn, offer)
    return offer


def state(offer: Offer) -> dict:
    """What a test needs to know of the moved offer: status, tiers, stock, and each SKU."""
    sale = offer.info.get("saleInfo") or {}
    return {
        "status": offer.info.get("status"),
        "priceRanges": sale.get("priceRanges") or [],
        "amountOnSale": sale.get("amountOnSale", 0),
        "skus": [
            {
                "skuId": sku["skuId"],
                "specId": sku.get("specId"),
                "price": sku.get("price"),
                "priceRange": sku.get("priceRange"),
                "amountOnSale": sku.get("amountOnSale", 0),
            }
            for sku in offer.info.get("skuInfos") or []
        ],
    }


def _move_prices(info: dict, factor: Decimal | None, delta: Decimal | None) -> None:
    def move(price) -> float:
        value = Decimal(str(price))
        value = value * factor if factor is not None else value + delta
        return catalog_gen.price_number(max(catalog_gen.CENT, catalog_gen.money(value)))

    for tier in info["saleInfo"].get("priceRanges") or []:
        tier["price"] = move(tier["price"])
    for sku in info.get("skuInfos") or []:
        if sku.get("price") is not None:
            sku["price"] = move(sku["price"])
        for tier in sku.get("priceRange") or []:
            tier["price"] = move(tier["price"])


def _set_stock(info: dict, skus: dict, stock, sku_stock, sold_out: bool) -> None:
    sale = info["saleInfo"]
    unique = {id(sku): sku for sku in skus.values()}.values()
    if stock is not None:
        amount = _amount(stock)
        for sku in unique:
            sku["amountOnSale"] = amount
        if not unique:
            sale["amountOnSale"] = amount
    for key, amount in (sku_stock or {}).items():
        _sku(skus, key)["amountOnSale"] = _amount(amount)
    if sold_out:
        for sku in unique:
            sku["amountOnSale"] = 0
        sale["amountOnSale"] = 0
    catalog_gen.recompute_amount_on_sale(info)


def _sku_index(info: dict) -> dict[str, dict]:
    """Each SKU under its skuId and its specId."""
    index: dict[str, dict] = {}
    for sku in info.get("skuInfos") or []:
        index[str(sku["skuId"])] = sku
        if sku.get("specId"):
            index[str(sku["specId"])] = sku
    return index


def _sku(skus: dict[str, dict], key) -> dict:
    if str(key) not in skus:
        raise UnknownOffer(f"no SKU {key}")
    return skus[str(key)]


def _tiers(tiers) -> list[dict]:
    if not isinstance(tiers, list) or not tiers:
        raise ValueError("price_ranges must be a non-empty list of {startQuantity, price}")
    try:
        return [
            {"startQuantity": int(tier["startQuantity"]), "price": _price(tier["price"])}
            for tier in tiers
        ]
    except (KeyError, TypeError) as error:
        raise ValueError("each price range needs startQuantity and price") from error


def _price(value) -> float:
    return catalog_gen.price_number(_positive(value, "price"))


def _amount(value) -> int:
    if isinstance(value, bool) or int(value) < 0:
        raise ValueError(f"not a stock figure: {value!r}")
    return int(value)


def _positive(value, name: str) -> Decimal:
    number = _number(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be above zero: {value!r}")
    return number


def _number(value, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"{name} is not a number: {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"{name} is not a number: {value!r}")
    return number
