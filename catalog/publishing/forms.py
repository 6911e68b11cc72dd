"""Forms for staging batch uploads. The admin's item form edits the list fields in the readable
text of catalog.publishing.textformats, the same as the import columns; the staff item editor
(ItemEditorForm) shows no text notation: its lists come from rows, thumbnails and the SKU grid
(catalog.publishing.editor)."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from catalog.common.category_names import CategoryField, leaf_paths
from catalog.models import Shop, UploadBatch, UploadItem, new_cargo_number
from catalog.publishing import textformats
from catalog.publishing.batch_validation import validate_items
from catalog.publishing.exporting import COLUMN_HELP
from catalog.publishing.resources import COLUMN_LABELS
from erp1688.messages import render_errors

ITEM_FIELDS = [
    "title", "category_id", "price", "price_ranges", "stock", "unit", "min_order_quantity",
    "images", "attributes", "skus", "cargo_number", "description",
]  # fmt: skip


class ReadableListField(forms.CharField):
    """A JSON list edited as readable text (see catalog.publishing.textformats)."""

    def __init__(self, parse, render, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(**kwargs)
        self.parse = parse
        self.render = render

    def prepare_value(self, value):
        return self.render(value) if isinstance(value, list | dict) else value

    def to_python(self, value):
        try:
            return self.parse(super().to_python(value))
        except ValueError as error:
            raise ValidationError(str(error), code="format") from None

    def has_changed(self, initial, data):
        # Compared as text: the parsed list drops keys the text cannot show (skuImageUrl…).
        return (
            self.prepare_value(initial or []).strip() != (data or "").replace("\r\n", "\n").strip()
        )


class UploadItemForm(forms.ModelForm):
    price_ranges = ReadableListField(
        textformats.parse_price_ranges,
        textformats.format_price_ranges,
        label=COLUMN_LABELS["price_ranges"],
        help_text=COLUMN_HELP["price_ranges"],
        widget=forms.TextInput(attrs={"placeholder": "1:9.90;50:8.50", "size": 40}),
    )
    images = ReadableListField(
        textformats.parse_images,
        textformats.format_images,
        label=COLUMN_LABELS["images"],
        help_text=COLUMN_HELP["images"],
    )
    attributes = ReadableListField(
        textformats.parse_attributes,
        textformats.format_attributes,
        label=COLUMN_LABELS["attributes"],
        help_text=COLUMN_HELP["attributes"],
        widget=forms.TextInput(attrs={"placeholder": "颜色(3216)=白色;材质(287)=棉", "size": 60}),
    )
    skus = ReadableListField(
        textformats.parse_skus,
        textformats.format_skus,
        label=COLUMN_LABELS["skus"],
        help_text=COLUMN_HELP["skus"],
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "颜色(3216):白色,尺码(450):M=19.90@100"}
        ),
    )

    class Meta:
        model = UploadItem
        fields = ITEM_FIELDS
        widgets = {
            "title": forms.TextInput(attrs={"size": 80}),
            "description": forms.Textarea(attrs={"rows": 6}),
        }
        # The same names as the spreadsheet columns, so the form and the file read alike.
        labels = {name: COLUMN_LABELS[name] for name in ITEM_FIELDS}
        help_texts = {name: COLUMN_HELP[name] for name in ITEM_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "cargo_number" in self.fields:  # absent where the admin shows the item read-only
            self.fields["cargo_number"].required = False

    def clean_cargo_number(self):
        # Left empty, the item gets a generated number (the upload's idempotency key).
        return self.cleaned_data.get("cargo_number") or new_cargo_number()

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, ReadableListField) and name not in self.changed_data:
                # Untouched: keep the stored list whole (copied offers carry extra keys).
                cleaned[name] = getattr(self.instance, name)
        check_item_rules(self, cleaned)
        return cleaned


def check_item_rules(form: forms.ModelForm, cleaned: dict) -> None:
    """The staging rules (catalog.publishing.batch_validation) on the item as the form would
    save it, each message on its field (a field Django could not read is reported once)."""
    batch = cleaned.get("batch") or (form.instance.batch if form.instance.batch_id else None)
    if batch is None:
        return  # the admin's batch field reports itself
    values = {
        name: cleaned[name] if name in cleaned else getattr(form.instance, name)
        for name in ITEM_FIELDS
    }
    item = UploadItem(
        pk=form.instance.pk, batch=batch, remote_offer_id=form.instance.remote_offer_id, **values
    )
    for name, messages in render_errors(validate_items([item])[0]).items():
        if name not in form.fields:
            form.add_error(None, messages)
        elif name not in form.errors:
            form.add_error(name, messages)


# The item editor's own fields; its lists come from catalog.publishing.editor.
EDITOR_FIELDS = [
    "title", "category_id", "price", "stock", "unit", "min_order_quantity", "cargo_number",
    "description",
]  # fmt: skip
LISTS = ["price_ranges", "images", "attributes", "skus"]


class ItemEditorForm(forms.ModelForm):
    """The staff item editor: the item's own fields as inputs, the category as a hidden id the
    picker sets. The lists (price tiers, pictures, attributes, SKUs) are read from the editor's
    rows by the view (catalog.publishing.editor) and given as `lists`, with the rows' own
    problems as `problems`; the staging rules are then checked here on the whole item, and each
    message lands on its field (the lists' fields are never rendered as inputs)."""

    price_ranges = forms.Field(required=False, label=_("Price tiers"))
    images = forms.Field(required=False, label=_("Pictures"))
    attributes = forms.Field(required=False, label=_("Attributes"))
    skus = forms.Field(required=False, label=_("SKUs"))

    class Meta:
        model = UploadItem
        fields = EDITOR_FIELDS
        widgets = {
            "title": forms.TextInput(attrs={"size": 80}),
            "category_id": forms.HiddenInput,
            "price": forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
            "stock": forms.TextInput(attrs={"inputmode": "numeric", "size": 10}),
            "min_order_quantity": forms.TextInput(attrs={"inputmode": "numeric", "size": 6}),
            "description": forms.Textarea(attrs={"rows": 6}),
        }
        labels = {
            "title": _("Title"),
            "category_id": _("Category"),
            "price": _("Price"),
            "stock": _("Stock"),
            "unit": _("Unit"),
            "min_order_quantity": _("Minimum order quantity"),
            "cargo_number": _("Cargo number"),
            "description": _("Description"),
        }
        help_texts = {
            "title": _("At most 128 characters."),
            "price": _("One price for every quantity, or price tiers below (not both)."),
            "stock": _("Left empty with SKUs: the sum of the SKUs' stock."),
            "cargo_number": _("Left empty: one is made. It finds the offer on 1688 again."),
        }

    def __init__(self, *args, lists: dict | None = None, problems: dict | None = None, **kw):
        super().__init__(*args, **kw)
        self.lists = lists or {}
        self.problems = problems or {}
        self.fields["cargo_number"].required = False
        self.fields["category_id"].error_messages["invalid"] = _("Choose a category.")

    def clean_cargo_number(self):
        return self.cleaned_data.get("cargo_number") or new_cargo_number()

    def clean(self):
        cleaned = super().clean()
        lists = {name: self.lists.get(name, getattr(self.instance, name)) for name in LISTS}
        self.read = lists
        cleaned.update(lists)
        skus = lists["skus"] if isinstance(lists["skus"], list) else []
        if "stock" in cleaned and cleaned["stock"] is None and skus:
            # Left empty: the SKUs' sum (the page keeps showing it empty, as typed).
            stocks = [sku.get("stock") for sku in skus]
            if all(isinstance(stock, int) for stock in stocks):
                cleaned["stock"] = sum(stocks)
        for name in LISTS:
            for problem in self.problems.get(name, []):
                self.add_error(name, problem)  # which drops it from cleaned_data
        # The rules see the whole item as read; a list with a row problem keeps that message.
        check_item_rules(self, {**cleaned, **lists})
        cleaned.update({name: lists[name] for name in LISTS if name not in self.errors})
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        for name, value in getattr(self, "read", {}).items():  # not model form fields
            setattr(self.instance, name, value)  # as read, valid or not: the page shows them


class BatchCreateForm(forms.ModelForm):
    class Meta:
        model = UploadBatch
        fields = ["shop", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = Shop.objects.exclude(status=Shop.Status.DISABLED)
        shops = list(self.fields["shop"].queryset.values_list("pk", flat=True)[:2])
        if len(shops) == 1 and not self.is_bound:  # the only shop: nothing to choose
            self.initial.setdefault("shop", shops[0])


class ImportFileForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )


class CopyOffersForm(forms.Form):
    offer_refs = forms.CharField(
        label=_("1688 offer links or ids"),
        max_length=20_000,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "https://detail.1688.com/offer/653120459876.html"}
        ),
        help_text=_("One per line (spaces or commas also work). Each offer becomes a staged item."),
    )


class ImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


class ItemsField(forms.ModelMultipleChoiceField):
    """Item ids; one beyond a 64-bit integer is refused before the `pk__in` query, which
    SQLite answers with OverflowError (a 500 page)."""

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                continue  # not a number: the parent reports it
            if not -(2**63) <= number < 2**63:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class BulkEditForm(forms.Form):
    items = ItemsField(
        queryset=UploadItem.objects.none(),
        error_messages={"required": _("Select items first.")},
    )
    multiply = forms.DecimalField(
        label=_("Multiply price by"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=4,
    )
    add = forms.DecimalField(
        label=_("Then add to price"), required=False, max_digits=12, decimal_places=2
    )
    round_to = forms.TypedChoiceField(
        label=_("Then round to"),
        choices=[("", _("Cents (no rounding)")), ("0.1", "0.1"), ("1", "1")],
        coerce=Decimal,
        empty_value=None,
        required=False,
    )
    stock = forms.IntegerField(label=_("Set stock"), required=False, min_value=0)
    prefix = forms.CharField(label=_("Title prefix"), required=False, max_length=64, strip=False)
    suffix = forms.CharField(label=_("Title suffix"), required=False, max_length=64, strip=False)
    category_id = CategoryField(label=_("Set category"), datalist="bulk-category-names")

    CHANGES = ["multiply", "add", "round_to", "stock", "prefix", "suffix", "category_id"]

    def __init__(self, *args, batch: UploadBatch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].queryset = batch.items.all()
        self.fields["category_id"].shop_ids = (batch.shop_id,)
        self.category_paths = leaf_paths([batch.shop_id])  # the category input's datalist

    def clean(self):
        cleaned = super().clean()
        if not self.errors and all(cleaned.get(name) in (None, "") for name in self.CHANGES):
            raise ValidationError(_("Fill in at least one change."))
        return cleaned

    def changes(self) -> dict:
        """The keyword arguments for catalog.publishing.bulk_edit.bulk_edit."""
        values = {name: self.cleaned_data[name] for name in self.CHANGES}
        return {**values, "prefix": values["prefix"] or "", "suffix": values["suffix"] or ""}
