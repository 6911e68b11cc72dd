"""Reads used by views and admin (HackSoft style: writes live in services, reads here)."""

from django.db.models import Count

from catalog.models import PriceStockChange, Shop, SyncRun, UploadBatch


def dashboard_summary() -> dict:
    return {
        "shops": Shop.objects.annotate(product_count=Count("products")).order_by("name"),
        "recent_changes": PriceStockChange.objects.select_related("product", "sku")[:20],
        "recent_runs": SyncRun.objects.select_related("shop")[:10],
        "recent_batches": UploadBatch.objects.select_related("shop")[:10],
    }
