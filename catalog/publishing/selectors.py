"""Reads of publishing for the pages: the batch list, a batch's items, the batches offers may be
staged into. Writes live in catalog/publishing/services.py."""

from catalog.models import UploadBatch, UploadItem


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


def batch_or_none(pk: str) -> UploadBatch | None:
    """The batch a form names by its id (text as posted), or None."""
    return UploadBatch.objects.filter(pk=int(pk)).first() if pk.isdigit() and len(pk) < 19 else None


def draft_batches():
    """Batches offers may be staged into (UploadBatch.objects.drafts()), newest first."""
    return UploadBatch.objects.drafts().select_related("shop").order_by("-created_at", "-pk")
