"""Publishing as strict as 1688, over HTTP with the sandbox's own little client: categories,
attribute schemas with cascading rules, the photobank's picture rules, freight and addresses,
both publish APIs, preview, audit, and adds that apply after their answer was lost."""

import json
import time

import pytest
from publishing_kit import (
    SCENE,
    T_SHIRT,
    eventually,
    legacy_fields,
    ok,
    picture,
    schema_body,
    schema_form,
    shipping,
    upload,
)
from sandbox_client import APP_KEY, DEMO_SELLER

OTHER_SELLER = "b2b-2209111111"


def form(photo_url: str, template: int, address: int, **changes) -> dict:
    return schema_form(photo_url, template, address, **changes)


def add_new(gateway, token, values: dict, cat_id: int = T_SHIRT, **params):
    params = {"catId": cat_id, "scene": SCENE, "dataBody": schema_body(values, cat_id), **params}
    return gateway.call(
        "alibaba.new.product.add", {k: v for k, v in params.items() if v}, token=token
    )


def item_of(body: dict) -> int:
    return json.loads(json.loads(body["result"]["bizData"])["dataJson"])["itemId"]


def offers_with(gateway, cargo_number: str, token: str) -> list[dict]:
    params = {"cargoNumber": cargo_number, "pageNo": 1, "pageSize": 20}
    body = ok(gateway.call("alibaba.product.list.get", params, token=token))
    return body["result"]["result"]["pageResult"]["resultList"]


# --- categories -------------------------------------------------------------------------------
def test_category_tree_has_three_levels_and_hundreds_of_leaves(gateway):
    token = gateway.token()
    root = ok(gateway.call("alibaba.category.get", {"categoryID": 0}, token=token))
    assert root["succes"] == "true"
    (info,) = root["categoryInfo"]
    assert len(info["childIDs"]) >= 10
    leaves, levels, waiting = 0, set(), list(info["childIDs"])
    while waiting:
        answer = ok(
            gateway.call("alibaba.category.get", {"categoryID": waiting.pop()}, token=token)
        )
        (node,) = answer["categoryInfo"]
        levels.add(node["level"])
        assert node["name"]
        if node["isLeaf"]:
            leaves += 1
            assert node["childIDs"] == []
        waiting.extend(node["childIDs"])
    assert levels == {1, 2, 3}
    assert leaves >= 200


def test_category_search_answers_leaves_without_an_outer_result(gateway):
    token = gateway.token()
    body = ok(gateway.call("alibaba.category.searchByKeyword", {"keyword": "杯"}, token=token))
    assert body["success"] == "true" and "result" not in body
    names = {item["name"] for item in body["products"]}
    assert {"保温杯", "马克杯"} <= names
    assert all(item["isLeaf"] for item in body["products"])


def test_attribute_schema_of_a_leaf_with_sale_attributes_and_cascades(gateway):
    token = gateway.token()
    body = ok(gateway.call("alibaba.category.attribute.get", {"categoryID": T_SHIRT}, token=token))
    by_id = {a["attrID"]: a for a in body["attributes"]}
    assert by_id[1398]["name"] == "货号" and by_id[1398]["required"] is True
    assert by_id[3216]["isSKUAttribute"] is True and by_id[450]["isSKUAttribute"] is True
    assert by_id[122216347]["inputType"] == "2"  # multi
    assert "纯棉" in {value["name"] for value in by_id[287]["attrValues"]}
    assert all(isinstance(value["attrValueID"], int) for value in by_id[287]["attrValues"])
    cascades = json.loads(body["attributeLevelMapStr"])
    assert cascades["1141:20001"] == "8243"
    assert any(">" in condition for condition in cascades)
    parent = ok(gateway.call("alibaba.category.get", {"categoryID": T_SHIRT}, token=token))
    sub = parent["categoryInfo"][0]["parentIDs"][0]
    refused = ok(gateway.call("alibaba.category.attribute.get", {"categoryID": sub}, token=token))
    assert refused["success"] is False and refused["errorCode"] == "CATEGORY_NOT_LEAF"


