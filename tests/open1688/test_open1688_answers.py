"""Parsing of the answer shapes in docs/protocol.md, from JSON text as the gateway sends it."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from open1688 import BusinessError, MalformedResponseError, PriceRange
from open1688.answers import (
    check_product_answer,
    parse_added_product_id,
    parse_image_id,
    parse_postponed_token,
    parse_product_detail,
    parse_product_list,
    parse_search_page,
    parse_token,
)


def load(text: str):
    return json.loads(text, parse_float=Decimal)


PRODUCT_GET = """{
  "success": true,
  "productInfo": {
    "productID": 624587823014, "productType": "wholesale", "categoryID": 122916002,
    "subject": "加厚玻璃水杯 家用耐热 带盖", "description": "<p>耐热玻璃</p>",
    "status": "published", "cargoNumber": "BL-0042",
    "attributes": [{"attributeID": 1398, "attributeName": "货号", "valueID": 0,
                    "value": "BL-0042", "isCustom": false}],
    "image": {"images": ["img/ibank/2017/992/417/3971714299_420783022.jpg"]},
    "saleInfo": {"priceRanges": [{"startQuantity": 2, "price": 12.30},
                                 {"startQuantity": 100, "price": 11}],
                 "amountOnSale": 530, "minOrderQuantity": 2, "unit": "个", "quoteType": 1,
                 "supportOnlineTrade": true, "mixWholeSale": false},
    "skuInfos": [
      {"skuId": 4317895720145, "specId": "b266e0726506185beaf205cbae88a37d",
       "attributes": [{"attributeID": 3216, "attributeValue": "透明",
                       "skuImageUrl": "img/ibank/2017/1.jpg"}],
       "price": 12.30, "retailPrice": 19.90, "amountOnSale": 500,
       "cargoNumber": "BL-0042-T", "skuCode": "6901234567890"},
      {"skuId": 4317895720146, "specId": "c266e0726506185beaf205cbae88a37e",
       "attributes": [], "amountOnSale": 30, "cargoNumber": "", "skuCode": ""}
    ],
    "shippingInfo": {"freightTemplateID": 1, "unitWeight": 0.35}
  },
  "createTime": "20261101090000000+0800",
  "lastUpdateTime": "20261123103000000+0800",
  "expireTime": "20271123103000000+0800",
  "bizGroupInfos": []
}"""


def test_product_detail():
    detail = parse_product_detail(load(PRODUCT_GET))
    assert detail.product_id == 624587823014
    assert detail.subject == "加厚玻璃水杯 家用耐热 带盖"
    assert (detail.status, detail.product_type, detail.unit) == ("published", "wholesale", "个")
    assert (detail.category_id, detail.cargo_number) == (122916002, "BL-0042")
    assert (detail.min_order_quantity, detail.amount_on_sale, detail.quote_type) == (2, 530, 1)
    assert detail.price_ranges == (
        PriceRange(2, Decimal("12.30")),
        PriceRange(100, Decimal("11")),
    )
    assert str(detail.price_ranges[0].price) == "12.30"  # exact, never through float
    assert detail.images == ("img/ibank/2017/992/417/3971714299_420783022.jpg",)
    assert detail.attributes[0]["attributeName"] == "货号"
    assert detail.modify_time == datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert detail.create_time == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    first, second = detail.skus
    assert first.sku_id == 4317895720145
    assert first.spec_id == "b266e0726506185beaf205cbae88a37d"
    assert str(first.price) == "12.30" and str(first.retail_price) == "19.90"
    assert (first.amount_on_sale, first.cargo_number, first.sku_code) == (
        500,
        "BL-0042-T",
        "6901234567890",
    )
    assert first.attributes[0]["attributeValue"] == "透明"
    assert (second.price, second.retail_price, second.amount_on_sale) == (None, None, 30)
    assert detail.raw["expireTime"] == "20271123103000000+0800"


def test_product_detail_business_error():
    answer = load('{"success": false, "errorCode": "PRODUCT_NOT_EXIST", "errorMsg": "商品不存在"}')
    with pytest.raises(BusinessError) as raised:
        parse_product_detail(answer)
    assert (raised.value.code, raised.value.message) == ("PRODUCT_NOT_EXIST", "商品不存在")


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda a: a.pop("productInfo"), "productInfo"),
        (lambda a: a["productInfo"]["skuInfos"][1].pop("skuId"), "productInfo.skuInfos[1].skuId"),
        (
            lambda a: a["productInfo"]["saleInfo"]["priceRanges"][0].update(price="abc"),
            "productInfo.saleInfo.priceRanges[0].price",
        ),
        (lambda a: a["productInfo"].update(skuInfos={}), "productInfo.skuInfos"),
        (lambda a: a.update(lastUpdateTime="2026-11-23"), "lastUpdateTime"),
    ],
)
def test_product_detail_wrong_shape_names_the_path(mutate, path):
    answer = load(PRODUCT_GET)
    mutate(answer)
    with pytest.raises(MalformedResponseError, match=path.replace("[", r"\[")):
        parse_product_detail(answer)


PRODUCT_LIST = """{
  "result": {
    "success": true, "code": null, "message": null,
    "result": {"pageResult": {
      "pageIndex": 2, "sizePerPage": 20, "totalRecords": 41,
      "resultList": [
        {"productID": 624587823014, "subject": "加厚玻璃水杯", "status": "published",
         "categoryID": 122916002, "cargoNumber": "BL-0042",
         "image": {"images": ["img/ibank/2017/992/417/3971714299_420783022.jpg"]},
         "createTime": "20261101090000000+0800", "lastUpdateTime": "20261123103000000+0800"},
        {"productID": 624587823015, "subject": "不锈钢勺", "status": "member deleted",
         "categoryID": null, "cargoNumber": null, "image": null,
         "createTime": "20121222222222+0800", "lastUpdateTime": "20121222222222+0800"}
      ]}}
  }
}"""


def test_product_list():
    page = parse_product_list(load(PRODUCT_LIST))
    assert (page.page_index, page.page_size, page.total_records) == (2, 20, 41)
    first, second = page.items
    assert (first.product_id, first.subject, first.status) == (
        624587823014,
        "加厚玻璃水杯",
        "published",
    )
    assert (first.category_id, first.cargo_number) == (122916002, "BL-0042")
    assert first.images == ("img/ibank/2017/992/417/3971714299_420783022.jpg",)
    assert first.modify_time == datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert first.raw["subject"] == "加厚玻璃水杯"
    assert (second.category_id, second.cargo_number, second.images) == (None, "", ())
    assert second.create_time == datetime(2012, 12, 22, 14, 22, 22, tzinfo=UTC)


def test_empty_product_list():
    answer = load(
        '{"result": {"success": true, "result": {"pageResult": '
        '{"pageIndex": 1, "sizePerPage": 20, "totalRecords": 0, "resultList": null}}}}'
    )
    assert parse_product_list(answer).items == ()


def test_product_list_business_error():
    answer = load(
        '{"result": {"success": false, "code": "isv.invalid-parameter", "message": "参数错误",'
        ' "subCode": "pageSize", "subMessage": "pageSize must be <= 20"}}'
    )
    with pytest.raises(BusinessError) as raised:
        parse_product_list(answer)
    error = raised.value
    assert (error.code, error.sub_code) == ("isv.invalid-parameter", "pageSize")
    assert error.message == "参数错误; pageSize must be <= 20"


def test_product_list_missing_page_result():
    with pytest.raises(MalformedResponseError, match=r"result\.result\.pageResult"):
        parse_product_list(load('{"result": {"success": true, "result": {}}}'))


def test_answer_that_is_not_an_object():
    with pytest.raises(MalformedResponseError, match="answer is not a JSON object"):
        parse_product_list([])


SEARCH = """{"result": {"success": "true", "code": "200", "message": null, "result": {
  "totalRecords": 2300, "totalPage": 115, "pageSize": 20, "currentPage": 3,
  "data": [
    {"offerId": 710238440218, "subject": "玻璃杯 批发",
     "imageUrl": "https://cbu01.alicdn.com/img/ibank/O1CN01.jpg",
     "priceInfo": {"price": 3.50}, "monthSold": 1532, "minOrderQuantity": 10,
     "createDate": "2026-01-05 08:00:00", "modifyDate": "2026-11-20 17:45:12"},
    {"offerId": "710238440219", "subject": "杯子", "imageUrl": "", "priceInfo": {}}
  ]}}}"""


def test_search_page():
    page = parse_search_page(load(SEARCH))
    assert (page.total_records, page.total_page, page.page_size, page.current_page) == (
        2300,
        115,
        20,
        3,
    )
    first, second = page.items
    assert first.offer_id == 710238440218
    assert str(first.price) == "3.50"
    assert (first.month_sold, first.min_order_quantity) == (1532, 10)
    assert first.modify_date == datetime(2026, 11, 20, 9, 45, 12, tzinfo=UTC)
    assert (second.offer_id, second.price, second.create_date) == (710238440219, None, None)


@pytest.mark.parametrize("flag", ['"false"', "false"])
def test_search_failure_as_string_or_bool(flag):
    answer = load(f'{{"result": {{"success": {flag}, "code": "500", "message": "系统繁忙"}}}}')
    with pytest.raises(BusinessError, match="系统繁忙"):
        parse_search_page(answer)


def test_image_id():
    answer = load(
        '{"result": {"success": "true", "code": "200", "message": null, "result": "a1b2"}}'
    )
    assert parse_image_id(answer) == "a1b2"


def test_added_product_id():
    assert parse_added_product_id(load('{"success": true, "productID": 7, "errorMsg": null}')) == 7


def test_add_error_message_is_a_business_error():
    with pytest.raises(BusinessError, match="类目不存在"):
        parse_added_product_id(load('{"productID": null, "errorMsg": "类目不存在"}'))


def test_edit_answer():
    check_product_answer(load('{"success": true}'))
    with pytest.raises(BusinessError):
        check_product_answer(load('{"success": false, "errorCode": "X", "errorMsg": "no"}'))


# A real getToken answer (doc), with the extra `uid` key seen in the wild.
TOKEN = """{"refresh_token_timeout": "20170126094556000+0800", "aliId": "1711749575",
  "resource_owner": "alitestforisv01", "memberId": "b2b-1711749575", "expires_in": "36000",
  "refresh_token": "0f5c8a2e-8d3e-4c1a-9d57-3c7ab4f41f5e",
  "access_token": "6a1e3b4c-2f7d-4e8a-b1c9-0d2e3f4a5b6c", "uid": "1711749575"}"""


def test_token_from_the_real_answer():
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    token = parse_token(load(TOKEN), now)
    assert token.access_token == "6a1e3b4c-2f7d-4e8a-b1c9-0d2e3f4a5b6c"
    assert token.refresh_token == "0f5c8a2e-8d3e-4c1a-9d57-3c7ab4f41f5e"
    assert token.expires_at == now + timedelta(hours=10)
    assert token.refresh_token_expires_at == datetime(2017, 1, 26, 1, 45, 56, tzinfo=UTC)
    assert token.refresh_token_expires_at.tzinfo is UTC
    assert (token.member_id, token.ali_id, token.resource_owner) == (
        "b2b-1711749575",
        "1711749575",
        "alitestforisv01",
    )


def test_token_repr_hides_the_tokens():
    text = repr(parse_token(load(TOKEN), datetime.now(UTC)))
    assert "6a1e3b4c" not in text and "0f5c8a2e" not in text
    assert "b2b-1711749575" in text


def test_refresh_answer_without_refresh_token_keeps_the_old_one():
    answer = load(
        '{"aliId": "1711749575", "resource_owner": "alitestforisv01",'
        ' "memberId": "b2b-1711749575", "expires_in": "36000", "access_token": "new"}'
    )
    token = parse_token(answer, datetime.now(UTC))
    assert token.refresh_token is None and token.refresh_token_expires_at is None


def test_token_answer_without_access_token():
    with pytest.raises(MalformedResponseError, match="access_token"):
        parse_token(load('{"expires_in": "36000"}'), datetime.now(UTC))


# The official alibaba.product.get doc example's pricing: quoteType 2, tiers shared by every
# SKU, and SKUs that carry no `price` (docs/protocol.md, "Prices as 1688 has them").
QUOTE_TYPE_2 = """{
  "success": true,
  "productInfo": {
    "productID": 600000000000000001, "subject": "帆布包", "status": "published",
    "saleInfo": {"priceRanges": [{"startQuantity": 10, "price": 250},
                                 {"startQuantity": 3, "price": 258.00}],
                 "amountOnSale": 70, "unit": "个", "quoteType": 2},
    "skuInfos": [
      {"skuId": 1, "specId": "a", "amountOnSale": 40, "retailPrice": 300},
      {"skuId": 2, "specId": "b", "amountOnSale": 30,
       "priceRange": [{"startQuantity": 3, "price": "240"}, {"startQuantity": 50}]}
    ]
  },
  "lastUpdateTime": "20261123103000000+0800"
}"""


def test_quote_type_2_skus_take_the_shared_tiers():
    detail = parse_product_detail(load(QUOTE_TYPE_2))
    assert detail.product_id == 600000000000000001  # beyond 2**53: read as an integer
    assert detail.quote_type == 2
    # sorted by start quantity
    assert detail.price_ranges == (PriceRange(3, Decimal("258.00")), PriceRange(10, Decimal(250)))
    plain, ranged = detail.skus
    assert plain.price is None and plain.price_ranges == ()
    assert detail.sku_tiers(plain) == detail.price_ranges
    # the per-SKU priceRange; a tier without a price says nothing and is left out
    assert ranged.price_ranges == (PriceRange(3, Decimal("240")),)
    assert detail.sku_tiers(ranged) == ranged.price_ranges
    assert detail.price_span() == (Decimal(240), Decimal("258.00"))


def test_quote_type_1_sku_without_price_is_unknown_not_the_offer_price():
    answer = load(PRODUCT_GET)
    detail = parse_product_detail(answer)
    priced, unpriced = detail.skus
    assert detail.sku_tiers(priced) == (PriceRange(2, Decimal("12.30")),)
    assert detail.sku_tiers(unpriced) == ()


def sdk_nesting(page: dict) -> dict:
    """The official SDK's model: result.result.pageResult."""
    return {"result": {"success": True, "result": {"pageResult": page}}}


