"""Forms for staging batch uploads. The list fields use the readable text of
catalog.publishing.textformats, the same as the import columns."""

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
        batch = cleaned.get("batch") or (self.instance.batch if self.instance.batch_id else None)
        if batch is None:
            return cleaned  # the admin's batch field reports itself
        values = {
            name: cleaned[name] if name in cleaned else getattr(self.instance, name)
            for name in ITEM_FIELDS
        }
        item = UploadItem(
            pk=self.instance.pk,
            batch=batch,
            remote_offer_id=self.instance.remote_offer_id,
            **values,
        )
        for name, messages in render_errors(validate_items([item])[0]).items():
            if name not in self.fields:
                self.add_error(None, messages)
            elif name not in self.errors:  # a value Django could not read is reported once
                self.add_error(name, messages)
        return cleaned


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
