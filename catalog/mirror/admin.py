"""The admin of the mirror and its audit trail: products with their SKUs (read-only: the next
sync would overwrite any edit), the price/stock change log, sync runs and the day summaries kept
past the runs' retention. Written by the sync, never by hand: only superusers delete."""

from decimal import Decimal

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from catalog.common.admin_actions import RefusingActionsMixin
from catalog.common.admin_readonly import AppendOnlyAdminMixin, ReadOnlyAdminMixin, ViewOnlyMixin
from catalog.common.admin_scale import CountingPaginator
from catalog.mirror import selectors as product_selectors
from catalog.models import CategoryNode, PriceStockChange, Product, Sku, SyncRun, SyncRunDay
from catalog.templatetags import erp_format


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
        return queryset.with_status(value) if value else queryset


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


class SkuInline(ViewOnlyMixin, admin.TabularInline):
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


@admin.register(Product)
class ProductAdmin(RefusingActionsMixin, AppendOnlyAdminMixin, admin.ModelAdmin):
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


@admin.register(SyncRunDay)
class SyncRunDayAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "day", "shop", "runs", "succeeded", "failed", "requests_made", "offers_seen",
        "offers_created", "offers_updated", "changes_written",
    ]  # fmt: skip
    list_filter = ["shop"]
    list_select_related = ["shop"]
    show_full_result_count = False
    paginator = CountingPaginator
