"""The staff item form's structured part: the category's attributes as inputs and the
SKU grid, turned into the item's `attributes` / `skus` lists (the same shapes the text format of
catalog.publishing.textformats gives, so CSV import keeps working).

Posted names: `attr-<attrId>` (one value, or several for a multi-select), `dim-<attrId>` (a SKU
dimension's values, comma separated, in the grid's header), and per grid row `sku-<n>-combo`
(JSON [[attrId, value], ...]), `sku-<n>-price`, `sku-<n>-stock`, `sku-<n>-cargo`.
"""

import itertools
import json
import re

from open1688.types import (
    CARGO_NUMBER_ATTRIBUTE,
    INPUT_DATE,
    INPUT_DROPDOWN,
    INPUT_MULTI,
    INPUT_NUMBER,
    INPUT_RADIO,
    CategoryAttributes,
)

GRID_MAX = 400  # rows of one SKU grid (1688 allows a few hundred SKUs)
SPLIT = re.compile(r"[,，;；\n]+")


def widget_of(input_type: str) -> str:
    return {
        INPUT_DROPDOWN: "select",
        INPUT_RADIO: "select",
        INPUT_MULTI: "multi",
        INPUT_NUMBER: "number",
        INPUT_DATE: "date",
    }.get(input_type, "text")


def attribute_rows(schema: CategoryAttributes, item_attributes) -> list[dict]:
    """What the template shows: one entry per non-sale attribute with the item's values."""
    chosen: dict[int, list[str]] = {}
    for attribute in item_attributes or []:
        if isinstance(attribute, dict):
            chosen.setdefault(str(attribute.get("attributeID")), []).append(
                str(attribute.get("value", ""))
            )
    rows = []
    for attribute in schema.attributes:
        if attribute.is_sku_attribute or attribute.attr_id == CARGO_NUMBER_ATTRIBUTE:
            continue
        rows.append(
            {
                "id": attribute.attr_id,
                "name": attribute.name,
                "required": attribute.required,
                "widget": widget_of(attribute.input_type),
                "values": [value.name for value in attribute.values],
                "units": attribute.units,
                "chosen": chosen.get(str(attribute.attr_id), []),
                "cascade_parent": attribute.parent_attr_id,
            }
        )
    return rows


def dimensions(schema: CategoryAttributes, item_skus) -> list[dict]:
    """The category's sale attributes (SKU dimensions) with the values the item's SKUs use."""
    used: dict[str, list[str]] = {}
    for sku in item_skus or []:
        for attribute in (sku.get("attributes") if isinstance(sku, dict) else None) or []:
            values = used.setdefault(str(attribute.get("attributeID")), [])
            value = str(attribute.get("attributeValue", ""))
            if value not in values:
                values.append(value)
    return [
        {
            "id": a.attr_id,
            "name": a.name,
            "values": ", ".join(used.get(str(a.attr_id), [])),
            "suggested": [v.name for v in a.values][:12],
        }
        for a in schema.sale_attributes
    ]


def split_values(text: str) -> list[str]:
    seen: list[str] = []
    for value in SPLIT.split(text or ""):
        value = value.strip()
        if value and value not in seen:
            seen.append(value[:100])
    return seen


def grid_rows(dims: list[tuple[int, str, list[str]]], item_skus=None) -> list[dict]:
    """Every combination of the dimensions' values (attr id, name, values), with the item's
    price, stock and SKU cargo number where a SKU has that combination."""
    known = {}
    for sku in item_skus or []:
        if isinstance(sku, dict):
            key = frozenset(
                (str(a.get("attributeID")), str(a.get("attributeValue")))
                for a in sku.get("attributes") or []
            )
            known[key] = sku
    dims = [d for d in dims if d[2]]
    rows = []
    for combo in itertools.islice(itertools.product(*[d[2] for d in dims]), GRID_MAX):
        pairs = [(dims[i][0], value) for i, value in enumerate(combo)]
        sku = known.get(frozenset((str(a), v) for a, v in pairs), {})
        rows.append(
            {
                "label": " / ".join(combo),
                "combo": json.dumps(pairs, ensure_ascii=False),
                "price": sku.get("price") or "",
                "stock": sku.get("stock") if sku.get("stock") is not None else "",
                "cargo": sku.get("cargo_number") or "",
            }
        )
    return rows


