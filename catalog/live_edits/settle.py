"""Every line of a live edit ends in a true state, also when the answer or the worker is lost.

A line is marked sent (`unknown`, `sent_at`) just before its write goes out. Then:
- the job reads the offer back: the new value shows → applied; 1688 answered and shows
  something else → failed ("did not take"); the write timed out and the value does not show
  yet → still unknown, since 1688 may apply it later;
- a worker that dies leaves its lines as they were: planned ones were never sent and are failed
  as such (`close_dead`), unknown ones stay unknown;
- the minute job (`settle_unknown_lines`) reads the offers of unknown lines once the grace
  period (OPEN1688_LATE_APPLY_GRACE_SECONDS) has passed since they were sent: the value shows →
  applied late (mirrored and logged as a change this ERP made), otherwise they stay unknown until
  LIVE_EDIT_CONFIRM_SECONDS have passed, then failed with what 1688 shows.
Nothing is ever sent again from here: a stock delta is not idempotent.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog.live_edits.errors import Stop, reason_for
from catalog.live_edits.lines import (
    close,
    finish,
    line_key,
    line_text,
    read_offer,
    remote_values,
    same_value,
    why,
)
from catalog.live_edits.record import log_changes, mirror_applied
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import client_or_new
from erp1688.messages import as_text
from open1688 import Open1688Client, Open1688Error

log = logging.getLogger(__name__)

LineStatus = LiveEditLine.Status
SETTLE_MAX_OFFERS = 50  # offers read per minute-job tick
FIELDS = ["status", "reason", "found", "sent_at"]
# Reasons that lines written before this module still hold, shown in the reader's language.
OLDER_REASONS = (
    gettext_noop("Sent, but not read back: %(reason)s"),
    gettext_noop("Not confirmed: the worker stopped. Sync the shop and check this offer."),
)


def mark_sent(lines: list[LiveEditLine]) -> None:
    now = timezone.now()
    for line in lines:
        line.status, line.sent_at = LineStatus.UNKNOWN, now
        line.reason = as_text(why(gettext_noop("Sent to 1688; waiting for it to confirm.")))


def not_read_back(lines: list[LiveEditLine], exc: Exception) -> None:
    """Sent, but the read-back failed: still unknown, read again by the minute job."""
    reason = reason_for(exc) if isinstance(exc, Open1688Error) else exc.reason
    close(
        lines,
        LineStatus.UNKNOWN,
        why(
            gettext_noop("Sent, but not read back yet (%(reason)s); it is checked again."),
            reason=reason,
        ),
    )


def read_back(operation, product, fresh, lines, *, may_be_late: bool, late: bool = False):
    """Decide `lines` from `fresh` (the offer as 1688 shows it now); mirror and log what took.
    `may_be_late`: the write timed out, so a value not showing yet stays unknown. `late`: this
    is a later check than the job's own (what took is reported as applied late)."""
    now_values = remote_values(fresh)
    applied, decided = [], []
    for line in lines:
        line.found = line_text(now_values.get(line_key(line)))
        if same_value(line, line.found, line.after):
            line.status, line.reason = LineStatus.APPLIED, ""
            if late and operation.last_error:  # the worker died before it could check
                line.reason = as_text(
                    why(
                        gettext_noop("Applied: confirmed by reading 1688 after the worker stopped.")
                    )
                )
            elif late:
                line.reason = as_text(
                    why(
                        gettext_noop(
                            "Applied late: 1688 showed the change only after the grace period."
                        )
                    )
                )
            applied.append(line)
        elif may_be_late:
            line.reason = as_text(
                why(
                    gettext_noop(
                        "1688 did not answer in time and does not show the change yet (it shows "
                        "%(found)s); it is checked again."
                    ),
                    found=line.found or "—",
                )
            )
        else:
            line.status = LineStatus.FAILED
            line.reason = as_text(
                why(
                    gettext_noop("1688 did not take the change: it shows %(found)s."),
                    found=line.found or "—",
                )
            )
        decided.append(line)
    with transaction.atomic():
        LiveEditLine.objects.bulk_update(decided, FIELDS)
        mirror_applied(product, fresh, applied)
        log_changes(operation, product, fresh, applied)


def close_dead(operation_ids) -> None:
    """The worker of these operations died: lines still planned were never sent."""
    LiveEditLine.objects.filter(
        operation_id__in=list(operation_ids), status=LineStatus.PLANNED
    ).update(
        status=LineStatus.FAILED,
        reason=as_text(
            why(gettext_noop("Not sent: the worker stopped before this line was sent to 1688."))
        ),
    )


def settle_unknown_lines(*, client: Open1688Client | None = None) -> int:
    """Read back the offers of lines sent without a confirmed outcome, once their grace period
    has passed (jobs still running decide their own). Returns how many lines were decided."""
    now = timezone.now()
    grace = timedelta(seconds=settings.OPEN1688_LATE_APPLY_GRACE_SECONDS)
    give_up = timedelta(seconds=settings.LIVE_EDIT_CONFIRM_SECONDS)
    running = [LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING]
    due = (
        LiveEditLine.objects.filter(status=LineStatus.UNKNOWN, sent_at__lte=now - grace)
        .exclude(operation__status__in=running)
        .select_related("operation", "operation__applied_by", "product__shop")
        .order_by("sent_at", "id")
    )
    offers: dict[tuple[int, int], list[LiveEditLine]] = defaultdict(list)
    for line in due:
        key = (line.operation_id, line.product_id)
        if key in offers or len(offers) < SETTLE_MAX_OFFERS:
            offers[key].append(line)
    decided = 0
    with client_or_new(client) as api:
        for lines in offers.values():
            operation, product = lines[0].operation, lines[0].product
            overdue = all(now - line.sent_at >= give_up for line in lines)
            try:
                fresh = read_offer(product.shop, api, product)
            except (Open1688Error, Stop) as exc:
                log.warning("live edit %s: read-back of %s failed: %s", operation.pk, product, exc)
                if overdue:
                    decided += _give_up(lines, exc)
                continue
            read_back(operation, product, fresh, lines, may_be_late=not overdue, late=True)
            decided += sum(line.status != LineStatus.UNKNOWN for line in lines)
    for operation in {lines[0].operation for lines in offers.values()}:
        confirming = operation.status == LiveEdit.Status.CONFIRMING
        if confirming and not operation.lines.filter(status=LineStatus.UNKNOWN).exists():
            finish(operation)
    return decided


def _give_up(lines: list[LiveEditLine], exc: Exception) -> int:
    close(
        lines,
        LineStatus.FAILED,
        why(
            gettext_noop(
                "Not confirmed: 1688 could not be read to check this change (%(error)s). Sync "
                "the shop and check the offer before changing it again."
            ),
            error=str(exc),
        ),
    )
    return len(lines)
