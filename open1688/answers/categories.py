"""Answers of the category APIs: the tree, keyword search of leaves, a leaf's attributes and
their cascading rules (docs/protocol.md, "Publishing what 1688 accepts").
"""

from __future__ import annotations

import json
from decimal import Decimal

from ..errors import MalformedResponseError
from ..types import (
    AttributeValue,
    CascadeRule,
    Category,
    CategoryAttribute,
    CategoryAttributes,
)
from .reader import Reader, is_true, raise_category_error


def _ids(reader: Reader, key: str) -> tuple[int, ...]:
    value = reader.value(key)
    if value is None or value == "":
        return ()
    if isinstance(value, int | str | Decimal) and not isinstance(value, bool):
        value = [value]  # one id sent bare
    if not isinstance(value, list):
        raise MalformedResponseError(f"{reader.path(key)} is not a list")
    holder = Reader({"ids": value}, reader.path(key))
    return tuple(
        Reader({"id": item}, f"{reader.path(key)}[{i}]").integer("id", required=True)
        for i, item in enumerate(holder._list("ids"))
    )


def _category(item: Reader) -> Category:
    # alibaba.category.get: categoryID/name/isLeaf/parentIDs/childIDs/level (the SDK model);
    # searchByKeyword items are read with the same keys, plus the other spellings seen.
    for key in ("categoryID", "categoryId", "catId", "id"):
        if item.value(key) not in (None, ""):
            category_id = item.integer(key, required=True)
            break
    else:
        raise MalformedResponseError(f"answer lacks {item.path('categoryID')}")
    leaf = item.value("isLeaf", required=False)
    if leaf is None:
        leaf = item.value("leaf")
    return Category(
        category_id=category_id,
        name=item.text("name") or item.text("categoryName") or item.text("catName"),
        is_leaf=is_true(leaf),
        parent_ids=_ids(item, "parentIDs") or _ids(item, "parentIds"),
        child_ids=_ids(item, "childIDs") or _ids(item, "childIds"),
        level=item.integer("level"),
        raw=item.raw,
    )


def parse_categories(answer: object) -> tuple[Category, ...]:
    """alibaba.category.get: {categoryInfo: [...]} (the category asked for, with childIDs)."""
    top = Reader(answer)
    raise_category_error(top)
    if "categoryInfo" not in top.raw:
        raise MalformedResponseError("answer lacks categoryInfo")
    return tuple(_category(item) for item in top.children("categoryInfo"))


def parse_category_search(answer: object) -> tuple[Category, ...]:
    """alibaba.category.searchByKeyword: {products: [...], success: "true"}, no outer result."""
    top = Reader(answer)
    if isinstance(top.raw.get("result"), dict) and "products" not in top.raw:
        top = top.child("result")  # tolerated: an outer result some gateways add
    raise_category_error(top)
    return tuple(_category(item) for item in top.children("products"))


def _attribute(item: Reader) -> CategoryAttribute:
    values = tuple(
        AttributeValue(
            value_id=value.integer("attrValueID") if "attrValueID" in value.raw else None,
            name=value.text("name") or value.text("value"),
        )
        for value in item.children("attrValues")
    )
    units = item.value("units")
    return CategoryAttribute(
        attr_id=item.integer("attrID", required=True),
        name=item.text("name"),
        required=is_true(item.value("required")),
        input_type=item.text("inputType") or "0",
        is_sku_attribute=is_true(item.value("isSKUAttribute")),
        values=values,
        units=tuple(str(u) for u in units) if isinstance(units, list) else (),
        field_type=item.text("fieldType"),
        parent_attr_id=item.integer("parentAttrID") or None,
        parent_value_id=item.integer("parentAttrValueID") or None,
        raw=item.raw,
    )


def parse_cascades(value: object) -> tuple[CascadeRule, ...]:
    """`attributeLevelMapStr`: a JSON object (or its string) like
    {"100000691:46874>7108:21958": "8243"}: when 100000691 has value 46874 and 7108 has 21958,
    8243 becomes required. Several required ids may come comma-separated."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise MalformedResponseError("attributeLevelMapStr is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedResponseError("attributeLevelMapStr is not an object")
    rules = []
    for condition, required in value.items():
        try:
            when = tuple(
                (int(attr), int(val))
                for attr, val in (part.split(":", 1) for part in str(condition).split(">"))
            )
            parts = required if isinstance(required, list) else str(required).split(",")
            then = tuple(int(str(part).strip()) for part in parts if str(part).strip())
        except ValueError:
            raise MalformedResponseError(
                f"attributeLevelMapStr entry {condition!r}: {required!r} is not attr:value"
            ) from None
        rules.append(CascadeRule(when=when, then_required=then))
    return tuple(rules)


def parse_category_attributes(answer: object, category_id: int) -> CategoryAttributes:
    """alibaba.category.attribute.get: {attributes: [...], attributeLevelMapStr} (also read
    inside an outer `result`)."""
    top = Reader(answer)
    if isinstance(top.raw.get("result"), dict) and "attributes" not in top.raw:
        top = top.child("result")
    raise_category_error(top)
    return CategoryAttributes(
        category_id=category_id,
        attributes=tuple(_attribute(item) for item in top.children("attributes")),
        cascades=parse_cascades(top.value("attributeLevelMapStr")),
        raw=top.raw,
    )
