"""An UploadItem as the `dataBody` of `alibaba.new.product.add`, in the names working publishers
send (docs/protocol.md, "The schema-driven publish body").

`{"formValues": {...}, "global": {"systemParam": {catId, contextPath}}}` with: `outerId` and
`catProp["p-1398"]` the item's 货号; `primaryPicture.imageList[{url}]` (photobank paths, at most
5: the rest go into the description); `catProp{"p-<id>": text | {value, text} | [...]}`, a
seller's own value as `{"value": -1, "text": …, "custom": true}`; `saleProp` and
`skuTable[{sku_props[{id, name, label, value, text}], sku_price, sku_amountOnSale,
sku_cargoNumber, sku_status}]` (a dimension value 1688 does not list gets a negative id and the
custom mark); `quotationType{value}` 1 (a price per SKU) or 2 (quantity tiers in
`priceRange[{pricerange_beginAmount, pricerange_price}]`); `freight{freightType "T", freightId}`,
`cbuSendAddress{value}`, `cbuUnit{unit}`, `description{detailList}`, and the radio fields a
captured schema marks required with the values the working publishers send.
"""

from html import escape

from django.conf import settings

from catalog.models import UploadItem
from catalog.publishing.schema_rules import is_custom
from catalog.publishing.upload.payload import money
from catalog.publishing.validation import tier_priced
from open1688.types import (
    CARGO_NUMBER_ATTRIBUTE,
    INPUT_DROPDOWN,
    INPUT_MULTI,
    INPUT_RADIO,
    CategoryAttributes,
)

# What publishers that got offer ids back send: scene `popular` (cbu and industry also seen).
PUBLISH_SCENE = "popular"
PICTURES_MAX = 5  # primaryPicture maxItems in a schema 1688 answered
ONLINE_TRADE = {"value": 17410}  # 支持网上订购
INV_REDUCE = {"value": "1", "text": "下单时扣减"}
UPSHELF_NOW = {"value": 1, "subText": "商品已经开售"}
PER_SKU_PRICE, TIER_PRICE = 1, 2  # quotationType: 按产品规格报价 / 按产品数量报价
CHOICE_INPUTS = (INPUT_DROPDOWN, INPUT_RADIO, INPUT_MULTI)


def data_body(
    item: UploadItem,
    paths: list[str],
    *,
    schema: CategoryAttributes | None,
    freight: int,
    address: int,
) -> dict:
    """The whole dataBody; `schema` (the leaf's cached attributes) gives the value ids."""
    system = {"catId": item.category_id, "contextPath": f"/{PUBLISH_SCENE}"}
    return {
        "formValues": form_values(item, paths, schema=schema, freight=freight, address=address),
        "global": {"systemParam": system},
    }


def form_values(
    item: UploadItem,
    paths: list[str],
    *,
    schema: CategoryAttributes | None,
    freight: int,
    address: int,
) -> dict:
    sale_prop, sku_rows = _skus(item, schema)
    stock = item.stock
    if stock is None and item.skus:
        stock = sum(int(sku.get("stock") or 0) for sku in item.skus)
    ranges = _tiers(item)
    per_sku = bool(sku_rows) and not tier_priced(item)
    if per_sku:
        for row, sku in zip(sku_rows, item.skus or [], strict=True):
            price = sku.get("price") if sku.get("price") is not None else item.price
            row["sku_price"] = float(money(price))
    if not sku_rows:  # an offer without SKUs: one row without sku_props carries its stock
        sku_rows = [_row([], stock or 0, item.cargo_number)]
    values = {
        "outerId": item.cargo_number,
        "title": item.title,
        "primaryPicture": {"imageList": [{"url": path} for path in paths[:PICTURES_MAX]]},
        "description": {"detailList": [_description(item, paths[PICTURES_MAX:])]},
        "catProp": _cat_prop(item, schema),
        "skuTable": sku_rows,
        "quotationType": {"value": PER_SKU_PRICE if per_sku else TIER_PRICE},
        "onlineTrade": ONLINE_TRADE,
        "cbuUnit": {"unit": item.unit or "件"},
        "invReduce": INV_REDUCE,
        "upshelfTime": UPSHELF_NOW,
        "freight": {"freightType": "T", "freightId": freight},
        "cbuSendAddress": {"value": address},
        "beginAmount": ranges[0]["pricerange_beginAmount"] if ranges else 1,
        "totalSales": stock or 0,
    }
    if sale_prop:
        values["saleProp"] = sale_prop
    if not per_sku:
        values["priceRange"] = ranges
    return values


