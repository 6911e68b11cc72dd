"""Admin views of following suppliers: source links, SKU links and follow rules, shown only.
Links, mappings and rules are written through catalog/follow/services.py and rules.py (which
discard waiting changes, watch the supplier offer, check the values), never here."""

from django.contrib import admin

from catalog.common.admin_readonly import ReadOnlyAdminMixin
from catalog.models import FollowRule, SkuLink, SourceLink


class SkuLinkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SkuLink
    fields = ["sku", "supplier_sku_id", "supplier_spec_id", "origin", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(SourceLink)
class SourceLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "product", "supplier_offer_id", "origin", "created_by", "created_at", "last_followed_at",
        "delisted_by_rule",
    ]  # fmt: skip
    list_filter = ["origin", "delisted_by_rule"]
    search_fields = ["=supplier_offer_id", "=product__offer_id", "product__subject"]
    list_select_related = ["product", "created_by"]
    inlines = [SkuLinkInline]
    show_full_result_count = False


@admin.register(FollowRule)
class FollowRuleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__", "active", "paused", "margin_percent", "fixed_add", "round_to", "floor",
        "ceiling", "approval_percent", "updated_by", "updated_at",
    ]  # fmt: skip
    list_filter = ["active", "paused", "shop"]
    list_select_related = ["shop", "product", "updated_by"]
