"""The publishing methods against a scripted gateway: the shapes the public record allows
(docs/protocol.md, "Publishing what 1688 accepts"), what is sent, and what is never retried."""

import json

import pytest

from open1688 import BusinessError, MalformedResponseError, OutcomeUnknownError
from open1688.answers import parse_cascades
from open1688.types import CascadeRule
from tests.open1688.scripted_gateway import Answer, expected_signature

TOKEN = "tok-publish"


def test_category_get_reads_the_sdk_shape_and_a_children_listing(gateway, make_client):
    client = make_client()
    gateway.script(
        Answer(body={"categoryInfo": [{"categoryID": 0, "childIDs": [7, 8]}], "succes": "true"}),
        Answer(body={"categoryInfo": [{"categoryID": 7, "name": "女装", "isLeaf": False,
                                       "parentIDs": [0], "childIDs": []}]}),
        Answer(body={"categoryInfo": [{"categoryID": 8, "name": "童装", "isLeaf": "false",
                                       "parentIDs": [0]}]}),
        # another shape: the children themselves, ids as strings
        Answer(body={"categoryInfo": [{"categoryID": "71", "name": "T恤", "isLeaf": "true",
                                       "parentIDs": "7"}]}),
    )  # fmt: skip
    roots = client.category_children(TOKEN, 0)
    assert [(c.category_id, c.name, c.is_leaf) for c in roots] == [
        (7, "女装", False),
        (8, "童装", False),
    ]
    (child,) = client.category_children(TOKEN, 7)
    assert (child.category_id, child.is_leaf, child.parent_id) == (71, True, 7)
    sent = [dict(r.fields) for r in gateway.received]
    assert [s["categoryID"] for s in sent] == ["0", "7", "8", "7"]


def test_category_error_is_a_business_error(gateway, make_client):
    gateway.script(Answer(body={"succes": "false", "errorMsg": "类目不存在"}))
    with pytest.raises(BusinessError, match="类目不存在"):
        make_client().get_category(TOKEN, 1)


def test_search_by_keyword_has_no_outer_result(gateway, make_client):
    gateway.script(
        Answer(body={"products": [{"categoryID": 121950004, "name": "保温杯", "isLeaf": True}],
                     "success": "true"})
    )  # fmt: skip
    (found,) = make_client().search_categories(TOKEN, "杯")
    assert found.category_id == 121950004 and found.is_leaf
    gateway.script(Answer(body={"success": "false", "message": "关键词不能为空"}))
    with pytest.raises(BusinessError):
        make_client().search_categories(TOKEN, "")


def test_attribute_get_parses_values_and_the_cascade_string(gateway, make_client):
    answer = {
        "attributes": [
            {"attrID": 100000691, "name": "尺寸", "required": "true", "inputType": "1",
             "isSKUAttribute": False, "attrValues": [{"attrValueID": 46874, "name": "大"}]},
            {"attrID": 7108, "name": "跨境", "required": False, "inputType": 3,
             "attrValues": [{"attrValueID": 21958, "name": "是"}]},
            {"attrID": 8243, "name": "产地", "inputType": "0"},
            {"attrID": 3216, "name": "颜色", "isSKUAttribute": "true", "inputType": "1"},
        ],
        "attributeLevelMapStr": json.dumps({"100000691:46874>7108:21958": "8243"}),
    }  # fmt: skip
    gateway.script(Answer(body=answer))
    schema = make_client().get_category_attributes(TOKEN, 55)
    assert schema.category_id == 55
    assert [a.attr_id for a in schema.sale_attributes] == [3216]
    assert schema.attribute(7108).input_type == "3"
    assert schema.cascades == (CascadeRule(((100000691, 46874), (7108, 21958)), (8243,)),)
    assert schema.required_ids({100000691: {46874}}) == (100000691,)
    assert schema.required_ids({100000691: {46874}, 7108: {21958}}) == (100000691, 8243)


def test_cascades_accept_an_object_and_comma_lists_and_refuse_garbage():
    assert parse_cascades({"1:2": "3,4"}) == (CascadeRule(((1, 2),), (3, 4)),)
    assert parse_cascades("") == ()
    with pytest.raises(MalformedResponseError):
        parse_cascades('{"1-2": "3"}')
    with pytest.raises(MalformedResponseError):
        parse_cascades("[1, 2]")


