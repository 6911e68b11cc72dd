"""Answers of the APIs on your own offers (docs/protocol.md, "Reading your own catalog",
"Changing your own catalog"): the list, an offer's detail, SKUs and price tiers, the
add's id and the plain success of an edit.
"""

from __future__ import annotations

import json

from ..errors import BusinessError, MalformedResponseError
from ..types import (
    CARGO_NUMBER_ATTRIBUTE,
    PriceRange,
    ProductDetail,
    ProductListPage,
    ProductSummary,
    SkuInfo,
)
from .reader import Reader, is_true, raise_product_error, raise_unless_success


def _list_page(result: Reader) -> Reader:
    """The list's page object. The official generated SDK models `result.result.pageResult`;
    four independent real integrations read `result.pageResult`: accept both."""
    inner = result.value("result")
    if isinstance(inner, dict) and "pageResult" in inner:
        inner_reader = result.child("result")
        raise_unless_success(inner_reader)
        return inner_reader.child("pageResult")
    if "pageResult" in result.raw:
        return result.child("pageResult")
    raise MalformedResponseError("answer lacks result.result.pageResult and result.pageResult")


def parse_product_list(answer: object) -> ProductListPage:
    """alibaba.product.list.get: {pageIndex, sizePerPage, totalRecords, resultList}."""
    top = Reader(answer)
    if "result" not in top.raw:  # an error in the product APIs' flat shape (errorCode/errorMsg)
        raise_product_error(top)
    result = top.child("result")
    raise_unless_success(result)
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


def _offer_cargo_number(info: Reader) -> str:
    # `cargoNumber` in the project's record; the production ERP that reads list items reads
    # `productCargoNumber`; an offer published with 货号 as its category attribute (the SDK's
    # product.add has no offer-level cargoNumber) carries it as attribute 1398 only.
    found = info.text("cargoNumber") or info.text("productCargoNumber")
    if found:
        return found
    attributes = info.value("attributes")
    for attribute in attributes if isinstance(attributes, list) else ():
        if isinstance(attribute, dict) and str(attribute.get("attributeID")) == str(
            CARGO_NUMBER_ATTRIBUTE
        ):
            value = attribute.get("value", attribute.get("attributeValue"))
            if value not in (None, ""):
                return str(value)
    return ""


def _summary(item: Reader, carries_skus: bool = False) -> ProductSummary:
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
    top = Reader(answer)
    raise_product_error(top)
    return _detail(top.child("productInfo"), top)


def _detail(info: Reader, stamps: Reader, *, from_list: bool = False) -> ProductDetail:
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
        price_ranges=price_tiers(sale, "priceRanges"),
        images=info.child("image", required=False).strings("images"),
        attributes=info.dicts("attributes"),
        skus=tuple(_sku(sku) for sku in info.children("skuInfos")),
        cargo_number=_offer_cargo_number(info),
        create_time=stamps.time("createTime"),
        modify_time=stamps.time("lastUpdateTime"),
        raw=stamps.raw,
        from_list=from_list,
        received=None if from_list else getattr(stamps.raw, "received", None),
    )


def price_tiers(owner: Reader, key: str) -> tuple[PriceRange, ...]:
    """Quantity tiers sorted by start quantity. A tier without a price is left out: it says
    nothing (a missing value is unknown, never a change)."""
    value = owner.value(key)
    if isinstance(value, dict):  # a single tier sent as an object
        owner = Reader({key: [value]}, owner.at)
    tiers = [_price_range(tier) for tier in owner.children(key)]
    return tuple(sorted((t for t in tiers if t is not None), key=lambda t: t.start_quantity))


def _price_range(tier: Reader) -> PriceRange | None:
    price = tier.decimal("price")
    if price is None:
        return None
    start = tier.integer("startQuantity")
    return PriceRange(start_quantity=1 if start is None else start, price=price)


def _sku(sku: Reader) -> SkuInfo:
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
        price_ranges=price_tiers(sku, "priceRange"),
    )


def parse_added_product_id(answer: object) -> int:
    """alibaba.product.add: {productID, errorMsg}."""
    top = Reader(answer)
    raise_product_error(top)
    return top.integer("productID", required=True)


def check_product_answer(answer: object) -> None:
    """alibaba.product.edit and friends: raise BusinessError unless the call succeeded."""
    raise_product_error(Reader(answer))


def check_increment_edit_answer(answer: object) -> None:
    """product.increment.editInfo: `{"success": true, "result": "<JSON string>"}`. How a
    refusal reads is not on record, so every shape seen on this platform is read: a flat
    errorCode/errorMsg, `success` false outside or inside the (string) result, a bizCode inside
    it. A success needs a `success` flag saying so."""
    if not isinstance(answer, dict):
        raise MalformedResponseError("not a JSON object")
    inner = answer.get("result")
    if isinstance(inner, str):
        try:
            inner = json.loads(inner) if inner.strip() else {}
        except ValueError:
            inner = {}  # some answers carry plain text there: judged by the outer flag
    inner = inner if isinstance(inner, dict) else {}
    flags = [answer.get("success"), inner.get("success")]
    code = _first(answer, inner, "errorCode", "bizCode", "code")
    message = _first(answer, inner, "errorMsg", "bizMessage", "message", "errMsg")
    refused = any(_is_false(flag) for flag in flags) or (
        code and not any(is_true(flag) for flag in flags)
    )
    if refused:
        raise BusinessError(message or code or "call failed", code=code or None)
    if not any(is_true(flag) for flag in flags):
        raise MalformedResponseError("the answer says neither success nor failure")


def _first(outer: dict, inner: dict, *keys: str) -> str:
    for source in (outer, inner):
        for key in keys:
            if source.get(key) not in (None, ""):
                return str(source[key])
    return ""


def _is_false(flag: object) -> bool:
    return flag is False or (isinstance(flag, str) and flag.lower() == "false")
