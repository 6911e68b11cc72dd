"""Admin views of the watchlist: watched offers and the raw push messages as
received. Both are written by the system (catalog/watch/services.py, catalog/watch/push.py):
read-only here."""

from django.contrib import admin

from catalog.common.admin_readonly import AppendOnlyAdminMixin
from catalog.models import PushMessage, WatchedOffer


@admin.register(WatchedOffer)
class WatchedOfferAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "offer_id", "subject", "supplier_label", "active", "followed", "last_read_at",
        "last_read_channel", "last_changed_at", "last_change_channel",
    ]  # fmt: skip
    list_filter = ["active", "last_change_channel"]
    search_fields = ["=offer_id", "subject", "supplier_company", "supplier_member_id"]


@admin.register(PushMessage)
class PushMessageAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["msg_id", "topic", "channel", "user_info", "born_at", "received_at"]
    list_filter = ["channel", "topic"]
    date_hierarchy = "received_at"
    search_fields = ["=msg_id"]
    show_full_result_count = False
