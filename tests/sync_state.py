"""What 1688 (the sandbox) says and what the change log holds, as comparable sets of keys.

A key is (offer id, remote SKU id (0: the offer), field, tier start quantity (0: not a tier)).
"""

from catalog.models import PriceStockChange
from catalog.shops.clients import make_client


def remote_values(shop, product_ids) -> dict[tuple, object]:
    """Every loggable value 1688 holds now for these offers (None: 1688 sent none)."""
    values = {}
    with make_client() as client:
        for product_id in product_ids:
            detail = client.get_product(shop.access_token, product_id)
            for tier in detail.price_ranges:
                values[(product_id, 0, "tier_price", tier.start_quantity)] = tier.price
            if not detail.skus:
                values[(product_id, 0, "stock", 0)] = detail.amount_on_sale
            for sku in detail.skus:
                values[(product_id, sku.sku_id, "price", 0)] = sku.price
                values[(product_id, sku.sku_id, "stock", 0)] = sku.amount_on_sale
                for tier in sku.price_ranges:
                    values[(product_id, sku.sku_id, "tier_price", tier.start_quantity)] = tier.price
    return values


def expected_changes(before: dict, after: dict) -> dict[tuple, tuple]:
    """The rows a sync must write: values known on both sides that differ."""
    return {
        key: (before[key], value)
        for key, value in after.items()
        if key in before and None not in (before[key], value) and before[key] != value
    }


def logged_changes(shop) -> dict[tuple, tuple]:
    rows = PriceStockChange.objects.filter(shop=shop).select_related("product")
    logged = {}
    for row in rows:
        key = (row.product.offer_id, row.remote_sku_id, row.field, row.tier_start_quantity)
        assert key not in logged, f"{key} logged twice"
        logged[key] = (row.before, row.after)
    return logged