def attributes_from_post(post, schema: CategoryAttributes) -> list[dict]:
    rows = []
    for attribute in schema.attributes:
        if attribute.is_sku_attribute or attribute.attr_id == CARGO_NUMBER_ATTRIBUTE:
            continue
        for value in post.getlist(f"attr-{attribute.attr_id}"):
            value = (value or "").strip()
            if value:
                rows.append(
                    {
                        "attributeID": attribute.attr_id,
                        "attributeName": attribute.name,
                        "value": value[:200],
                    }
                )
    return rows


def skus_from_post(post, schema: CategoryAttributes) -> list[dict]:
    """The grid's rows as SKUs; a row without price and stock is left out. Raises ValueError
    for a row the grid could not have made."""
    names = {a.attr_id: a.name for a in schema.sale_attributes}
    skus = []
    for n in range(GRID_MAX):
        combo_text = post.get(f"sku-{n}-combo")
        if combo_text is None:
            break
        price = (post.get(f"sku-{n}-price") or "").strip()
        stock = (post.get(f"sku-{n}-stock") or "").strip()
        if not price and not stock:
            continue
        try:
            pairs = json.loads(combo_text)
            attributes = [
                {
                    "attributeID": int(attr_id),
                    "attributeName": names.get(int(attr_id), ""),
                    "attributeValue": str(value)[:100],
                }
                for attr_id, value in pairs
            ]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"SKU row {n + 1} is malformed") from exc
        skus.append(
            {
                "attributes": attributes,
                "price": price or None,
                "stock": stock or None,
                "cargo_number": (post.get(f"sku-{n}-cargo") or "").strip()[:64],
            }
        )
    return skus


def template_example(schema: CategoryAttributes) -> dict:
    """The import template's example row for one category
    (catalog.publishing.exporting.import_template):
    its category id, every required attribute with a fitting value in the Attributes column and
    two SKUs over its sale attributes, in the text format the import reads."""
    from catalog.publishing.textformats import format_attributes, format_skus

    def example_value(attribute) -> tuple[str, int | None]:
        if attribute.values:
            return attribute.values[0].name, attribute.values[0].value_id
        if attribute.input_type == INPUT_NUMBER:
            return "1", None
        if attribute.input_type == INPUT_DATE:
            return "2026-01-01", None
        return "-", None

    chosen: dict[int, set[int]] = {}
    picked: dict[int, str] = {}
    for _round in range(5):  # the required ones, then what their values make required
        missing = [
            i
            for i in schema.required_ids(chosen)
            if i not in picked and i != CARGO_NUMBER_ATTRIBUTE
        ]
        if not missing:
            break
        for attr_id in missing:
            attribute = schema.attribute(attr_id)
            if attribute is None or attribute.is_sku_attribute:
                picked[attr_id] = ""
                continue
            picked[attr_id], value_id = example_value(attribute)
            if value_id is not None:
                chosen.setdefault(attr_id, set()).add(value_id)
    attributes = [
        {"attributeID": attr_id, "attributeName": schema.attribute(attr_id).name, "value": value}
        for attr_id, value in picked.items()
        if value
    ]
    dims = schema.sale_attributes[:2]

    def value(attribute, n: int) -> str:
        return attribute.values[n].name if len(attribute.values) > n else f"V{n + 1}"

    skus = [  # the first dimension varies, the others keep their first value
        {
            "attributes": [
                {
                    "attributeID": a.attr_id,
                    "attributeName": a.name,
                    "attributeValue": value(a, n if i == 0 else 0),
                }
                for i, a in enumerate(dims)
            ],
            "price": "19.90",
            "stock": 100,
        }
        for n in range(2)
    ]
    return {
        "category_id": schema.category_id,
        "attributes": format_attributes(attributes),
        "skus": format_skus(skus) if dims else "",
    }
