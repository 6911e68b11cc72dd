"""The admin of connected shops: staff choose the label and the scheduled sync, and queue a
sync or a full resync; what 1688 and the sync own is read-only. Shops are added by connecting
them (OAuth), never by hand."""

from django.contrib import admin, messages
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.common.admin_actions import RefusingActionsMixin
from catalog.common.admin_readonly import SuperuserDeletesMixin
from catalog.models import Shop
from catalog.shops import services as shop_services
from erp1688.messages import render
from erp1688.refusals import Refused


@admin.register(Shop)
class ShopAdmin(RefusingActionsMixin, SuperuserDeletesMixin, admin.ModelAdmin):
    """Deleting a shop deletes its mirror and its change log: superusers only."""

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

    def has_sync_permission(self, request):
        return request.user.has_perm("catalog.sync_shop")

    def has_resync_permission(self, request):
        return request.user.has_perms(["catalog.sync_shop", "catalog.resync_shop"])

    def _request_sync(self, request, queryset, *, full: bool):
        queued = 0
        for shop in queryset:
            try:
                shop_services.request_sync(user=request.user, shop=shop, full=full)
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