def test_preparing_fault_answers_500_2(gateway):
    token = gateway.token()
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.category.attribute.get", kind="preparing"
    )
    body = ok(gateway.call("alibaba.category.attribute.get", {"categoryID": T_SHIRT}, token=token))
    assert body == {"success": False, "errorCode": "500_2", "errorMsg": "数据准备中"}


# --- photobank ----------------------------------------------------------------------------------
def test_photobank_accepts_pictures_by_the_rules(gateway):
    token = gateway.token()
    for kind in ("JPEG", "PNG", "GIF", "BMP"):
        image = upload(gateway, token, picture(kind), name=f"图{kind}")["image"]
        assert image["url"].startswith("img/ibank/") and image["id"] > 0
    opaque_rgba = picture("PNG", mode="RGBA", colour=(10, 20, 30, 255))
    assert upload(gateway, token, opaque_rgba)["success"] is True
    albums = ok(gateway.call("alibaba.photobank.album.getList", token=token))["albumInfos"]
    assert albums[0]["imageCount"] == 5


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (picture("PNG", mode="RGBA", colour=(10, 20, 30, 0)), "IMAGE_TRANSPARENT"),
        (picture("WEBP"), "IMAGE_TYPE_INVALID"),
        (b"not a picture at all", "IMAGE_TYPE_INVALID"),
        (b"\xff\xd8" + b"\x00" * (2 * 1024 * 1024), "IMAGE_TOO_LARGE"),
    ],
)
def test_photobank_refuses_what_1688_refuses(gateway, data, code):
    answer = upload(gateway, gateway.token(), data)
    assert answer["success"] is False and answer["errorCode"] == code, answer


def test_photobank_name_and_album_rules(gateway):
    token = gateway.token()
    assert upload(gateway, token, picture(), name="名" * 31)["errorCode"] == "NAME_TOO_LONG"
    assert upload(gateway, token, picture(), name="名" * 30)["success"] is True
    gateway.control("POST", "/_sandbox/sellers", member_id=OTHER_SELLER)
    other_token = gateway.token(OTHER_SELLER)
    their_album = ok(gateway.call("alibaba.photobank.album.getList", token=other_token))[
        "albumInfos"
    ][0]["albumID"]
    refused = upload(gateway, token, picture(), album=their_album)
    assert refused["errorCode"] == "ALBUM_NOT_EXIST"


def test_freight_templates_and_addresses_are_per_seller(gateway):
    gateway.control("POST", "/_sandbox/sellers", member_id=OTHER_SELLER)
    mine = shipping(gateway, gateway.token())
    theirs = shipping(gateway, gateway.token(OTHER_SELLER))
    assert mine != theirs
    assert mine == shipping(gateway, gateway.token())  # stable


# --- alibaba.new.product.getSchema / add ----------------------------------------------------------
def test_get_schema_answers_the_form_in_the_shape_1688_answers(gateway):
    token = gateway.token()
    body = ok(
        gateway.call(
            "alibaba.new.product.getSchema", {"catId": T_SHIRT, "scene": SCENE}, token=token
        )
    )
    schema = json.loads(body["result"]["bizData"])
    data = schema["data"]
    assert {
        "title",
        "primaryPicture",
        "catProp",
        "saleProp",
        "skuTable",
        "priceRange",
        "quotationType",
        "freight",
        "cbuSendAddress",
    } <= set(data)
    assert schema["global"]["systemParam"] == {"catId": T_SHIRT, "contextPath": "/popular"}
    props = {prop["name"]: prop for prop in data["catProp"]["fields"]["dataSource"]}
    assert props["p-1398"]["required"] is True
    assert props["p-287"]["fieldType"] == "enum" and props["p-287"]["dataSource"]
    sale = [prop["name"] for prop in data["saleProp"]["fields"]["dataSource"]]
    assert sale == ["p-3216", "p-450"]
    columns = [column["name"] for column in data["priceRange"]["fields"]["column"]]
    assert columns == ["pricerange_beginAmount", "pricerange_price"]
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.new.product.getSchema", kind="sys_error"
    )
    failed = ok(
        gateway.call(
            "alibaba.new.product.getSchema", {"catId": T_SHIRT, "scene": SCENE}, token=token
        )
    )
    assert failed["result"]["bizCode"] == "SYS_ERROR"


