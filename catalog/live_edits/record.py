"""What a live edit changed on 1688, recorded here once read back: the confirmed values into
the local copy (the mirror) and one change-log row per value, marked as made by this ERP for
the user who applied it, then the alert rules run on those rows. The local modify stamp is left
alone, so the next sync still reads the offer and logs any other change made on 1688.
"""

from decimal import Decimal

from django.utils import timezone

from catalog.alerts import engine as alerts
from catalog.live_edits.lines import Field, line_key, remote_values
from catalog.models import ChangeSource, PriceStockChange, Product, Sku
from catalog.models.live_edits import LiveEditLine
from open1688.types import ProductDetail
from sync.catalog_sync import DELISTED_STATUSES


def mirror_applied(product: Product, detail: ProductDetail, applied: list[LiveEditLine]) -> None:
    """The confirmed values into the mirror; the modify stamp is left for the next sync."""
    if not applied:
        return
    product.refresh_from_db()
    values = remote_values(detail)
    fields = set()
    skus = {s.sku_id: s for s in product.skus.all()}
    changed_skus = {}
    for line in applied:
        value = values.get(line_key(line))
        if line.field == Field.STATUS:
            product.status = str(value)[:40]
            if value in DELISTED_STATUSES:
                product.delisted_at = product.delisted_at or timezone.now()
            else:
                product.delisted_at = None
            fields |= {"status", "delisted_at"}
        elif line.field == Field.TIER_PRICE:
            product.price_ranges = [
                {**tier, "price": str(value)}
                if int(tier.get("start_quantity", -1)) == line.tier_start_quantity
                else tier
                for tier in product.price_ranges
            ]
            fields.add("price_ranges")
        elif line.remote_sku_id and line.remote_sku_id in skus:
            sku = skus[line.remote_sku_id]
            setattr(sku, "price" if line.field == Field.PRICE else "stock", value)
            changed_skus[sku.pk] = sku
        elif line.field == Field.STOCK:
            product.amount_on_sale = value
            fields.add("amount_on_sale")
    if any(line.field == Field.STOCK for line in applied) and detail.amount_on_sale is not None:
        product.amount_on_sale = detail.amount_on_sale
        fields.add("amount_on_sale")
    if fields:
        product.save(update_fields=sorted(fields))
    if changed_skus:
        Sku.objects.bulk_update(list(changed_skus.values()), ["price", "stock"])
    if changed_skus or "price_ranges" in fields:
        Product.objects.filter(pk=product.pk).refresh_sort_figures()  # the list's price sort


def log_changes(operation, product: Product, detail: ProductDetail, applied) -> None:
    now = timezone.now()
    stamp = detail.modify_time or now
    field_of = {
        Field.PRICE: PriceStockChange.Field.PRICE,
        Field.STOCK: PriceStockChange.Field.STOCK,
        Field.TIER_PRICE: PriceStockChange.Field.TIER_PRICE,
    }
    rows = [
        PriceStockChange(
            shop_id=product.shop_id,
            product=product,
            sku_id=line.sku_id,
            remote_sku_id=line.remote_sku_id,
            field=field_of[line.field],
            tier_start_quantity=line.tier_start_quantity or 0,
            **PriceStockChange.value_columns(
                field_of[line.field],
                Decimal(line.before) if line.before else None,
                Decimal(line.after),
            ),
            remote_modified_at=stamp,
            observed_at=now,
            source=ChangeSource.ERP,
            made_by=operation.applied_by,
            live_edit=operation,
        )
        for line in applied
        if line.field in field_of
    ]
    PriceStockChange.objects.bulk_create(rows, ignore_conflicts=True)
    alerts.on_changes(changes=rows)  # the same rules as a sync's rows (catalog/alerts/engine.py)