def test_new_add_sends_json_strings_and_reads_the_nested_item(gateway, make_client):
    # As a publisher that got offer ids back reads it: itemId in dataJson, offerStatus in
    # bizData.data.
    biz = {"dataJson": json.dumps({"itemId": 745000000123456789}),
           "data": {"offerStatus": "auditing"}}  # fmt: skip
    gateway.script(Answer(body={"result": {"success": True, "bizData": json.dumps(biz)}}))
    body = {"formValues": {"outerId": "A-1", "title": "标题"}}
    result = make_client().add_new_product(
        TOKEN, category_id=9, data_body=body, scene="popular", biz_param={"x": 1}
    )
    assert (result.item_id, result.offer_status) == (745000000123456789, "auditing")
    (sent,) = gateway.received
    fields = sent.fields
    assert json.loads(fields["dataBody"]) == body and fields["catId"] == "9"
    assert fields["scene"] == "popular" and json.loads(fields["bizParam"]) == {"x": 1}
    # dataJson as an object, with the status in it, is read too
    nested = {"dataJson": {"itemId": "5", "offerStatus": "x"}}
    gateway.script(Answer(body={"result": {"success": True, "bizData": nested}}))
    again = make_client().add_new_product(TOKEN, category_id=9, data_body=body, scene="cbu")
    assert (again.item_id, again.offer_status) == (5, "x")


def test_new_add_refusal_is_a_business_error_with_the_biz_code(gateway, make_client):
    gateway.script(Answer(body={"result": {"success": False, "bizCode": "ATTRIBUTE_REQUIRED",
                                           "bizMessage": "缺少必填属性「面料」"}}))  # fmt: skip
    with pytest.raises(BusinessError) as raised:
        make_client().add_new_product(TOKEN, category_id=9, data_body={}, scene="popular")
    assert raised.value.code == "ATTRIBUTE_REQUIRED" and "面料" in raised.value.message


@pytest.mark.parametrize(
    "answer",
    [
        Answer(status=500, body={"error_code": "gw.ISPInvokeError", "error_message": "x"}),
        Answer(body={"result": {"success": False, "bizCode": "SYS_ERROR"}}),
        Answer(body={"result": {"success": True, "bizData": "{not json"}}),
        Answer(delay=1.0),  # past the 0.5 s read timeout
    ],
)
def test_new_add_unknown_outcomes_are_never_retried(gateway, make_client, answer):
    gateway.script(answer, Answer(body={"result": {"success": True}}))
    with pytest.raises(OutcomeUnknownError):
        make_client().add_new_product(TOKEN, category_id=9, data_body={}, scene="popular")
    assert len(gateway.received) == 1


def test_schema_sys_error_is_retried_then_read(gateway, make_client, sleeps):
    schema = {"catId": 9, "fields": [{"id": "title"}]}
    gateway.script(
        Answer(body={"result": {"success": False, "bizCode": "SYS_ERROR"}}),
        Answer(body={"result": {"success": True, "bizData": json.dumps(schema)}}),
    )
    got = make_client().get_product_schema(TOKEN, 9, scene="popular")
    assert got.schema == schema and got.scene == "popular"
    assert len(sleeps) == 1 and 1 <= sleeps[0] <= 3


def test_photo_add_sends_the_file_unsigned_and_cuts_the_name(gateway, make_client):
    gateway.script(
        Answer(body={"image": {"id": 11, "albumID": 3, "name": "n", "url": "img/ibank/a.jpg"}})
    )
    photo = make_client().add_photo(TOKEN, album_id=3, name="名" * 40, image=b"\xff\xd8jpeg")
    assert photo.url == "img/ibank/a.jpg" and photo.album_id == 3
    (sent,) = gateway.received
    fields = sent.fields
    assert fields["imageBytes"] == b"\xff\xd8jpeg"
    texts = {k: v.decode() for k, v in fields.items() if k != "imageBytes"}
    assert texts["name"] == "名" * 30
    assert texts["_aop_signature"] == expected_signature(sent.path, texts)


def test_logistics_lists_read_result_at_either_depth(gateway, make_client):
    gateway.script(
        Answer(body={"result": [{"id": 5, "name": "包邮", "isDefault": "true"}]}),
        Answer(body={"result": {"success": True, "result": [
            {"id": 6, "addressName": "义乌仓", "fullAddress": "浙江义乌", "isDefault": True}]}}),
    )  # fmt: skip
    client = make_client()
    (template,) = client.list_freight_templates(TOKEN)
    assert (template.template_id, template.is_default) == (5, True)
    (address,) = client.list_send_goods_addresses(TOKEN)
    assert (address.address_id, address.name, address.full_address) == (6, "义乌仓", "浙江义乌")
    assert "com.alibaba.logistics" in gateway.received[0].path


def test_preview_refusal_is_a_result_not_an_exception(gateway, make_client):
    gateway.script(
        Answer(body={"success": False, "errorCode": "IMAGE_NOT_IN_PHOTOBANK", "errorMsg": "图片"})
    )
    result = make_client().preview_product(TOKEN, {"subject": "x"})
    assert not result.ok and result.code == "IMAGE_NOT_IN_PHOTOBANK"
