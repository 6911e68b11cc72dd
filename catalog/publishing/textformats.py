"""Readable text for an upload item's list fields, shared by the import columns and the staff form,
so what staff type in a spreadsheet cell and in the form is the same thing.

    price ranges   1:9.90;50:8.50                  start quantity:price, `;` or one per line
    images         one per line (or `;`)           https://… or img/ibank/…
    attributes     颜色(3216)=白色;材质(287)=棉      name(attribute ID)=value; `3216=白色` works too
    SKUs           one per line (or `;`), e.g.     颜色(3216):白色,尺码(450):M=19.90@100#TS-W-M
                   attributes name(ID):value, comma separated, then =price@stock, then an
                   optional #SKU cargo number

Parsing only checks the shape (numbers parse, separators are where they belong) and raises
ValueError with a bilingual message; the rules (price > 0, unique combinations…) live in
catalog.publishing.validation.
Full-width separators typed with a Chinese IME (；：，＝（）) are accepted.
"""

import json
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ENTRY_SEPARATOR = re.compile(r"[;；\r\n]+")
PAIR_SEPARATOR = re.compile(r"[,，]")
# An attribute key: 颜色(3216), 颜色（3216） or a bare 3216.
ATTRIBUTE_KEY = re.compile(
    r"^(?:(?P<name>[^()（）]+?)\s*[(（]\s*(?P<id>\d+)\s*[)）]|(?P<bare>\d+))$"
)
SKU_TAIL = re.compile(r"^(?P<price>[^@#]+?)\s*@\s*(?P<stock>[^@#]+?)\s*(?:#\s*(?P<cargo>.*?))?$")
# No integer column holds more than 19 digits (2**63 - 1); a longer number is refused before it
# is turned into an int: int(Decimal("1e9999999")) would compute for minutes.
INT_MAX_ADJUSTED = 18


def _entries(text: str) -> list[str]:
    return [part.strip() for part in ENTRY_SEPARATOR.split(text or "") if part.strip()]


def parse_decimal(text, label) -> Decimal:
    """`label` is the name of the value for the message (a lazy message id)."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValueError(_("%(field)s is not a number: %(text)s") % {"field": label, "text": text})
    return value


def parse_int(text, label) -> int:
    value = parse_decimal(text, label)
    if value and value.adjusted() > INT_MAX_ADJUSTED:
        raise ValueError(_("%(field)s is too large: %(text)s") % {"field": label, "text": text})
    if value != value.to_integral_value():
        raise ValueError(
            _("%(field)s must be a whole number: %(text)s") % {"field": label, "text": text}
        )
    return int(value)


def _split_pair(text: str, separators: str) -> tuple[str, str] | None:
    match = re.search(f"[{separators}]", text)
    if not match:
        return None
    return text[: match.start()].strip(), text[match.end() :].strip()


def _attribute_key(key: str) -> dict:
    match = ATTRIBUTE_KEY.match(key.strip())
    if not match:
        raise ValueError(
            _("Attribute “%(key)s” needs its ID, e.g. %(example)s")
            % {"key": key.strip(), "example": "颜色(3216)"}
        )
    if match["bare"]:
        return {"attributeID": int(match["bare"])}
    return {"attributeID": int(match["id"]), "attributeName": match["name"].strip()}


def _key_text(attribute: dict) -> str:
    name = attribute.get("attributeName")
    return f"{name}({attribute.get('attributeID')})" if name else str(attribute.get("attributeID"))


def _or_json(format_function):
    """Stored JSON of an unexpected shape (written by hand in the admin) is shown as JSON, so
    nothing disappears from the form; saving it back then fails parsing with a clear message."""

    def wrapper(value) -> str:
        try:
            return format_function(value or [])
        except (AttributeError, TypeError):
            return json.dumps(value, ensure_ascii=False)

    return wrapper


def parse_price_ranges(text: str) -> list[dict]:
    ranges = []
    for entry in _entries(text):
        pair = _split_pair(entry, ":：")
        if pair is None:
            raise ValueError(
                _("Price range “%(entry)s” should look like 1:9.90;50:8.50") % {"entry": entry}
            )
        quantity = parse_int(pair[0], gettext_lazy("Start quantity"))
        price = parse_decimal(pair[1], gettext_lazy("Price"))
        ranges.append({"start_quantity": quantity, "price": str(price)})
    return ranges


@_or_json
def format_price_ranges(ranges) -> str:
    return ";".join(f"{r['start_quantity']}:{r['price']}" for r in ranges)


def parse_images(text: str) -> list[str]:
    return _entries(text)


@_or_json
def format_images(images) -> str:
    if not all(isinstance(image, str) for image in images):
        raise TypeError
    return "\n".join(images)


def parse_attributes(text: str) -> list[dict]:
    attributes = []
    for entry in _entries(text):
        pair = _split_pair(entry, "=＝")
        if pair is None:
            raise ValueError(
                _("Attribute “%(entry)s” should look like %(example)s")
                % {"entry": entry, "example": "颜色(3216)=白色"}
            )
        attributes.append({**_attribute_key(pair[0]), "value": pair[1]})
    return attributes


@_or_json
def format_attributes(attributes) -> str:
    return ";".join(f"{_key_text(a)}={a['value']}" for a in attributes)


def parse_skus(text: str) -> list[dict]:
    skus = []
    for entry in _entries(text):
        attributes_text, equals, tail = entry.rpartition("=")
        tail_match = SKU_TAIL.match(tail.strip()) if equals else None
        if not tail_match:
            raise ValueError(
                _("SKU “%(entry)s” should look like %(example)s")
                % {"entry": entry, "example": "颜色(3216):白色,尺码(450):M=19.90@100"}
            )
        attributes = []
        for part in PAIR_SEPARATOR.split(attributes_text):
            pair = _split_pair(part, ":：")
            if pair is None:
                raise ValueError(
                    _("SKU attribute “%(part)s” should look like %(example)s")
                    % {"part": part.strip(), "example": "颜色(3216):白色"}
                )
            attributes.append({**_attribute_key(pair[0]), "attributeValue": pair[1]})
        sku = {
            "attributes": attributes,
            "price": str(parse_decimal(tail_match["price"], gettext_lazy("SKU price"))),
            "stock": parse_int(tail_match["stock"], gettext_lazy("SKU stock")),
        }
        if tail_match["cargo"]:
            sku["cargo_number"] = tail_match["cargo"]
        skus.append(sku)
    return skus


@_or_json
def format_skus(skus) -> str:
    lines = []
    for sku in skus:
        attributes = ",".join(f"{_key_text(a)}:{a['attributeValue']}" for a in sku["attributes"])
        line = f"{attributes}={sku['price']}@{sku['stock']}"
        if sku.get("cargo_number"):
            line += f"#{sku['cargo_number']}"
        lines.append(line)
    return "\n".join(lines)
