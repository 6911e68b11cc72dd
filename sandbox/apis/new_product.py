"""The schema-driven publish: alibaba.new.product.getSchema and alibaba.new.product.add, in the
names working publishers send (docs/protocol.md, "The schema-driven publish body").

``dataBody`` = ``{"formValues": {...}, "global": {"systemParam": {catId, contextPath}}}``;
``formValues`` carries the form's fields by their ids: ``title``, ``outerId``,
``primaryPicture.imageList[{url}]``, ``catProp{"p-<id>": text | {value, text} | [...]}``
(a seller's own value: ``{"value": -1, "text": …, "custom": true}``), ``saleProp``,
``skuTable[{sku_props[{name, value, text}], sku_price, sku_amountOnSale, sku_cargoNumber,
sku_status}]``, ``priceRange[{pricerange_beginAmount, pricerange_price}]``,
``quotationType{value}``, ``cbuUnit{unit}``, ``freight{freightType, freightId}``,
``cbuSendAddress{value}``, ``description{detailList[{content}]}``, ``onlineTrade``,
``invReduce``, ``upshelfTime``, ``beginAmount``, ``weight``, ``totalSales``. Fields the sandbox
does not model (volume, batchSale, mixBatch, officialLogistics, ...) are accepted and ignored.

The form is turned into the legacy add's fields so both APIs share the checks of
sandbox/apis/publish.py. Refusal codes are the sandbox's own (not attested).
"""

import json
import re
from typing import TYPE_CHECKING

from ..world import categories
from . import logistics, photobank, publish
from .offer_input import OfferInvalid
from .publish import PublishRefused, biz_error

if TYPE_CHECKING:
    from .call import ApiCall

# `scene` values seen in working publishers' code; no public source shows another.
SCENES = ("cbu", "popular", "industry")
PICTURES_MAX = 5  # primaryPicture maxItems in a schema 1688 answered

# The fields a schema 1688 answered marks required (one captured schema; two independent
# publishers that got offer ids back send every one of them): id -> (label, refusal code).
REQUIRED_FIELDS = {
    "title": ("商品标题", "FIELD_REQUIRED"),
    "primaryPicture": ("商品主图", "IMAGE_REQUIRED"),
    "catProp": ("类目属性", "FIELD_REQUIRED"),
    "quotationType": ("报价方式", "FIELD_REQUIRED"),
    "cbuUnit": ("计量单位", "FIELD_REQUIRED"),
    "onlineTrade": ("网上订购", "FIELD_REQUIRED"),
    "invReduce": ("库存扣减设置", "FIELD_REQUIRED"),
    "upshelfTime": ("上架时间", "FIELD_REQUIRED"),
    "freight": ("运费", "FREIGHT_TEMPLATE_REQUIRED"),
    "cbuSendAddress": ("发货地址", "SEND_ADDRESS_REQUIRED"),
    "description": ("详情描述", "FIELD_REQUIRED"),
}
# The choices of that schema's radio fields (`dataSource` values).
CHOICES = {
    "quotationType": ("1", "2"),  # 1 按产品规格报价 (a price per SKU), 2 按产品数量报价 (tiers)
    "onlineTrade": ("17410", "-1"),  # 支持 / 不支持
    "invReduce": ("1", "2"),  # 下单时扣减 / 支付时扣减
    "upshelfTime": ("1", "2"),  # 立即上架 / 定时开售
}
FREIGHT_TYPES = ("T", "C", "F")  # the schema's freight dataSource; T = a freight template
PER_SKU_PRICE = "1"
_PROP = re.compile(r"p-(\d+)")
_LEVEL_PROP = re.compile(r"p-\d+(-\d+)+")  # a cascading sub-property (not modelled here)


# --- getSchema ------------------------------------------------------------------------------

UI_TYPES = {
    categories.TEXT: "input",
    categories.DROPDOWN: "select",
    categories.MULTI: "checkbox",
    categories.RADIO: "radio",
    categories.NUMBER: "number",
    categories.DATE: "date",
}
FIELD_TYPES = {categories.DROPDOWN: "enum", categories.RADIO: "enum", categories.MULTI: "enum"}


