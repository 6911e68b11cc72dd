from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ImportForm

from catalog.forms import ITEM_FIELDS, UploadItemForm
from catalog.importing import ImportFileError, parse_upload_bytes
from catalog.models import PriceStockChange, Product, Shop, Sku, SyncRun, UploadBatch, UploadItem
from catalog.resources import UploadItemResource
from catalog.staging import LOCKED_BATCH_STATUSES
from catalog.validation import refresh_batch_counts, validate_batch


class ReadOnlyAdminMixin:
    """Logs are written by the sync, never by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["name", "member_id", "status", "sync_enabled", "last_synced_at", "sync_cursor"]
    list_filter = ["status", "sync_enabled"]
    search_fields = ["name", "member_id", "login_id"]
    readonly_fields = [
        "access_token_expires_at",
        "refresh_token_expires_at",
        "sync_cursor",
        "last_synced_at",
        "status_reason",
        "created_at",
        "updated_at",
    ]
    actions = ["sync_now", "full_resync"]
    change_list_template = "admin/catalog/shop/change_list.html"

    def _enqueue(self, request, queryset, kind):
        from sync.jobs import enqueue_sync

        queued = 0
        for shop in queryset:
            if shop.status != Shop.Status.ACTIVE:
                self.message_user(
                    request,
                    _("%(shop)s was not queued: %(status)s")
                    % {"shop": shop, "status": shop.get_status_display()},
                    messages.WARNING,
                )
                continue
            enqueue_sync(shop, kind=kind)
            queued += 1
        if queued:
            self.message_user(
                request,
                ngettext("%d sync queued.", "%d syncs queued.", queued) % queued,
                messages.SUCCESS,
            )

    @admin.action(description=_("Sync now"))
    def sync_now(self, request, queryset):
        self._enqueue(request, queryset, SyncRun.Kind.INCREMENTAL)

    @admin.action(description=_("Full resync"))
    def full_resync(self, request, queryset):
        self._enqueue(request, queryset, SyncRun.Kind.FULL)


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = ["sku_id", "spec_id", "attributes", "cargo_number", "price", "retail_price", "stock"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["subject", "offer_id", "shop", "status", "cargo_number", "remote_modified_at"]
    list_filter = ["shop", "status", "category_id"]
    search_fields = ["subject", "=offer_id", "cargo_number", "skus__cargo_number"]
    list_select_related = ["shop"]
    readonly_fields = ["first_seen_at", "last_seen_at", "remote_created_at", "remote_modified_at"]
    inlines = [SkuInline]
    show_full_result_count = False


@admin.register(PriceStockChange)
class PriceStockChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["product", "sku", "field", "old", "new", "delta", "observed_at"]
    list_filter = ["field", "shop"]
    date_hierarchy = "observed_at"
    search_fields = ["=product__offer_id", "product__subject"]
    list_select_related = ["product", "sku"]
    show_full_result_count = False

    @admin.display(description=_("old value"))
    def old(self, obj):
        return obj.old_shown

    @admin.display(description=_("new value"))
    def new(self, obj):
        return obj.new_shown

    @admin.display(description=_("delta"))
    def delta(self, obj):
        return obj.delta


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "shop", "kind", "status", "started_at", "duration", "pages", "requests_made",
        "offers_seen", "offers_created", "offers_updated", "changes_written",
    ]  # fmt: skip
    list_filter = ["status", "kind", "shop"]
    date_hierarchy = "created_at"
    list_select_related = ["shop"]


class UploadItemInline(admin.TabularInline):
    """Read-only: a batch may hold thousands of items; they are edited one by one or in bulk."""

    model = UploadItem
    extra = 0
    fields = [
        "position",
        "title",
        "price",
        "stock",
        "cargo_number",
        "status",
        "errors",
        "remote_offer_id",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("validation errors"))
    def errors(self, obj):
        errors = obj.validation_errors if isinstance(obj.validation_errors, dict) else {}
        return " ".join(str(m) for messages in errors.values() for m in messages) or "—"


@admin.register(UploadBatch)
class UploadBatchAdmin(admin.ModelAdmin):
    list_display = [
        "name", "shop", "status", "items_total", "items_invalid", "items_succeeded",
        "items_failed", "progress",
    ]  # fmt: skip
    list_filter = ["status", "shop"]
    search_fields = ["name"]
    list_select_related = ["shop"]
    readonly_fields = [
        "created_by", "created_at", "submitted_at", "finished_at", "job_id",
        "items_total", "items_invalid", "items_pending", "items_succeeded", "items_failed",
        "items_unknown", "progress",
    ]  # fmt: skip
    inlines = [UploadItemInline]
    actions = ["validate_batches", "submit_batches"]

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return f"{obj.progress_percent}%"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Validate the selected batches"))
    def validate_batches(self, request, queryset):
        for batch in queryset:
            invalid = validate_batch(batch)
            self.message_user(
                request,
                _("%(batch)s: %(n)d invalid items") % {"batch": batch, "n": invalid},
                messages.WARNING if invalid else messages.SUCCESS,
            )

    @admin.action(description=_("Submit the selected batches for upload"))
    def submit_batches(self, request, queryset):
        from sync.upload import submit_batch  # talks to 1688: imported only when used

        for batch in queryset:
            try:
                submit_batch(batch, user=request.user)
            except (ValueError, ValidationError) as error:
                text = " ".join(error.messages) if isinstance(error, ValidationError) else error
                self.message_user(request, f"{batch}: {text}", messages.ERROR)
            else:
                self.message_user(request, _("%(batch)s: submitted") % {"batch": batch})


class UploadItemImportForm(ImportForm):
    batch = forms.ModelChoiceField(
        queryset=UploadBatch.objects.exclude(status__in=LOCKED_BATCH_STATUSES),
        label=_("batch"),
    )


class UploadItemConfirmImportForm(ConfirmImportForm):
    batch = forms.ModelChoiceField(queryset=UploadBatch.objects.all(), widget=forms.HiddenInput)


class SpreadsheetFormat(base_formats.Format):
    """CSV (UTF-8 or GBK) or XLSX, told apart by content and read by catalog.importing, so the
    admin's import has the same limits, header names and formula refusal as the staff pages."""

    def __init__(self, encoding=None):
        self.encoding = encoding

    def get_title(self):
        return "csv / xlsx"

    def create_dataset(self, in_stream):
        return parse_upload_bytes(in_stream)

    def can_import(self):
        return True


