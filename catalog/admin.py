"""The admin: the administrator's tool, not a back door around the services.

- Mirrored 1688 data (products, SKUs, a shop's remote fields) is read-only: the next sync
  overwrites it anyway. Shops are added by connecting them (OAuth), never by hand.
- Sync runs and the price/stock change log are the audit trail: append-only (no add, no change,
  no delete), except for superusers, who may delete.
- A batch's status and counters are read-only; its actions call the services.
- Upload items are saved and deleted through catalog.publishing.services (the staging lock): an item
of a
  batch being uploaded, or an item already sent, is shown read-only.
- Actions declare `allowed_permissions`; posting an action the user may not run is answered with
  the styled refusal page, not silently ignored.
- A manager may change users' groups and active flag, nothing else, and never a superuser.
"""

from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.common.admin_scale import CountingPaginator
from catalog.mirror import selectors as product_selectors
from catalog.models import PriceStockChange, Product, Shop, Sku, SyncRun, UploadBatch, UploadItem
from catalog.models.publishing import CategoryNode
from catalog.publishing import services
from catalog.publishing.forms import ITEM_FIELDS, UploadItemForm
from catalog.publishing.import_admin import UploadItemImportMixin
from catalog.publishing.staging import check_item_editable
from catalog.templatetags import erp_format
from erp1688.messages import render, render_errors
from erp1688.refusals import PermissionRefused, Refused
from sync import services as sync_services


class RefusingActionsMixin:
    """An action the user may not run (its `allowed_permissions`) is refused with the styled 403
    page; Django alone would ignore the POST with "No action selected"."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "action" in request.POST:
            name = request.POST.get("action", "")
            declared = {action_name for _func, action_name, _desc in self._get_base_actions()}
            if name in declared and name not in self.get_actions(request):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)

    def _refusal(
        self, request, refused: Refused, prefix: str = "", level: int = messages.ERROR
    ) -> None:
        if isinstance(refused, PermissionRefused):
            raise refused
        self.message_user(request, f"{prefix}{refused.message}", level)


class AppendOnlyAdminMixin:
    """Written by the system, never by hand: no add, no change; only superusers delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(Shop)