def test_get_schema_by_offer_id_without_cat_id_as_the_sdk_allows(gateway, seller):
    token, photo, template, address = seller
    item = item_of(ok(add_new(gateway, token, form(photo, template, address))))
    params = {"scene": SCENE, "offerId": item}
    body = ok(gateway.call("alibaba.new.product.getSchema", params, token=token))
    system = json.loads(body["result"]["bizData"])["global"]["systemParam"]
    assert system["catId"] == T_SHIRT and system["offerId"] == item
    missing = gateway.call("alibaba.new.product.getSchema", {"catId": T_SHIRT}, token=token)
    assert missing.status_code == 400 and missing.json()["error_code"] == "gw.ParamMissing"


def test_the_attested_body_publishes_with_a_custom_brand_and_sku_pictures(gateway, seller):
    token, photo, template, address = seller
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, audit_seconds=0.5)
    body = ok(add_new(gateway, token, form(photo, template, address)))
    biz = json.loads(body["result"]["bizData"])
    assert biz["data"]["offerStatus"] == "auditing"
    item = json.loads(biz["dataJson"])["itemId"]
    detail = ok(gateway.call("alibaba.product.get", {"productID": item}, token=token))
    info = detail["productInfo"]
    assert info["status"] == "auditing" and "cargoNumber" not in info
    assert {"attributeID": 1398, "value": "H11-TS-001"}.items() <= next(
        a for a in info["attributes"] if a["attributeID"] == 1398
    ).items()
    brand = next(a for a in info["attributes"] if a["attributeID"] == 2176)
    assert brand["value"] == "义乌小燕子" and brand["isCustom"] in (True, "true")
    assert info["image"]["images"] == [photo]
    assert [sku["cargoNumber"] for sku in info["skuInfos"]] == ["H11-TS-001-W-M", "H11-TS-001-B-L"]
    assert [float(sku["price"]) for sku in info["skuInfos"]] == [19.9, 21.9]
    assert info["skuInfos"][0]["attributes"][0]["skuImageUrl"] == photo
    assert info["saleInfo"]["quoteType"] == 1 and info["saleInfo"]["unit"] == "件"
    status = eventually(
        lambda: ok(gateway.call("alibaba.product.get", {"productID": item}, token=token))[
            "productInfo"
        ]["status"],
        "published",
    )
    assert status == "published"


def test_an_offer_without_skus_by_quantity_tiers_publishes(gateway, seller):
    token, photo, template, address = seller
    values = form(
        photo, template, address,
        saleProp=None,
        skuTable=[{"sku_props": [], "sku_amountOnSale": 80, "sku_cargoNumber": "H11-TS-001",
                   "sku_status": 1}],
        quotationType={"value": 2},
        priceRange=[{"pricerange_beginAmount": 2, "pricerange_price": 12.5},
                    {"pricerange_beginAmount": 10, "pricerange_price": 11}],
        totalSales=None,
    )  # fmt: skip
    item = item_of(ok(add_new(gateway, token, values)))
    info = ok(gateway.call("alibaba.product.get", {"productID": item}, token=token))["productInfo"]
    assert "skuInfos" not in info or not info["skuInfos"]
    sale = info["saleInfo"]
    assert sale["amountOnSale"] == 80 and sale["quoteType"] == 0
    assert [(t["startQuantity"], float(t["price"])) for t in sale["priceRanges"]] == [
        (2, 12.5),
        (10, 11),
    ]


