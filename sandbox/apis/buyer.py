"""Buyer-side APIs over every seller's offers: the buyer detail and follow / unfollow.

- ``com.alibaba.fenxiao.crossborder:product.search.queryProductDetail`` with
  ``offerDetailParam`` {offerId, country} reads any seller's offer (``alibaba.product.get``
  reads only the caller's own). Its answer has its own field names (the official SDK's
  ProductDetailModel): ``productSkuInfos`` with ``skuAttributes``, prices as **strings**,
  ``productSaleInfo.priceRangeList``. Wrapped like search: ``{"result": {"success": "true",
  "code": "200", "message": null, "result": {...}}}``.
- ``com.alibaba.product:alibaba.product.follow`` / ``alibaba.product.unfollow`` with
  ``productId`` → ``{"code": 0, "message": "success"}``; recorded per app and member.

Supplier fields beyond ``sellerOpenId`` and ``sellerDataInfo`` (``sellerMemberId``,
``sellerLoginId``, ``companyName``) are the sandbox's (not attested; docs/protocol.md).
"""

import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING

from ..wire.timefmt import format_search
from ..world import images
from ..world.catalog_gen import CATEGORIES
from ..world.offers import Offer
from .params import ParamInvalid, json_param

if TYPE_CHECKING:
    from .call import ApiCall

GONE_STATUSES = ("member deleted", "deleted")
CATEGORY_NAMES = {category.category_id: category.name for category in CATEGORIES}


def _error(code: str, message: str) -> dict:
    return {"result": {"success": "false", "code": code, "message": message}}


def _offer_id(value) -> int:
    try:
        offer_id = int(str(value).strip())
    except (TypeError, ValueError) as error:
        raise ParamInvalid("offerDetailParam.offerId must be an offer id") from error
    if offer_id <= 0 or offer_id >= 2**63:
        raise ParamInvalid("offerDetailParam.offerId must be an offer id")
    return offer_id


# --- product.search.queryProductDetail ------------------------------------------------------
def query_product_detail(call: "ApiCall") -> dict:
    try:
        query = json_param(call.params, "offerDetailParam", dict, {})
        offer_id = _offer_id(query.get("offerId"))
        if not str(query.get("country") or "").strip():
            raise ParamInvalid("offerDetailParam.country is required (e.g. en)")
    except ParamInvalid as error:
        return _error(error.code, str(error))
    offer = call.store.get_offer(offer_id)
    if offer is None or offer.info.get("status") in GONE_STATUSES:
        # The refusal a practitioner recorded for a missing offer.
        return {"result": {"success": False, "code": "SP0056", "message": "商品不存在"}}
    seller = call.store.get_seller(offer.member_id)
    result = buyer_detail(offer, call.host_url, seller)
    return {"result": {"success": "true", "code": "200", "message": None, "result": result}}


def _price_text(value) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.2f}"


def _tiers(tiers: list[dict]) -> list[dict]:
    return [
        {"startQuantity": tier.get("startQuantity", 1), "price": _price_text(tier["price"])}
        for tier in tiers
        if tier.get("price") is not None
    ]


def _sku(sku: dict, host_url: str) -> dict:
    price = sku.get("price")
    if price is None and sku.get("priceRange"):  # per-SKU tiers: the first is its price
        price = sku["priceRange"][0]["price"]
    attributes = []
    for attribute in sku.get("attributes") or []:
        out = {
            "attributeId": attribute.get("attributeID"),
            "attributeName": attribute.get("attributeName"),
            "value": attribute.get("attributeValue"),
        }
        if attribute.get("skuImageUrl"):
            out["skuImageUrl"] = images.public_url(host_url, attribute["skuImageUrl"])
        attributes.append(out)
    return {
        "skuId": sku["skuId"],
        "specId": sku.get("specId"),
        "amountOnSale": sku.get("amountOnSale", 0),
        "price": _price_text(price),
        "consignPrice": _price_text(price),
        "cargoNumber": sku.get("cargoNumber") or "",
        "skuAttributes": attributes,
    }


