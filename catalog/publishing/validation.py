"""Staging rules for upload items (批量上货): what 1688 accepts, checked before anything is sent.

`validate_item` is pure (no database; picture addresses are resolved, see
erp1688/guarded_fetch.py); `validate_items` adds the cargo-number checks that need
the database, in a few queries for any number of items. Messages are English message ids
stored in `UploadItem.validation_errors` as erp1688.messages messages (the English message id and
its parameters), so each reader sees them in their own language (the catalogue in locale/).
"""

import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy

from catalog.models import (
    VALID_ITEM,
    AttributeSchemaCache,
    Product,
    UploadBatch,
    UploadItem,
    json_texts,
)
from catalog.publishing.categories import load_schemas
from erp1688 import guarded_fetch
from erp1688.messages import stored
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

TITLE_MAX = 128  # 1688 `subject` limit
UNIT_MAX = 20  # UploadItem.unit column
CARGO_MAX = 64
DESCRIPTION_MAX = 50_000
IMAGES_MAX = 10
CARGO_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
IMAGE_PATH_PATTERN = re.compile(r"^img/ibank/[A-Za-z0-9_./-]+$")
STAGED_PICTURE = re.compile(r"^staged:([0-9a-f]{64})$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MONEY_MAX = Decimal("999999999999.99")  # the columns are max_digits=14, decimal_places=2
CENT = Decimal("0.01")
INT_MAX = 2**31 - 1  # the smallest integer column involved (min_order_quantity)
ID_MAX = 2**63 - 1
# Items still to be uploaded: the only ones staging may validate or change.
NOT_UPLOADED = UploadItem.NOT_UPLOADED
LOOKUP_CHUNK = 500


class ItemErrors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _as_int(value) -> int | None:
    """An integer from an int, or from an integral number written as text; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    if number and number.adjusted() > 18:
        # Beyond every integer column: answer a number that fails every range check without
        # computing int(): int(Decimal("1e9999999")) would take minutes.
        return -(ID_MAX + 1) if number < 0 else ID_MAX + 1
    return int(number)


def _money_error(value, label: str) -> str | None:
    labels = {"field": label}
    try:
        # str() first: a float from JSON becomes its shortest text, not its binary expansion.
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if isinstance(value, bool) or amount is None or not amount.is_finite():
        return _("%(field)s must be a number") % labels
    if amount <= 0:
        return _("%(field)s must be greater than 0") % labels
    # Before quantize(): a number too large for 28 digits with cents raises InvalidOperation.
    if amount > MONEY_MAX:
        return _("%(field)s is too large") % labels
    if amount != amount.quantize(CENT):
        return _("%(field)s has at most 2 decimals") % labels
    return None


def _check_title(item, errors: ItemErrors) -> None:
    title = (item.title or "").strip()
    if not title:
        errors.add("title", _("Title is required"))
    elif len(title) > TITLE_MAX:
        errors.add(
            "title",
            _("Title is at most %(max)d characters (now %(n)d)")
            % {"max": TITLE_MAX, "n": len(title)},
        )
    if CONTROL_CHARACTERS.search(title):
        errors.add("title", _("Title contains invisible control characters"))


def _check_prices(item, errors: ItemErrors) -> None:
    has_price = item.price is not None
    ranges = item.price_ranges
    if not has_price and not ranges:
        errors.add("price", _("Enter a price or price ranges"))
    elif has_price and ranges:
        errors.add(
            "price_ranges",
            _("Enter either a price or price ranges, not both"),
        )
    if has_price and (problem := _money_error(item.price, _("Price"))):
        errors.add("price", problem)
    if not ranges:
        return
    if not isinstance(ranges, list) or not all(isinstance(r, dict) for r in ranges):
        errors.add("price_ranges", _("Price ranges are malformed"))
        return
    previous = 0
    for number, entry in enumerate(ranges, 1):
        quantity = _as_int(entry.get("start_quantity"))
        if quantity is None or not 1 <= quantity <= INT_MAX:
            errors.add(
                "price_ranges",
                _("Range %(n)d: start quantity must be a whole number ≥ 1") % {"n": number},
            )
        elif quantity <= previous:
            errors.add(
                "price_ranges",
                _("Start quantities of price ranges must increase"),
            )
        else:
            previous = quantity
        problem = _money_error(entry.get("price"), _("Range %(n)d price") % {"n": number})
        if problem:
            errors.add("price_ranges", problem)


def _check_counts(item, errors: ItemErrors) -> None:
    stock = _as_int(item.stock) if item.stock is not None else None
    if item.stock is None:
        errors.add("stock", _("Stock is required"))
    elif stock is None or not 0 <= stock <= ID_MAX:
        errors.add("stock", _("Stock must be a whole number ≥ 0"))
    unit = (item.unit or "").strip()
    if not unit:
        errors.add("unit", _("Unit is required"))
    elif len(unit) > UNIT_MAX:
        errors.add(
            "unit",
            _("Unit is at most %(max)d characters") % {"max": UNIT_MAX},
        )
    moq = _as_int(item.min_order_quantity)
    if moq is None or not 1 <= moq <= INT_MAX:
        errors.add(
            "min_order_quantity",
            _("MOQ must be a whole number ≥ 1"),
        )


def _has_control_characters(value) -> bool:
    """Any text in a JSON value, keys included, with a control character: 1688 has no use for
    them and PostgreSQL cannot store NUL at all."""
    return any(CONTROL_CHARACTERS.search(text) for text in json_texts(value))


# Fields whose text is checked for control characters here (title and description have their
# own messages): field → its name in the message.
CONTROL_CHECKED = {
    "unit": gettext_lazy("the unit"),
    "price_ranges": gettext_lazy("the price ranges"),
    "images": gettext_lazy("the images"),
    "attributes": gettext_lazy("the attributes"),
    "skus": gettext_lazy("the SKUs"),
}


def _check_control_characters(item, errors: ItemErrors) -> None:
    for name, label in CONTROL_CHECKED.items():
        if _has_control_characters(getattr(item, name)):
            errors.add(name, _("Invisible control characters in %(field)s") % {"field": label})


def _is_staged_picture(value: str) -> bool:
    """A picture staff uploaded, kept under DATA_DIR/pictures until the job puts it into the
    photobank (catalog/publishing/upload/publishing.py, stage_picture)."""
    match = STAGED_PICTURE.match(value)
    return bool(match) and (Path(settings.DATA_DIR) / "pictures" / match.group(1)).is_file()


def _is_image(value) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    if _is_staged_picture(value):
        return True
    if IMAGE_PATH_PATTERN.match(value) and ".." not in value:
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_images(item, errors: ItemErrors) -> None:
    images = item.images
    if not isinstance(images, list):
        errors.add("images", _("Images are malformed"))
        return
    if not images:
        errors.add("images", _("At least one image is required"))
    elif len(images) > IMAGES_MAX:
        errors.add(
            "images",
            _("At most %(max)d images (now %(n)d)") % {"max": IMAGES_MAX, "n": len(images)},
        )
    for number, image in enumerate(images, 1):
        if _has_control_characters(image):
            continue  # reported once by _check_control_characters, without echoing the text
        if not _is_image(image):
            errors.add(
                "images",
                _("Image %(n)d is not an http(s) URL or an img/ibank/ path: %(value)s")
                % {"n": number, "value": image},
            )
        elif "://" in image:  # an http(s) address (_is_image)
            _check_picture_address(number, image, errors)


def _check_picture_address(number: int, url: str, errors: ItemErrors) -> None:
    """What the guarded fetch would refuse (erp1688/guarded_fetch.py) is refused now, while
    staging: a private or local address, written as one or a name resolving to one. A name
    that does not resolve now is left to the publish, which says so then (it can pass)."""
    problem = guarded_fetch.address_problem(url)
    if problem is not None:
        reason = stored(problem.msgid)
        reason = reason % problem.params if problem.params else reason
        errors.add("images", _("Image %(n)d: %(reason)s") % {"n": number, "reason": reason})


def _valid_id(value) -> bool:
    number = _as_int(value)
    return number is not None and 0 < number <= ID_MAX


def _filled(value) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip() != ""


def _check_attributes(item, errors: ItemErrors) -> None:
    attributes = item.attributes
    if not isinstance(attributes, list):
        errors.add("attributes", _("Attributes are malformed"))
        return
    for number, attribute in enumerate(attributes, 1):
        if not isinstance(attribute, dict) or not _valid_id(attribute.get("attributeID")):
            errors.add(
                "attributes",
                _("Attribute %(n)d has no valid attribute ID") % {"n": number},
            )
        elif not _filled(attribute.get("value")):
            errors.add(
                "attributes",
                _("Attribute %(n)d has an empty value") % {"n": number},
            )


def _sku_combination(sku: dict, number: int, errors: ItemErrors) -> frozenset | None:
    attributes = sku.get("attributes")
    if not isinstance(attributes, list) or not attributes:
        errors.add("skus", _("SKU %(n)d has no attributes") % {"n": number})
        return None
    pairs = []
    for attribute in attributes:
        if not isinstance(attribute, dict) or not _valid_id(attribute.get("attributeID")):
            errors.add(
                "skus",
                _("SKU %(n)d: an attribute has no valid ID") % {"n": number},
            )
            return None
        if not _filled(attribute.get("attributeValue")):
            errors.add(
                "skus",
                _("SKU %(n)d: an attribute value is empty") % {"n": number},
            )
            return None
        pairs.append((_as_int(attribute["attributeID"]), str(attribute["attributeValue"]).strip()))
    if len({attribute_id for attribute_id, _value in pairs}) != len(pairs):
        errors.add(
            "skus",
            _("SKU %(n)d uses the same attribute twice") % {"n": number},
        )
        return None
    return frozenset(pairs)


def _check_skus(item, errors: ItemErrors) -> None:
    skus = item.skus
    if not isinstance(skus, list) or not all(isinstance(sku, dict) for sku in skus):
        errors.add("skus", _("SKUs are malformed"))
        return
    combinations = set()
    attribute_sets = set()
    for number, sku in enumerate(skus, 1):
        combination = _sku_combination(sku, number, errors)
        if combination is not None:
            if combination in combinations:
                errors.add(
                    "skus",
                    _("SKU %(n)d repeats another SKU's combination") % {"n": number},
                )
            combinations.add(combination)
            attribute_sets.add(frozenset(attribute_id for attribute_id, _v in combination))
        problem = _money_error(sku.get("price"), _("SKU %(n)d price") % {"n": number})
        if problem:
            errors.add("skus", problem)
        stock = _as_int(sku.get("stock")) if sku.get("stock") is not None else None
        if stock is None or not 0 <= stock <= ID_MAX:
            errors.add(
                "skus",
                _("SKU %(n)d: stock must be a whole number ≥ 0") % {"n": number},
            )
        cargo = sku.get("cargo_number")
        if cargo not in (None, "") and _cargo_error(cargo):
            errors.add(
                "skus",
                _("SKU %(n)d: the cargo number is up to %(max)d letters, digits, - or _")
                % {"n": number, "max": CARGO_MAX},
            )
    if len(attribute_sets) > 1:
        errors.add(
            "skus",
            _("Every SKU must use the same attributes"),
        )


def _cargo_error(cargo) -> str | None:
    if not isinstance(cargo, str) or not cargo.strip():
        return _("Cargo number is required")
    if len(cargo) > CARGO_MAX:
        return _("Cargo number is at most %(max)d characters") % {"max": CARGO_MAX}
    if not CARGO_PATTERN.match(cargo):
        return _("Cargo number may contain only letters, digits, - and _: %(cargo)s") % {
            "cargo": cargo
        }
    return None


def _check_text(item, errors: ItemErrors) -> None:
    if problem := _cargo_error(item.cargo_number):
        errors.add("cargo_number", problem)
    description = item.description or ""
    if len(description) > DESCRIPTION_MAX:
        errors.add(
            "description",
            _("Description is at most 50,000 characters (now %(n)d)") % {"n": len(description)},
        )
    if CONTROL_CHARACTERS.search(description):
        errors.add(
            "description",
            _("Description contains invisible control characters"),
        )


def validate_item(item: UploadItem) -> dict[str, list[str]]:
    """Field → messages for everything that can be checked on the item alone ({} when valid)."""
    errors = ItemErrors()
    _check_title(item, errors)
    if item.category_id is None:
        errors.add("category_id", _("Category ID is required"))
    elif not _valid_id(item.category_id):
        errors.add("category_id", _("Category ID must be a positive integer"))
    _check_prices(item, errors)
    _check_counts(item, errors)
    _check_images(item, errors)
    _check_attributes(item, errors)
    _check_skus(item, errors)
    _check_text(item, errors)
    _check_control_characters(item, errors)
    return dict(errors)


def _cargo_conflicts(items: Sequence[UploadItem]) -> dict[int, str]:
    """Index → message for items whose cargo number is not unique in their shop.

    The cargo number is the idempotency key the upload uses to find an offer on 1688, so it must
    be unique among the given items, the shop's other staged items and the shop's live offers.
    """
    positions = defaultdict(list)  # (shop id, cargo number) → indexes in items
    for index, item in enumerate(items):
        if item.cargo_number:
            positions[(item.batch.shop_id, item.cargo_number.strip())].append(index)
    conflicts = {}
    for (_shop, cargo), indexes in positions.items():
        if len(indexes) > 1:
            for index in indexes:
                conflicts[index] = _("Cargo number %(cargo)s appears more than once") % {
                    "cargo": cargo
                }
    own = {item.pk for item in items if item.pk}
    cargos_by_shop = defaultdict(list)
    for shop_id, cargo in positions:
        cargos_by_shop[shop_id].append(cargo)
    for shop_id, cargos in cargos_by_shop.items():
        for start in range(0, len(cargos), LOOKUP_CHUNK):
            chunk = cargos[start : start + LOOKUP_CHUNK]
            staged = UploadItem.objects.filter(batch__shop_id=shop_id, cargo_number__in=chunk)
            for pk, cargo, batch_id, batch_name in staged.values_list(
                "pk", "cargo_number", "batch_id", "batch__name"
            ):
                if pk in own:
                    continue
                for index in positions[(shop_id, cargo)]:
                    if items[index].batch_id == batch_id:
                        message = _(
                            "Cargo number %(cargo)s is already used by another item of this batch"
                        )
                    else:
                        message = _("Cargo number %(cargo)s is already used in batch “%(batch)s”")
                    conflicts[index] = message % {"cargo": cargo, "batch": batch_name}
            offers = Product.objects.filter(
                shop_id=shop_id, cargo_number__in=chunk, delisted_at__isnull=True
            )
            for cargo, offer_id in offers.values_list("cargo_number", "offer_id"):
                for index in positions[(shop_id, cargo)]:
                    if items[index].remote_offer_id != offer_id:
                        conflicts[index] = _(
                            "Cargo number %(cargo)s is already used by offer %(offer)s of this shop"
                        ) % {"cargo": cargo, "offer": offer_id}
    return conflicts


def title_weight(title: str) -> int:
    """The title's length as 1688 counts it: a Chinese (wide) character counts 2."""
    return sum(2 if ord(c) > 0x2E7F else 1 for c in title or "")


def _attribute_values(item) -> dict[int, list[str]]:
    chosen: dict[int, list[str]] = {}
    for attribute in item.attributes if isinstance(item.attributes, list) else []:
        if isinstance(attribute, dict) and _valid_id(attribute.get("attributeID")):
            value = attribute.get("value")
            if _filled(value):
                chosen.setdefault(_as_int(attribute["attributeID"]), []).append(str(value).strip())
    return chosen


def is_custom(attribute) -> bool:
    """An attribute row marked isCustom: the seller's own value (a copied offer's)."""
    return isinstance(attribute, dict) and attribute.get("isCustom") in (True, "true", "True")


def _custom_values(item) -> set[tuple[int, str]]:
    """(attribute id, value) of the rows marked isCustom."""
    return {
        (_as_int(a["attributeID"]), str(a.get("value")).strip())
        for a in (item.attributes if isinstance(item.attributes, list) else [])
        if is_custom(a) and _valid_id(a.get("attributeID"))
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
            attr_id = _as_int(attribute.get("attributeID")) if isinstance(attribute, dict) else None
            if attr_id is not None and attr_id not in sale:
                errors.add(
                    "skus",
                    _("SKU dimension %(id)s is not one of this category's: %(names)s")
                    % {"id": attr_id, "names": ", ".join(sale.values()) or "-"},
                )
                return dict(errors)
    return dict(errors)


def _schemas(keys: set[tuple[int, int]]) -> tuple[dict, dict]:
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
    return {(item.batch.shop_id, item.category_id) for item in items if _valid_id(item.category_id)}


def prefetch_schemas(keys: set[tuple[int, int]]) -> None:
    """Read from 1688 the schemas validation will need, before a transaction is opened: a call
    to 1688 must not hold a batch's lock."""
    _schemas({(shop, category) for shop, category in keys if _valid_id(category)})


def validate_items(items: Sequence[UploadItem]) -> list[dict[str, list[str]]]:
    """validate_item for each item, plus cargo-number uniqueness and the leaf category's
    attribute schema (read from 1688 when not cached; an item whose category has none to give
    is invalid: 1688 would refuse it). Items must have their batch."""
    results = [validate_item(item) for item in items]
    for index, message in _cargo_conflicts(items).items():
        results[index].setdefault("cargo_number", []).append(message)
    schemas, problems = _schemas(schema_keys(items))
    for item, errors in zip(items, results, strict=True):
        if not _valid_id(item.category_id):
            continue
        key = (item.batch.shop_id, item.category_id)
        schema = schemas.get(key)
        if schema is None:
            errors.setdefault("category_id", []).append(
                problems.get(key)
                or _("Category %(id)s has no attribute schema") % {"id": item.category_id}
            )
            continue
        for field, messages in check_against_schema(item, schema).items():
            errors.setdefault(field, []).extend(messages)
    return results


def refresh_batch_counts(batch: UploadBatch) -> UploadBatch:
    """Recompute every counter of the batch from its items' statuses, in one query.

    `items_invalid` counts items still to be uploaded that carry validation errors;
    `items_pending` counts every item with status pending, valid or not.
    """
    status = UploadItem.Status
    counts = batch.items.aggregate(
        items_total=Count("pk"),
        items_invalid=Count("pk", filter=Q(status__in=NOT_UPLOADED) & ~VALID_ITEM),
        items_pending=Count("pk", filter=Q(status=status.PENDING)),
        items_succeeded=Count("pk", filter=Q(status=status.PUBLISHED)),
        items_failed=Count("pk", filter=Q(status=status.FAILED)),
        items_unknown=Count("pk", filter=Q(status__in=UploadItem.UNRESOLVED)),
        items_auditing=Count("pk", filter=Q(status=status.AUDITING)),
        items_rejected=Count("pk", filter=Q(status=status.REJECTED)),
    )
    for name, value in counts.items():
        setattr(batch, name, value)
    batch.save(update_fields=list(counts))
    return batch


def validate_batch(batch: UploadBatch) -> int:
    """Validate every item not yet uploaded, store the errors, update the counters; returns the
    number of invalid items. A draft batch becomes validated."""
    items = list(batch.items.not_uploaded())
    for item in items:
        item.batch = batch
    results = validate_items(items)
    for item, errors in zip(items, results, strict=True):
        item.validation_errors = errors
    with transaction.atomic():
        UploadItem.objects.bulk_update(items, ["validation_errors"], batch_size=500)
        if batch.status == UploadBatch.Status.DRAFT:
            batch.status = UploadBatch.Status.VALIDATED
            batch.save(update_fields=["status"])
        refresh_batch_counts(batch)
    return sum(1 for errors in results if errors)