def test_an_attribute_value_by_its_id_from_the_schema_is_accepted(gateway, seller):
    token, photo, template, address = seller
    schema = json.loads(
        ok(
            gateway.call(
                "alibaba.new.product.getSchema", {"catId": T_SHIRT, "scene": SCENE}, token=token
            )
        )["result"]["bizData"]
    )
    props = {p["name"]: p for p in schema["data"]["catProp"]["fields"]["dataSource"]}
    cotton = next(v for v in props["p-287"]["dataSource"] if v["text"] == "纯棉")
    cat_prop = {**form(photo, template, address)["catProp"], "p-287": cotton}
    item = item_of(ok(add_new(gateway, token, form(photo, template, address, catProp=cat_prop))))
    info = ok(gateway.call("alibaba.product.get", {"productID": item}, token=token))["productInfo"]
    fabric = next(a for a in info["attributes"] if a["attributeID"] == 287)
    assert fabric["value"] == "纯棉" and int(fabric["valueID"]) == cotton["value"]
    unknown = {**cat_prop, "p-287": {"value": 99, "text": "纯棉"}}
    body = ok(add_new(gateway, token, form(photo, template, address, catProp=unknown)))
    assert body["result"]["bizCode"] == "ATTRIBUTE_VALUE_INVALID"


def test_new_add_without_scene_is_refused_as_a_missing_argument(gateway, seller):
    token, photo, template, address = seller
    answer = add_new(gateway, token, form(photo, template, address), scene="")
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.ParamMissing"
    assert answer.json()["error_message"] == "Required argument scene"
    body = ok(add_new(gateway, token, form(photo, template, address), scene="cbu_offer"))
    assert body["result"]["bizCode"] == "SCENE_INVALID"
    for scene in ("cbu", "industry"):
        body = ok(add_new(gateway, token, form(photo, template, address), scene=scene))
        assert body["result"]["success"] is True, body
    assert len(offers_with(gateway, "H11-TS-001", token)) == 2


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("title", "FIELD_REQUIRED"),
        ("primaryPicture", "IMAGE_REQUIRED"),
        ("catProp", "FIELD_REQUIRED"),
        ("quotationType", "FIELD_REQUIRED"),
        ("cbuUnit", "FIELD_REQUIRED"),
        ("onlineTrade", "FIELD_REQUIRED"),
        ("invReduce", "FIELD_REQUIRED"),
        ("upshelfTime", "FIELD_REQUIRED"),
        ("freight", "FREIGHT_TEMPLATE_REQUIRED"),
        ("cbuSendAddress", "SEND_ADDRESS_REQUIRED"),
        ("description", "FIELD_REQUIRED"),
    ],
)
def test_new_add_refuses_a_missing_required_field_by_name(gateway, seller, field, code):
    token, photo, template, address = seller
    body = ok(add_new(gateway, token, form(photo, template, address, **{field: None})))
    assert body["result"]["success"] is False
    assert body["result"]["bizCode"] == code
    assert f"({field})" in body["result"]["bizMessage"]
    assert offers_with(gateway, "H11-TS-001", token) == []


