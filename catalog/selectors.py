"""Reads used by views and admin (HackSoft style: writes live in services, reads here)."""

from django.db.models import Count

from catalog.models import PriceStockChange, Shop, SyncRun, UploadBatch, UploadItem


def dashboard_summary() -> dict:
    return {
        "shops": Shop.objects.annotate(product_count=Count("products")).order_by("name"),
        "recent_changes": PriceStockChange.objects.select_related("product", "sku")[:20],
        "recent_runs": SyncRun.objects.select_related("shop")[:10],
        "recent_batches": UploadBatch.objects.select_related("shop")[:10],
    }


def batch_list():
    return UploadBatch.objects.select_related("shop", "created_by")


def batch_items(batch: UploadBatch, show: str = ""):
    """The items of a batch page: all, those with errors (still to upload), or one status."""
    items = batch.items.all()
    if show == "invalid":
        return items.not_uploaded().invalid()
    if show in UploadItem.Status.values:
        return items.filter(status=show)
    return items