def _prop_field(attribute, prop_type: str) -> dict:
    field = {
        "name": f"p-{attribute.attr_id}",
        "propertyId": attribute.attr_id,
        "label": attribute.name,
        "uiType": UI_TYPES[attribute.input_type],
        "fieldType": FIELD_TYPES.get(attribute.input_type, attribute.field_type),
        "propType": prop_type,
        "required": attribute.required and prop_type == "item",
    }
    if attribute.values:
        field["dataSource"] = [{"value": attribute.ids[v], "text": v} for v in attribute.values]
    if attribute.units:
        field["unit"] = attribute.units[0]
    if prop_type == "sale":
        field["customizable"] = True
    return field


def _form_field(field_id: str, ui_type: str, label: str, **fields) -> dict:
    return {
        "id": field_id,
        "tag": field_id,
        "type": ui_type,
        "fields": {"uiType": ui_type, "label": label,
                   "required": field_id in REQUIRED_FIELDS, **fields},
    }  # fmt: skip


def _choices(field_id: str, *texts: str) -> list[dict]:
    return [
        {"value": int(v) if field_id != "invReduce" else v, "text": t}
        for v, t in zip(CHOICES[field_id], texts, strict=True)
    ]


def schema_for(node: categories.Node, scene: str, member_id: str | None) -> dict:
    """The form of a leaf in the shape a captured 1688 schema has: `data` {field id: {id, tag,
    type, fields {uiType, label, required, dataSource | column, ...}}} and `global`."""
    attributes = categories.attributes_for(node.category_id) or ()
    own = member_id or ""
    templates = [{"value": t["id"], "text": t["name"]} for t in logistics.templates(own)]
    data = {
        "title": _form_field("title", "cbu_title", "商品标题", maxLength=publish.TITLE_WEIGHT_MAX),
        "primaryPicture": _form_field("primaryPicture", "cbu_picture", "商品主图",
                                      maxItems=PICTURES_MAX, maxSizeBytes=photobank.MAX_BYTES),
        "catProp": _form_field("catProp", "cbu_cat_prop", "类目属性", customizable=True,
                               dataSource=[_prop_field(a, "item") for a in attributes
                                           if not a.sku]),
        "saleProp": _form_field("saleProp", "cbu_specs", "产品规格",
                                dataSource=[_prop_field(a, "sale") for a in attributes if a.sku]),
        "skuTable": _form_field("skuTable", "cbu_sku_table", "规格报价", column=[
            {"name": name, "label": label} for name, label in (
                ("sku_props", "规格属性"), ("sku_price", "价格"), ("sku_amountOnSale", "可售数量"),
                ("sku_cargoNumber", "单品货号"), ("sku_status", "是否上架"))]),
        "priceRange": _form_field("priceRange", "cbu_interval_table", "区间报价", column=[
            {"name": "pricerange_beginAmount", "label": "购买数量"},
            {"name": "pricerange_price", "label": "价格"}]),
        "quotationType": _form_field("quotationType", "cburadio", "报价方式", dataSource=_choices(
            "quotationType", "按产品规格报价", "按产品数量报价")),
        "cbuUnit": _form_field("cbuUnit", "cbu_unit", "计量单位", unitOptions=["件", "个", "套"]),
        "onlineTrade": _form_field("onlineTrade", "cburadio", "网上订购",
                                   dataSource=_choices("onlineTrade", "支持", "不支持")),
        "invReduce": _form_field("invReduce", "cburadio", "库存扣减设置",
                                 dataSource=_choices("invReduce", "下单时扣减", "支付时扣减")),
        "upshelfTime": _form_field("upshelfTime", "cbushelftime", "上架时间",
                                   dataSource=_choices("upshelfTime", "立即上架", "定时开售")),
        "freight": _form_field("freight", "cbu_freight", "运费", dataSource=list(FREIGHT_TYPES),
                               templates=templates),
        "cbuSendAddress": _form_field("cbuSendAddress", "cbu_send_address", "发货地址",
                                      dataSource=[{"value": a["id"], "text": a["fullAddress"]}
                                                  for a in logistics.addresses(own)]),
        "description": _form_field("description", "cbu_description", "详情描述"),
        "beginAmount": _form_field("beginAmount", "cbu_begin_amount", "最小起订量"),
        "totalSales": _form_field("totalSales", "cbunumber", "可售总量"),
        "weight": _form_field("weight", "cbunumber", "按商品设置重量"),
    }  # fmt: skip
    return {
        "data": data,
        "global": {"systemParam": {"catId": node.category_id, "contextPath": f"/{scene}"}},
        # The sandbox's own key (a real schema loads sub-properties asynchronously).
        "attributeLevelMap": categories.cascades_for(node.category_id),
    }