def test_list_cargo_number_filter_matches_the_1398_attribute_and_sku_cargo_numbers(gateway, seller):
    token, photo, template, address = seller
    item = item_of(ok(add_new(gateway, token, form(photo, template, address))))
    for number in ("H11-TS-001", "H11-TS-001-B-L"):
        assert [o["productID"] for o in offers_with(gateway, number, token)] == [item]
    assert offers_with(gateway, "H11-TS-00", token) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"catProp": {"p-2176": "其他", "p-1141": "否", "p-122216347": ["夏季"]}}, "面料"),
        ({"outerId": ""}, "货号"),
        # cascading: 是否进口 = 是 makes 原产国/地区 required
        ({"catProp": {"p-2176": "其他", "p-1141": "是", "p-287": "纯棉", "p-122216347": ["夏季"]}},
         "原产国/地区"),
        # two conditions: 件型 = 大件 and 是否跨境出口专供货源 = 是 → 主要下游平台
        ({"catProp": {"p-2176": "其他", "p-1141": "否", "p-287": "纯棉", "p-122216347": ["夏季"],
                      "p-100031": "大件", "p-7002": "是"}}, "主要下游平台"),
    ],
)  # fmt: skip
def test_new_add_refuses_a_missing_required_or_cascading_attribute_by_name(
    gateway, seller, change, named
):
    token, photo, template, address = seller
    body = ok(add_new(gateway, token, form(photo, template, address, **change)))
    assert body["result"]["success"] is False
    assert body["result"]["bizCode"] == "ATTRIBUTE_REQUIRED"
    assert f"「{named}」" in body["result"]["bizMessage"]
    assert offers_with(gateway, "H11-TS-001-W-M", token) == []


def test_new_add_with_the_cascaded_attribute_given_is_accepted(gateway, seller):
    token, photo, template, address = seller
    props = {"p-2176": "其他", "p-1141": "是", "p-8243": "日本", "p-287": "纯棉",
             "p-122216347": ["夏季", "秋季"]}  # fmt: skip
    body = ok(add_new(gateway, token, form(photo, template, address, catProp=props)))
    assert body["result"]["success"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"catProp": {"p-2176": "其他", "p-1141": "否", "p-287": "金子", "p-122216347": ["夏季"]}},
         "ATTRIBUTE_VALUE_INVALID"),
        ({"primaryPicture": {"imageList": [{"url": "img/ibank/2026/001/002/123_456.jpg"}]}},
         "IMAGE_NOT_IN_PHOTOBANK"),
        ({"primaryPicture": {"imageList": []}}, "IMAGE_REQUIRED"),
        ({"primaryPicture": {"imageList": [{"url": "img/ibank/a.jpg"}] * 6}}, "IMAGE_TOO_MANY"),
        ({"mainImage": ["img/ibank/a.jpg"], "primaryPicture": None}, "IMAGE_REQUIRED"),
        ({"freight": {"freightType": "T", "freightId": 987654321}}, "FREIGHT_TEMPLATE_INVALID"),
        ({"freight": {"freightType": "X", "freightId": 1}}, "FREIGHT_TEMPLATE_INVALID"),
        ({"freight": {"freightTemplateId": 1}}, "FREIGHT_TEMPLATE_INVALID"),
        ({"cbuSendAddress": {"value": 123}}, "SEND_ADDRESS_INVALID"),
        ({"cbuSendAddress": 123}, "SEND_ADDRESS_INVALID"),
        ({"skuTable": [{"sku_props": [{"name": "p-7869", "value": -1, "text": "500ml"}],
                        "sku_price": 9.9, "sku_amountOnSale": 1}]}, "SKU_ATTRIBUTE_INVALID"),
        ({"skuTable": [{"p-3216": "白色", "price": "9.9", "amountOnSale": 1}]}, "SKU_INVALID"),
        ({"quotationType": {"value": 3}}, "FIELD_VALUE_INVALID"),
        ({"onlineTrade": {"value": 1}}, "FIELD_VALUE_INVALID"),
        ({"quotationType": {"value": 2}, "priceRange": None}, "PRICE_REQUIRED"),
        ({"priceRange": [{"startQuantity": 1, "price": 3}], "quotationType": {"value": 2}},
         "PRICE_INVALID"),
        ({"description": "<p>纯文本</p>"}, "FIELD_VALUE_INVALID"),
        ({"title": "超长标题" * 8}, "TITLE_TOO_LONG"),
    ],
)  # fmt: skip
def test_new_add_refuses_what_1688_refuses(gateway, seller, change, code):
    token, photo, template, address = seller
    body = ok(add_new(gateway, token, form(photo, template, address, **change)))
    assert body["result"]["bizCode"] == code, body


