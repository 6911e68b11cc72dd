"""The staff item editor's posted state, read without any text notation: price tiers as rows,
pictures as an ordered list of references with a main one, and the SKU grid's rows, each keyed
by its combination of dimension values. Every value is kept as typed, so a failed save shows
the page back exactly, with each problem beside its row.

Posted names (templates/publishing/item_form.html and _category_panel.html):
- `tier-<n>-qty`, `tier-<n>-price`: one price tier a row (rows left empty are skipped);
- `picture` (repeated, in order): a staged picture, an img/ibank/ path or an address;
  `picture_main`: the main one (a `picture` value, or `file-<i>` for the i-th uploaded file);
  `picture_files`: pictures uploaded with the form (the page stages them as they are dropped);
- `dim-<attrId>` (repeated, in order): a SKU dimension's values, and the text typed into its
  box but not yet added (split at commas);
- `sku-<n>-combo` (JSON [[attrId, value], ...]), `sku-<n>-price`, `-stock`, `-cargo`.
The category's attributes (`attr-<attrId>`) are read by catalog.publishing.item_schema.
"""

import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.publishing import item_schema, staged_pictures
from catalog.publishing.item_schema import combo_key
from catalog.publishing.textformats import parse_decimal, parse_int
from catalog.publishing.validation import IMAGE_PATH_PATTERN, sku_row_problem, tier_row_problem
from erp1688.messages import render
from open1688.types import CategoryAttributes, image_url

TIERS_MAX = 20  # rows read; 1688 takes a handful of tiers
PICTURES_MAX = 50  # references read; the rules allow 10 and say so beyond
TEXT_MAX = 100
ROW = re.compile(r"^(tier|sku)-(\d{1,4})-(\w+)$")


def _indices(post, kind: str, limit: int) -> list[int]:
    """The row numbers posted for `kind`, in order (rows removed in the page leave gaps)."""
    numbers = set()
    for name in post:
        match = ROW.match(name)
        if match and match[1] == kind and int(match[2]) < limit:
            numbers.add(int(match[2]))
    return sorted(numbers)


def _text(post, name: str, limit: int = TEXT_MAX) -> str:
    return (post.get(name) or "").strip()[:limit]


# --- price tiers ------------------------------------------------------------------------------


def tier_rows(ranges) -> list[dict]:
    """The rows the page shows for stored price ranges (one empty row to start from)."""
    rows = [
        {"qty": str(r.get("start_quantity", "")), "price": str(r.get("price", "")), "error": ""}
        for r in ranges or []
        if isinstance(r, dict)
    ]
    return rows or [{"qty": "", "price": "", "error": ""}]


def read_tiers(post) -> tuple[list[dict], list[dict], bool]:
    """(the rows as typed with their problems, the price ranges, whether a row has a problem)."""
    rows, ranges, bad = [], [], False
    for n in _indices(post, "tier", TIERS_MAX):
        qty, price = _text(post, f"tier-{n}-qty"), _text(post, f"tier-{n}-price")
        row = {"qty": qty, "price": price, "error": ""}
        rows.append(row)
        if not qty and not price:
            continue
        try:
            if not (qty and price):
                raise ValueError(_("Enter both the start quantity and the price."))
            quantity = parse_int(qty, gettext_lazy("Start quantity"))
            amount = parse_decimal(price, gettext_lazy("Price"))
            if problem := tier_row_problem(quantity, amount):
                raise ValueError(render(problem))
            ranges.append({"start_quantity": quantity, "price": str(amount)})
        except ValueError as problem:
            row["error"], bad = str(problem), True
    return rows or tier_rows([]), ranges, bad


# --- pictures ---------------------------------------------------------------------------------


def picture_src(reference) -> str:
    """Where the page shows a picture from: a staged one's thumbnail, a photobank path on the
    image host, an address as it is; '' for anything else (shown as its name, not loaded)."""
    if not isinstance(reference, str):
        return ""
    name = staged_pictures.name_of(reference)
    if name is not None:
        return reverse("catalog:staged_picture", args=[name])
    if IMAGE_PATH_PATTERN.match(reference) and ".." not in reference:
        return image_url(reference, settings.OPEN1688_IMAGE_BASE)
    if reference.startswith(("https://", "http://")) and not any(c.isspace() for c in reference):
        return reference
    return ""


def picture_rows(images) -> list[dict]:
    """The pictures as the page shows them: reference, thumbnail address, main (the first)."""
    return [
        {"ref": ref, "src": picture_src(ref), "main": n == 0}
        for n, ref in enumerate(images if isinstance(images, list) else [])
        if isinstance(ref, str)
    ]


def read_pictures(post, uploaded: list[str]) -> list[str]:
    """The item's pictures in the page's order, the files uploaded with the form after them,
    the main one first (1688's first picture is the offer's main picture)."""
    images: list[str] = []
    for value in [*post.getlist("picture")[:PICTURES_MAX], *uploaded]:
        value = (value or "").strip()
        if value and value not in images:
            images.append(value)
    main = (post.get("picture_main") or "").strip()
    if main.startswith("file-") and main[5:].isascii() and main[5:].isdigit():
        index = int(main[5:])
        main = uploaded[index] if index < len(uploaded) else ""
    if main in images:
        images.remove(main)
        images.insert(0, main)
    return images


# --- the SKU grid -----------------------------------------------------------------------------


