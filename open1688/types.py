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


# saleInfo.quoteType (docs/protocol.md, "Prices as 1688 has them"):
QUOTE_BY_TIERS = 0  # the offer's quantity tiers are the price (of the offer and of every SKU)
QUOTE_BY_SKU = 1  # each SKU has its own `price` (and maybe its own `priceRange`)
QUOTE_SHARED_TIERS = 2  # tiers shared by all SKUs; the SKUs carry no `price`


@dataclass(frozen=True)
class PriceRange:
    """One quantity tier: from `start_quantity` pieces on, `price` each (起批量 → 价格)."""

    start_quantity: int
    price: Decimal


@dataclass(frozen=True)
class SkuInfo:
    sku_id: int
    spec_id: str
    attributes: tuple[dict, ...]
    price: Decimal | None  # None: 1688 sent none (quoteType 0/2): the offer's tiers apply
    retail_price: Decimal | None
    amount_on_sale: int | None
    cargo_number: str
    sku_code: str
    price_ranges: tuple[PriceRange, ...] = ()  # the SKU's own `priceRange`, where present


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
    # The offer as the list item carries it (SKUs, prices, stock), when it does: no detail call.
    detail: ProductDetail | None = field(default=None, repr=False, compare=False)


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
    from_list: bool = False  # read from a list item: fields the list leaves out are unknown
    # The answer's body as received when `raw` is exactly that answer (None otherwise).
    received: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def audit_reason(self) -> str:
        """Why an `untread` offer failed audit, where the answer says: `auditFailReason` in
        productInfo (the sandbox's field; the real one is not attested, docs/protocol.md)."""
        info = self.raw.get("productInfo", self.raw) if isinstance(self.raw, dict) else {}
        reason = info.get("auditFailReason") if isinstance(info, dict) else None
        return str(reason or "")

    def sku_tiers(self, sku: SkuInfo) -> tuple[PriceRange, ...]:
        """The tiers a buyer of `sku` pays, by quoteType; () when 1688 gave no price for it."""
        if sku.price_ranges:
            return sku.price_ranges
        if sku.price is not None:
            start = self.price_ranges[0].start_quantity if self.price_ranges else 1
            return (PriceRange(start, sku.price),)
        if self.quote_type == QUOTE_BY_SKU:
            return ()  # a per-SKU price that is missing is unknown, not the offer's
        return self.price_ranges

    def price_span(self) -> tuple[Decimal, Decimal] | None:
        """(lowest, highest) unit price over every tier and SKU, as 1688 shows "¥a-b"."""
        prices = [tier.price for tier in self.price_ranges]
        for sku in self.skus:
            prices.extend(tier.price for tier in self.sku_tiers(sku))
        return (min(prices), max(prices)) if prices else None


@dataclass(frozen=True)
class ProductListPage:
    items: tuple[ProductSummary, ...]
    total_records: int
    page_index: int | None
    page_size: int | None


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


# --- the buyer-side detail (product.search.queryProductDetail), docs/protocol.md -------------


@dataclass(frozen=True)
class BuyerSku:
    """One SKU of `productSkuInfos` (prices arrive as strings; read as Decimal)."""

    sku_id: int
    spec_id: str
    price: Decimal | None
    consign_price: Decimal | None  # 一件代发价, where sent
    amount_on_sale: int | None
    cargo_number: str
    # `skuAttributes` as sent: {attributeId, attributeName, value, skuImageUrl}
    attributes: tuple[dict, ...]


@dataclass(frozen=True)
class SupplierInfo:
    """The seller of an offer, as far as the buyer-side detail tells (docs/protocol.md): the
    SDK attests `sellerOpenId` and `sellerDataInfo` (trade medal, service scores); member id,
    login id and company name are read where present (not attested) and are "" otherwise."""

    open_id: str
    member_id: str
    login_id: str
    company_name: str
    trade_medal_level: str
    composite_score: Decimal | None

    @property
    def label(self) -> str:
        return self.company_name or self.login_id or self.member_id or self.open_id


