"""A leaf category's schema as the staff item editor shows it: its attributes as inputs by
type (`attr-<attrId>`: one value, or several for a multi-select), its sale attributes as the SKU
grid's dimensions and the grid's rows, one per combination of their values. The lists these
give are the shapes the import's text format gives (catalog.publishing.textformats), so both
stage the same item; the rest of the editor's post is read by catalog.publishing.editor.
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
            if not isinstance(attribute, dict):
                continue
            values = used.setdefault(str(attribute.get("attributeID")), [])
            value = str(attribute.get("attributeValue", ""))
            if value not in values:
                values.append(value)
    return [
        {
            "id": a.attr_id,
            "name": a.name,
            "values": used.get(str(a.attr_id), []),
            "suggested": [v.name for v in a.values][:30],
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


def combo_key(pairs) -> frozenset:
    """A grid row's identity: its (attribute id, value) pairs, whatever their order."""
    return frozenset((str(attr_id), str(value)) for attr_id, value in pairs)


def grid_rows(dims: list[tuple[int, str, list[str]]], item_skus=None, typed=None) -> list[dict]:
    """Every combination of the dimensions' values (attr id, name, values), with what was typed
    for it (`typed`: the combination's key -> price, stock, cargo, error as typed), else the
    item's SKU of that combination. A row keeps its values wherever its combination moves."""
    known = {}
    for sku in item_skus or []:
        if isinstance(sku, dict):
            pairs = [
                (a.get("attributeID"), a.get("attributeValue"))
                for a in sku.get("attributes") or []
                if isinstance(a, dict)
            ]
            known[combo_key(pairs)] = {
                "price": sku.get("price") or "",
                "stock": sku.get("stock") if sku.get("stock") is not None else "",
                "cargo": sku.get("cargo_number") or "",
            }
    known.update(typed or {})
    dims = [d for d in dims if d[2]]
    rows = []
    number = 0
    for combo in itertools.islice(itertools.product(*[d[2] for d in dims]), GRID_MAX):
        pairs = [(dims[i][0], value) for i, value in enumerate(combo)]
        row = known.get(combo_key(pairs), {})
        filled = any(str(row.get(name, "")).strip() for name in ("price", "stock", "cargo"))
        number += filled
        rows.append(
            {
                "label": " / ".join(combo),
                "combo": json.dumps(pairs, ensure_ascii=False),
                "price": row.get("price", ""),
                "stock": row.get("stock", ""),
                "cargo": row.get("cargo", ""),
                "error": row.get("error", ""),
                "number": number if filled else "",
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
