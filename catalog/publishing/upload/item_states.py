"""An upload run's context and the states its items move between (catalog/publishing/upload/
run.py sends, audits.py follows the audit): 1688's offer status read as an item status, an
offer adopted by its item, a batch finished."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from catalog.models import Shop, ShopPublishing, UploadBatch, UploadItem
from catalog.publishing.batch_validation import refresh_batch_counts
from erp1688.messages import as_text
from erp1688.messages import stored as _
from open1688 import Open1688Client

S = UploadItem.Status
# 1688 offer status → item status (docs/protocol.md: auditing is not approval).
AUDITING_STATUSES = {"auditing", "new", "waitaudit", "wait_audit"}
REJECTED_STATUSES = {"untread", "failaudited", "fail_audited"}


@dataclass
class Context:
    batch: UploadBatch
    shop: Shop
    client: Open1688Client
    publishing: ShopPublishing
    fetched: bool = False  # the shop's albums, templates and addresses were read this run
    api: str | None = None  # set when 1688 refused the app one publish API during this run


def item_status_for(offer_status: str) -> str:
    status = (offer_status or "").strip().lower()
    if status in AUDITING_STATUSES:
        return S.AUDITING
    if status in REJECTED_STATUSES:
        return S.REJECTED
    return S.PUBLISHED  # on sale (published), or taken off sale since: it exists


def adopt(item: UploadItem, offer_id: int, offer_status: str, reason: str = "") -> None:
    status = item_status_for(offer_status)
    check = None
    if status == S.AUDITING:
        check = timezone.now() + timedelta(seconds=settings.UPLOAD_AUDIT_CHECK_SECONDS)
    set_item(
        item,
        status=status,
        remote_offer_id=offer_id,
        offer_status=(offer_status or "")[:20],
        next_check_at=check,
        looks=0,
        remote_error_code="untread" if status == S.REJECTED else "",
        remote_error_message=(reason or as_text(_("Rejected in 1688's audit")))
        if status == S.REJECTED
        else "",
    )


def finish_batch(batch: UploadBatch, error: str = "") -> None:
    done = (S.PUBLISHED, S.AUDITING)
    left = batch.items.valid().exclude(status__in=done).exists()
    batch.status = UploadBatch.Status.PARTLY_FAILED if left or error else UploadBatch.Status.DONE
    batch.last_error = as_text(error)[:2000]
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "last_error", "finished_at"])
    refresh_batch_counts(batch)


def set_item(item: UploadItem, **values) -> None:
    UploadItem.objects.filter(pk=item.pk).update(updated_at=timezone.now(), **values)
    for name, value in values.items():
        if not hasattr(value, "resolve_expression"):
            setattr(item, name, value)