@dataclass(frozen=True)
class BuyerOfferDetail:
    offer_id: int
    subject: str
    description: str
    category_id: int | None
    category_name: str
    status: str
    unit: str
    min_order_quantity: int | None
    amount_on_sale: int | None
    quote_type: int | None
    price_ranges: tuple[PriceRange, ...]  # productSaleInfo.priceRangeList
    images: tuple[str, ...]
    attributes: tuple[dict, ...]  # productAttribute as sent
    skus: tuple[BuyerSku, ...]
    cargo_number: str
    sold: int | None  # soldOut (a count, sent as a string)
    create_time: datetime | None
    supplier: SupplierInfo
    raw: dict = field(repr=False, compare=False)  # result.result as received

    def sku_tiers(self, sku: BuyerSku) -> tuple[PriceRange, ...]:
        """The tiers a buyer of `sku` pays: its own price, else the offer's tiers (quoteType
        0 and 2); () when a per-SKU price (quoteType 1) is missing."""
        if sku.price is not None:
            start = self.price_ranges[0].start_quantity if self.price_ranges else 1
            return (PriceRange(start, sku.price),)
        if self.quote_type == QUOTE_BY_SKU:
            return ()
        return self.price_ranges

    def price_span(self) -> tuple[Decimal, Decimal] | None:
        prices = [tier.price for tier in self.price_ranges]
        for sku in self.skus:
            prices.extend(tier.price for tier in self.sku_tiers(sku))
        return (min(prices), max(prices)) if prices else None

    def as_product_detail(self) -> ProductDetail:
        """The offer in the shapes alibaba.product.get has (attributes keyed `attributeID`,
        SKU attributes with `attributeValue`), for code written against that model."""
        skus = tuple(
            SkuInfo(
                sku_id=sku.sku_id,
                spec_id=sku.spec_id,
                attributes=tuple(_seller_sku_attribute(a) for a in sku.attributes),
                price=sku.price,
                retail_price=None,
                amount_on_sale=sku.amount_on_sale,
                cargo_number=sku.cargo_number,
                sku_code="",
            )
            for sku in self.skus
        )
        return ProductDetail(
            product_id=self.offer_id,
            subject=self.subject,
            description=self.description,
            category_id=self.category_id,
            status=self.status,
            product_type="",
            unit=self.unit,
            min_order_quantity=self.min_order_quantity,
            amount_on_sale=self.amount_on_sale,
            quote_type=self.quote_type,
            price_ranges=self.price_ranges,
            images=self.images,
            attributes=tuple(_seller_attribute(a) for a in self.attributes),
            skus=skus,
            cargo_number=self.cargo_number,
            create_time=self.create_time,
            modify_time=None,  # the buyer-side detail carries no modify stamp
            raw=self.raw,
        )


def _seller_attribute(attribute: dict) -> dict:
    out = {k: v for k, v in attribute.items() if k not in ("attributeId", "attributeIdStr")}
    if "attributeID" not in out and attribute.get("attributeId") is not None:
        out["attributeID"] = attribute["attributeId"]
    return out


def _seller_sku_attribute(attribute: dict) -> dict:
    out = _seller_attribute(attribute)
    if "attributeValue" not in out and "value" in out:
        out["attributeValue"] = out.pop("value")
    return out


# --- publishing: categories, attribute schemas, photobank, freight (docs/protocol.md,
# "Publishing what 1688 accepts") -----------------------------------------------------------

# alibaba.category.attribute.get `inputType` codes.
INPUT_TEXT = "0"
INPUT_DROPDOWN = "1"
INPUT_MULTI = "2"
INPUT_RADIO = "3"
INPUT_NUMBER = "-1"
INPUT_DATE = "5"
CARGO_NUMBER_ATTRIBUTE = 1398  # 货号 travels as this category attribute (docs/protocol.md)


