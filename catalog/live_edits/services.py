"""What staff do with a planned live edit: apply it (queues the job, catalog/live_edits/run.py),
check it against 1688 now, discard it, or plan its undo (another previewed draft). Plans are
made in catalog/live_edits/planning.py.
"""

from collections import defaultdict

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rq import Callback

from catalog.live_edits.errors import reason_for
from catalog.live_edits.lines import LineStatus, compare, read_offer, remote_values
from catalog.live_edits.ownership import require_owner
from catalog.live_edits.planning import PERMISSION
from catalog.live_edits.run import QUEUE, mark_live_edit_job_failed, run_live_edit_job
from catalog.live_edits.selectors import open_undo
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import client_or_new
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import Open1688Client, Open1688Error

CHECK_MAX_OFFERS = 50  # a preview checked while the page waits (one call per offer)


def apply_live_edit(*, user, operation: LiveEdit) -> LiveEdit:
    """Queue the job that sends a draft to 1688."""
    require(user, PERMISSION)
    with transaction.atomic():
        locked = LiveEdit.objects.select_for_update().get(pk=operation.pk)
        if locked.status != LiveEdit.Status.DRAFT:
            raise Refused(
                RefusalCode.NOT_A_DRAFT,
                gettext_lazy("This change has already been applied or discarded."),
            )
        require_owner(user, locked)
        if not locked.lines.filter(status=LineStatus.PLANNED).exists():
            raise Refused(
                RefusalCode.NOTHING_TO_APPLY, gettext_lazy("Nothing in this change is to be sent.")
            )
        locked.status = LiveEdit.Status.QUEUED
        locked.applied_by = user
        locked.applied_at = timezone.now()
        locked.save(update_fields=["status", "applied_by", "applied_at"])
        transaction.on_commit(lambda: _enqueue(locked.pk))
    return locked


def _enqueue(operation_id: int) -> None:
    job = django_rq.get_queue(QUEUE).enqueue(
        run_live_edit_job,
        operation_id,
        job_timeout=settings.SYNC_JOB_TIMEOUT,
        on_failure=Callback(mark_live_edit_job_failed),
    )
    LiveEdit.objects.filter(pk=operation_id).update(job_id=job.id)


def discard_live_edit(*, user, operation: LiveEdit) -> LiveEdit:
    require(user, PERMISSION)
    with transaction.atomic():
        locked = LiveEdit.objects.select_for_update().filter(pk=operation.pk).first()
        if locked is not None and locked.status == LiveEdit.Status.DRAFT:
            require_owner(user, locked)
        updated = LiveEdit.objects.filter(pk=operation.pk, status=LiveEdit.Status.DRAFT).update(
            status=LiveEdit.Status.DISCARDED, finished_at=timezone.now()
        )
    if not updated:
        raise Refused(
            RefusalCode.NOT_A_DRAFT, gettext_lazy("Only a change not yet applied can be discarded.")
        )
    operation.refresh_from_db()
    return operation


def check_live_edit(*, user, operation: LiveEdit, client: Open1688Client | None = None) -> LiveEdit:
    """Read the draft's offers on 1688 now (through the shared rate limit) and mark in the
    preview what would be a conflict or is already so; nothing is sent. Drafts of at most
    CHECK_MAX_OFFERS offers (a page waits for it); the job checks again when applied."""
    require(user, PERMISSION)
    operation = LiveEdit.objects.get(pk=operation.pk)
    if operation.status != LiveEdit.Status.DRAFT:
        raise Refused(RefusalCode.NOT_A_DRAFT, gettext_lazy("Only a preview can be checked."))
    require_owner(user, operation)
    lines = list(operation.lines.select_related("product__shop").order_by("product_id", "id"))
    offers: dict[int, list[LiveEditLine]] = defaultdict(list)
    for line in lines:
        if line.status in (LineStatus.PLANNED, LineStatus.CONFLICT, LineStatus.UNCHANGED):
            offers[line.product_id].append(line)
    if len(offers) > CHECK_MAX_OFFERS:
        raise Refused(
            RefusalCode.TOO_MANY_TO_CHECK,
            gettext_lazy("Check at most %(max)d offers at once; applying checks every offer."),
            params={"max": CHECK_MAX_OFFERS},
        )
    with client_or_new(client) as api:
        for product_lines in offers.values():
            product = product_lines[0].product
            try:
                detail = read_offer(product.shop, api, product)
            except Open1688Error as exc:
                raise Refused(
                    RefusalCode.CHECK_FAILED, "%(reason)s", params={"reason": reason_for(exc)}
                ) from exc
            compare(product_lines, remote_values(detail))
            LiveEditLine.objects.bulk_update(product_lines, ["status", "reason", "found"])
    return operation


def plan_undo(*, user, operation: LiveEdit) -> LiveEdit:
    """A draft that puts back the values the applied lines of `operation` replaced."""
    require(user, PERMISSION)
    operation = LiveEdit.objects.get(pk=operation.pk)  # as it is now, not as the caller read it
    if not operation.is_finished:
        raise Refused(
            RefusalCode.NOT_FINISHED, gettext_lazy("Only a change that has finished can be undone.")
        )
    earlier = open_undo(operation)
    if earlier is not None:
        raise Refused(
            RefusalCode.ALREADY_UNDONE,
            gettext_lazy("This change already has an undo (#%(id)d)."),
            params={"id": earlier.pk},
        )
    applied = list(operation.lines.filter(status=LineStatus.APPLIED).select_related("product"))
    if not applied:
        raise Refused(
            RefusalCode.NOTHING_TO_UNDO, gettext_lazy("Nothing in this change was applied.")
        )
    kind = {
        LiveEdit.Kind.DELIST: LiveEdit.Kind.RELIST,
        LiveEdit.Kind.RELIST: LiveEdit.Kind.DELIST,
    }.get(operation.kind, operation.kind)
    params = {"undo_of": operation.pk}
    if kind == LiveEdit.Kind.STOCK:
        params["mode"] = "set"  # put the old number back, whatever happened in between
    with transaction.atomic():
        undo = LiveEdit.objects.create(kind=kind, params=params, created_by=user, undo_of=operation)
        LiveEditLine.objects.bulk_create(
            LiveEditLine(
                operation=undo,
                product=line.product,
                sku_id=line.sku_id,
                remote_sku_id=line.remote_sku_id,
                spec_id=line.spec_id,
                field=line.field,
                tier_start_quantity=line.tier_start_quantity,
                label=line.label,
                before=line.after,
                after=line.before,
            )
            for line in applied
        )
    return undo
