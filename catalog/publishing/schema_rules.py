"""The leaf category's attribute schema as staging rules: what 1688 would refuse given the schema
(required attributes, cascading requirements, values from the list, SKU dimensions, the title's
weight), and the schemas themselves, cached or read from 1688 (catalog.publishing.categories).
"""

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings

from catalog.models import AttributeSchemaCache
from catalog.publishing.categories import load_schemas
from catalog.publishing.validation import ItemErrors, as_int, filled, valid_id
from erp1688.messages import stored as _
from open1688.answers import parse_category_attributes
from open1688.types import (
    CARGO_NUMBER_ATTRIBUTE,
    INPUT_DATE,
    INPUT_DROPDOWN,
    INPUT_MULTI,
    INPUT_NUMBER,
    INPUT_RADIO,
    CategoryAttributes,
)

DATE_PATTERN = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?$")


def title_weight(title: str) -> int:
    """The title's length as 1688 counts it: a Chinese (wide) character counts 2."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in title or "")


def _attribute_values(item) -> dict[int, list[str]]:
    chosen: dict[int, list[str]] = {}
    for attribute in item.attributes if isinstance(item.attributes, list) else []:
        if isinstance(attribute, dict) and valid_id(attribute.get("attributeID")):
            value = attribute.get("value")
            if filled(value):
                chosen.setdefault(as_int(attribute["attributeID"]), []).append(str(value).strip())
    return chosen


def is_custom(attribute) -> bool:
    """An attribute row marked isCustom: the seller's own value (a copied offer's)."""
    return isinstance(attribute, dict) and attribute.get("isCustom") in (True, "true", "True")


def _custom_values(item) -> set[tuple[int, str]]:
    """(attribute id, value) of the rows marked isCustom."""
    return {
        (as_int(a["attributeID"]), str(a.get("value")).strip())
        for a in (item.attributes if isinstance(item.attributes, list) else [])
        if is_custom(a) and valid_id(a.get("attributeID"))
    }


def _value_ids(schema: CategoryAttributes, chosen: dict[int, list[str]]) -> dict[int, set[int]]:
    ids: dict[int, set[int]] = {}
    for attr_id, values in chosen.items():
        attribute = schema.attribute(attr_id)
        for value in values:
            known = attribute.value_named(value) if attribute else None
            if known is not None and known.value_id is not None:
                ids.setdefault(attr_id, set()).add(known.value_id)
            elif value.isascii() and value.isdigit() and len(value) < 19:
                ids.setdefault(attr_id, set()).add(int(value))
    return ids


def _condition(schema: CategoryAttributes, attr_id: int, chosen_ids) -> str:
    """For a cascading requirement: "是否进口 = 是" (every condition of the rule that applies)."""
    for rule in schema.cascades:
        if attr_id in rule.then_required and rule.applies(chosen_ids):
            parts = []
            for when_attr, when_value in rule.when:
                attribute = schema.attribute(when_attr)
                value = next(
                    (
                        v.name
                        for v in (attribute.values if attribute else ())
                        if v.value_id == when_value
                    ),
                    str(when_value),
                )
                parts.append(f"{attribute.name if attribute else when_attr} = {value}")
            return ", ".join(parts)
    return ""


def check_against_schema(item, schema: CategoryAttributes) -> dict[str, list[str]]:
    """What 1688 would refuse given the leaf's attribute schema, attributes named."""
    errors = ItemErrors()
    weight, limit = title_weight((item.title or "").strip()), settings.PUBLISH_TITLE_MAX_WEIGHT
    if weight > limit:
        errors.add(
            "title",
            _("Title counts %(n)d towards 1688's limit of %(max)d (a Chinese character counts 2)")
            % {"n": weight, "max": limit},
        )
    chosen = _attribute_values(item)
    chosen_ids = _value_ids(schema, chosen)
    for attr_id in schema.required_ids(chosen_ids):
        if attr_id == CARGO_NUMBER_ATTRIBUTE or chosen.get(attr_id):
            continue  # 货号 is the item's cargo number
        attribute = schema.attribute(attr_id)
        name = attribute.name if attribute else str(attr_id)
        condition = _condition(schema, attr_id, chosen_ids)
        if condition:
            errors.add(
                "attributes",
                _("%(name)s is required when %(condition)s")
                % {"name": name, "condition": condition},
            )
        else:
            errors.add("attributes", _("%(name)s is required") % {"name": name})
    custom = _custom_values(item)
    for attr_id, values in chosen.items():
        attribute = schema.attribute(attr_id)
        if attribute is None or attribute.is_sku_attribute:
            continue  # an attribute the leaf does not have is ignored by 1688
        for value in values:
            bad = False
            if (attr_id, value) in custom:
                continue  # the seller's own value (isCustom), which 1688 takes as it is
            if attribute.input_type in (INPUT_DROPDOWN, INPUT_RADIO, INPUT_MULTI):
                bad = (
                    attribute.values
                    and attribute.value_named(value) is None
                    and not any(str(v.value_id) == value for v in attribute.values)
                )
            elif attribute.input_type == INPUT_NUMBER:
                try:
                    Decimal(value)
                except InvalidOperation:
                    bad = True
            elif attribute.input_type == INPUT_DATE:
                bad = not DATE_PATTERN.match(value)
            if bad:
                errors.add(
                    "attributes",
                    _("%(name)s: %(value)s is not one of its values")
                    % {"name": attribute.name, "value": value[:50]},
                )
    sale = {a.attr_id: a.name for a in schema.sale_attributes}
    for sku in item.skus if isinstance(item.skus, list) else []:
        for attribute in (sku.get("attributes") if isinstance(sku, dict) else None) or []:
            attr_id = as_int(attribute.get("attributeID")) if isinstance(attribute, dict) else None
            if attr_id is not None and attr_id not in sale:
                errors.add(
                    "skus",
                    _("SKU dimension %(id)s is not one of this category's: %(names)s")
                    % {"id": attr_id, "names": ", ".join(sale.values()) or "-"},
                )
                return dict(errors)
    return dict(errors)


def schemas_for(keys: set[tuple[int, int]]) -> tuple[dict, dict]:
    """(schemas, problems) by (shop id, category id): cached schemas, and the rest read from
    1688 now (catalog.publishing.categories.load_schemas: one call per category not cached yet)."""
    found = {}
    for shop_id in {shop for shop, _c in keys}:
        categories = [c for shop, c in keys if shop == shop_id]
        for row in AttributeSchemaCache.objects.filter(shop_id=shop_id, category_id__in=categories):
            try:
                found[(shop_id, row.category_id)] = parse_category_attributes(
                    row.answer, row.category_id
                )
            except ValueError:  # a cache row that no longer parses is as good as none
                continue
    loaded, problems = load_schemas(keys - set(found))
    return {**found, **loaded}, problems


def schema_keys(items) -> set[tuple[int, int]]:
    return {(item.batch.shop_id, item.category_id) for item in items if valid_id(item.category_id)}


def prefetch_schemas(keys: set[tuple[int, int]]) -> None:
    """Read from 1688 the schemas validation will need, before a transaction is opened: a call
    to 1688 must not hold a batch's lock."""
    schemas_for({(shop, category) for shop, category in keys if valid_id(category)})
