"""The product list's columns (django-tables2): headers, which ones sort and by which index.

django-tables2 draws the header links; the sort and the pages by key are catalog.mirror.pages
(no OFFSET, no COUNT of the whole table). The cells are plain rows
(catalog.mirror.selectors.product_row) drawn by the page template: rendering each cell through
the table costs ~2 ms a row, a third of the page.
"""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from catalog.models import Product


class ProductTable(tables.Table):
    select = tables.CheckBoxColumn(accessor="pk")
    picture = tables.Column(verbose_name=_("Picture"), accessor="images", orderable=False)
    subject = tables.Column(verbose_name=_("Title"), order_by=("subject", "id"))
    shop = tables.Column(verbose_name=_("Shop"), accessor="shop__name", orderable=False)
    status = tables.Column(verbose_name=_("Status"), orderable=False)
    price = tables.Column(
        verbose_name=_("Price"), order_by=("sort_price", "id"), attrs={"th": {"class": "num"}}
    )
    stock = tables.Column(
        verbose_name=_("Total stock"),
        order_by=("amount_on_sale", "id"),
        attrs={"th": {"class": "num"}},
    )
    sku_count = tables.Column(
        verbose_name=_("SKUs"), order_by=("sort_sku_count", "id"), attrs={"th": {"class": "num"}}
    )
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
        order_by_field = "sort"
