"""The buyer-side answer mapping on the shapes the record allows but the sandbox never sends:
unattested fields missing, the SDK's second tier list, errors in either shape, bad values."""

from decimal import Decimal

import pytest

from open1688 import BusinessError, MalformedResponseError
from open1688.answers import check_follow_answer, parse_buyer_detail, parse_image_id


def answer(offer: dict, **envelope) -> dict:
    return {"result": {"success": "true", "code": "200", "result": offer, **envelope}}


SDK_ONLY = {  # only the fields of the official SDK's ProductDetailModel
    "offerId": 653120459876,
    "categoryId": 1031910,
    "subject": "纯棉短袖T恤",
    "productImage": {"images": ["https://cbu01.alicdn.com/img/ibank/O1CN01.jpg"]},
    "productSkuInfos": [
        {
            "skuId": 5000000000001,
            "specId": "b1e2",
            "price": "12.50",
            "consignPrice": "13.00",
            "amountOnSale": 40,
            "skuAttributes": [{"attributeId": 3216, "attributeName": "颜色", "value": "白色"}],
        }
    ],
    "productSaleInfo": {
        "amountOnSale": 40,
        "priceRangeList": [
            {"startQuantity": 10, "price": "11.00"},
            {"startQuantity": 2, "price": "12.50"},
        ],
        "quoteType": 0,
    },
    "sellerOpenId": "BBBxyz",
    "sellerDataInfo": {"tradeMedalLevel": "4", "compositeServiceScore": "4.5"},
    "soldOut": "1234",
}


def test_sdk_only_fields_map_and_unattested_ones_are_empty():
    detail = parse_buyer_detail(answer(SDK_ONLY))
    assert [(t.start_quantity, t.price) for t in detail.price_ranges] == [
        (2, Decimal("12.50")),
        (10, Decimal("11.00")),
    ]
    (sku,) = detail.skus
    assert sku.price == Decimal("12.50") and sku.consign_price == Decimal("13.00")
    assert detail.sold == 1234 and detail.unit == "" and detail.create_time is None
    supplier = detail.supplier
    assert (supplier.member_id, supplier.login_id, supplier.company_name) == ("", "", "")
    assert supplier.label == "BBBxyz" and supplier.composite_score == Decimal("4.5")
    product = detail.as_product_detail()
    assert product.skus[0].attributes == (
        {"attributeID": 3216, "attributeName": "颜色", "attributeValue": "白色"},
    )
    assert product.price_span() == (Decimal("11.00"), Decimal("12.50"))


def test_the_sdk_integer_tier_list_is_read_only_with_decimals_and_no_price_range_list():
    offer = dict(SDK_ONLY, productSaleInfo={"priceRanges": [{"startQuantity": 1, "price": 1250}]})
    assert parse_buyer_detail(answer(offer)).price_ranges == ()  # unit unknown: not guessed
    offer = dict(SDK_ONLY, productSaleInfo={"priceRanges": [{"startQuantity": 1, "price": "12.5"}]})
    assert parse_buyer_detail(answer(offer)).price_ranges[0].price == Decimal("12.5")


@pytest.mark.parametrize(
    "body",
    [
        {"result": {"success": "false", "code": "PRODUCT_NOT_EXIST", "message": "不存在"}},
        {"success": False, "errorCode": "PRODUCT_NOT_EXIST", "errorMsg": "商品不存在"},
    ],
)
def test_errors_in_either_shape_are_business_errors(body):
    with pytest.raises(BusinessError) as error:
        parse_buyer_detail(body)
    assert error.value.code == "PRODUCT_NOT_EXIST"


@pytest.mark.parametrize(
    "offer",
    [
        dict(SDK_ONLY, offerId=None),
        dict(SDK_ONLY, productSkuInfos=[dict(SDK_ONLY["productSkuInfos"][0], price="12,50")]),
        dict(SDK_ONLY, productSkuInfos="not a list"),
        dict(SDK_ONLY, productSaleInfo={"priceRangeList": [{"price": "NaN"}]}),
    ],
)
def test_bad_values_are_malformed_answers(offer):
    with pytest.raises(MalformedResponseError):
        parse_buyer_detail(answer(offer))


def test_image_id_and_follow_answers():
    assert parse_image_id({"result": {"success": "true", "result": "8675309"}}) == "8675309"
    with pytest.raises(BusinessError):
        parse_image_id({"result": {"success": "false", "code": "IMAGE_INVALID"}})
    check_follow_answer({"code": 0, "message": "success"})
    check_follow_answer({"result": {"code": "0"}})
    with pytest.raises(BusinessError) as error:
        check_follow_answer({"code": 500, "message": "关注失败"})
    assert error.value.code == "500"
