"""Seeding a seller's catalog and mutating it (used by the CLI and the control API)."""

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..wire.timefmt import wall_ms
from . import catalog_gen
from .offers import Offer
from .store import Store

PRODUCT_ID_SPAN = 100  # ids reserved per offer (ids grow with gaps, like real offer ids)
SKU_ID_SPAN = 12  # at most 12 SKUs per generated offer


class UnknownOffer(LookupError):
    pass


def _iter_offers(
    rng: random.Random, member_id: str, count: int, first_product_id: int, first_sku_id: int
) -> Iterator[Offer]:
    now = wall_ms()
    product_id = first_product_id
    for index in range(count):
        product_id += rng.randint(1, PRODUCT_ID_SPAN - 1)
        sku_id = first_sku_id + index * SKU_ID_SPAN
        yield catalog_gen.generate_offer(rng, product_id, member_id, sku_id, now)


def _create_offers(
    store: Store, conn: sqlite3.Connection, rng: random.Random, member_id: str, count: int
) -> Iterator[Offer]:
    first_product_id = store.reserve_ids(conn, "product_id", count * PRODUCT_ID_SPAN)
    first_sku_id = store.reserve_ids(conn, "sku_id", count * SKU_ID_SPAN)
    return _iter_offers(rng, member_id, count, first_product_id, first_sku_id)


def seed_catalog(store: Store, member_id: str, count: int, seed: int) -> list[int]:
    """Create ``count`` offers in one transaction; returns their product ids.

    A seller's first seed is its history: offers created and modified over the past year.
    A later seed adds offers created now (one shared stamp), or an incremental sync that
    already passed the past year could never see them."""
    store.ensure_seller_exists(member_id)
    rng = random.Random(f"seed-{seed}-{member_id}")
    created: list[int] = []

    with store.write() as conn:
        stamp = store.clock.next_stamp() if _has_offers(conn, member_id) else None

        def noting_ids(offers: Iterator[Offer]) -> Iterator[Offer]:
            for offer in offers:
                if stamp is not None:
                    offer.create_ms = offer.last_update_ms = stamp
                created.append(offer.product_id)
                yield offer

        store.insert_offers(conn, noting_ids(_create_offers(store, conn, rng, member_id, count)))
    return created


def _has_offers(conn: sqlite3.Connection, member_id: str) -> bool:
    sql = "SELECT 1 FROM offers WHERE member_id = ? LIMIT 1"
    return conn.execute(sql, (member_id,)).fetchone() is not None


