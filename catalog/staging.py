"""Writes for staging a batch upload by hand: create a batch, add or change one item."""

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from catalog.models import UploadBatch, UploadItem
from catalog.validation import NOT_UPLOADED, refresh_batch_counts, validate_items

# While the upload job owns a batch, staging leaves it alone.
LOCKED_BATCH_STATUSES = (UploadBatch.Status.SUBMITTED, UploadBatch.Status.RUNNING)


class StagingError(ValueError):
    """A staging change that is not allowed now; the message is for staff."""


def check_batch_open(batch: UploadBatch) -> None:
    if batch.status in LOCKED_BATCH_STATUSES:
        raise StagingError(
            _("批次正在上传，暂时不能修改 / The batch is being uploaded and cannot be changed now")
        )


def check_item_editable(item: UploadItem) -> None:
    check_batch_open(item.batch)
    if item.status not in NOT_UPLOADED:
        raise StagingError(
            _("只能修改待上传或上传失败的商品 / Only pending or failed items can be changed")
        )


def next_position(batch: UploadBatch) -> int:
    return (batch.items.aggregate(last=Max("position"))["last"] or 0) + 1


def create_batch(*, shop, name: str, user=None) -> UploadBatch:
    return UploadBatch.objects.create(shop=shop, name=name.strip(), created_by=user)


def save_item(item: UploadItem) -> UploadItem:
    """Save an item staged through a form (already validated there), keeping the counters true."""
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().get(pk=item.batch_id)
        check_batch_open(batch)
        if item.pk is None:
            item.position = next_position(batch)
            item.source = UploadItem.Source.FORM
        item.batch = batch
        # Checked again under the batch lock: another request may have taken the cargo number.
        errors = validate_items([item])[0]
        if errors:
            raise StagingError(" ".join(m for messages in errors.values() for m in messages))
        item.validation_errors = {}
        item.save()
        refresh_batch_counts(batch)
    return item
