"""Typed answers of the 1688 Open Platform client. `raw` keeps the answer as received."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

IMAGE_HOST = "https://cbu01.alicdn.com/"


def image_url(path: str, host: str = IMAGE_HOST) -> str:
    """Offer images come as relative paths (`img/ibank/...`) served under `host`."""
    if path.startswith(("http://", "https://")):
        return path
    if path.startswith("//"):  # scheme-relative
        return "https:" + path
    return host + path.lstrip("/")


@dataclass(frozen=True)
class PriceRange:
    start_quantity: int
    price: Decimal


@dataclass(frozen=True)
class SkuInfo:
    sku_id: int
    spec_id: str
    attributes: tuple[dict, ...]
    price: Decimal | None
    retail_price: Decimal | None
    amount_on_sale: int | None
    cargo_number: str
    sku_code: str


@dataclass(frozen=True)
class ProductSummary:
    product_id: int
    subject: str
    status: str
    category_id: int | None
    cargo_number: str
    images: tuple[str, ...]
    create_time: datetime | None
    modify_time: datetime | None
    raw: dict = field(repr=False, compare=False)


@dataclass(frozen=True)
class ProductDetail:
    product_id: int
    subject: str
    description: str
    category_id: int | None
    status: str
    product_type: str
    unit: str
    min_order_quantity: int | None
    amount_on_sale: int | None
    quote_type: int | None
    price_ranges: tuple[PriceRange, ...]
    images: tuple[str, ...]
    attributes: tuple[dict, ...]
    skus: tuple[SkuInfo, ...]
    cargo_number: str
    create_time: datetime | None
    modify_time: datetime | None  # the answer's lastUpdateTime
    raw: dict = field(repr=False, compare=False)  # the whole answer, productInfo included


@dataclass(frozen=True)
class ProductListPage:
    items: tuple[ProductSummary, ...]
    total_records: int
    page_index: int
    page_size: int


@dataclass(frozen=True)
class TokenInfo:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)  # None: the answer kept the old one
    expires_at: datetime
    refresh_token_expires_at: datetime | None
    member_id: str
    ali_id: str
    resource_owner: str


@dataclass(frozen=True)
class SearchOffer:
    offer_id: int
    subject: str
    image_url: str
    price: Decimal | None
    month_sold: int | None
    min_order_quantity: int | None
    create_date: datetime | None
    modify_date: datetime | None


@dataclass(frozen=True)
class SearchPage:
    items: tuple[SearchOffer, ...]
    total_records: int
    total_page: int
    page_size: int
    current_page: int