@admin.register(UploadItem)
class UploadItemAdmin(ImportExportMixin, admin.ModelAdmin):
    form = UploadItemForm
    resource_classes = [UploadItemResource]
    import_form_class = UploadItemImportForm
    confirm_form_class = UploadItemConfirmImportForm
    import_formats = [SpreadsheetFormat]
    export_formats = [base_formats.XLSX, base_formats.CSV]
    to_encoding = "utf-8-sig"  # CSV exports open in Excel with Chinese intact
    list_display = ["title", "batch", "status", "cargo_number", "remote_offer_id", "attempts"]
    list_filter = ["status", "batch__shop"]
    search_fields = ["title", "cargo_number", "=remote_offer_id"]
    list_select_related = ["batch"]
    readonly_fields = [
        "status", "validation_errors", "remote_offer_id", "remote_error_code",
        "remote_error_message", "attempts", "last_attempt_at",
    ]  # fmt: skip
    # The form names the item's own fields; the admin also chooses the batch (without it an
    # item added here had no batch, and saving it was a database error).
    fields = ["batch", *ITEM_FIELDS, *readonly_fields]

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"batch": cleaned.get("batch")}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["batch"] = import_form.cleaned_data["batch"].pk
        return initial

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def save_model(self, request, obj, form, change):
        # The form validated the item; the counters of its batch (or both) must follow.
        obj.validation_errors = {}
        super().save_model(request, obj, form, change)
        refresh_batch_counts(obj.batch)
        if change and "batch" in form.changed_data:
            refresh_batch_counts(UploadBatch.objects.get(pk=form.initial["batch"]))