def _scores(member_id: str) -> dict:
    digest = hashlib.sha256(member_id.encode("utf-8")).digest()
    return {
        "tradeMedalLevel": str(1 + digest[0] % 5),
        "compositeServiceScore": f"{3 + digest[1] % 21 / 10:.1f}",
        "logisticsExperienceScore": f"{3 + digest[2] % 21 / 10:.1f}",
        "disputeComplaintScore": f"{3 + digest[3] % 21 / 10:.1f}",
        "offerExperienceScore": f"{3 + digest[4] % 21 / 10:.1f}",
        "consultingExperienceScore": f"{3 + digest[5] % 21 / 10:.1f}",
    }


def open_id(member_id: str) -> str:
    """An opaque per-seller id, as `sellerOpenId` is."""
    return hashlib.sha256(f"open:{member_id}".encode()).hexdigest()[:32]


def buyer_detail(offer: Offer, host_url: str, seller) -> dict:
    info = offer.info
    sale = info.get("saleInfo") or {}
    pictures = (info.get("image") or {}).get("images") or []
    attributes = [
        {
            "attributeId": attribute.get("attributeID"),
            "attributeName": attribute.get("attributeName"),
            "value": attribute.get("value"),
        }
        for attribute in info.get("attributes") or []
    ]
    category_id = int(info["categoryID"])
    return {
        "offerId": offer.product_id,
        "categoryId": category_id,
        "categoryName": CATEGORY_NAMES.get(category_id, ""),
        "subject": info.get("subject", ""),
        "description": info.get("description", ""),
        "status": info.get("status", ""),
        "productImage": {"images": [images.public_url(host_url, p) for p in pictures]},
        "productAttribute": attributes,
        "productSkuInfos": [_sku(sku, host_url) for sku in info.get("skuInfos") or []],
        "productSaleInfo": {
            "amountOnSale": sale.get("amountOnSale", 0),
            "priceRangeList": _tiers(sale.get("priceRanges") or []),
            "quoteType": sale.get("quoteType", 0),
            "unitInfo": {"unit": sale.get("unit", "")},
        },
        "minOrderQuantity": sale.get("minOrderQuantity", 1),
        "productCargoNumber": info.get("cargoNumber") or "",
        "soldOut": str(offer.month_sold),
        "createDate": format_search(offer.create_ms),
        "sellerOpenId": open_id(offer.member_id),
        "sellerMemberId": offer.member_id,
        "sellerLoginId": seller["login_id"] if seller else "",
        "companyName": seller["name"] if seller else "",
        "sellerDataInfo": _scores(offer.member_id),
    }


# --- alibaba.product.follow / unfollow ------------------------------------------------------
def _follow_error(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def _product_id(call: "ApiCall") -> int:
    try:
        return int(call.params.get("productId", "").strip())
    except ValueError as error:
        raise ParamInvalid("productId must be an offer id") from error


def follow(call: "ApiCall") -> dict:
    try:
        product_id = _product_id(call)
    except ParamInvalid as error:
        return _follow_error(error.code, str(error))
    if call.store.get_offer(product_id) is None:
        return _follow_error("PRODUCT_NOT_EXIST", f"offer {product_id} does not exist")
    with call.store.write() as conn:
        conn.execute(
            "INSERT INTO follows VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (call.app_key, call.member_id, product_id, call.store.clock.now_ms()),
        )
    return {"code": 0, "message": "success"}


def unfollow(call: "ApiCall") -> dict:
    try:
        product_id = _product_id(call)
    except ParamInvalid as error:
        return _follow_error(error.code, str(error))
    with call.store.write() as conn:
        conn.execute(
            "DELETE FROM follows WHERE app_key = ? AND member_id = ? AND product_id = ?",
            (call.app_key, call.member_id, product_id),
        )
    return {"code": 0, "message": "success"}


def followed(store, app_key: str, member_id: str | None = None) -> list[dict]:
    """For the control API: who follows what."""
    sql = "SELECT app_key, member_id, product_id, created_ms FROM follows WHERE app_key = ?"
    params: list = [app_key]
    if member_id:
        sql += " AND member_id = ?"
        params.append(member_id)
    with store.connection() as conn:
        rows = conn.execute(sql + " ORDER BY product_id", params).fetchall()
    return [
        {"app_key": r[0], "member_id": r[1], "product_id": r[2], "created_ms": r[3]} for r in rows
    ]
