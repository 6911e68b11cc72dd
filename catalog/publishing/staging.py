"""The staging lock: while the upload job owns a batch (submitted or running), staging leaves it
and its items alone. Every write that stages or changes items (catalog/publishing/services.py, the
import,
copying offers, bulk edit, the admin) goes through these checks, under the batch's row lock.
"""

from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from catalog.models import UploadBatch, UploadItem
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from sync.workers import worker_health

# Kept for callers that import it from here; the rule lives on the model.
LOCKED_BATCH_STATUSES = UploadBatch.LOCKED_STATUSES
# What staff may change or remove: not yet sent, or rejected in 1688's audit (corrected, then
# resubmitted as an edit of its offer: catalog/publishing/upload/resubmit.py).
EDITABLE = (*UploadItem.NOT_UPLOADED, UploadItem.Status.REJECTED)
NOT_EDITABLE_MESSAGE = _("Only pending, failed or rejected items can be changed.")


def check_batch_open(batch: UploadBatch) -> None:
    """Refused `batch.locked` while the upload job owns the batch."""
    if batch.is_locked:
        raise Refused(RefusalCode.BATCH_LOCKED, locked_reason(batch))


def locked_reason(batch: UploadBatch):
    """Why a batch the upload job owns cannot be changed, and what it waits for."""
    if not worker_health().serves("upload"):
        return _(
            "The batch waits for a worker and cannot be changed now; no worker is running, so "
            "it waits until one starts."
        )
    return _(
        "The batch is being uploaded by a worker and cannot be changed now; try again when it "
        "finishes."
    )


def check_item_editable(item: UploadItem, batch: UploadBatch | None = None) -> None:
    """Refused `batch.locked`, or `item.not_editable` for an item already sent."""
    check_batch_open(batch or item.batch)
    if item.status not in EDITABLE:
        raise Refused(RefusalCode.ITEM_NOT_EDITABLE, NOT_EDITABLE_MESSAGE)


def locked_batch(batch_id: int) -> UploadBatch:
    """The batch row, locked for this transaction, and open for staging (else Refused)."""
    batch = UploadBatch.objects.select_for_update().get(pk=batch_id)
    check_batch_open(batch)
    return batch


def next_position(batch: UploadBatch) -> int:
    return (batch.items.aggregate(last=Max("position"))["last"] or 0) + 1
