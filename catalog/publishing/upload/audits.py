"""Offers in 1688's audit, followed until 1688 decides: their states read 20 at a time
(`check_audits`, a delayed job per batch), or moved on by what a sync mirrored
(`settle_from_mirror`)."""

import logging
import math
from datetime import timedelta

import django_rq
from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from catalog.models import Product, UploadBatch, UploadItem
from catalog.publishing.batch_validation import refresh_batch_counts
from catalog.publishing.upload import publishing as pub
from catalog.publishing.upload.item_states import (
    Context,
    S,
    adopt,
    finish_batch,
    item_status_for,
    set_item,
)
from catalog.publishing.upload.queue import QUEUE
from catalog.shops.clients import call_as_shop, client_or_new
from open1688 import Open1688Error

log = logging.getLogger(__name__)

# alibaba.product.list.get takes up to a page of productIds: the audit states of 20 offers in
# one call, instead of one alibaba.product.get per offer.
AUDIT_IDS_PER_CALL = 20


def check_audits(context: Context) -> None:
    """Read the states of the batch's due offers in audit, 20 offers a call through the
    list filtered by productIds; a rejected offer (or one the list does not show) is read by
    itself for the reason. Schedule the next check."""
    due = list(
        context.batch.items.filter(status=S.AUDITING, next_check_at__lte=timezone.now())
        .order_by("next_check_at")
    )  # fmt: skip
    for start in range(0, len(due), AUDIT_IDS_PER_CALL):
        part = due[start : start + AUDIT_IDS_PER_CALL]
        try:
            states = _audit_states(context, [item.remote_offer_id for item in part])
        except Open1688Error as exc:
            log.warning("audit check of %d offers: %s", len(part), exc)
            break
        if not _settle_audits(context, part, states):
            break
    refresh_batch_counts(context.batch)
    schedule_audit_check(context.batch)


def _audit_states(context: Context, offer_ids: list[int]) -> dict[int, str]:
    shop, client = context.shop, context.client
    page = call_as_shop(
        shop, client, client.list_products, product_ids=offer_ids, page_size=AUDIT_IDS_PER_CALL
    )
    return {summary.product_id: summary.status for summary in page.items}


def _settle_audits(context: Context, items: list[UploadItem], states: dict[int, str]) -> bool:
    """Adopt each item's state; False when 1688 could not be asked (the rest waits)."""
    for item in items:
        status, reason = states.get(item.remote_offer_id), ""
        if status is None or item_status_for(status) == S.REJECTED:
            try:  # the reason of a rejection is in the offer's detail only
                detail = call_as_shop(
                    context.shop, context.client, context.client.get_product, item.remote_offer_id
                )
            except Open1688Error as exc:
                log.warning("audit check of offer %s: %s", item.remote_offer_id, exc)
                return False
            status, reason = detail.status, detail.audit_reason
        looks = item.looks
        adopt(item, item.remote_offer_id, status, reason)
        if item.status == S.AUDITING:  # back off: 1688's audit may take hours
            wait = settings.UPLOAD_AUDIT_CHECK_SECONDS * 2 ** min(looks + 1, 6)
            set_item(item, looks=looks + 1, next_check_at=timezone.now() + timedelta(seconds=wait))
    return True


def schedule_audit_check(batch: UploadBatch) -> str | None:
    due = batch.items.filter(status=S.AUDITING).aggregate(at=Min("next_check_at"))["at"]
    if due is None:
        return None
    delay = max(1, math.ceil((due - timezone.now()).total_seconds()))
    job = django_rq.get_queue(QUEUE).enqueue_in(
        timedelta(seconds=delay),
        "catalog.publishing.upload.audits.audit_check_job",
        batch.pk,
        job_id=f"upload-audit-{batch.pk}-{int(due.timestamp())}",
        description=f"audit check of batch {batch.pk}",
    )
    return job.id


def audit_check_job(batch_id: int) -> int:
    """Job: read the due offers in audit of a batch (no lock needed: it only reads offers)."""
    batch = UploadBatch.objects.select_related("shop").get(pk=batch_id)
    with client_or_new(None) as api:
        check_audits(Context(batch, batch.shop, api, pub.publishing_for(batch.shop)))
    if batch.status in (UploadBatch.Status.DONE, UploadBatch.Status.PARTLY_FAILED):
        finish_batch(batch, batch.last_error)
    return batch.items_auditing


def settle_from_mirror(*, shop_id: int) -> int:
    """After a sync: items in audit whose offer the mirror now shows decided move on (the
    hook in sync/catalog_sync.py); returns how many moved."""
    items = UploadItem.objects.filter(batch__shop_id=shop_id, status=S.AUDITING)
    offers = dict(
        Product.objects.filter(
            shop_id=shop_id, offer_id__in=items.values("remote_offer_id")
        ).values_list("offer_id", "status")
    )
    moved, batches = 0, set()
    for item in items:
        status = offers.get(item.remote_offer_id)
        settled = item_status_for(status) if status else S.AUDITING
        if settled != S.AUDITING:
            reason = ""
            if settled == S.REJECTED:  # only a rejection has a reason to read
                reason = _mirrored_audit_reason(shop_id, item.remote_offer_id)
            adopt(item, item.remote_offer_id, status, reason)
            moved += 1
            batches.add(item.batch_id)
    for batch in UploadBatch.objects.filter(pk__in=batches):
        if batch.status in (UploadBatch.Status.DONE, UploadBatch.Status.PARTLY_FAILED):
            finish_batch(batch, batch.last_error)
        else:
            refresh_batch_counts(batch)
    return moved


def _mirrored_audit_reason(shop_id: int, offer_id: int) -> str:
    """1688's reason for a rejection, as the sync stored the offer's answer."""
    raw = (
        Product.objects.filter(shop_id=shop_id, offer_id=offer_id)
        .values_list("raw", flat=True)
        .first()
    ) or {}
    info = raw.get("productInfo", raw) if isinstance(raw, dict) else {}
    return str(info.get("auditFailReason") or "") if isinstance(info, dict) else ""