def _scene_refusal(call: "ApiCall") -> dict | None:
    scene = call.params.get("scene", "")
    if scene in SCENES:
        return None
    return biz_error(
        "SCENE_INVALID", f"scene {scene!r} is not one of {', '.join(SCENES)} / 不支持的场景"
    )


def _leaf(raw: str) -> tuple[categories.Node | None, dict | None]:
    node = categories.node(publish._int_or_none(raw) or -1)
    if node is None:
        return None, biz_error("CATEGORY_NOT_EXIST", f"类目不存在：{raw!r}")
    if not node.is_leaf:
        return None, biz_error(
            "CATEGORY_NOT_LEAF", f"只能发布到叶子类目 / {raw} {node.name} is not a leaf category"
        )
    return node, None


def get_schema(call: "ApiCall") -> dict:
    """`scene` required; `catId`, or `offerId` of one's own offer (its category's form)."""
    refusal = _scene_refusal(call)
    if refusal is not None:
        return refusal
    raw = call.params.get("catId", "")
    offer_id = publish._int_or_none(call.params.get("offerId"))
    if not raw and offer_id is not None:
        offer = call.store.get_offer(offer_id)
        if offer is None or offer.member_id != call.member_id:
            return biz_error("PRODUCT_NOT_EXIST", f"商品不存在：{offer_id}")
        raw = str(offer.info.get("categoryID", ""))
    node, refusal = _leaf(raw)
    if refusal is not None:
        return refusal
    schema = schema_for(node, call.params["scene"], call.member_id)
    if offer_id is not None:
        schema["global"]["systemParam"].update(edit=True, offerId=offer_id)
    text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    return {"result": {"success": True, "bizData": text}}


# --- add --------------------------------------------------------------------------------------


def add_new(call: "ApiCall") -> dict:
    refusal = _scene_refusal(call)
    if refusal is not None:
        return refusal
    node, refusal = _leaf(call.params.get("catId", ""))
    if refusal is not None:
        return refusal
    try:
        body = json.loads(call.params.get("dataBody", ""))
    except ValueError:
        return biz_error("PARAM_INVALID", "dataBody must be a JSON object")
    form = body.get("formValues") if isinstance(body, dict) else None
    if not isinstance(form, dict):
        return biz_error("PARAM_INVALID", "dataBody.formValues must be a JSON object")
    try:
        params = legacy_params(node, form)
        title = params["subject"]
        if publish.title_weight(title) > publish.TITLE_WEIGHT_MAX:
            raise PublishRefused(
                "TITLE_TOO_LONG",
                f"标题不能超过{publish.TITLE_WEIGHT_MAX}个字符（汉字算2个）/ the title counts "
                f"{publish.title_weight(title)}, at most {publish.TITLE_WEIGHT_MAX} "
                "(a Chinese character counts 2)",
            )
        fields, sale, skus = publish._parse_checked(call, params)
    except (OfferInvalid, PublishRefused) as refused:
        return biz_error(refused.code, refused.message)
    offer = publish.create_offer(call, fields, sale, skus)
    status = offer.info["status"]
    biz = {"dataJson": json.dumps({"itemId": offer.product_id}), "data": {"offerStatus": status}}
    return {"result": {"success": True, "bizData": json.dumps(biz)}}


