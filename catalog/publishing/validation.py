"""Staging rules for upload items (批量上货): what 1688 accepts, checked on the item alone.

`validate_item` is pure (no database; picture addresses are resolved, see
erp1688/guarded_fetch.py). What needs the database or the leaf category's attribute schema is
elsewhere: catalog/publishing/batch_validation.py (`validate_items`: cargo numbers unique in the
shop, then the schema) and catalog/publishing/schema_rules.py (the schema's rules). Messages are
English message ids stored in `UploadItem.validation_errors` as erp1688.messages messages (the
English message id and its parameters), so each reader sees them in their own language (the
catalogue in locale/).
"""

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy

from catalog.models import UploadItem, json_texts
from catalog.publishing import staged_pictures
from erp1688 import guarded_fetch
from erp1688.messages import stored
from erp1688.messages import stored as _

TITLE_MAX = 128  # 1688 `subject` limit
UNIT_MAX = 20  # UploadItem.unit column
CARGO_MAX = 64
DESCRIPTION_MAX = 50_000
IMAGES_MAX = 10
CARGO_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
IMAGE_PATH_PATTERN = re.compile(r"^img/ibank/[A-Za-z0-9_./-]+$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MONEY_MAX = Decimal("999999999999.99")  # the columns are max_digits=14, decimal_places=2
CENT = Decimal("0.01")
INT_MAX = 2**31 - 1  # the smallest integer column involved (min_order_quantity)
ID_MAX = 2**63 - 1


class ItemErrors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def as_int(value) -> int | None:
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


def _amount(value) -> Decimal | None:
    """A finite number from a Decimal or its text (None: not one)."""
    if isinstance(value, bool):
        return None
    try:
        # str() first: a float from JSON becomes its shortest text, not its binary expansion.
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _money_error(value, label: str) -> str | None:
    labels = {"field": label}
    amount = _amount(value)
    if amount is None:
        return _("%(field)s must be a number") % labels
    if amount <= 0:
        return _("%(field)s must be greater than 0") % labels
    # Before quantize(): a number too large for 28 digits with cents raises InvalidOperation.
    if amount > MONEY_MAX:
        return _("%(field)s is too large") % labels
    if amount != amount.quantize(CENT):
        return _("%(field)s has at most 2 decimals") % labels
    return None


def stock_ok(stock: int | None) -> bool:
    return stock is not None and 0 <= stock <= ID_MAX


def start_quantity_ok(quantity: int | None) -> bool:
    return quantity is not None and 1 <= quantity <= INT_MAX


def sku_row_problem(price: Decimal, stock: int, cargo: str):
    """The first problem of one SKU's own values, or None: the editor shows it beside the
    SKU's row (`_check_skus` says the same of a stored SKU, by its number)."""
    if problem := _money_error(price, _("Price")):
        return problem
    if not stock_ok(stock):
        return _("Stock must be a whole number ≥ 0")
    return _cargo_error(cargo) if cargo else None


def tier_row_problem(quantity: int, price: Decimal):
    """The first problem of one price tier's own values, or None (shown beside its row)."""
    if not start_quantity_ok(quantity):
        return _("Start quantity must be a whole number ≥ 1")
    return _money_error(price, _("Price"))


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
        quantity = as_int(entry.get("start_quantity"))
        if not start_quantity_ok(quantity):
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


def first_tier_price(ranges) -> Decimal | None:
    """The price of the tier with the lowest start quantity (None: no usable tier)."""
    tiers = [
        (as_int(r.get("start_quantity")) or 0, _amount(r.get("price")))
        for r in (ranges if isinstance(ranges, list) else [])
        if isinstance(r, dict)
    ]
    tiers = [t for t in tiers if t[1] is not None]
    return min(tiers, key=lambda t: t[0])[1] if tiers else None


def _skus_at(price: Decimal, item) -> bool:
    """No SKU of the item priced other than `price` (a SKU without a price sells at it)."""
    skus = item.skus if isinstance(item.skus, list) else []
    return all(
        sku.get("price") in (None, "") or _amount(sku.get("price")) == price
        for sku in skus
        if isinstance(sku, dict)
    )


def tier_priced(item) -> bool:
    """Whether the item sells by quantity tiers (1688's quoteType 0): it has tiers and no SKU
    priced other than the first tier (such a SKU price only repeats it). Otherwise its SKUs
    carry their own prices (quoteType 1), and 1688 takes no tiers with them."""
    first = first_tier_price(item.price_ranges)
    return first is not None and _skus_at(first, item)


def _check_tiers_with_sku_prices(item, errors: ItemErrors) -> None:
    """Tiers and SKUs of their own prices cannot both go to 1688: never drop either silently."""
    first = first_tier_price(item.price_ranges)
    if first is None or not item.skus or _skus_at(first, item):
        return
    errors.add(
        "price_ranges",
        _("With price tiers every SKU sells at the tier prices: give each SKU the first tier's "
          "price (%(price)s), or remove the tiers to sell each SKU at its own price")
        % {"price": str(first)},
    )  # fmt: skip


def _check_counts(item, errors: ItemErrors) -> None:
    stock = as_int(item.stock) if item.stock is not None else None
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
    moq = as_int(item.min_order_quantity)
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


def _is_image(value) -> bool:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    if staged_pictures.is_kept(value):  # uploaded by staff, waiting for the publish job
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


def valid_id(value) -> bool:
    number = as_int(value)
    return number is not None and 0 < number <= ID_MAX


def filled(value) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip() != ""


def _check_attributes(item, errors: ItemErrors) -> None:
    attributes = item.attributes
    if not isinstance(attributes, list):
        errors.add("attributes", _("Attributes are malformed"))
        return
    for number, attribute in enumerate(attributes, 1):
        if not isinstance(attribute, dict) or not valid_id(attribute.get("attributeID")):
            errors.add(
                "attributes",
                _("Attribute %(n)d has no valid attribute ID") % {"n": number},
            )
        elif not filled(attribute.get("value")):
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
        if not isinstance(attribute, dict) or not valid_id(attribute.get("attributeID")):
            errors.add(
                "skus",
                _("SKU %(n)d: an attribute has no valid ID") % {"n": number},
            )
            return None
        if not filled(attribute.get("attributeValue")):
            errors.add(
                "skus",
                _("SKU %(n)d: an attribute value is empty") % {"n": number},
            )
            return None
        pairs.append((as_int(attribute["attributeID"]), str(attribute["attributeValue"]).strip()))
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
        stock = as_int(sku.get("stock")) if sku.get("stock") is not None else None
        if not stock_ok(stock):
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
    elif not valid_id(item.category_id):
        errors.add("category_id", _("Category ID must be a positive integer"))
    _check_prices(item, errors)
    _check_counts(item, errors)
    _check_images(item, errors)
    _check_attributes(item, errors)
    _check_skus(item, errors)
    _check_tiers_with_sku_prices(item, errors)
    _check_text(item, errors)
    _check_control_characters(item, errors)
    return dict(errors)
