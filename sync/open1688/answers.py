"""Answer shapes of the 1688 APIs, parsed in one place so a wrong guess is fixed in one place.

Shapes follow DESIGN.md; where it is silent, docs/protocol-choices.md. Answers must come from
`json.loads(body, parse_float=Decimal)` so prices never pass through float.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .errors import BusinessError, MalformedResponseError
from .timefmt import parse_1688_time, parse_search_time
from .types import (
    PriceRange,
    ProductDetail,
    ProductListPage,
    ProductSummary,
    SearchOffer,
    SearchPage,
    SkuInfo,
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


def parse_product_list(answer: object) -> ProductListPage:
    """alibaba.product.list.get: result.result.pageResult."""
    result = _Reader(answer).child("result")
    _raise_unless_success(result)
    page = result.child("result").child("pageResult")
    return ProductListPage(
        items=tuple(_summary(item) for item in page.children("resultList")),
        total_records=page.integer("totalRecords", required=True),
        page_index=page.integer("pageIndex", required=True),
        page_size=page.integer("sizePerPage", required=True),
    )


def _summary(item: _Reader) -> ProductSummary:
    return ProductSummary(
        product_id=item.integer("productID", required=True),
        subject=item.text("subject"),
        status=item.text("status"),
        category_id=item.integer("categoryID"),
        cargo_number=item.text("cargoNumber"),
        images=item.child("image", required=False).strings("images"),
        create_time=item.time("createTime"),
        modify_time=item.time("lastUpdateTime"),
        raw=item.raw,
    )


def parse_product_detail(answer: object) -> ProductDetail:
    """alibaba.product.get: productInfo plus top-level createTime / lastUpdateTime."""
    top = _Reader(answer)
    _raise_product_error(top)
    info = top.child("productInfo")
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
        price_ranges=tuple(_price_range(tier) for tier in sale.children("priceRanges")),
        images=info.child("image", required=False).strings("images"),
        attributes=info.dicts("attributes"),
        skus=tuple(_sku(sku) for sku in info.children("skuInfos")),
        cargo_number=info.text("cargoNumber"),
        create_time=top.time("createTime"),
        modify_time=top.time("lastUpdateTime"),
        raw=top.raw,
    )


def _price_range(tier: _Reader) -> PriceRange:
    return PriceRange(
        start_quantity=tier.integer("startQuantity", required=True),
        price=tier.decimal("price", required=True),
    )


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


def parse_token(answer: object, now: datetime) -> TokenInfo:
    """getToken; a refresh answer may leave out refresh_token (keep the old one)."""
    top = _Reader(answer)
    try:
        lifetime = timedelta(seconds=top.integer("expires_in", required=True))
    except OverflowError:
        raise MalformedResponseError(
            f"expires_in is out of range: {top.value('expires_in')!r}"
        ) from None
    refresh_expiry = top.time("refresh_token_timeout")
    return TokenInfo(
        access_token=top.text("access_token", required=True),
        refresh_token=top.text("refresh_token") or None,
        expires_at=now.astimezone(UTC) + lifetime,
        refresh_token_expires_at=refresh_expiry.astimezone(UTC) if refresh_expiry else None,
        member_id=top.text("memberId"),
        ali_id=top.text("aliId"),
        resource_owner=top.text("resource_owner"),
    )