def _missing(field_id: str) -> PublishRefused:
    label, code = REQUIRED_FIELDS[field_id]
    return PublishRefused(code, f"缺少必填项「{label}」({field_id})")


def _invalid(field_id: str, why: str) -> PublishRefused:
    return PublishRefused("FIELD_VALUE_INVALID", f"{field_id}: {why} / 「{field_id}」的值无效")


def _choice(form: dict, field_id: str) -> str:
    raw = form[field_id]
    value = raw.get("value") if isinstance(raw, dict) else raw
    text = str(value).strip()
    if text not in CHOICES[field_id]:
        raise _invalid(field_id, f"{value!r} is not one of {', '.join(CHOICES[field_id])}")
    return text


def _present(value) -> bool:
    return value not in (None, "", [], {})


def legacy_params(node: categories.Node, form: dict) -> dict[str, str]:
    """The form's values as the legacy add's fields, so both APIs share the checks."""
    for field_id in REQUIRED_FIELDS:
        if not _present(form.get(field_id)):
            raise _missing(field_id)
    quotation = _choice(form, "quotationType")
    for field_id in ("onlineTrade", "invReduce", "upshelfTime"):
        _choice(form, field_id)
    schema = {a.attr_id: a for a in categories.attributes_for(node.category_id) or ()}
    attributes = _cat_props(schema, form["catProp"])
    outer_id = str(form.get("outerId") or "").strip()
    if outer_id and not any(a["attributeID"] == categories.CARGO_NUMBER_ATTR for a in attributes):
        attributes.append(
            {"attributeID": categories.CARGO_NUMBER_ATTR, "attributeName": "货号",
             "value": outer_id, "isCustom": True}
        )  # fmt: skip
    skus, plain_rows = _sku_rows(schema, form.get("skuTable"), _sku_pictures(form.get("saleProp")))
    sale = _sale_info(form, quotation, skus, plain_rows)
    fields = {
        "subject": _text(form["title"], "title"),
        "categoryID": str(node.category_id),
        "description": _description(form["description"]),
        "attributes": attributes,
        "image": {"images": _pictures(form["primaryPicture"])},
        "saleInfo": sale,
        "shippingInfo": _shipping(form),
    }
    if skus:
        fields["skuInfos"] = skus
    return {
        key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in fields.items()
    }


def _text(value, field_id: str) -> str:
    if isinstance(value, dict | list):
        raise _invalid(field_id, "must be text")
    return str(value)


def _pictures(raw) -> list[str]:
    images = raw.get("imageList") if isinstance(raw, dict) else None
    if not isinstance(images, list):
        raise _invalid("primaryPicture", 'must be {"imageList": [{"url": …}]}')
    urls = [image.get("url") if isinstance(image, dict) else None for image in images]
    if not urls:
        raise _missing("primaryPicture")
    if not all(isinstance(url, str) and url for url in urls):
        raise PublishRefused("IMAGE_INVALID", "primaryPicture.imageList[].url must be a path")
    if len(urls) > PICTURES_MAX:
        raise PublishRefused("IMAGE_TOO_MANY", f"主图最多{PICTURES_MAX}张")
    return urls


def _description(raw) -> str:
    details = raw.get("detailList") if isinstance(raw, dict) else None
    if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
        raise _invalid("description", 'must be {"detailList": [{"content": …}]}')
    return "".join(str(detail.get("content") or "") for detail in details)


def _prop_id(key: str, where: str) -> int | None:
    """The attribute id of a `p-<id>` key; None for a cascading sub-property."""
    match = _PROP.fullmatch(str(key))
    if match:
        return int(match.group(1))
    if _LEVEL_PROP.fullmatch(str(key)):
        return None
    raise PublishRefused("PARAM_INVALID", f"{where}: {key!r} is not a property (p-<attrId>)")


