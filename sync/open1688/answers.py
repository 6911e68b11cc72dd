"""Answer shapes of the 1688 APIs, parsed in one place so a wrong guess is fixed in one place.

Each shape decision carries a comment naming its source; docs/protocol.md is the project's
record of them. Where two sources disagree, both shapes are read. Answers must come from
`json.loads(body, parse_float=Decimal)` so prices never pass through float.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .errors import BusinessError, MalformedResponseError
from .timefmt import parse_1688_time, parse_search_time
from .types import (
    BuyerOfferDetail,
    BuyerSku,
    PriceRange,
    ProductDetail,
    ProductListPage,
    ProductSummary,
    SearchOffer,
    SearchPage,
    SkuInfo,
    SupplierInfo,
    TokenInfo,
)

_INTEGER = re.compile(r"-?[0-9]+")


class _Reader:
    """Typed reads from one JSON object; every error names the full path of the field."""

    def __init__(self, obj: object, at: str = "") -> None:
        if not isinstance(obj, dict):
            raise MalformedResponseError(f"{at or 'answer'} is not a JSON object")
        self.raw, self.at = obj, at

    def path(self, key: str) -> str:
        return f"{self.at}.{key}" if self.at else key

    def value(self, key: str, *, required: bool = False) -> object:
        value = self.raw.get(key)
        if required and value is None:
            raise MalformedResponseError(f"answer lacks {self.path(key)}")
        return value

    def child(self, key: str, *, required: bool = True) -> _Reader:
        value = self.value(key, required=required)
        return _Reader({} if value is None else value, self.path(key))

    def _list(self, key: str) -> list:
        value = self.value(key)
        if value is None:  # the APIs leave out empty lists
            return []
        if not isinstance(value, list):
            raise MalformedResponseError(f"{self.path(key)} is not a list")
        return value

    def children(self, key: str) -> list[_Reader]:
        return [_Reader(item, f"{self.path(key)}[{i}]") for i, item in enumerate(self._list(key))]

    def dicts(self, key: str) -> tuple[dict, ...]:
        return tuple(child.raw for child in self.children(key))

    def strings(self, key: str) -> tuple[str, ...]:
        return tuple(str(item) for item in self._list(key))

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.value(key, required=required)
        return "" if value is None else str(value)

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self.value(key, required=required)
        if value is None or value == "":
            if required:  # "" is no more an integer than a missing key
                raise MalformedResponseError(f"answer lacks {self.path(key)}")
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        # At most 20 digits (every 1688 integer fits 64 bits): int() of "1e9999999" as a
        # Decimal takes minutes, and of 5,000 digits as text raises a bare ValueError.
        if (
            isinstance(value, str)
            and _INTEGER.fullmatch(value.strip())
            and len(value.strip()) <= 21
        ):
            return int(value)
        if (
            isinstance(value, Decimal)
            and value == value.to_integral_value()
            and (not value or value.adjusted() < 20)
        ):
            return int(value)
        raise MalformedResponseError(f"{self.path(key)} is not an integer: {value!r}")

    def decimal(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.value(key, required=required)
        if value is None or value == "":
            return None
        try:
            number = None if isinstance(value, bool) else Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise MalformedResponseError(f"{self.path(key)} is not a number: {value!r}")
        return number

    def time(self, key: str, parse=parse_1688_time) -> datetime | None:
        try:
            return parse(self.value(key))
        except MalformedResponseError as exc:
            raise MalformedResponseError(f"{self.path(key)}: {exc.message}") from None


def _is_true(flag: object) -> bool:
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


def _raise_unless_success(result: _Reader) -> None:
    """List and search answers: `success` false (bool or string) carries code/message/subCode."""
    if "success" in result.raw and not _is_true(result.raw["success"]):
        message = "; ".join(filter(None, (result.text("message"), result.text("subMessage"))))
        raise BusinessError(
            message or "call failed",
            code=result.text("code") or None,
            sub_code=result.text("subCode") or None,
        )


def _raise_product_error(top: _Reader) -> None:
    """product.get/add/edit: `success` false, or an `errorMsg`/`errMsg`."""
    message = top.text("errorMsg") or top.text("errMsg")
    if message or ("success" in top.raw and not _is_true(top.raw["success"])):
        code = top.text("errorCode") or top.text("errCode") or None
        raise BusinessError(message or "call failed", code=code)


def _list_page(result: _Reader) -> _Reader:
    """The list's page object. The official generated SDK models `result.result.pageResult`;
    four independent real integrations read `result.pageResult`: accept both."""
    inner = result.value("result")
    if isinstance(inner, dict) and "pageResult" in inner:
        inner_reader = result.child("result")
        _raise_unless_success(inner_reader)
        return inner_reader.child("pageResult")
    if "pageResult" in result.raw:
        return result.child("pageResult")
    raise MalformedResponseError("answer lacks result.result.pageResult and result.pageResult")


def parse_product_list(answer: object) -> ProductListPage:
    """alibaba.product.list.get: {pageIndex, sizePerPage, totalRecords, resultList}."""
    result = _Reader(answer).child("result")
    _raise_unless_success(result)
    page = _list_page(result)
    # `totalRecords` in the SDK model; one real parser reads `totalCount`.
    total = page.integer("totalRecords")
    if total is None:
        total = page.integer("totalCount")
    if total is None:
        raise MalformedResponseError(f"answer lacks {page.path('totalRecords')}")
    items = page.children("resultList")
    # Whether list items carry SKUs is disputed: the SDK's list item has none, one production
    # ERP reads `skuInfos` and `saleInfo.amountOnSale` straight from them. When any item of the
    # page carries `skuInfos`, the list carries SKUs, so an item with `saleInfo` but no
    # `skuInfos` is an offer without SKUs (the APIs leave out empty lists).
    carries_skus = any("skuInfos" in item.raw for item in items)
    return ProductListPage(
        items=tuple(_summary(item, carries_skus) for item in items),
        total_records=total,
        page_index=page.integer("pageIndex"),
        page_size=page.integer("sizePerPage"),
    )


def _offer_cargo_number(info: _Reader) -> str:
    # `cargoNumber` in the project's record; the production ERP that reads list items reads
    # `productCargoNumber`.
    return info.text("cargoNumber") or info.text("productCargoNumber")


def _summary(item: _Reader, carries_skus: bool = False) -> ProductSummary:
    complete = isinstance(item.raw.get("saleInfo"), dict) and (
        carries_skus or "skuInfos" in item.raw
    )
    return ProductSummary(
        product_id=item.integer("productID", required=True),
        subject=item.text("subject"),
        status=item.text("status"),
        category_id=item.integer("categoryID"),
        cargo_number=_offer_cargo_number(item),
        images=item.child("image", required=False).strings("images"),
        create_time=item.time("createTime"),
        modify_time=item.time("lastUpdateTime"),
        raw=item.raw,
        detail=_detail(item, item, from_list=True) if complete else None,
    )


def parse_product_detail(answer: object) -> ProductDetail:
    """alibaba.product.get: productInfo plus top-level createTime / lastUpdateTime."""
    top = _Reader(answer)
    _raise_product_error(top)
    return _detail(top.child("productInfo"), top)


def _detail(info: _Reader, stamps: _Reader, *, from_list: bool = False) -> ProductDetail:
    """An offer from productInfo (detail; stamps at the top level) or from a list item."""
    sale = info.child("saleInfo", required=False)
    return ProductDetail(
        product_id=info.integer("productID", required=True),
        subject=info.text("subject"),
        description=info.text("description"),
        category_id=info.integer("categoryID"),
        status=info.text("status"),
        product_type=info.text("productType"),
        unit=sale.text("unit"),
        min_order_quantity=sale.integer("minOrderQuantity"),
        amount_on_sale=sale.integer("amountOnSale"),
        quote_type=sale.integer("quoteType"),
        price_ranges=_tiers(sale, "priceRanges"),
        images=info.child("image", required=False).strings("images"),
        attributes=info.dicts("attributes"),
        skus=tuple(_sku(sku) for sku in info.children("skuInfos")),
        cargo_number=_offer_cargo_number(info),
        create_time=stamps.time("createTime"),
        modify_time=stamps.time("lastUpdateTime"),
        raw=stamps.raw,
        from_list=from_list,
    )


def _tiers(owner: _Reader, key: str) -> tuple[PriceRange, ...]:
    """Quantity tiers sorted by start quantity. A tier without a price is left out: it says
    nothing (a missing value is unknown, never a change)."""
    value = owner.value(key)
    if isinstance(value, dict):  # a single tier sent as an object
        owner = _Reader({key: [value]}, owner.at)
    tiers = [_price_range(tier) for tier in owner.children(key)]
    return tuple(sorted((t for t in tiers if t is not None), key=lambda t: t.start_quantity))


def _price_range(tier: _Reader) -> PriceRange | None:
    price = tier.decimal("price")
    if price is None:
        return None
    start = tier.integer("startQuantity")
    return PriceRange(start_quantity=1 if start is None else start, price=price)


def _sku(sku: _Reader) -> SkuInfo:
    return SkuInfo(
        sku_id=sku.integer("skuId", required=True),
        spec_id=sku.text("specId"),
        attributes=sku.dicts("attributes"),
        price=sku.decimal("price"),
        retail_price=sku.decimal("retailPrice"),
        amount_on_sale=sku.integer("amountOnSale"),
        cargo_number=sku.text("cargoNumber"),
        sku_code=sku.text("skuCode"),
        # The official doc's SKU model has an optional per-SKU `priceRange`; accept a list
        # of tiers or one tier object.
        price_ranges=_tiers(sku, "priceRange"),
    )


def parse_added_product_id(answer: object) -> int:
    """alibaba.product.add: {productID, errorMsg}."""
    top = _Reader(answer)
    _raise_product_error(top)
    return top.integer("productID", required=True)


def check_product_answer(answer: object) -> None:
    """alibaba.product.edit and friends: raise BusinessError unless the call succeeded."""
    _raise_product_error(_Reader(answer))


def parse_search_page(answer: object) -> SearchPage:
    """product.search.keywordQuery / imageQuery: result.result {totalRecords, ..., data}."""
    result = _Reader(answer).child("result")
    _raise_unless_success(result)
    page = result.child("result")
    return SearchPage(
        items=tuple(_offer(offer) for offer in page.children("data")),
        total_records=page.integer("totalRecords", required=True),
        total_page=page.integer("totalPage", required=True),
        page_size=page.integer("pageSize", required=True),
        current_page=page.integer("currentPage", required=True),
    )


def _offer(offer: _Reader) -> SearchOffer:
    return SearchOffer(
        offer_id=offer.integer("offerId", required=True),
        subject=offer.text("subject"),
        image_url=offer.text("imageUrl"),
        price=offer.child("priceInfo", required=False).decimal("price"),
        month_sold=offer.integer("monthSold"),
        min_order_quantity=offer.integer("minOrderQuantity"),
        create_date=offer.time("createDate", parse_search_time),
        modify_date=offer.time("modifyDate", parse_search_time),
    )


def parse_image_id(answer: object) -> str:
    """product.image.upload: result.result is the image id."""
    result = _Reader(answer).child("result")
    _raise_unless_success(result)
    return result.text("result", required=True)


def parse_postponed_token(answer: object, now: datetime) -> TokenInfo:
    """postponeToken: a new refresh token (required) and its timeout; the answer may or may not
    repeat an access token (the record does not say), so a missing one is kept by the caller."""
    top = _Reader(answer)
    top.text("refresh_token", required=True)
    if top.value("access_token") is None:
        answer = {**top.raw, "access_token": "", "expires_in": top.raw.get("expires_in", "0")}
    return parse_token(answer, now)


def parse_token(answer: object, now: datetime) -> TokenInfo:
    """getToken; a refresh answer may leave out refresh_token (keep the old one)."""
    top = _Reader(answer)
    try:
        expires_at = now.astimezone(UTC) + timedelta(
            seconds=top.integer("expires_in", required=True)
        )
    except OverflowError:
        raise MalformedResponseError(
            f"expires_in is out of range: {top.value('expires_in')!r}"
        ) from None
    refresh_expiry = top.time("refresh_token_timeout")
    try:  # year 1 or 9999 in a time zone: a valid-looking stamp with no UTC equivalent
        refresh_expires_at = refresh_expiry.astimezone(UTC) if refresh_expiry else None
    except OverflowError:
        raise MalformedResponseError(
            f"refresh_token_timeout is out of range: {top.value('refresh_token_timeout')!r}"
        ) from None
    return TokenInfo(
        access_token=top.text("access_token", required=True),
        refresh_token=top.text("refresh_token") or None,
        expires_at=expires_at,
        refresh_token_expires_at=refresh_expires_at,
        member_id=top.text("memberId"),
        ali_id=top.text("aliId"),
        resource_owner=top.text("resource_owner"),
    )


# --- buyer side: other sellers' offers (docs/protocol.md, "Reading other sellers' offers") --


def parse_buyer_detail(answer: object) -> BuyerOfferDetail:
    """product.search.queryProductDetail: result {success, code, message, result: {...}}.

    Its own field names (the official SDK's ProductDetailModel): `productSkuInfos` with
    `skuAttributes`, string prices, `productSaleInfo.priceRangeList` [{startQuantity, price}].
    The SDK's other tier list, `priceRanges`, types its price as an integer of unknown unit:
    read only when `priceRangeList` is absent and its prices carry a decimal point."""
    top = _Reader(answer)
    if "result" not in top.raw:  # an error in the product APIs' flat shape (errorCode/errorMsg)
        _raise_product_error(top)
    result = top.child("result")
    _raise_unless_success(result)
    offer = result.child("result")
    sale = offer.child("productSaleInfo", required=False)
    tiers = _tiers(sale, "priceRangeList")
    if not tiers and "priceRangeList" not in sale.raw:
        tiers = tuple(t for t in _tiers(sale, "priceRanges") if t.price != t.price.to_integral())
    unit = sale.child("unitInfo", required=False).text("unit") or sale.text("unit")
    return BuyerOfferDetail(
        offer_id=offer.integer("offerId", required=True),
        subject=offer.text("subject"),
        description=offer.text("description"),
        category_id=offer.integer("categoryId"),
        category_name=offer.text("categoryName"),
        status=offer.text("status"),
        unit=unit,
        min_order_quantity=offer.integer("minOrderQuantity"),
        amount_on_sale=sale.integer("amountOnSale"),
        quote_type=sale.integer("quoteType"),
        price_ranges=tiers,
        images=offer.child("productImage", required=False).strings("images"),
        attributes=offer.dicts("productAttribute"),
        skus=tuple(_buyer_sku(sku) for sku in offer.children("productSkuInfos")),
        cargo_number=offer.text("productCargoNumber") or offer.text("cargoNumber"),
        sold=offer.integer("soldOut"),
        create_time=_any_time(offer, "createDate"),
        supplier=_supplier(offer),
        raw=offer.raw,
    )


def _buyer_sku(sku: _Reader) -> BuyerSku:
    return BuyerSku(
        sku_id=sku.integer("skuId", required=True),
        spec_id=sku.text("specId"),
        price=sku.decimal("price"),
        consign_price=sku.decimal("consignPrice"),
        amount_on_sale=sku.integer("amountOnSale"),
        cargo_number=sku.text("cargoNumber"),
        attributes=sku.dicts("skuAttributes"),
    )


def _supplier(offer: _Reader) -> SupplierInfo:
    # sellerOpenId and sellerDataInfo are in the SDK; the others are read where present.
    scores = offer.child("sellerDataInfo", required=False)
    return SupplierInfo(
        open_id=offer.text("sellerOpenId"),
        member_id=offer.text("sellerMemberId") or offer.text("memberId"),
        login_id=offer.text("sellerLoginId") or offer.text("loginId"),
        company_name=offer.text("companyName") or offer.text("sellerCompanyName"),
        trade_medal_level=scores.text("tradeMedalLevel"),
        composite_score=scores.decimal("compositeServiceScore"),
    )


def _any_time(reader: _Reader, key: str) -> datetime | None:
    """A stamp in either of the platform's forms (`yyyy-MM-dd HH:mm:ss` or `yyyyMMdd...+0800`)."""
    value = reader.value(key)
    if isinstance(value, str) and "-" in value[:5]:
        return reader.time(key, parse_search_time)
    return reader.time(key)


def check_follow_answer(answer: object) -> None:
    """alibaba.product.follow / unfollow: {code: 0, message} (maybe inside `result`)."""
    top = _Reader(answer)
    inner = top.value("result")
    reader = top.child("result") if isinstance(inner, dict) else top
    _raise_unless_success(reader)
    code = reader.value("code")
    if code is not None and str(code) not in ("0", "200"):
        raise BusinessError(reader.text("message") or "call failed", code=str(code))