class ShopAdmin(RefusingActionsMixin, admin.ModelAdmin):
    list_display = ["name", "member_id", "status", "sync_enabled", "last_synced_at", "sync_cursor"]
    list_filter = ["status", "sync_enabled"]
    search_fields = ["name", "member_id", "login_id"]
    # What 1688 and the sync own is read-only; staff choose the label and the scheduled sync.
    fields = [
        "name",
        "sync_enabled",
        "member_id",
        "login_id",
        "status",
        "status_reason_shown",
        "declined_apis_shown",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "sync_cursor",
        "last_synced_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields[2:]
    actions = ["sync_now", "full_resync"]
    change_list_template = "admin/catalog/shop/change_list.html"

    def has_add_permission(self, request):
        return False  # shops are added by connecting them (OAuth)

    @admin.display(description=_("status reason"))
    def status_reason_shown(self, shop):
        return render(shop.status_reason) or "—"

    @admin.display(description=_("APIs not granted to this app"))
    def declined_apis_shown(self, shop):
        """What 1688 refused with gw.APIACLDecline, newest first
        (recorded by catalog.shops.clients)."""
        if not shop.declined_apis:
            return "—"
        rows = (
            (e.get("api", ""), str(e.get("at", ""))[:19].replace("T", " "))
            for e in shop.declined_apis
        )
        return format_html_join(mark_safe("<br>"), "{} ({})", rows)

    def has_delete_permission(self, request, obj=None):
        # Deleting a shop deletes its mirror and its change log: superusers only.
        return request.user.is_active and request.user.is_superuser

    def has_sync_permission(self, request):
        return request.user.has_perm("catalog.sync_shop")

    def has_resync_permission(self, request):
        return request.user.has_perms(["catalog.sync_shop", "catalog.resync_shop"])

    def _request_sync(self, request, queryset, *, full: bool):
        queued = 0
        for shop in queryset:
            try:
                sync_services.request_sync(user=request.user, shop=shop, full=full)
            except Refused as refused:
                self._refusal(request, refused, level=messages.WARNING)
            else:
                queued += 1
        if queued:
            self.message_user(
                request,
                ngettext("%d sync queued.", "%d syncs queued.", queued) % queued,
                messages.SUCCESS,
            )

    @admin.action(description=_("Sync now"), permissions=["sync"])
    def sync_now(self, request, queryset):
        self._request_sync(request, queryset, full=False)

    @admin.action(description=_("Full resync"), permissions=["resync"])
    def full_resync(self, request, queryset):
        self._request_sync(request, queryset, full=True)


def _table(headings, rows):
    """A small HTML table (for the JSON columns of the read-only pages)."""
    rows = list(rows)
    if not rows:
        return "—"
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headings))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class ProductStatusFilter(admin.SimpleListFilter):
    """1688's offer statuses by their names (not `published`/`auditing`)."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return product_selectors.status_choices()

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == product_selectors.GONE:
            return queryset.filter(delisted_at__isnull=False)
        return queryset.filter(status=value, delisted_at__isnull=True)


class CategoryFilter(admin.SimpleListFilter):
    """Categories by name (from the category cache), not by number."""

    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        names = {}
        leaves = CategoryNode.objects.filter(is_leaf=True).values_list(
            "category_id", "path", "name"
        )
        for category_id, path, name in leaves[:500]:
            names.setdefault(category_id, path or name)
        return sorted(names.items(), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        try:
            return queryset.filter(category_id=int(value))
        except ValueError:
            return queryset.none()


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = ["sku_id", "specs", "cargo_number", "price_shown", "retail_price", "stock"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("Specification"))
    def specs(self, sku):
        return str(sku)

    @admin.display(description=_("Price"))
    def price_shown(self, sku):
        return product_selectors.sku_price_text(sku, sku.product)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(RefusingActionsMixin, admin.ModelAdmin):
    """The mirror of 1688 offers: read-only (the next sync would overwrite any edit)."""

    list_display = [
        "thumbnail", "subject", "offer_id", "shop", "status_shown", "price_shown", "stock_shown",
        "cargo_number", "remote_modified_at",
    ]  # fmt: skip
    list_display_links = ["subject"]
    list_filter = ["shop", ProductStatusFilter, CategoryFilter]
    search_fields = ["subject", "=offer_id", "cargo_number"]
    list_select_related = ["shop"]
    inlines = [SkuInline]
    show_full_result_count, paginator = False, CountingPaginator  # no COUNT over a search
    # The JSON columns as tables and pictures (raw JSON is not for reading).
    fields = [
        "shop", "offer_id", "subject", "status_shown", "category_shown", "unit",
        "min_order_quantity", "price_shown", "tiers_table", "stock_shown", "cargo_number",
        "pictures", "attributes_table", "remote_created_at", "remote_modified_at",
        "first_seen_at", "last_seen_at", "delisted_at",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("Picture"))
    def thumbnail(self, product):
        url = product_selectors.picture(product.main_image)
        if not url:
            return "—"
        return format_html('<img src="{}" alt="" width="48" height="48" loading="lazy">', url)

    @admin.display(description=_("Status"), ordering="status")
    def status_shown(self, product):
        return product_selectors.status_text(product)

    @admin.display(description=_("Price"))
    def price_shown(self, product):
        prices = [
            Decimal(str(tier["price"]))
            for tier in product.price_ranges or []
            if isinstance(tier, dict) and tier.get("price") is not None
        ]
        low_high = (min(prices), max(prices)) if prices else (None, None)
        product.low_price, product.high_price = low_high
        return product_selectors.price_text(product)

    @admin.display(description=_("Stock"), ordering="amount_on_sale")
    def stock_shown(self, product):
        stock = product_selectors.total_stock(product)
        return "—" if stock is None else stock

    @admin.display(description=_("Category"))
    def category_shown(self, product):
        node = CategoryNode.objects.filter(
            shop_id=product.shop_id, category_id=product.category_id
        ).first()
        name = str(node) if node else product_selectors.category_name(product.raw)
        return f"{name} ({product.category_id})" if name else (product.category_id or "—")

    @admin.display(description=_("Price ranges"))
    def tiers_table(self, product):
        rows = [
            (tier.get("start_quantity"), product.unit, product_selectors.money(tier.get("price")))
            for tier in product.price_ranges or []
            if isinstance(tier, dict)
        ]
        return _table([_("From quantity"), _("unit"), _("Price")], rows)

    @admin.display(description=_("Pictures"))
    def pictures(self, product):
        urls = [product_selectors.picture(p) for p in product.images or [] if isinstance(p, str)]
        shown = format_html_join(
            " ",
            '<a href="{0}"><img src="{0}" alt="" width="96" loading="lazy"></a>',
            ((url,) for url in urls),
        )
        return shown or "—"

    @admin.display(description=_("Attributes"))
    def attributes_table(self, product):
        return _table(
            [_("Attribute"), _("Value")], product_selectors._attribute_rows(product.attributes)
        )

    def get_search_results(self, request, queryset, search_term):
        """SKU cargo numbers (货号) too, through a subquery: `skus__cargo_number` in
        search_fields made the admin SELECT DISTINCT over every column, raw JSON included."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            skus = Sku.objects.filter(cargo_number__icontains=term).values("product_id")
            results = results | queryset.filter(pk__in=skus)
        return results, duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(PriceStockChange)
