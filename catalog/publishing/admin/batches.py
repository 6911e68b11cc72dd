"""The admin of publishing: upload batches and their items, and the shops' publishing settings.

- A batch's status and counters are read-only; its actions call the services. Upload items are
  saved and deleted through catalog.publishing.services (the staging lock): an item of a batch
  being uploaded, or an item already sent, is shown read-only.
- A shop's publishing settings: which publish API is in use and why, the photobank album, the
  default freight template and send-goods address (chosen among what 1688 listed for the shop;
  a batch may override the last two), and the photobank pictures kept.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from catalog.common.admin_actions import RefusingActionsMixin
from catalog.common.admin_readonly import ViewOnlyMixin
from catalog.models import PhotobankPicture, ShopPublishing, UploadBatch, UploadItem
from catalog.publishing import services
from catalog.publishing.admin.imports import UploadItemImportMixin
from catalog.publishing.forms import ITEM_FIELDS, UploadItemForm
from catalog.publishing.staging import check_item_editable
from catalog.shops import services as shop_services
from erp1688.messages import render, render_errors
from erp1688.refusals import PermissionRefused, Refused
from open1688 import Open1688Error


class UploadItemInline(ViewOnlyMixin, admin.TabularInline):
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

    @admin.display(description=_("validation errors"))
    def errors(self, obj):
        errors = render_errors(obj.validation_errors)
        return " ".join(m for messages in errors.values() for m in messages) or "—"


@admin.register(UploadBatch)
class UploadBatchAdmin(RefusingActionsMixin, admin.ModelAdmin):
    list_display = [
        "name", "shop", "status", "items_total", "items_invalid", "items_succeeded",
        "items_failed", "progress",
    ]  # fmt: skip
    list_filter = ["status", "shop"]
    search_fields = ["name"]
    list_select_related = ["shop"]
    readonly_fields = [
        "status", "created_by", "created_at", "submitted_at", "finished_at", "job_id",
        "items_total", "items_invalid", "items_pending", "items_succeeded", "items_failed",
        "items_unknown", "items_auditing", "items_rejected", "progress", "last_error_shown",
    ]  # fmt: skip
    inlines = [UploadItemInline]
    actions = ["validate_batches", "submit_batches"]

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return f"{obj.progress_percent}%"

    @admin.display(description=_("last error"))
    def last_error_shown(self, obj):
        return render(obj.last_error) or "—"  # stored as a message id: the reader's language

    def get_readonly_fields(self, request, obj=None):
        # The shop of an existing batch stays: its items were validated for it.
        return [*self.readonly_fields, "shop"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False  # the upload job owns it
        return super().has_delete_permission(request, obj)

    def has_submit_permission(self, request):
        return request.user.has_perm("catalog.submit_uploadbatch")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)  # the name only
            return
        batch = services.create_batch(user=request.user, shop=obj.shop, name=obj.name)
        obj.pk, obj.created_by = batch.pk, batch.created_by

    @admin.action(description=_("Validate the selected batches"), permissions=["change"])
    def validate_batches(self, request, queryset):
        for batch in queryset:
            try:
                invalid = services.validate_batch(user=request.user, batch=batch)
            except Refused as refused:
                self._refusal(request, refused, f"{batch}: ")
                continue
            self.message_user(
                request,
                _("%(batch)s: %(n)d invalid items") % {"batch": batch, "n": invalid},
                messages.WARNING if invalid else messages.SUCCESS,
            )

    @admin.action(description=_("Submit the selected batches for upload"), permissions=["submit"])
    def submit_batches(self, request, queryset):
        for batch in queryset:
            try:
                services.submit_batch(user=request.user, batch=batch)
            except Refused as refused:
                self._refusal(request, refused, f"{batch}: ")
            else:
                self.message_user(request, _("%(batch)s: submitted") % {"batch": batch})


@admin.register(UploadItem)
class UploadItemAdmin(RefusingActionsMixin, UploadItemImportMixin, admin.ModelAdmin):
    # Import and export: catalog.publishing.admin.imports (the one import pipeline of
    # catalog.publishing.importing).
    form = UploadItemForm
    list_display = ["title", "batch", "status", "cargo_number", "remote_offer_id", "attempts"]
    list_filter = ["status", "batch__shop"]
    search_fields = ["title", "cargo_number", "=remote_offer_id"]
    list_select_related = ["batch"]
    readonly_fields = [
        "status", "errors_shown", "remote_offer_id", "remote_error_code",
        "remote_error_shown", "attempts", "last_attempt_at",
    ]  # fmt: skip
    # The form names the item's own fields; the admin also chooses the batch (without it an
    # item added here had no batch, and saving it was a database error).
    fields = ["batch", *ITEM_FIELDS, *readonly_fields]

    # Stored as message ids (erp1688.messages): shown in the reader's language, not as JSON.
    @admin.display(description=_("validation errors"))
    def errors_shown(self, obj):
        errors = render_errors(obj.validation_errors)
        return (
            format_html_join(
                "", "<div>{}</div>", ((m,) for messages in errors.values() for m in messages)
            )
            or "—"
        )

    @admin.display(description=_("remote error message"))
    def remote_error_shown(self, obj):
        return render(obj.remote_error_message) or "—"

    def get_readonly_fields(self, request, obj=None):
        # An item stays in its batch (its cargo number was checked there).
        return [*self.readonly_fields, "batch"] if obj else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "batch":
            kwargs["queryset"] = UploadBatch.objects.exclude(status__in=UploadBatch.LOCKED_STATUSES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @staticmethod
    def _editable(obj) -> bool:
        try:
            check_item_editable(obj)
        except Refused:
            return False
        return True

    def has_change_permission(self, request, obj=None):
        # An item of a batch being uploaded, or one already sent, is shown read-only.
        if obj is not None and not self._editable(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not self._editable(obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # Through the staging service: its lock, its check, the batch counters.
        try:
            services.save_item(user=request.user, item=obj)
        except Refused as refused:
            if isinstance(refused, PermissionRefused):
                raise
            # The batch was taken by an upload after the form was shown: nothing was saved.
            raise PermissionRefused(refused.code, refused.message) from refused

    def delete_model(self, request, obj):
        self.delete_queryset(request, UploadItem.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        # All or nothing: one item the staging lock refuses (its batch is uploading, or it was
        # sent) refuses the whole deletion with the refusal page.
        try:
            with transaction.atomic():
                for item in queryset.select_related("batch"):
                    services.delete_item(user=request.user, item=item)
        except Refused as refused:
            if isinstance(refused, PermissionRefused):
                raise
            raise PermissionRefused(refused.code, refused.message) from refused


def _choices(listed: list[dict]) -> list[tuple]:
    return [("", "—")] + [
        (str(c["id"]), f"{c['name']} ({c['id']})" + (" *" if c.get("default") else ""))
        for c in listed
    ]


class ShopPublishingForm(forms.ModelForm):
    class Meta:
        model = ShopPublishing
        fields = ["api_choice", "album_id", "freight_template_id", "send_address_id"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        listed = {
            "album_id": self.instance.albums,
            "freight_template_id": self.instance.freight_templates,
            "send_address_id": self.instance.send_addresses,
        }
        for name, choices in listed.items():
            if choices:  # read from 1688: choose among them
                self.fields[name] = forms.TypedChoiceField(
                    label=self.fields[name].label,
                    choices=_choices(choices),
                    coerce=int,
                    empty_value=None,
                    required=False,
                )


@admin.register(ShopPublishing)
class ShopPublishingAdmin(admin.ModelAdmin):
    form = ShopPublishingForm
    list_display = ["shop", "api_choice", "api_in_use", "api_note", "fetched_at"]
    readonly_fields = ["shop", "api_in_use", "api_note", "fetched_at"]
    fields = [
        "shop", "api_choice", "api_in_use", "api_note", "album_id", "freight_template_id",
        "send_address_id", "fetched_at",
    ]  # fmt: skip
    actions = ["read_from_1688", "read_category_tree"]

    def has_add_permission(self, request):
        return False  # made for each shop when it first publishes, or by the action

    @admin.action(description=_("Read albums, freight templates and addresses from 1688"))
    def read_from_1688(self, request, queryset):
        for publishing in queryset.select_related("shop"):
            try:
                shop_services.refresh_publishing_settings(user=request.user, shop=publishing.shop)
            except (Refused, Open1688Error) as exc:
                self.message_user(request, f"{publishing.shop}: {exc}", messages.ERROR)

    @admin.action(description=_("Read the category tree from 1688 (one call per category)"))
    def read_category_tree(self, request, queryset):
        for publishing in queryset.select_related("shop"):
            try:
                size = shop_services.refresh_categories(user=request.user, shop=publishing.shop)
            except (Refused, Open1688Error) as exc:
                self.message_user(request, f"{publishing.shop}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(shop)s: %(n)d categories read.") % {"shop": publishing.shop, "n": size},
                )


@admin.register(PhotobankPicture)
class PhotobankPictureAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["shop", "path", "album_id", "created_at"]
    list_filter = ["shop"]
    readonly_fields = ["shop", "sha256", "path", "album_id", "image_id", "created_at"]