@dataclass
class Grid:
    """The grid as posted: its dimensions (id, name, values), the rows typed into, keyed by
    combination, the SKUs read from them and the problems of malformed rows."""

    dims: list[tuple[int, str, list[str]]]
    typed: dict = field(default_factory=dict)
    skus: list[dict] = field(default_factory=list)
    bad: bool = False
    problems: list[str] = field(default_factory=list)

    def rows(self) -> list[dict]:
        return item_schema.grid_rows(self.dims, typed=self.typed)

    def dimension_rows(self, schema: CategoryAttributes) -> list[dict]:
        values = {attr_id: found for attr_id, _name, found in self.dims}
        return [
            {
                "id": a.attr_id,
                "name": a.name,
                "values": values.get(a.attr_id, []),
                "suggested": [v.name for v in a.values][:30],
            }
            for a in schema.sale_attributes
        ]


def _stored_attributes(stored_skus) -> dict:
    """Each stored SKU's attributes by combination: their extra keys (a SKU picture) stay."""
    found = {}
    for sku in stored_skus or []:
        if isinstance(sku, dict) and isinstance(sku.get("attributes"), list):
            pairs = [
                (a.get("attributeID"), a.get("attributeValue"))
                for a in sku["attributes"]
                if isinstance(a, dict)
            ]
            found[combo_key(pairs)] = sku["attributes"]
    return found


def _sku_of(row: dict, pairs, names: dict, kept, tier_price=None) -> dict:
    """One filled row as a SKU; raises ValueError with the row's problem. `tier_price`: the
    first price tier's, which a row without a price of its own sells at."""
    if not row["price"] and tier_price is None:
        raise ValueError(_("Enter the price."))
    if not row["stock"]:
        raise ValueError(_("Enter the stock."))
    price = parse_decimal(row["price"] or str(tier_price), gettext_lazy("Price"))
    stock = parse_int(row["stock"], gettext_lazy("Stock"))
    if problem := sku_row_problem(price, stock, row["cargo"]):
        raise ValueError(render(problem))  # beside its row, not as "SKU n" above the grid
    attributes = kept or [
        {"attributeID": int(attr_id), "attributeName": names.get(int(attr_id), ""),
         "attributeValue": str(value)[:TEXT_MAX]}
        for attr_id, value in pairs
    ]  # fmt: skip
    sku = {"attributes": attributes, "price": str(price), "stock": stock}
    if row["cargo"]:
        sku["cargo_number"] = row["cargo"]
    return sku


def read_grid(post, schema: CategoryAttributes, stored_skus=None, tier_price=None) -> Grid:
    names = {a.attr_id: a.name for a in schema.sale_attributes}
    values: dict[int, list[str]] = {}
    for attr_id in names:
        found = values.setdefault(attr_id, [])
        for text in post.getlist(f"dim-{attr_id}")[: item_schema.GRID_MAX]:
            for value in item_schema.split_values(text):
                if value not in found and len(found) < item_schema.GRID_MAX:
                    found.append(value)
    kept = _stored_attributes(stored_skus)
    grid = Grid(dims=[])
    for n in _indices(post, "sku", item_schema.GRID_MAX):
        try:
            pairs = [
                (int(attr_id), str(value)[:TEXT_MAX])
                for attr_id, value in json.loads(post.get(f"sku-{n}-combo") or "")
            ]
        except (TypeError, ValueError):
            grid.problems.append(_("SKU row %(n)d is malformed.") % {"n": n + 1})
            continue
        for attr_id, value in pairs:  # a row's values belong to the grid's dimensions
            found = values.get(attr_id)
            if found is not None and value not in found and len(found) < item_schema.GRID_MAX:
                found.append(value)
        row = {
            "price": _text(post, f"sku-{n}-price", 40),
            "stock": _text(post, f"sku-{n}-stock", 40),
            "cargo": _text(post, f"sku-{n}-cargo", 64),
            "error": "",
        }
        key = combo_key(pairs)
        grid.typed[key] = row
        if not (row["price"] or row["stock"] or row["cargo"]):
            continue  # an empty row is not a SKU
        try:
            grid.skus.append(_sku_of(row, pairs, names, kept.get(key), tier_price))
        except ValueError as problem:
            row["error"], grid.bad = str(problem), True
    grid.dims = [(attr_id, names[attr_id], found) for attr_id, found in values.items()]
    return grid


def stored_grid(schema: CategoryAttributes, skus) -> Grid:
    """The grid of the item's stored SKUs (an item opened for editing)."""
    dims = item_schema.dimensions(schema, skus)
    typed = {}
    for sku in skus or []:
        if isinstance(sku, dict):
            pairs = [
                (a.get("attributeID"), a.get("attributeValue"))
                for a in sku.get("attributes") or []
                if isinstance(a, dict)
            ]
            typed[combo_key(pairs)] = {
                "price": str(sku.get("price") or ""),
                "stock": "" if sku.get("stock") is None else str(sku.get("stock")),
                "cargo": str(sku.get("cargo_number") or ""),
                "error": "",
            }
    return Grid(dims=[(d["id"], d["name"], d["values"]) for d in dims], typed=typed)


def attributes_read(post, schema: CategoryAttributes, stored) -> list[dict]:
    """The category attributes as chosen; a stored one chosen again keeps its extra keys."""
    kept = {
        (str(a.get("attributeID")), str(a.get("value"))): a
        for a in stored or []
        if isinstance(a, dict)
    }
    return [
        kept.get((str(a["attributeID"]), a["value"]), a)
        for a in item_schema.attributes_from_post(post, schema)
    ]