def parser_nesting(page: dict) -> dict:
    """How four real integrations read it: result.pageResult."""
    return {"result": {"success": True, "pageResult": page}}


@pytest.mark.parametrize("nest", [sdk_nesting, parser_nesting])
@pytest.mark.parametrize("total_key", ["totalRecords", "totalCount"])
def test_product_list_in_either_nesting_and_either_total(nest, total_key):
    inner = load(PRODUCT_LIST)["result"]["result"]["pageResult"]
    inner[total_key] = inner.pop("totalRecords")
    page = parse_product_list(nest(inner))
    assert page.total_records == 41 and len(page.items) == 2
    assert all(item.detail is None for item in page.items)  # no SKUs: a detail call each


def test_product_list_without_any_total_is_malformed():
    page = {"resultList": []}
    with pytest.raises(MalformedResponseError, match="totalRecords"):
        parse_product_list(parser_nesting(page))


def test_list_items_that_carry_skus_prices_and_stock_are_complete():
    with_skus = {
        "productID": 11,
        "subject": "帆布包",
        "status": "published",
        "productCargoNumber": "BAG-1",
        "lastUpdateTime": "20261123103000000+0800",
        "saleInfo": {"priceRanges": [{"startQuantity": 3, "price": 258}], "amountOnSale": 70,
                     "quoteType": 2},
        "skuInfos": [{"skuId": 1, "amountOnSale": 40}, {"skuId": 2, "amountOnSale": 30}],
    }  # fmt: skip
    no_skus = {
        "productID": 12,
        "lastUpdateTime": "20261123103000000+0800",
        "saleInfo": {"priceRanges": [{"startQuantity": 1, "price": 9.9}], "amountOnSale": 5},
    }
    bare = {"productID": 13, "lastUpdateTime": "20261123103000000+0800"}
    page = parse_product_list(
        parser_nesting({"totalCount": 3, "resultList": [with_skus, no_skus, bare]})
    )
    first, second, third = page.items
    assert first.cargo_number == "BAG-1" and first.detail.cargo_number == "BAG-1"
    assert first.detail.from_list and first.detail.amount_on_sale == 70
    assert [s.amount_on_sale for s in first.detail.skus] == [40, 30]
    assert first.detail.modify_time == first.modify_time
    assert second.detail is not None and second.detail.skus == ()  # the page carries SKUs
    assert third.detail is None  # no prices or stock: the detail call decides


def test_list_item_with_sale_info_alone_is_not_trusted_to_have_no_skus():
    item = {"productID": 12, "saleInfo": {"amountOnSale": 5}}
    page = parse_product_list(sdk_nesting({"totalRecords": 1, "resultList": [item]}))
    assert page.items[0].detail is None


def test_postponed_token_answer():
    now = datetime(2027, 4, 30, tzinfo=UTC)
    answer = {"refresh_token": "new-refresh", "refresh_token_timeout": "20271030000000000+0800"}
    token = parse_postponed_token(answer, now)
    assert token.refresh_token == "new-refresh" and token.access_token == ""
    assert token.refresh_token_expires_at == datetime(2027, 10, 29, 16, tzinfo=UTC)
    with pytest.raises(MalformedResponseError, match="refresh_token"):
        parse_postponed_token({"access_token": "a", "expires_in": "1"}, now)
