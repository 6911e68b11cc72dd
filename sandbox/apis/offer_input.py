"""Validating the fields of alibaba.product.add / edit and turning them into a productInfo.

Which checks the real platform makes is only partly public; the sandbox checks what docs/protocol.md
names (subject required and at most 128 characters, a category, well-formed JSON for the
structured fields) plus what a mirror needs to be sound (a price for every SKU, no duplicate
SKU attribute combinations). Error codes here are the sandbox's own (not attested).
"""

import random
from decimal import Decimal

from ..world.catalog_gen import price_number, sku_combination, spec_id
from .params import ParamInvalid, decimal_value, json_value

SUBJECT_MAX_CHARS = 128
TEXT_FIELDS = ("productType", "description", "language", "cargoNumber")
JSON_FIELDS = {
    "attributes": list,
    "image": dict,
    "saleInfo": dict,
    "skuInfos": list,
    "shippingInfo": dict,
}
QUOTE_TYPES = (0, 1, 2, 3)
_id_gaps = random.Random()  # product ids grow with gaps, like real offer ids


class OfferInvalid(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_fields(params: dict[str, str], *, creating: bool) -> dict:
    """The add/edit fields present in ``params``, checked; on add the required ones too."""
    try:
        fields = _parse(params, creating)
    except ParamInvalid as error:
        raise OfferInvalid(ParamInvalid.code, str(error)) from error
    if "image" in fields:
        _check_images(fields["image"])
    if "skuInfos" in fields:
        fields["skuInfos"] = [_sku(raw, index) for index, raw in enumerate(fields["skuInfos"])]
        _check_unique_combinations(fields["skuInfos"])
    return fields


def _parse(params: dict[str, str], creating: bool) -> dict:
    fields: dict = {}
    if creating or "subject" in params:
        fields["subject"] = _subject(params.get("subject", ""))
    if creating or "categoryID" in params:
        fields["categoryID"] = _category(params.get("categoryID", ""))
    for name in TEXT_FIELDS:
        if name in params:
            fields[name] = params[name]
    for name, kind in JSON_FIELDS.items():
        if params.get(name, "") != "":
            value = json_value(params[name], name)
            if not isinstance(value, kind):
                raise ParamInvalid(f"{name} must be a JSON {'array' if kind is list else 'object'}")
            fields[name] = value
    return fields


def _subject(value: str) -> str:
    subject = value.strip()
    if not subject:
        raise OfferInvalid("SUBJECT_REQUIRED", "subject is required / 商品标题不能为空")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise OfferInvalid(
            "SUBJECT_TOO_LONG", f"subject has {len(subject)} characters, at most 128 allowed"
        )
    return subject


def _category(value: str) -> int:
    try:
        category_id = int(value)
    except ValueError:
        category_id = 0
    if category_id <= 0:
        raise OfferInvalid("CATEGORY_INVALID", f"categoryID must be a positive integer: {value!r}")
    return category_id


def _check_images(image: dict) -> None:
    pictures = image.get("images", [])
    if not isinstance(pictures, list) or not all(isinstance(p, str) and p for p in pictures):
        raise OfferInvalid("IMAGE_INVALID", "image.images must be a list of image paths")


def _sku(raw, index: int) -> dict:
    where = f"skuInfos[{index}]"
    if not isinstance(raw, dict):
        raise OfferInvalid("SKU_INVALID", f"{where} must be an object")
    attributes = raw.get("attributes")
    if not isinstance(attributes, list) or not attributes:
        raise OfferInvalid("SKU_INVALID", f"{where}.attributes must be a non-empty list")
    sku = {key: value for key, value in raw.items() if key not in ("skuId", "specId")}
    sku["attributes"] = [_sku_attribute(item, where) for item in attributes]
    for name in ("price", "retailPrice"):
        if raw.get(name) not in (None, ""):
            sku[name] = price_number(_positive_price(raw[name], f"{where}.{name}"))
    sku["amountOnSale"] = _count(raw.get("amountOnSale", 0), f"{where}.amountOnSale")
    if raw.get("skuId") not in (None, ""):
        sku["requestedSkuId"] = _count(raw["skuId"], f"{where}.skuId")
    return sku


def _sku_attribute(item, where: str) -> dict:
    if not isinstance(item, dict) or str(item.get("attributeValue", "")).strip() == "":
        raise OfferInvalid("SKU_INVALID", f"{where}: every attribute needs an attributeValue")
    attribute = dict(item)
    try:
        attribute["attributeID"] = int(item.get("attributeID", 0))
    except (TypeError, ValueError) as error:
        raise OfferInvalid("SKU_INVALID", f"{where}: attributeID must be an integer") from error
    attribute["attributeValue"] = str(item["attributeValue"]).strip()
    return attribute


def combination(sku: dict) -> str:
    return sku_combination(sku["attributes"])


def _check_unique_combinations(skus: list[dict]) -> None:
    seen = set()
    for sku in skus:
        key = combination(sku)
        if key in seen:
            raise OfferInvalid("SKU_DUPLICATE", f"two SKUs share the attributes {key}")
        seen.add(key)


def _positive_price(value, name: str) -> Decimal:
    try:
        price = decimal_value(value, name)
    except ParamInvalid as error:
        raise OfferInvalid("PRICE_INVALID", str(error)) from error
    if price <= 0:
        raise OfferInvalid("PRICE_INVALID", f"{name} must be greater than 0")
    return price


def _count(value, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError, ArithmeticError) as error:
        raise OfferInvalid("PARAM_INVALID", f"{name} must be an integer") from error
    if number < 0:
        raise OfferInvalid("PARAM_INVALID", f"{name} must not be negative")
    return number


def normalise_sale_info(raw: dict, skus: list[dict]) -> dict:
    """saleInfo with defaults filled in, tier prices checked, SKU prices completed from the
    first tier, amountOnSale as the SKU total, and a price guaranteed somewhere."""
    sale = dict(raw)
    tiers = [_tier(tier, index) for index, tier in enumerate(sale.get("priceRanges") or [])]
    tiers.sort(key=lambda tier: tier["startQuantity"])
    sale["priceRanges"] = tiers
    sale["minOrderQuantity"] = max(1, _count(sale.get("minOrderQuantity", 1), "minOrderQuantity"))
    sale["unit"] = str(sale.get("unit") or "件")
    sale.setdefault("supportOnlineTrade", True)
    sale.setdefault("mixWholeSale", False)
    unpriced = [sku for sku in skus if sku.get("price") is None]
    if unpriced and not tiers:
        raise OfferInvalid("PRICE_REQUIRED", "give saleInfo.priceRanges or a price for every SKU")
    if not skus and not tiers:
        raise OfferInvalid("PRICE_REQUIRED", "saleInfo.priceRanges is required without SKUs")
    sale["quoteType"] = _quote_type(sale.get("quoteType"), bool(unpriced) or not skus)
    if sale["quoteType"] != 2:  # quoteType 2: SKUs share the tiers and carry no price
        for sku in unpriced:
            sku["price"] = tiers[0]["price"]
    if skus:
        sale["amountOnSale"] = sum(sku["amountOnSale"] for sku in skus)
    else:
        sale["amountOnSale"] = _count(sale.get("amountOnSale", 0), "saleInfo.amountOnSale")
    if not tiers:
        cheapest = min(Decimal(str(sku["price"])) for sku in skus)
        sale["priceRanges"] = [
            {"startQuantity": sale["minOrderQuantity"], "price": price_number(cheapest)}
        ]
    return sale


def _tier(raw, index: int) -> dict:
    if not isinstance(raw, dict):
        raise OfferInvalid("PRICE_INVALID", f"priceRanges[{index}] must be an object")
    start = max(1, _count(raw.get("startQuantity", 1), f"priceRanges[{index}].startQuantity"))
    price = _positive_price(raw.get("price"), f"priceRanges[{index}].price")
    return {"startQuantity": start, "price": price_number(price)}


def _quote_type(value, offer_priced: bool) -> int:
    if value in (None, ""):
        return 0 if offer_priced else 1
    quote_type = _count(value, "saleInfo.quoteType")
    if quote_type not in QUOTE_TYPES:
        raise OfferInvalid("PARAM_INVALID", "saleInfo.quoteType must be 0, 1, 2 or 3")
    return quote_type


def assign_sku_ids(
    product_id: int, skus: list[dict], old_skus: list[dict], fresh_ids: list[int]
) -> list[dict]:
    """skuId/specId for each SKU: an old SKU with the same attributes (or the skuId the caller
    named) keeps its ids; the others take ids from ``fresh_ids``."""
    by_combination = {combination(old): old for old in old_skus}
    by_id = {old["skuId"]: old for old in old_skus}
    fresh = iter(fresh_ids)
    for sku in skus:
        requested = sku.pop("requestedSkuId", None)
        old = by_id.get(requested) or by_combination.get(combination(sku))
        if old is not None:
            sku["skuId"], sku["specId"] = old["skuId"], old["specId"]
        else:
            sku["skuId"] = next(fresh)
            sku["specId"] = spec_id(product_id, combination(sku))
    return skus


# --- a new offer: its ids and productInfo (the legacy add and the publish checks alike) ------
def reserve_product_id(store, conn) -> int:
    return store.reserve_ids(conn, "product_id", _id_gaps.randint(1, 99))


def reserve_sku_ids(store, conn, count: int) -> list[int]:
    if count == 0:
        return []
    first = store.reserve_ids(conn, "sku_id", count)
    return list(range(first, first + count))


def new_info(product_id: int, fields: dict, sale: dict, skus: list, sku_ids: list) -> dict:
    info = {
        "productID": product_id,
        "productType": "wholesale",
        "language": "CHINESE",
        "description": "",
        "attributes": [],
        "image": {"images": []},
        "shippingInfo": {},
        **fields,
        "status": "published",
        "saleInfo": sale,
        "skuInfos": assign_sku_ids(product_id, skus, [], sku_ids),
    }
    if not info.get("cargoNumber"):
        info.pop("cargoNumber", None)
    return info