def test_new_add_refuses_a_non_leaf_and_another_sellers_picture(gateway, seller):
    token, photo, template, address = seller
    leaf = ok(gateway.call("alibaba.category.get", {"categoryID": T_SHIRT}, token=token))
    sub = leaf["categoryInfo"][0]["parentIDs"][0]
    body = ok(add_new(gateway, token, form(photo, template, address), cat_id=sub))
    assert body["result"]["bizCode"] == "CATEGORY_NOT_LEAF"
    gateway.control("POST", "/_sandbox/sellers", member_id=OTHER_SELLER)
    other = gateway.token(OTHER_SELLER)
    o_template, o_address = shipping(gateway, other)
    body = ok(add_new(gateway, other, form(photo, o_template, o_address)))
    assert body["result"]["bizCode"] == "IMAGE_NOT_IN_PHOTOBANK"


def test_audit_rejects_a_banned_word_with_a_reason(gateway, seller):
    token, photo, template, address = seller
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, audit_seconds=0.3)
    body = ok(add_new(gateway, token, form(photo, template, address, title="高仿纯棉T恤女")))
    item = item_of(body)

    def read():
        return ok(gateway.call("alibaba.product.get", {"productID": item}, token=token))[
            "productInfo"
        ]

    eventually(lambda: read()["status"], "untread")
    info = read()
    assert info["status"] == "untread"
    assert "高仿" in info["auditFailReason"]


# --- legacy add (strict by default) and preview --------------------------------------------
def test_legacy_add_is_strict_and_drops_offer_level_cargo_number(gateway, seller):
    token, photo, template, address = seller
    missing = legacy_fields(photo, template, address, attributes="[]")
    refused = ok(gateway.call("alibaba.product.add", missing, token=token))
    assert refused["errorCode"] == "ATTRIBUTE_REQUIRED" and "「货号」" in refused["errorMsg"]
    fields = legacy_fields(photo, template, address, cargoNumber="OFFER-LEVEL-1")
    body = ok(gateway.call("alibaba.product.add", fields, token=token))
    product_id = body["productID"]
    info = ok(gateway.call("alibaba.product.get", {"productID": product_id}, token=token))[
        "productInfo"
    ]
    assert info["status"] == "auditing" and "cargoNumber" not in info
    assert offers_with(gateway, "OFFER-LEVEL-1", token) == []
    assert [o["productID"] for o in offers_with(gateway, "H11-LG-001", token)] == [product_id]
    assert [o["productID"] for o in offers_with(gateway, "H11-LG-001-W-S", token)] == [product_id]


def test_legacy_add_is_strict_by_default_and_lenient_with_the_switch_off(gateway):
    token = gateway.token()
    switches = gateway.control("GET", f"/_sandbox/switches?app_key={APP_KEY}")
    assert switches["defaults"]["strict_publish"] is True
    fields = {"subject": "随便什么", "categoryID": 5, "saleInfo": json.dumps(
        {"priceRanges": [{"startQuantity": 1, "price": "3"}]})}  # fmt: skip
    refused = ok(gateway.call("alibaba.product.add", fields, token=token))
    assert refused["success"] is False and refused["errorCode"] == "CATEGORY_NOT_EXIST"
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, strict_publish=False)
    body = ok(gateway.call("alibaba.product.add", fields, token=token))
    info = ok(gateway.call("alibaba.product.get", {"productID": body["productID"]}, token=token))
    assert info["productInfo"]["status"] == "published"  # unchecked, no audit


def test_preview_checks_like_the_add_and_creates_nothing(gateway, seller):
    token, photo, template, address = seller
    good = ok(
        gateway.call(
            "alibaba.product.add.preview", legacy_fields(photo, template, address), token=token
        )
    )
    assert good["success"] is True
    bad = legacy_fields(photo, template, address, image=json.dumps({"images": ["img/x/1.jpg"]}))
    refused = ok(gateway.call("alibaba.product.add.preview", bad, token=token))
    assert refused["errorCode"] == "IMAGE_NOT_IN_PHOTOBANK"
    assert offers_with(gateway, "H11-LG-001", token) == []