@dataclass(frozen=True)
class Category:
    """One node of the category tree (alibaba.category.get / searchByKeyword)."""

    category_id: int
    name: str
    is_leaf: bool
    parent_ids: tuple[int, ...]  # nearest parent first is not promised: use parent_id
    child_ids: tuple[int, ...] = ()
    level: int | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def parent_id(self) -> int | None:
        """The direct parent (0 for a root category), when the answer says."""
        return self.parent_ids[0] if self.parent_ids else None


@dataclass(frozen=True)
class AttributeValue:
    value_id: int | None
    name: str


@dataclass(frozen=True)
class CategoryAttribute:
    """One attribute of a leaf category. `input_type`: one of the INPUT_* codes."""

    attr_id: int
    name: str
    required: bool
    input_type: str
    is_sku_attribute: bool  # a sale attribute: a SKU dimension
    values: tuple[AttributeValue, ...]
    units: tuple[str, ...]
    field_type: str
    parent_attr_id: int | None = None
    parent_value_id: int | None = None
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def value_named(self, name: str) -> AttributeValue | None:
        return next((value for value in self.values if value.name == name), None)


@dataclass(frozen=True)
class CascadeRule:
    """One entry of `attributeLevelMapStr`: when every (attr id, value id) of `when` is chosen,
    the attributes `then_required` become required."""

    when: tuple[tuple[int, int], ...]
    then_required: tuple[int, ...]

    def applies(self, chosen: dict[int, set[int]]) -> bool:
        """`chosen`: attribute id -> the value ids chosen for it."""
        return all(value in chosen.get(attr, ()) for attr, value in self.when)


@dataclass(frozen=True)
class CategoryAttributes:
    """alibaba.category.attribute.get for one leaf."""

    category_id: int
    attributes: tuple[CategoryAttribute, ...]
    cascades: tuple[CascadeRule, ...]
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def attribute(self, attr_id: int) -> CategoryAttribute | None:
        return next((a for a in self.attributes if a.attr_id == attr_id), None)

    @property
    def sale_attributes(self) -> tuple[CategoryAttribute, ...]:
        return tuple(a for a in self.attributes if a.is_sku_attribute)

    def required_ids(self, chosen: dict[int, set[int]]) -> tuple[int, ...]:
        """Ids of the non-sale attributes required given `chosen` (attr id -> value ids):
        the always-required ones, then those the cascading rules add, in schema order."""
        needed = {a.attr_id for a in self.attributes if a.required and not a.is_sku_attribute}
        for rule in self.cascades:
            if rule.applies(chosen):
                needed.update(rule.then_required)
        ordered = [a.attr_id for a in self.attributes if a.attr_id in needed]
        return tuple(ordered + sorted(needed - set(ordered)))


@dataclass(frozen=True)
class ProductSchema:
    """alibaba.new.product.getSchema: `schema` is result.bizData decoded (its fields: docs/
    protocol.md); `raw` the answer as received."""

    category_id: int
    scene: str
    schema: dict
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class NewProductResult:
    """alibaba.new.product.add: the new offer's id and status (`auditing` is not approval)."""

    item_id: int
    offer_status: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class PreviewResult:
    """alibaba.product.add.preview: `ok` False carries the platform's refusal."""

    ok: bool
    code: str
    message: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Album:
    album_id: int
    name: str
    image_count: int | None
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class PhotobankImage:
    """alibaba.photobank.photo.add: `url` is the photobank path (`img/ibank/...`) an offer's
    `image.images` carries."""

    image_id: int
    album_id: int | None
    name: str
    url: str
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class FreightTemplate:
    template_id: int
    name: str
    is_default: bool
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class SendGoodsAddress:
    address_id: int
    name: str
    full_address: str
    is_default: bool
    raw: dict = field(default_factory=dict, repr=False, compare=False)