def _cat_props(schema: dict, cat_prop) -> list[dict]:
    if not isinstance(cat_prop, dict):
        raise _invalid("catProp", 'must be an object {"p-<attrId>": value}')
    attributes = []
    for key, value in cat_prop.items():
        if key == "custom":
            continue  # the seller's own extra properties [{propName, text}]
        attr_id = _prop_id(key, "catProp")
        if attr_id is None:
            continue
        attribute = schema.get(attr_id)
        for item in value if isinstance(value, list) else [value]:
            attributes.append(_attribute_row(attribute, attr_id, item, f"catProp.{key}"))
    return attributes


def _attribute_row(attribute, attr_id: int, item, where: str) -> dict:
    """One value as the legacy add's attribute row: `{value: id, text}` names a value of the
    attribute by id; `custom: true` marks a seller's own value (an id below 0)."""
    row = {"attributeID": attr_id, "attributeName": attribute.name if attribute else ""}
    if not isinstance(item, dict):
        row["value"] = "" if item is None else str(item)
        return row
    custom = item.get("custom") in (True, "true", "True")
    value_id = publish._int_or_none(item.get("value"))
    text = str(item.get("text") or "").strip()
    named = attribute.value_name(value_id) if attribute and value_id is not None else None
    if custom:
        row.update(value=text, isCustom=True)
    elif named is not None:
        row.update(value=named, valueID=value_id)
    elif attribute is not None and attribute.values and value_id is not None:
        raise PublishRefused(
            "ATTRIBUTE_VALUE_INVALID",
            f"{where}: {value_id} 不是「{attribute.name}」的可选值 / {value_id} is not a value id "
            f"of {attribute.name} ({attr_id}); a seller's own value is "
            '{"value": -1, "text": …, "custom": true}',
        )
    else:
        row["value"] = text or ("" if value_id is None else str(value_id))
    return row


def _sku_pictures(sale_prop) -> dict[tuple[int, str], str]:
    """(attribute id, value text) -> the picture saleProp gives that value (`imgUrl`)."""
    pictures = {}
    for key, values in (sale_prop or {}).items() if isinstance(sale_prop, dict) else ():
        attr_id = _PROP.fullmatch(str(key))
        for value in values if attr_id and isinstance(values, list) else ():
            if isinstance(value, dict) and value.get("imgUrl"):
                pictures[(int(attr_id.group(1)), str(value.get("text") or ""))] = value["imgUrl"]
    return pictures


def _sku_rows(schema: dict, rows, pictures: dict) -> tuple[list[dict], list[dict]]:
    """(the SKUs, the rows without sku_props: an offer without SKUs)."""
    if rows in (None, ""):
        return [], []
    if not isinstance(rows, list):
        raise PublishRefused("SKU_INVALID", "skuTable must be a list of rows")
    skus, plain = [], []
    for index, row in enumerate(rows):
        where = f"skuTable[{index}]"
        props = row.get("sku_props") if isinstance(row, dict) else None
        if not isinstance(props, list):
            raise PublishRefused("SKU_INVALID", f"{where}.sku_props must be a list")
        if not props:
            plain.append(row)
            continue
        sku = {
            "attributes": [_sku_prop(schema, prop, f"{where}.sku_props") for prop in props],
            "amountOnSale": row.get("sku_amountOnSale", 0),
        }
        if row.get("sku_price") not in (None, ""):
            sku["price"] = row["sku_price"]
        if row.get("sku_cargoNumber"):
            sku["cargoNumber"] = str(row["sku_cargoNumber"])
        first = sku["attributes"][0]
        picture = pictures.get((first["attributeID"], first["attributeValue"]))
        if picture:
            first["skuImageUrl"] = picture
        skus.append(sku)
    if skus and plain:
        raise PublishRefused("SKU_INVALID", "every skuTable row needs sku_props when one has")
    return skus, plain