def _tiers(item: UploadItem) -> list[dict]:
    tiers = [
        (int(t["start_quantity"]), money(t["price"]))
        for t in item.price_ranges or []
        if t.get("price") not in (None, "")
    ]
    if not tiers and item.price is not None:
        tiers = [(item.min_order_quantity or 1, money(item.price))]
    return [
        {"pricerange_beginAmount": start, "pricerange_price": float(price)}
        for start, price in sorted(tiers)
    ]


def _description(item: UploadItem, extra: list[str]) -> dict:
    """The item's HTML, and the pictures past the form's five as images in it."""
    content = item.description or ""
    base = settings.OPEN1688_IMAGE_BASE
    for path in extra:
        content += f'<p><img src="{escape(base + path)}"/></p>'
    return {"id": "0", "title": "图文详情", "content": content, "isRequired": True}


def _choice(attribute, row: dict) -> dict | None:
    """`{value: id, text}` for a dropdown/radio/multi value 1688 lists, else None."""
    if attribute is None or attribute.input_type not in CHOICE_INPUTS:
        return None
    text = str(row.get("value", row.get("attributeValue", ""))).strip()
    for value in attribute.values:
        if value.value_id is not None and (
            value.name == text or str(value.value_id) == str(row.get("valueID"))
        ):
            return {"value": value.value_id, "text": value.name}
    return None


def _cat_prop(item: UploadItem, schema: CategoryAttributes | None) -> dict:
    props: dict[str, object] = {}
    custom_id = 0
    for row in item.attributes or []:
        try:
            attr_id = int(row.get("attributeID"))
        except (TypeError, ValueError):
            continue
        if attr_id == CARGO_NUMBER_ATTRIBUTE:
            continue  # the item's own 货号 below
        attribute = schema.attribute(attr_id) if schema else None
        text = str(row.get("value", "")).strip()
        if is_custom(row):
            custom_id -= 1
            value = {"value": custom_id, "text": text, "custom": True}
        else:
            value = _choice(attribute, row) or text
        key = f"p-{attr_id}"
        multi = attribute is not None and attribute.input_type == INPUT_MULTI
        if key in props or multi:
            previous = props.get(key, [])
            props[key] = [*(previous if isinstance(previous, list) else [previous]), value]
        else:
            props[key] = value
    props[f"p-{CARGO_NUMBER_ATTRIBUTE}"] = item.cargo_number
    return props


def _row(props: list[dict], stock: int, cargo_number: str) -> dict:
    return {
        "sku_props": props,
        "sku_amountOnSale": int(stock or 0),
        "sku_cargoNumber": cargo_number or "",
        "sku_status": 1,
    }


def _skus(item: UploadItem, schema: CategoryAttributes | None) -> tuple[dict, list[dict]]:
    """(saleProp, skuTable rows); a dimension value 1688 does not list gets its own negative
    id, the same in saleProp and every row."""
    sale_prop: dict[str, list[dict]] = {}
    ids: dict[tuple[int, str], dict] = {}
    rows = []
    for sku in item.skus or []:
        props = []
        for attribute_row in sku.get("attributes") or []:
            attr_id = int(attribute_row.get("attributeID"))
            text = str(attribute_row.get("attributeValue", "")).strip()
            attribute = schema.attribute(attr_id) if schema else None
            if (attr_id, text) not in ids:
                known = _choice(attribute, {"value": text})
                entry = known or {"value": -(len(ids) + 1), "text": text, "custom": True}
                ids[(attr_id, text)] = entry
                sale_prop.setdefault(f"p-{attr_id}", []).append(entry)
            entry = ids[(attr_id, text)]
            label = attribute.name if attribute else attribute_row.get("attributeName", "")
            props.append(
                {
                    "id": attr_id,
                    "name": f"p-{attr_id}",
                    "label": label,
                    "value": entry["value"],
                    "text": entry["text"],
                }
            )
        rows.append(_row(props, sku.get("stock") or 0, sku.get("cargo_number") or ""))
    return sale_prop, rows