class PriceStockChangeAdmin(RefusingActionsMixin, AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["product", "sku", "field", "old", "new", "delta", "observed_at"]
    list_filter = ["field", "shop"]
    # No date_hierarchy: its year/month links scan every row (1M+); the change log has dates.
    search_fields = ["=product__offer_id", "product__subject"]
    list_select_related = ["product", "sku"]
    show_full_result_count, paginator = False, CountingPaginator

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
class SyncRunAdmin(RefusingActionsMixin, AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "shop", "kind", "status", "started_at", "duration_shown", "pages", "requests_made",
        "offers_seen", "offers_created", "offers_updated", "changes_written",
    ]  # fmt: skip
    list_filter = ["status", "kind", "shop"]  # no date_hierarchy: it scans every run's date
    list_select_related = ["shop"]
    show_full_result_count, paginator = False, CountingPaginator

    @admin.display(description=_("Duration"))
    def duration_shown(self, run):
        return erp_format.duration(run.duration) or "—"  # 1 min 5 s, not 0:01:05.031594


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
                sync_services.submit_batch(user=request.user, batch=batch)
            except Refused as refused:
                self._refusal(request, refused, f"{batch}: ")
            else:
                self.message_user(request, _("%(batch)s: submitted") % {"batch": batch})


@admin.register(UploadItem)
class UploadItemAdmin(RefusingActionsMixin, UploadItemImportMixin, admin.ModelAdmin):
    # Import and export: catalog.publishing.import_admin (the one import pipeline of
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


User = get_user_model()


class ManagedUserAdmin(RefusingActionsMixin, UserAdmin):
    """Superusers edit users fully; a manager (auth.change_user) changes only the groups and the
    active flag of users who are not superusers, so a role cannot grant itself more."""

    def _full(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def get_fieldsets(self, request, obj=None):
        if obj is None or self._full(request):
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": ["username", "first_name", "last_name", "is_active", "groups"]})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None or self._full(request):
            return super().get_readonly_fields(request, obj)
        return ["username", "first_name", "last_name"]

    def has_add_permission(self, request):
        return self._full(request)

    def has_delete_permission(self, request, obj=None):
        return self._full(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not self._full(request):
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not self._full(request):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ManagedUserAdmin)

# The watchlist's admin, live offer changes and alerts live
# in their own modules (read-only); the job queues' entry is superusers' only (rq_admin).
from catalog.common import admin_labels, rq_admin  # noqa: E402, F401
from catalog.live_edits import admin as live_edits_admin  # noqa: E402, F401
from catalog.publishing import admin as publishing_admin  # noqa: E402, F401
from catalog.watch import admin as watch_admin  # noqa: E402, F401
