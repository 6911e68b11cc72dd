"""Export a batch's items, and the import template, as CSV or XLSX bytes.

Both use UploadItemResource's columns, so an exported file imports back unchanged. Cells that a
spreadsheet would run as a formula are escaped by the resource (a leading single quote). The
library's own IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is not used: in 4.4 it only drops a
leading "=" (losing data and missing + - @) and turns every cell into text.
"""

import tablib
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from catalog.models import UploadBatch
from catalog.publishing.resources import COLUMN_NAMES, UploadItemResource

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TEMPLATE_EXAMPLE = {
    "title": "2026夏季新款纯棉短袖T恤女宽松韩版",
    "category_id": "1031910",
    "price": "",
    "price_ranges": "2:25.00;50:22.50;200:19.90",
    "stock": "500",
    "unit": "件",
    "min_order_quantity": "2",
    "images": "https://cbu01.alicdn.com/img/ibank/2026/001/002/1_1.jpg\nimg/ibank/2026/001/002/1_2.jpg",
    # 女式T恤's required attributes (its 货号 is the cargo number below).
    "attributes": "品牌(2176)=其他;是否进口(1141)=否;面料(287)=纯棉;适用季节(122216347)=夏季",
    "skus": "颜色(3216):白色,尺码(450):M=25.00@200#TS2026-W-M\n"
    "颜色(3216):白色,尺码(450):L=25.00@150#TS2026-W-L\n"
    "颜色(3216):黑色,尺码(450):M=25.00@150#TS2026-B-M",
    "cargo_number": "TS2026-W",
    "description": "100%纯棉，宽松版型。",
}

# A lazy message with its (untranslated) example filled in when shown.
_with = lazy(lambda message, **params: str(message) % params, str)

# What each column takes: shown on the import page, as form help and on the template's second
# sheet, in the user's language.
COLUMN_HELP = {
    "title": _("Required, at most 128 characters"),
    "category_id": _("Required: the 1688 category ID"),
    "price": _("Either this or price ranges; greater than 0, at most 2 decimals"),
    "price_ranges": _(
        "Start quantity:price, separated by ; with quantities increasing, e.g. 1:9.90;50:8.50"
    ),
    "stock": _("Required, a whole number ≥ 0"),
    "unit": _with(_("Empty means %(unit)s"), unit="件"),
    "min_order_quantity": _("A whole number ≥ 1; empty means 1"),
    "images": _(
        "Required, 1–10, one per line or separated by ;: http(s) addresses or img/ibank/ paths"
    ),
    "attributes": _with(
        _("Name(attribute ID)=value, separated by ;, e.g. %(example)s"),
        example="颜色(3216)=白色;材质(287)=棉",
    ),
    "skus": _(
        "One SKU per line: name(ID):value pairs separated by commas, then =price@stock, then "
        "optionally #SKU cargo number"
    ),
    "cargo_number": _(
        "Empty means generated; up to 64 letters, digits, - or _; unique within the shop"
    ),
    "description": _("At most 50,000 characters"),
}


def _encode(dataset: tablib.Dataset, fmt: str) -> bytes:
    if fmt == "csv":
        # The byte order mark makes Excel read the file as UTF-8 (else Chinese turns to mojibake).
        return ("\ufeff" + dataset.export("csv")).encode("utf-8")
    if fmt == "xlsx":
        dataset.title = "批量上货"
        return dataset.export("xlsx")
    raise ValueError(f"unknown export format {fmt!r}")


def export_batch(batch: UploadBatch, fmt: str) -> bytes:
    dataset = UploadItemResource(batch=batch).export(
        queryset=batch.items.order_by("position", "id")
    )
    return _encode(dataset, fmt)


def import_template(fmt: str, *, example: dict | None = None) -> bytes:
    """The import headers and one example row (XLSX: plus a sheet explaining each column);
    `example` overrides columns of the row (a category's: catalog.publishing.item_schema)."""
    dataset = tablib.Dataset(headers=list(COLUMN_NAMES.values()))
    row = {**TEMPLATE_EXAMPLE, **(example or {})}
    dataset.append([row[name] for name in COLUMN_NAMES])
    if fmt != "xlsx":
        return _encode(dataset, fmt)
    dataset.title = "批量上货"
    help_sheet = tablib.Dataset(
        headers=[str(_("Column")), str(_("How to fill it"))], title="说明 Help"
    )
    for name, header in COLUMN_NAMES.items():
        help_sheet.append([header, str(COLUMN_HELP[name])])
    return tablib.Databook([dataset, help_sheet]).export("xlsx")
