"""The spreadsheet shape of an upload item (django-import-export): the one import pipeline
(catalog.publishing.importing, behind the staff pages and the admin) and the exports
(catalog.publishing.exporting).

Every cell is read as text (catalog.publishing.import_reading turns XLSX numbers into text
first), parsed by the widgets below into model values, and checked by
catalog.publishing.batch_validation — the one set of rules.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import resources, widgets
from import_export.fields import Field
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from catalog.models import UploadBatch, UploadItem
from catalog.publishing import textformats
from catalog.publishing.batch_validation import refresh_batch_counts, validate_items
from catalog.publishing.staging import next_position
from erp1688.messages import render_errors

# (model field, column header, other accepted header names). Headers are matched ignoring case
# and spaces, so "标题 Title", "标题", "Title" and "title" all work.
COLUMNS = [
    ("title", "标题 Title", ["subject"]),
    ("category_id", "类目ID Category ID", ["类目", "category"]),
    ("price", "价格 Price", []),
    ("price_ranges", "阶梯价 Price ranges", ["阶梯价格"]),
    ("stock", "库存 Stock", ["amount on sale"]),
    ("unit", "单位 Unit", []),
    ("min_order_quantity", "起订量 MOQ", ["最小起订量", "min order quantity"]),
    ("images", "图片 Images", ["图片链接"]),
    ("attributes", "属性 Attributes", ["商品属性"]),
    ("skus", "SKU", ["SKUs", "规格"]),
    ("cargo_number", "货号 Cargo number", ["商家编码", "cargo no"]),
    ("description", "描述 Description", ["详情"]),
]
COLUMN_NAMES = {field: header for field, header, _aliases in COLUMNS}
# What staff read for each column (item form, import page): the header in the reader's language
# (the Chinese is the header's Chinese name; a file may use either language's name).
COLUMN_LABELS = {
    "title": gettext_lazy("Title"),
    "category_id": gettext_lazy("Category ID"),
    "price": gettext_lazy("Price"),
    "price_ranges": gettext_lazy("Price ranges"),
    "stock": gettext_lazy("Stock"),
    "unit": gettext_lazy("Unit"),
    "min_order_quantity": gettext_lazy("MOQ"),
    "images": gettext_lazy("Images"),
    "attributes": gettext_lazy("Attributes"),
    "skus": gettext_lazy("SKUs"),
    "cargo_number": gettext_lazy("Cargo number"),
    "description": gettext_lazy("Description"),
}
REQUIRED_FIELDS = ["title", "category_id", "stock", "images"]
PRICE_FIELDS = ["price", "price_ranges"]  # at least one of them
# Spreadsheet programs run a cell that starts with one of these as a formula; some (with a
# Chinese input method) take the full-width signs as formula signs too.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def normalize_header(text) -> str:
    return re.sub(r"\s+", "", str(text or "")).lower()


def header_lookup() -> dict[str, str]:
    """Normalized accepted header → model field."""
    lookup = {}
    for field, header, aliases in COLUMNS:
        names = [header, field, *aliases, *header.split(" ", 1)]
        for name in names:
            lookup[normalize_header(name)] = field
    return lookup


def escape_cell(value):
    """A text cell that a spreadsheet would run as a formula gets a leading single quote."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
        if value.startswith(FORMULA_TRIGGERS):
            return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """Undo escape_cell on import, so an exported file imports back unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


class TextWidget(widgets.Widget):
    def __init__(self, empty=""):
        super().__init__()
        self.empty = empty

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        return text if text else self.empty


class NumberWidget(widgets.Widget):
    def __init__(self, parse, label):
        super().__init__()
        self.parse = parse
        self.label = label

    def clean(self, value, row=None, **kwargs):
        text = str(value if value is not None else "").strip()
        return self.parse(text, self.label) if text else None


class ReadableListWidget(widgets.Widget):
    """A JSON list field written in the readable text of catalog.publishing.textformats."""

    def __init__(self, parse, render):
        super().__init__()
        self.parse = parse
        self.render_list = render

    def clean(self, value, row=None, **kwargs):
        return self.parse(str(value if value is not None else ""))

    def render(self, value, obj=None, **kwargs):
        return self.render_list(value)


def _text(name, *, keep_default=False) -> Field:
    # An empty unit or cargo cell keeps the model default (件, a fresh cargo number).
    return Field(
        attribute=name,
        column_name=COLUMN_NAMES[name],
        widget=TextWidget(empty=None if keep_default else ""),
        saves_null_values=not keep_default,
    )


def _number(name, parse, label, *, keep_default=False) -> Field:
    return Field(
        attribute=name,
        column_name=COLUMN_NAMES[name],
        widget=NumberWidget(parse, label),
        saves_null_values=not keep_default,
    )


def _list(name, parse, render) -> Field:
    return Field(
        attribute=name, column_name=COLUMN_NAMES[name], widget=ReadableListWidget(parse, render)
    )


class UploadItemResource(resources.ModelResource):
    title = _text("title")
    category_id = _number("category_id", textformats.parse_int, gettext_lazy("Category ID"))
    price = _number("price", textformats.parse_decimal, gettext_lazy("Price"))
    price_ranges = _list(
        "price_ranges", textformats.parse_price_ranges, textformats.format_price_ranges
    )
    stock = _number("stock", textformats.parse_int, gettext_lazy("Stock"))
    unit = _text("unit", keep_default=True)
    min_order_quantity = _number(
        "min_order_quantity", textformats.parse_int, gettext_lazy("MOQ"), keep_default=True
    )
    images = _list("images", textformats.parse_images, textformats.format_images)
    attributes = _list("attributes", textformats.parse_attributes, textformats.format_attributes)
    skus = _list("skus", textformats.parse_skus, textformats.format_skus)
    cargo_number = _text("cargo_number", keep_default=True)
    description = _text("description")

    class Meta:
        model = UploadItem
        fields = [name for name, _header, _aliases in COLUMNS]
        import_order = export_order = fields
        # Every row is a new item: an import never overwrites a staged item.
        force_init_instance = True
        # catalog.publishing.batch_validation holds the rules; the model's own checks would only
        # repeat them.
        clean_model_instances = False
        use_transactions = True
        # 5,000 rows are previewed and imported in seconds: bulk inserts (one savepoint per
        # 500 rows, not per row) and no per-row diff (the preview shows the cells themselves).
        use_bulk = True
        batch_size = 500
        skip_diff = True

    def __init__(self, batch: UploadBatch | None = None, **kwargs):
        super().__init__(**kwargs)
        self.batch = batch
        self.row_errors: dict[int, dict[str, list[str]]] = {}
        self.first_position = 1

    @classmethod
    def get_display_name(cls):
        return _("Upload items")

    def new_item(self) -> UploadItem:
        return UploadItem(batch=self.batch, source=UploadItem.Source.IMPORT)

    def parse_row(self, item: UploadItem, row: dict) -> dict[str, list[str]]:
        """Fill the item from one row; returns the cells that could not be read, by field."""
        try:
            super().import_instance(item, row)
        except ValidationError as error:
            return {field: list(messages) for field, messages in error.message_dict.items()}
        return {}

    def check_rows(self, dataset) -> list[tuple[UploadItem, dict[str, list[str]]]]:
        """Each row as an unsaved item with all its errors: unreadable cells, then the rules."""
        items, parse_errors = [], []
        for row in dataset.dict:
            item = self.new_item()
            if not any(str(value).strip() for value in row.values()):
                parse_errors.append({"row": [_("Empty row: delete it")]})
            else:
                parse_errors.append(self.parse_row(item, row))
            items.append(item)
        checked = []
        for item, unreadable, rules in zip(items, parse_errors, validate_items(items), strict=True):
            if "row" in unreadable:
                checked.append((item, unreadable))
                continue
            # A cell that could not be read is reported as such, not as "required".
            rules = render_errors(rules)
            errors = {**{k: v for k, v in rules.items() if k not in unreadable}, **unreadable}
            checked.append((item, errors))
        return checked

    def preview_rows(self, dataset):
        """(row number as a spreadsheet shows it, cells, errors) for every row of the last
        import_data() run; the header is row 1."""
        for index, values in enumerate(dataset):
            yield index + 2, values, self.row_errors.get(index + 1, {})

    # import_data() (catalog.publishing.importing's dry run and confirm) runs these hooks: every
    # row is checked up front, so each row's errors include the cargo numbers of the other rows.

    def before_import(self, dataset, **kwargs):
        if self.batch is None:
            raise ValueError("UploadItemResource needs the batch to import into")
        self.first_position = next_position(self.batch)
        checked = self.check_rows(dataset)
        self.row_errors = {n: errors for n, (_item, errors) in enumerate(checked, 1) if errors}
        self.parsed_items = iter([item for item, _errors in checked])

    def init_instance(self, row=None):
        # The item check_rows parsed from this row (rows come in order): parsed once, not twice.
        return next(self.parsed_items)

    def import_instance(self, instance, row, **kwargs):
        pass  # done by check_rows in before_import

    def after_init_instance(self, instance, new, row, **kwargs):
        instance.position = self.first_position + kwargs["row_number"] - 1
        instance.import_row_number = kwargs["row_number"]

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = self.row_errors.get(instance.import_row_number)
        if errors:
            raise ValidationError(errors)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if not kwargs.get("dry_run"):
            refresh_batch_counts(self.batch)

    def export_field(self, field, instance, **kwargs):
        return escape_cell(super().export_field(field, instance, **kwargs))
