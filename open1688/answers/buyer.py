"""Answers of the buyer-side APIs on other sellers' offers: an offer's detail and supplier,
follow / unfollow and the market figures (docs/protocol.md, "Reading other sellers'
offers and searching", "Market figures").
"""

from __future__ import annotations

from datetime import datetime

from ..errors import BusinessError
from ..timefmt import parse_search_time
from ..types import BuyerOfferDetail, BuyerSku, SupplierInfo
from .products import price_tiers
from .reader import Reader, raise_product_error, raise_unless_success


def parse_buyer_detail(answer: object) -> BuyerOfferDetail:
    """product.search.queryProductDetail: result {success, code, message, result: {...}}.

    Its own field names (the official SDK's ProductDetailModel): `productSkuInfos` with
    `skuAttributes`, string prices, `productSaleInfo.priceRangeList` [{startQuantity, price}].
    The SDK's other tier list, `priceRanges`, types its price as an integer of unknown unit:
    read only when `priceRangeList` is absent and its prices carry a decimal point."""
    top = Reader(answer)
    if "result" not in top.raw:  # an error in the product APIs' flat shape (errorCode/errorMsg)
        raise_product_error(top)
    result = top.child("result")
    raise_unless_success(result)
    offer = result.child("result")
    sale = offer.child("productSaleInfo", required=False)
    tiers = price_tiers(sale, "priceRangeList")
    if not tiers and "priceRangeList" not in sale.raw:
        tiers = tuple(
            t for t in price_tiers(sale, "priceRanges") if t.price != t.price.to_integral()
        )
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


def _buyer_sku(sku: Reader) -> BuyerSku:
    return BuyerSku(
        sku_id=sku.integer("skuId", required=True),
        spec_id=sku.text("specId"),
        price=sku.decimal("price"),
        consign_price=sku.decimal("consignPrice"),
        amount_on_sale=sku.integer("amountOnSale"),
        cargo_number=sku.text("cargoNumber"),
        attributes=sku.dicts("skuAttributes"),
    )


def _supplier(offer: Reader) -> SupplierInfo:
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


def _any_time(reader: Reader, key: str) -> datetime | None:
    """A stamp in either of the platform's forms (`yyyy-MM-dd HH:mm:ss` or `yyyyMMdd...+0800`)."""
    value = reader.value(key)
    if isinstance(value, str) and "-" in value[:5]:
        return reader.time(key, parse_search_time)
    return reader.time(key)


def check_follow_answer(answer: object) -> None:
    """alibaba.product.follow / unfollow: {code: 0, message} (maybe inside `result`)."""
    top = Reader(answer)
    inner = top.value("result")
    reader = top.child("result") if isinstance(inner, dict) else top
    raise_unless_success(reader)
    code = reader.value("code")
    if code is not None and str(code) not in ("0", "200"):
        raise BusinessError(reader.text("message") or "call failed", code=str(code))


def parse_market_series(answer: object) -> tuple:
    """product.analyze.*: {result: {success, result: [{date, value}]}} (the sandbox's shape;
    not attested). ((day, Decimal), ...) oldest first."""
    top = Reader(answer)
    result = top.child("result")
    raise_unless_success(result)
    points = []
    for point in result.children("result"):
        value = point.decimal("value")
        if value is not None and point.text("date"):
            points.append((point.text("date")[:10], value))
    return tuple(sorted(points))
