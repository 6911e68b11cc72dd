"""Answer shapes of the 1688 APIs, parsed in one place so a wrong guess is fixed in one place.

Each shape decision carries a comment naming its source; docs/protocol.md is the project's
record of them. Where two sources disagree, both shapes are read. Answers must come from
`json.loads(body, parse_float=Decimal)` so prices never pass through float.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from .errors import BusinessError, MalformedResponseError
from .timefmt import parse_1688_time, parse_search_time
from .types import (
    CARGO_NUMBER_ATTRIBUTE,
    Album,
    AttributeValue,
    BuyerOfferDetail,
    BuyerSku,
    CascadeRule,
    Category,
    CategoryAttribute,
    CategoryAttributes,
    FreightTemplate,
    NewProductResult,
    PhotobankImage,
    PreviewResult,
    PriceRange,
    ProductDetail,
    ProductListPage,
    ProductSchema,
    ProductSummary,
    SearchOffer,
    SearchPage,
    SendGoodsAddress,
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
        # At most 20 digits (every 1688 integer fits 64 bits): int() of "1e9999999" as a
        # Decimal takes minutes, and of 5,000 digits as text raises a bare ValueError.
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif (
            isinstance(value, str)
            and _INTEGER.fullmatch(value.strip())
            and len(value.strip()) <= 21
        ) or (
            isinstance(value, Decimal)
            and value == value.to_integral_value()
            and (not value or value.adjusted() < 20)
        ):
            number = int(value)
        else:
            raise MalformedResponseError(f"{self.path(key)} is not an integer: {value!r}")
        if not -(2**63) <= number < 2**63:  # no integer column (bigint) could store it
            raise MalformedResponseError(f"{self.path(key)} is out of the 64-bit integer range")
        return number

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
    top = _Reader(answer)
    if "result" not in top.raw:  # an error in the product APIs' flat shape (errorCode/errorMsg)
        _raise_product_error(top)
    result = top.child("result")
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


# --- publishing (docs/protocol.md, "Publishing what 1688 accepts") --------------------------


def _raise_category_error(top: _Reader) -> None:
    """Category APIs: `errorMsg`, or `success`/`succes` (the SDK's spelling) false."""
    flag = top.raw.get("success", top.raw.get("succes"))
    if flag is not None and _is_true(flag):
        return
    message = top.text("errorMsg") or top.text("errMsg") or top.text("message")
    if message or flag is not None:
        code = top.text("errorCode") or top.text("errCode") or top.text("code") or None
        raise BusinessError(message or "call failed", code=code)


def _ids(reader: _Reader, key: str) -> tuple[int, ...]:
    value = reader.value(key)
    if value is None or value == "":
        return ()
    if isinstance(value, int | str | Decimal) and not isinstance(value, bool):
        value = [value]  # one id sent bare
    if not isinstance(value, list):
        raise MalformedResponseError(f"{reader.path(key)} is not a list")
    holder = _Reader({"ids": value}, reader.path(key))
    return tuple(
        _Reader({"id": item}, f"{reader.path(key)}[{i}]").integer("id", required=True)
        for i, item in enumerate(holder._list("ids"))
    )


def _category(item: _Reader) -> Category:
    # alibaba.category.get: categoryID/name/isLeaf/parentIDs/childIDs/level (the SDK model);
    # searchByKeyword items are read with the same keys, plus the other spellings seen.
    for key in ("categoryID", "categoryId", "catId", "id"):
        if item.value(key) not in (None, ""):
            category_id = item.integer(key, required=True)
            break
    else:
        raise MalformedResponseError(f"answer lacks {item.path('categoryID')}")
    leaf = item.value("isLeaf", required=False)
    if leaf is None:
        leaf = item.value("leaf")
    return Category(
        category_id=category_id,
        name=item.text("name") or item.text("categoryName") or item.text("catName"),
        is_leaf=_is_true(leaf),
        parent_ids=_ids(item, "parentIDs") or _ids(item, "parentIds"),
        child_ids=_ids(item, "childIDs") or _ids(item, "childIds"),
        level=item.integer("level"),
        raw=item.raw,
    )


def parse_categories(answer: object) -> tuple[Category, ...]:
    """alibaba.category.get: {categoryInfo: [...]} (the category asked for, with childIDs)."""
    top = _Reader(answer)
    _raise_category_error(top)
    if "categoryInfo" not in top.raw:
        raise MalformedResponseError("answer lacks categoryInfo")
    return tuple(_category(item) for item in top.children("categoryInfo"))


def parse_category_search(answer: object) -> tuple[Category, ...]:
    """alibaba.category.searchByKeyword: {products: [...], success: "true"}, no outer result."""
    top = _Reader(answer)
    if isinstance(top.raw.get("result"), dict) and "products" not in top.raw:
        top = top.child("result")  # tolerated: an outer result some gateways add
    _raise_category_error(top)
    return tuple(_category(item) for item in top.children("products"))


def _attribute(item: _Reader) -> CategoryAttribute:
    values = tuple(
        AttributeValue(
            value_id=value.integer("attrValueID") if "attrValueID" in value.raw else None,
            name=value.text("name") or value.text("value"),
        )
        for value in item.children("attrValues")
    )
    units = item.value("units")
    return CategoryAttribute(
        attr_id=item.integer("attrID", required=True),
        name=item.text("name"),
        required=_is_true(item.value("required")),
        input_type=item.text("inputType") or "0",
        is_sku_attribute=_is_true(item.value("isSKUAttribute")),
        values=values,
        units=tuple(str(u) for u in units) if isinstance(units, list) else (),
        field_type=item.text("fieldType"),
        parent_attr_id=item.integer("parentAttrID") or None,
        parent_value_id=item.integer("parentAttrValueID") or None,
        raw=item.raw,
    )


def parse_cascades(value: object) -> tuple[CascadeRule, ...]:
    """`attributeLevelMapStr`: a JSON object (or its string) like
    {"100000691:46874>7108:21958": "8243"}: when 100000691 has value 46874 and 7108 has 21958,
    8243 becomes required. Several required ids may come comma-separated."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise MalformedResponseError("attributeLevelMapStr is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedResponseError("attributeLevelMapStr is not an object")
    rules = []
    for condition, required in value.items():
        try:
            when = tuple(
                (int(attr), int(val))
                for attr, val in (part.split(":", 1) for part in str(condition).split(">"))
            )
            parts = required if isinstance(required, list) else str(required).split(",")
            then = tuple(int(str(part).strip()) for part in parts if str(part).strip())
        except ValueError:
            raise MalformedResponseError(
                f"attributeLevelMapStr entry {condition!r}: {required!r} is not attr:value"
            ) from None
        rules.append(CascadeRule(when=when, then_required=then))
    return tuple(rules)


def parse_category_attributes(answer: object, category_id: int) -> CategoryAttributes:
    """alibaba.category.attribute.get: {attributes: [...], attributeLevelMapStr} (also read
    inside an outer `result`)."""
    top = _Reader(answer)
    if isinstance(top.raw.get("result"), dict) and "attributes" not in top.raw:
        top = top.child("result")
    _raise_category_error(top)
    return CategoryAttributes(
        category_id=category_id,
        attributes=tuple(_attribute(item) for item in top.children("attributes")),
        cascades=parse_cascades(top.value("attributeLevelMapStr")),
        raw=top.raw,
    )


def _json_field(reader: _Reader, key: str) -> dict:
    """A field that holds a JSON object, sent as a string (or, tolerated, as the object)."""
    value = reader.value(key, required=True)
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_float=Decimal)
        except (ValueError, RecursionError):
            raise MalformedResponseError(f"{reader.path(key)} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{reader.path(key)} is not a JSON object")
    return value


def _raise_biz_error(result: _Reader) -> None:
    """The schema-driven APIs: `result.success` false with `bizCode` (e.g. SYS_ERROR)."""
    flag = result.raw.get("success")
    code = result.text("bizCode") or result.text("code")
    if (flag is not None and not _is_true(flag)) or (code and "bizData" not in result.raw):
        message = result.text("bizMessage") or result.text("message") or result.text("msg") or code
        raise BusinessError(message or "call failed", code=code or None)


def parse_product_schema(answer: object, category_id: int, scene: str) -> ProductSchema:
    """alibaba.new.product.getSchema: result.bizData is the schema as a JSON string."""
    top = _Reader(answer)
    _raise_product_error_if_flat(top)
    result = top.child("result")
    _raise_biz_error(result)
    return ProductSchema(category_id, scene, _json_field(result, "bizData"), top.raw)


def _raise_product_error_if_flat(top: _Reader) -> None:
    if "result" not in top.raw:
        _raise_product_error(top)


def parse_new_product(answer: object) -> NewProductResult:
    """alibaba.new.product.add: result.bizData (JSON string) -> dataJson (JSON string or
    object) -> itemId; offerStatus in dataJson or in bizData.data; failure: result.bizCode."""
    top = _Reader(answer)
    _raise_product_error_if_flat(top)
    result = top.child("result")
    _raise_biz_error(result)
    biz = _Reader(_json_field(result, "bizData"), "result.bizData")
    data = _Reader(_json_field(biz, "dataJson"), "result.bizData.dataJson")
    status = data.text("offerStatus")
    if not status and isinstance(biz.raw.get("data"), dict):  # a publisher reads it here
        status = biz.child("data").text("offerStatus")
    return NewProductResult(
        item_id=data.integer("itemId", required=True),
        offer_status=status,
        raw=top.raw,
    )


def parse_preview(answer: object) -> PreviewResult:
    """alibaba.product.add.preview: the add's flat shape {success, errorCode, errorMsg}."""
    top = _Reader(answer)
    try:
        _raise_product_error(top)
    except BusinessError as refusal:
        return PreviewResult(False, refusal.code or "", refusal.message, top.raw)
    return PreviewResult(True, "", "", top.raw)


def _result_list(top: _Reader, *keys: str) -> list[_Reader]:
    """A list at one of `keys`, at the top or inside `result` (and `result.result`)."""
    readers = [top]
    for _ in range(2):
        inner = readers[-1].value("result")
        if isinstance(inner, dict):
            readers.append(readers[-1].child("result"))
    for reader in readers:
        _raise_category_error(reader)
    for reader in readers:
        for key in keys:
            if isinstance(reader.raw.get(key), list):
                return reader.children(key)
    for reader in readers:
        if any(key in reader.raw for key in keys):
            return []  # present but null/empty
    raise MalformedResponseError(f"answer lacks {' / '.join(keys)}")


def parse_albums(answer: object) -> tuple[Album, ...]:
    """alibaba.photobank.album.getList: `albumInfos` [{albumID, name, imageCount}]."""
    return tuple(
        Album(
            album_id=item.integer("albumID", required=True)
            if "albumID" in item.raw
            else item.integer("id", required=True),
            name=item.text("name"),
            image_count=item.integer("imageCount"),
            raw=item.raw,
        )
        for item in _result_list(_Reader(answer), "albumInfos", "albums", "result")
    )


def parse_photo(answer: object) -> PhotobankImage:
    """alibaba.photobank.photo.add: `image` {id, albumID, name, url}."""
    top = _Reader(answer)
    if isinstance(top.raw.get("result"), dict) and "image" not in top.raw:
        top = top.child("result")
    _raise_category_error(top)
    image = top.child("image")
    url = image.text("url", required=True)
    return PhotobankImage(
        image_id=image.integer("id", required=True),
        album_id=image.integer("albumID"),
        name=image.text("name"),
        url=url,
        raw=top.raw,
    )


def parse_freight_templates(answer: object) -> tuple[FreightTemplate, ...]:
    """alibaba.logistics.myFreightTemplate.list.get: `result` [{id, name, ...}]."""
    return tuple(
        FreightTemplate(
            template_id=item.integer("id", required=True),
            name=item.text("name"),
            is_default=_is_true(item.value("isDefault")),
            raw=item.raw,
        )
        for item in _result_list(_Reader(answer), "result")
    )


def parse_send_goods_addresses(answer: object) -> tuple[SendGoodsAddress, ...]:
    """alibaba.logistics.mySendGoodsAddress.list.get: `result` [{id, addressName,
    fullAddress, isDefault}]."""
    return tuple(
        SendGoodsAddress(
            address_id=item.integer("id", required=True),
            name=item.text("addressName") or item.text("name"),
            full_address=item.text("fullAddress") or item.text("address"),
            is_default=_is_true(item.value("isDefault")),
            raw=item.raw,
        )
        for item in _result_list(_Reader(answer), "result")
    )
