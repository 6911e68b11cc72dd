"""django-rq jobs and putting them on their queues: thin shells over the services.

`sync.scheduling` decides (which runs died, which shops are due); this module queues. The
every-minute job of the scheduler process (`sync.cron`) is `enqueue_due_syncs_job`.
"""

import logging

import django_rq
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rq import Callback
from rq.exceptions import AbandonedJobError

from catalog.live_edits.run import fail_dead_operations
from catalog.live_edits.settle import settle_unknown_lines
from catalog.models import Shop, SyncRun, UploadBatch
from catalog.publishing.upload import run_upload
from erp1688.messages import as_text, stored
from sync.catalog_sync import SyncRefused, start_run, sync_shop
from sync.scheduling import QUEUE as SYNC_QUEUE
from sync.scheduling import shops_to_queue

log = logging.getLogger(__name__)


def _failure(exc_type, exc_value) -> str:
    if exc_type is AbandonedJobError:
        return _(
            "The worker running this job stopped sending heartbeats (killed or lost); "
            "the scheduler queues the shop again."
        )
    return f"{getattr(exc_type, '__name__', exc_type)}: {exc_value}"[:2000]


# --- sync ------------------------------------------------------------------------------------


def enqueue_sync(shop: Shop, *, kind: str = SyncRun.Kind.INCREMENTAL) -> SyncRun:
    """Queue a sync job for `shop` and return its SyncRun (status queued, job id set)."""
    run = start_run(shop, kind)
    job = django_rq.get_queue(SYNC_QUEUE).enqueue(
        sync_shop_job,
        run.pk,
        job_timeout=settings.SYNC_JOB_TIMEOUT,
        on_failure=Callback(mark_sync_job_failed),
        description=f"sync {shop.member_id} ({kind})",
    )
    SyncRun.objects.filter(pk=run.pk).update(job_id=job.id)
    run.job_id = job.id
    return run


def sync_shop_job(run_id: int) -> dict:
    run = SyncRun.objects.select_related("shop").get(pk=run_id)
    try:
        sync_shop(run)
    except SyncRefused as refusal:
        return {"status": "skipped", "reason": refusal.message}
    return {"status": run.status, "changes": run.changes_written, "offers": run.offers_seen}


def mark_sync_job_failed(job, connection, exc_type, exc_value, traceback):
    """on_failure callback: a job killed by its timeout, or whose worker stopped its heartbeats
    (rq's StartedJobRegistry cleanup), never reached the service's own handler."""
    SyncRun.objects.filter(
        job_id=job.id, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error=_failure(exc_type, exc_value),
    )


def enqueue_due_syncs() -> list[SyncRun]:
    """Record the runs that died (their shops are due again at once), queue every due shop."""
    return [enqueue_sync(shop) for shop in shops_to_queue()]


def enqueue_due_syncs_job() -> int:
    """The scheduler's every-minute job (sync.cron). Returns how many syncs it queued. It also
    records live edits whose job died (catalog.live_edits.run.fail_dead_operations) and reads back
    live-edit lines sent without a confirmed outcome (catalog.live_edits.settle)."""
    queued = len(enqueue_due_syncs())  # first: it lets rq fail jobs whose worker died
    fail_dead_operations()
    try:
        settle_unknown_lines()
    except Exception:  # 1688 unreachable: the next minute reads them again
        log.exception("settling unknown live-edit lines failed")
    return queued


# --- upload ----------------------------------------------------------------------------------


def upload_batch_job(batch_id: int) -> dict:
    batch = run_upload(batch_id)
    return {"status": batch.status, "succeeded": batch.items_succeeded}


def mark_upload_job_failed(job, connection, exc_type, exc_value, traceback):
    """on_failure callback: a job killed by its timeout never reached the service's own handler."""
    UploadBatch.objects.filter(
        job_id=job.id, status__in=[UploadBatch.Status.SUBMITTED, UploadBatch.Status.RUNNING]
    ).update(
        status=UploadBatch.Status.PARTLY_FAILED,
        finished_at=timezone.now(),
        # Stored as a message id with its parameters: shown in the reader's language.
        last_error=as_text(
            stored(gettext_noop("The upload job failed: %(error)s"))
            % {"error": _failure(exc_type, exc_value)}
        ),
    )