# --- adds that apply after their answer --------------------------------------------------
def test_apply_late_answers_a_timeout_and_creates_the_offer_later(gateway, seller):
    token, photo, template, address = seller
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.new.product.add", kind="apply_late", delay=1.0
    )
    answer = add_new(gateway, token, form(photo, template, address))
    assert answer.status_code == 504 and answer.json()["error_code"] == "gw.ISPInvokeTimeout"
    assert offers_with(gateway, "H11-TS-001", token) == []  # not yet
    deadline = time.monotonic() + 5
    while not offers_with(gateway, "H11-TS-001", token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(offers_with(gateway, "H11-TS-001", token)) == 1


def test_slow_add_past_the_read_timeout_still_applies_once(gateway, seller):
    import requests

    token, photo, template, address = seller
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.new.product.add", kind="slow", delay=1.0
    )
    with pytest.raises(requests.Timeout):
        gateway.call(
            "alibaba.new.product.add",
            {
                "catId": T_SHIRT,
                "scene": SCENE,
                "dataBody": schema_body(form(photo, template, address)),
            },
            token=token,
            timeout=0.3,
        )
    assert offers_with(gateway, "H11-TS-001", token) == []  # still running
    assert eventually(lambda: len(offers_with(gateway, "H11-TS-001", token)), 1) == 1


def test_drop_after_apply_creates_the_offer_and_answers_nothing(gateway, seller):
    import requests

    token, photo, template, address = seller
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.new.product.add", kind="drop_after_apply"
    )
    with pytest.raises(requests.ConnectionError):
        add_new(gateway, token, form(photo, template, address))
    assert len(offers_with(gateway, "H11-TS-001", token)) == 1
    assert DEMO_SELLER  # the demo seller holds it


def test_control_offer_listing_shows_settled_audits(gateway, seller):
    token, photo, template, address = seller
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, audit_seconds=0.3)
    ok(add_new(gateway, token, form(photo, template, address)))
    listed = gateway.control("GET", f"/_sandbox/offers?member_id={DEMO_SELLER}")["offers"]
    assert [o["status"] for o in listed] == ["auditing"]
    assert listed[0]["cargoNumber"] == "H11-TS-001"  # the 1398 attribute
    statuses = eventually(
        lambda: [
            o["status"]
            for o in gateway.control("GET", f"/_sandbox/offers?member_id={DEMO_SELLER}")["offers"]
        ],
        ["published"],
    )
    assert statuses == ["published"]


def test_a_value_given_by_its_id_alone_counts(gateway, seller):
    token, photo, template, address = seller
    schema = ok(
        gateway.call("alibaba.category.attribute.get", {"categoryID": T_SHIRT}, token=token)
    )
    fabric = next(a for a in schema["attributes"] if a["attrID"] == 287)
    cotton = next(v["attrValueID"] for v in fabric["attrValues"] if v["name"] == "纯棉")
    attributes = [
        {"attributeID": 1398, "value": "H11-ID-1"},
        {"attributeID": 2176, "value": "其他"},
        {"attributeID": 1141, "value": "否"},
        {"attributeID": 287, "valueID": cotton},
        {"attributeID": 122216347, "value": "夏季"},
    ]
    fields = legacy_fields(photo, template, address, attributes=json.dumps(attributes))
    assert ok(gateway.call("alibaba.product.add.preview", fields, token=token))["success"] is True
    attributes[3] = {"attributeID": 287, "valueID": 1}  # not one of 面料's values
    fields = legacy_fields(photo, template, address, attributes=json.dumps(attributes))
    refused = ok(gateway.call("alibaba.product.add.preview", fields, token=token))
    assert refused["errorCode"] == "ATTRIBUTE_REQUIRED" and "「面料」" in refused["errorMsg"]
