"""The product list as a django-tables2 table: sortable columns are the indexed ones."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog import product_selectors as selectors
from catalog.models import Product


class ProductTable(tables.Table):
    select = tables.CheckBoxColumn(accessor="pk", attrs={"th__input": {"data-select-all": "1"}})
    picture = tables.Column(
        verbose_name=_("Picture"), accessor="images", orderable=False, empty_values=()
    )
    subject = tables.Column(verbose_name=_("Title"), order_by=("subject", "id"))
    shop = tables.Column(verbose_name=_("Shop"), accessor="shop__name", orderable=False)
    status = tables.Column(verbose_name=_("Status"), orderable=False, empty_values=())
    price = tables.Column(verbose_name=_("Price"), orderable=False, empty_values=())
    stock = tables.Column(
        verbose_name=_("Total stock"), order_by=("amount_on_sale", "id"), empty_values=()
    )
    sku_count = tables.Column(verbose_name=_("SKUs"), orderable=False)
    last_change_at = tables.Column(verbose_name=_("Last change"), orderable=False)
    modified = tables.Column(
        verbose_name=_("Modified on 1688"),
        accessor="remote_modified_at",
        order_by=("remote_modified_at", "id"),
    )

    class Meta:
        model = Product
        fields = []
        sequence = (
            "select", "picture", "subject", "shop", "status", "price", "stock", "sku_count",
            "last_change_at", "modified",
        )  # fmt: skip
        attrs = {"class": "products"}
        empty_text = _("No product matches these filters.")
        order_by_field = "sort"

    def render_picture(self, record):
        url = selectors.picture(record.main_image)
        if not url:
            return "—"
        return format_html('<img class="thumb" src="{}" alt="" loading="lazy">', url)

    def render_subject(self, record):
        return format_html(
            '<a href="{}" title="{}">{}</a><br><small class="muted">{} {}</small>',
            reverse("catalog:product_detail", args=[record.pk]),
            record.subject,
            record.subject,
            record.offer_id,
            record.cargo_number,
        )

    def render_status(self, record):
        if record.delisted_at:
            return format_html('<span class="badge failed">{}</span>', _("No longer on 1688"))
        return format_html(
            '<span class="badge {}">{}</span>',
            "ok" if record.status == "published" else "",
            selectors.status_label(record.status),
        )

    def render_price(self, record):
        return format_html(
            '<span title="{}">{}</span>', selectors.tiers_text(record), selectors.price_text(record)
        )

    def render_stock(self, record):
        stock = selectors.total_stock(record)
        return "—" if stock is None else stock

    def render_last_change_at(self, value):
        return date_format(value, "SHORT_DATETIME_FORMAT") if value else "—"

    def render_modified(self, value):
        return date_format(value, "SHORT_DATETIME_FORMAT") if value else "—"
