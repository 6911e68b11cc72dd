"""An offer as the store keeps it: the whole ``productInfo`` plus the columns derived from it
that queries filter and sort on (price, 货号, picture hash)."""

import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal

from . import images


@dataclass
class Offer:
    product_id: int
    member_id: str
    create_ms: int
    last_update_ms: int
    info: dict  # productInfo, the shape alibaba.product.get answers with
    month_sold: int = 0

    def row(self) -> tuple:
        """Values for INSERT_OFFER (the indexed columns, derived from the payload)."""
        info = self.info
        info["productID"] = self.product_id
        return (
            self.product_id,
            self.member_id,
            info["status"],
            int(info["categoryID"]),
            info["subject"],
            info.get("cargoNumber") or cargo_attribute(info) or None,
            self.create_ms,
            self.last_update_ms,
            list_price_fen(info),
            self.month_sold,
            main_image_hash(info),
        )

    def payload_row(self) -> tuple:
        return self.product_id, json.dumps(self.info, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Offer":
        return cls(
            product_id=row["product_id"],
            member_id=row["member_id"],
            create_ms=row["create_ms"],
            last_update_ms=row["last_update_ms"],
            info=json.loads(row["payload"]),
            month_sold=row["month_sold"],
        )


def cargo_attribute(info: dict) -> str:
    """The 货号 attribute (1398) of an offer, where the seller gave one."""
    for attribute in info.get("attributes") or ():
        if isinstance(attribute, dict) and str(attribute.get("attributeID")) == "1398":
            return str(attribute.get("value") or "").strip()
    return ""


def sku_cargo_rows(offer: "Offer") -> list[tuple]:
    """(member_id, cargo_number, product_id) of each SKU cargo number, for the list filter."""
    numbers = {
        str(sku.get("cargoNumber")).strip()
        for sku in offer.info.get("skuInfos") or ()
        if str(sku.get("cargoNumber") or "").strip()
    }
    return [(offer.member_id, number, offer.product_id) for number in sorted(numbers)]


def list_price(info: dict) -> Decimal | None:
    """The price search shows, filters and sorts on: the first tier (the price at the minimum
    order quantity), else the cheapest SKU."""
    tiers = info.get("saleInfo", {}).get("priceRanges") or []
    if tiers:
        return Decimal(str(tiers[0]["price"]))
    prices = [sku["price"] for sku in info.get("skuInfos") or [] if sku.get("price") is not None]
    return min((Decimal(str(price)) for price in prices), default=None)


def list_price_fen(info: dict) -> int | None:
    price = list_price(info)
    return None if price is None else int(price * 100)


def main_image_hash(info: dict) -> int | None:
    pictures = (info.get("image") or {}).get("images") or []
    return images.to_signed(images.pattern_for_path(pictures[0])) if pictures else None
