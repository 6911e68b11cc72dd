"""The job that sends a live edit to 1688, and the records of jobs that died.

Per offer: re-read the offer (`alibaba.product.get`); a line whose value on 1688 is no longer
the one the plan started from was changed on 1688 since the last sync — a conflict, left
alone; write the other lines (catalog/live_edits/writes.py), every call through the shared rate
limit (catalog.shops.clients); read back to confirm (catalog/live_edits/settle.py), which
mirrors the confirmed values and logs them (catalog/live_edits/record.py).
"""

import logging
from collections import defaultdict

import django_rq
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from catalog.live_edits import settle
from catalog.live_edits.errors import Stop, refusal
from catalog.live_edits.lines import (
    LineStatus,
    close,
    compare,
    finish,
    read_offer,
    remote_values,
    why,
)
from catalog.live_edits.writes import write_lines
from catalog.models import Product
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import client_or_new, may_land_later, wait_for_late_apply
from erp1688.messages import Message, as_text
from open1688 import Open1688Client, Open1688Error, OutcomeUnknownError, ServerError, TransportError

log = logging.getLogger(__name__)

QUEUE = "default"


def run_live_edit_job(operation_id: int) -> dict:
    operation = run_live_edit(operation_id)
    counts = defaultdict(int)
    for status in operation.lines.values_list("status", flat=True):
        counts[status] += 1
    return {"status": operation.status, **counts}


def mark_live_edit_job_failed(job, connection, exc_type, exc_value, traceback):
    """on_failure callback: a job killed by its timeout never reached its own handler."""
    message = f"{getattr(exc_type, '__name__', exc_type)}: {exc_value}"[:2000]
    active = LiveEdit.objects.filter(
        job_id=job.id, status__in=[LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING]
    )
    ids = list(active.values_list("pk", flat=True))
    active.update(status=LiveEdit.Status.FAILED, finished_at=timezone.now(), last_error=message)
    settle.close_dead(ids)  # sent lines stay unknown until read back


def fail_dead_operations() -> int:
    """Record operations whose job died without reaching its own handler (a work-horse killed
    by the OS: rq then calls no on_failure; a job lost with Redis): failed, and every line not
    confirmed says so. Run by the scheduler's minute job (sync.jobs). Returns how many."""
    queue = django_rq.get_queue(QUEUE)
    dead = 0
    active = [LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING]
    for operation in LiveEdit.objects.filter(status__in=active).exclude(job_id=""):
        try:
            job = Job.fetch(operation.job_id, connection=queue.connection)
        except NoSuchJobError:
            status = None
        else:
            status = job.get_status(refresh=False)
            if status not in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                continue  # queued, running, or finished (then it recorded its own end)
        with transaction.atomic():
            if not LiveEdit.objects.filter(pk=operation.pk, status__in=active).update(
                status=LiveEdit.Status.FAILED,
                finished_at=timezone.now(),
                last_error=as_text(
                    why(
                        gettext_noop(
                            "The worker running this change stopped before it finished. Lines "
                            "not marked applied may or may not be on 1688: sync the shop and "
                            "check them before changing them again."
                        )
                    )
                ),
            ):
                continue
            settle.close_dead([operation.pk])  # sent lines stay unknown until read back
        dead += 1
    return dead


def run_live_edit(operation_id: int, *, client: Open1688Client | None = None) -> LiveEdit:
    """The job body: send a queued operation's planned lines, offer by offer."""
    with transaction.atomic():
        operation = LiveEdit.objects.select_for_update().get(pk=operation_id)
        if operation.status not in (LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING):
            return operation  # already done (a duplicate job) or discarded
        operation.status = LiveEdit.Status.RUNNING
        operation.save(update_fields=["status"])
    pending = (
        operation.lines.filter(status=LineStatus.PLANNED)
        .select_related("product__shop", "sku")
        .order_by("product_id", "id")  # offers in the order they were picked from the mirror
    )
    offers: dict[int, list[LiveEditLine]] = defaultdict(list)
    for line in pending:
        offers[line.product_id].append(line)
    stopped: dict[int | None, Message] = {}  # shop id (None: every shop) → why
    try:
        with client_or_new(client) as api:
            for lines in offers.values():
                product = lines[0].product
                reason = stopped.get(None) or stopped.get(product.shop_id)
                if reason:
                    close(lines, LineStatus.FAILED, reason)
                    continue
                try:
                    _apply_offer(operation, product, lines, api)
                except Stop as stop:
                    stopped[None if stop.every_shop else product.shop_id] = stop.reason
                    close(
                        [line for line in lines if line.status == LineStatus.PLANNED],
                        LineStatus.FAILED,
                        stop.reason,
                    )
    except Exception as exc:
        operation.status, operation.last_error = LiveEdit.Status.FAILED, f"{exc}"[:2000]
        operation.finished_at = timezone.now()
        operation.save(update_fields=["status", "last_error", "finished_at"])
        settle.close_dead([operation.pk])
        raise
    return finish(operation)


def _apply_offer(operation: LiveEdit, product: Product, lines: list[LiveEditLine], client):
    shop = product.shop
    try:
        detail = read_offer(shop, client, product)
    except Open1688Error as exc:
        close(lines, *refusal(exc))
        return
    to_send = compare(lines, remote_values(detail))
    # Marked before the call: if the worker dies from here on, the line may be on 1688, and
    # only a read-back can tell (a line still planned was never sent).
    settle.mark_sent(to_send)
    LiveEditLine.objects.bulk_update(lines, ["status", "reason", "found", "sent_at"])
    if not to_send:
        return
    may_be_late = False
    try:
        write_lines(operation, shop, client, detail, to_send)
    except (OutcomeUnknownError, TransportError, ServerError) as exc:
        # No answer (a delta), or none after the retries of an idempotent write (expire, edit,
        # a set): 1688 may have applied it all the same, so what it shows now decides.
        log.warning("live edit %s: outcome unknown for %s, re-reading", operation.pk, product)
        may_be_late = may_land_later(exc)
        wait_for_late_apply(exc)  # after a timeout 1688 may still apply it
    except Open1688Error as exc:
        try:
            outcome = refusal(exc)
        except Stop as stop:  # refused: not applied
            close(to_send, LineStatus.FAILED, stop.reason)
            raise
        close(to_send, *outcome)
        return
    try:
        fresh = read_offer(shop, client, product)
    except (Open1688Error, Stop) as exc:
        settle.not_read_back(to_send, exc)
        if isinstance(exc, Stop):
            raise
        return
    settle.read_back(operation, product, fresh, to_send, may_be_late=may_be_late)