@dataclass
class MutationCounts:
    price: int = 0
    stock: int = 0
    new: int = 0
    delist: int = 0

    @classmethod
    def from_fraction(cls, published: int, fraction: float) -> "MutationCounts":
        """k = fraction of the published offers (at least 1): k price changes, k stock changes,
        k // 5 new offers and k // 10 delistings."""
        touched = max(1, round(published * fraction)) if published and fraction > 0 else 0
        return cls(price=touched, stock=touched, new=touched // 5, delist=touched // 10)


def published_ids(
    conn: sqlite3.Connection, member_id: str, quote_type: int | None = None
) -> list[int]:
    if quote_type is None:
        rows = conn.execute(
            "SELECT product_id FROM offers WHERE member_id = ? AND status = 'published'"
            " ORDER BY product_id",
            (member_id,),
        )
    else:
        rows = conn.execute(
            "SELECT o.product_id FROM offers o JOIN offer_payloads p USING (product_id)"
            " WHERE member_id = ? AND status = 'published'"
            " AND json_extract(p.payload, '$.saleInfo.quoteType') = ? ORDER BY o.product_id",
            (member_id, quote_type),
        )
    return [row[0] for row in rows]


def mutate_catalog(
    store: Store,
    member_id: str,
    seed: int,
    counts: MutationCounts | None,
    fraction: float = 0.0,
    *,
    price_delta=None,
    quote_type: int | None = None,
) -> dict:
    """Change prices, stock and status of random published offers and create new ones.
    Every touched offer gets a new lastUpdateTime. Returns the report of product ids.
    ``price_delta`` (yuan, e.g. "-8"): prices move by that amount instead of a random factor;
    ``quote_type``: changes are drawn only from offers of that quoteType."""
    store.ensure_seller_exists(member_id)
    delta = None if price_delta in (None, "") else _decimal(price_delta)
    rng = random.Random(f"mutate-{seed}-{member_id}")
    with store.write() as conn:
        candidates = published_ids(conn, member_id, quote_type)
        counts = counts or MutationCounts.from_fraction(len(candidates), fraction)

        def pick(count: int) -> list[int]:
            return sorted(rng.sample(candidates, min(count, len(candidates))))

        price_ids, stock_ids, delist_ids = (
            pick(counts.price),
            pick(counts.stock),
            pick(counts.delist),
        )
        offers = store.load_offers(conn, sorted({*price_ids, *stock_ids, *delist_ids}))
        for product_id in price_ids:
            catalog_gen.change_prices(rng, offers[product_id].info, delta)
        for product_id in stock_ids:
            catalog_gen.change_stock(rng, offers[product_id].info)
        for product_id in delist_ids:
            offers[product_id].info["status"] = "member deleted"
        # One change at one instant: the whole batch shares a stamp.
        stamp = store.clock.next_stamp(max((o.last_update_ms for o in offers.values()), default=0))
        for offer in offers.values():
            offer.last_update_ms = stamp
            store.replace_offer(conn, offer)
        created = _create_fresh_offers(store, conn, rng, member_id, counts.new, stamp)
    return {
        "price_changed": price_ids,
        "stock_changed": stock_ids,
        "created": created,
        "delisted": delist_ids,
    }


def _create_fresh_offers(
    store: Store,
    conn: sqlite3.Connection,
    rng: random.Random,
    member_id: str,
    count: int,
    stamp: int,
) -> list[int]:
    fresh = list(_create_offers(store, conn, rng, member_id, count))
    for offer in fresh:
        offer.info["status"] = "published"
        offer.create_ms = offer.last_update_ms = stamp
        offer.month_sold = 0
    store.insert_offers(conn, fresh)
    return [offer.product_id for offer in fresh]


def update_offer(
    store: Store,
    product_id: int,
    sku_prices: dict[str, str] | None = None,
    sku_stock: dict[str, int] | None = None,
    status: str | None = None,
    *,
    price_ranges: list[dict] | None = None,
    tier_delta=None,
    sku_price_ranges: dict[str, list[dict]] | None = None,
    amount_on_sale: int | None = None,
) -> Offer:
    """A precise change for tests: set given SKU prices/stock (keys are skuIds) and status;
    replace the offer's tiers (``price_ranges`` [{startQuantity, price}]) or move every tier
    by ``tier_delta`` yuan; set a SKU's own ``priceRange``; set the stock of an offer
    without SKUs (``amount_on_sale``)."""
    with store.write() as conn:
        offer = store.load_offer(conn, product_id)
        if offer is None:
            raise UnknownOffer(f"no offer {product_id}")
        sale = offer.info["saleInfo"]
        skus = {str(sku["skuId"]): sku for sku in offer.info.get("skuInfos") or []}
        for sku_id, price in (sku_prices or {}).items():
            _sku(skus, sku_id)["price"] = catalog_gen.price_number(_decimal(price))
        for sku_id, amount in (sku_stock or {}).items():
            _sku(skus, sku_id)["amountOnSale"] = int(amount)
        for sku_id, tiers in (sku_price_ranges or {}).items():
            _sku(skus, sku_id)["priceRange"] = _tiers(tiers)
        if price_ranges is not None:
            sale["priceRanges"] = _tiers(price_ranges)
        if tier_delta not in (None, ""):
            delta = _decimal(tier_delta)
            for tier in sale.get("priceRanges") or []:
                tier["price"] = catalog_gen.price_number(
                    max(catalog_gen.CENT, _decimal(tier["price"]) + delta)
                )
        if amount_on_sale is not None:
            if skus:
                raise ValueError("amount_on_sale is for offers without SKUs; use sku_stock")
            sale["amountOnSale"] = int(amount_on_sale)
        catalog_gen.recompute_amount_on_sale(offer.info)
        if status:
            offer.info["status"] = status
        offer.last_update_ms = store.clock.next_stamp(offer.last_update_ms)
        store.replace_offer(conn, offer)
    return offer


def _sku(skus: dict[str, dict], sku_id: str) -> dict:
    if str(sku_id) not in skus:
        raise UnknownOffer(f"no SKU {sku_id}")
    return skus[str(sku_id)]


def _tiers(tiers) -> list[dict]:
    if not isinstance(tiers, list) or not tiers:
        raise ValueError("price ranges must be a non-empty list of {startQuantity, price}")
    try:
        return [
            {
                "startQuantity": int(tier["startQuantity"]),
                "price": catalog_gen.price_number(_decimal(tier["price"])),
            }
            for tier in tiers
        ]
    except (KeyError, TypeError) as error:
        raise ValueError("each price range needs startQuantity and price") from error


def _decimal(value) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"not a price: {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"not a price: {value!r}")
    return number
