"""Reads of publishing for the pages: the batch list, one batch, a batch's items, the shop's
publishing settings, the batches offers may be staged into. Writes live in
catalog/publishing/services.py."""

from django.shortcuts import get_object_or_404

from catalog.models import ShopPublishing, UploadBatch, UploadItem


def batch_list():
    return UploadBatch.objects.select_related("shop", "created_by")


def batch(pk) -> UploadBatch:
    """One batch with its shop (Http404 when there is none)."""
    return get_object_or_404(UploadBatch.objects.select_related("shop"), pk=pk)


def batch_items(batch: UploadBatch, show: str = ""):
    """The items of a batch page: all, those with errors (still to upload), or one status."""
    items = batch.items.all()
    if show == "invalid":
        return items.not_uploaded().invalid()
    if show in UploadItem.Status.values:
        return items.filter(status=show)
    return items


def _id(text: str) -> int | None:
    """An id given as text (posted, or in a query string); ASCII digits only ("²".isdigit())."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def batch_or_none(pk: str) -> UploadBatch | None:
    """The batch a form names by its id (text as posted), or None."""
    number = _id(pk)
    return UploadBatch.objects.filter(pk=number).first() if number is not None else None


def item(batch_pk, item_pk) -> UploadItem:
    """One item of a batch, with its batch (Http404 when the batch has no such item)."""
    return get_object_or_404(
        UploadItem.objects.select_related("batch"), pk=item_pk, batch_id=batch_pk
    )


def item_or_none(batch: UploadBatch, pk: str) -> UploadItem | None:
    """The batch's item a query string names by its id (text), or None."""
    number = _id(pk)
    return batch.items.filter(pk=number).first() if number is not None else None


def shop_publishing(shop_id: int) -> ShopPublishing | None:
    """The shop's publishing settings (freight templates, addresses...), None before any."""
    return ShopPublishing.objects.filter(shop_id=shop_id).first()


def draft_batches():
    """Batches offers may be staged into (UploadBatch.objects.drafts()), newest first."""
    return UploadBatch.objects.drafts().select_related("shop").order_by("-created_at", "-pk")
