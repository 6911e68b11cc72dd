"""The margin report: each linked own SKU's price against its supplier's cost (from the
supplier's last read), worst margin first, negative margins flagged."""

from django.shortcuts import render

from catalog.follow import pages_support as support
from catalog.follow import selectors
from catalog.follow.views import VIEW
from catalog.mirror.views.products import requires
from catalog.shops import selectors as shop_selectors

SHOWN = 500


@requires(VIEW)
def follow_margins(request):
    shop = support.shop_or_none(request.GET.get("shop"))
    negative_only = request.GET.get("negative") == "1"
    rows = selectors.margins(shop, negative_only=negative_only)
    context = {
        "rows": rows[:SHOWN],
        "more": max(0, len(rows) - SHOWN),
        "negative": sum(1 for row in rows if row.negative),
        "negative_only": negative_only,
        "shop": shop,
        "shops": shop_selectors.shops(),
        "tab": "margins",
    }
    return render(request, "follow/margins.html", context)