def _sku_prop(schema: dict, prop, where: str) -> dict:
    if not isinstance(prop, dict):
        raise PublishRefused("SKU_INVALID", f"{where}: each entry must be an object")
    attr_id = _prop_id(prop.get("name") or f"p-{prop.get('id')}", where)
    if attr_id is None:
        raise PublishRefused("SKU_INVALID", f"{where}: {prop.get('name')!r} is not a property")
    attribute = schema.get(attr_id)
    value_id = publish._int_or_none(prop.get("value"))
    named = attribute.value_name(value_id) if attribute and value_id is not None else None
    text = named or str(prop.get("text") or "").strip()
    if not text:
        raise PublishRefused("SKU_INVALID", f"{where}: p-{attr_id} needs a value and its text")
    return {"attributeID": attr_id, "attributeValue": text}


def _sale_info(form: dict, quotation: str, skus: list, plain_rows: list) -> dict:
    tiers = []
    for index, tier in enumerate(form.get("priceRange") or []):
        if not isinstance(tier, dict) or tier.get("pricerange_price") in (None, ""):
            raise PublishRefused(
                "PRICE_INVALID", f"priceRange[{index}] needs pricerange_price / 缺少价格"
            )
        tiers.append(
            {"startQuantity": tier.get("pricerange_beginAmount") or 1,
             "price": tier["pricerange_price"]}
        )  # fmt: skip
    if quotation == PER_SKU_PRICE and skus:
        for index, sku in enumerate(skus):
            if "price" not in sku:
                raise PublishRefused(
                    "PRICE_REQUIRED",
                    f"skuTable[{index}].sku_price is required with quotationType 1 / 缺少规格价格",
                )
    elif not tiers:
        raise PublishRefused(
            "PRICE_REQUIRED", "priceRange is required with quotationType 2 / 缺少区间报价"
        )
    else:
        for sku in skus:  # quotationType 2: the SKUs share the tiers
            sku.pop("price", None)
    unit = form["cbuUnit"].get("unit") if isinstance(form["cbuUnit"], dict) else None
    if not unit:
        raise _invalid("cbuUnit", 'must be {"unit": …}')
    sale = {"priceRanges": tiers, "unit": str(unit)}
    if skus:
        sale["quoteType"] = 1 if quotation == PER_SKU_PRICE else 2
    else:
        sale["quoteType"] = 0
        total = form.get("totalSales")
        if total in (None, "") and plain_rows:
            total = sum(int(row.get("sku_amountOnSale") or 0) for row in plain_rows)
        sale["amountOnSale"] = total or 0
    if form.get("beginAmount") not in (None, ""):
        sale["minOrderQuantity"] = form["beginAmount"]
    return sale


def _shipping(form: dict) -> dict:
    freight = form["freight"]
    if not isinstance(freight, dict):
        raise _invalid("freight", 'must be {"freightType": "T", "freightId": …}')
    kind = str(freight.get("freightType") or "")
    if kind not in FREIGHT_TYPES:
        raise PublishRefused(
            "FREIGHT_TEMPLATE_INVALID",
            f"freight.freightType {kind!r} is not one of {', '.join(FREIGHT_TYPES)}",
        )
    template = freight.get("freightId") if kind == "T" else 0
    if template in (None, ""):
        raise PublishRefused(
            "FREIGHT_TEMPLATE_REQUIRED", "freight.freightId is required / 缺少运费模板"
        )
    address = form["cbuSendAddress"]
    if not isinstance(address, dict) or address.get("value") in (None, ""):
        raise PublishRefused(
            "SEND_ADDRESS_INVALID", 'cbuSendAddress must be {"value": <address id>} / 发货地址无效'
        )
    shipping = {"freightTemplateID": template, "sendGoodsAddressId": address["value"]}
    if form.get("weight") not in (None, "", {}) and not isinstance(form["weight"], dict):
        shipping["unitWeight"] = form["weight"]
    return shipping
