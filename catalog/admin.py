from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.models import PriceStockChange, Product, Shop, Sku, SyncRun, UploadBatch, UploadItem


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
        from sync.scheduling import enqueue_sync

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
    list_display = ["product", "sku", "field", "old_value", "new_value", "delta", "observed_at"]
    list_filter = ["field", "shop"]
    date_hierarchy = "observed_at"
    search_fields = ["=product__offer_id", "product__subject"]
    list_select_related = ["product", "sku"]
    show_full_result_count = False

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
    model = UploadItem
    extra = 0
    fields = ["title", "price", "stock", "cargo_number", "status", "remote_offer_id"]
    readonly_fields = ["status", "remote_offer_id"]
    show_change_link = True


@admin.register(UploadBatch)
class UploadBatchAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "status", "items_total", "items_succeeded", "items_failed"]
    list_filter = ["status", "shop"]
    search_fields = ["name"]
    inlines = [UploadItemInline]


@admin.register(UploadItem)
class UploadItemAdmin(admin.ModelAdmin):
    list_display = ["title", "batch", "status", "cargo_number", "remote_offer_id", "attempts"]
    list_filter = ["status", "batch__shop"]
    search_fields = ["title", "cargo_number", "=remote_offer_id"]
    readonly_fields = [
        "status", "remote_offer_id", "remote_error_code", "remote_error_message",
        "attempts", "last_attempt_at", "idempotency_key",
    ]  # fmt: skip
