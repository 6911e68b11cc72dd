"""Submit and queue: the checks and state change of a submit (or a staff retry), the job on the
`upload` queue, and whether an upload of a batch is in flight.

Permissions are checked by the services (catalog/publishing/services.py) that call these
functions.
"""

from datetime import timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from catalog.models import Shop, UploadBatch, UploadItem
from catalog.publishing.batch_validation import refresh_batch_counts, validate_batch
from erp1688.messages import render
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from sync.workers import worker_health

# By dotted path: sync.jobs imports the run module, so naming the job here by reference would
# be an import cycle (jobs → upload → jobs).
JOB_FUNC = "sync.jobs.upload_batch_job"
ON_FAILURE = "sync.jobs.mark_upload_job_failed"
QUEUE = "upload"
LIVE_JOB = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
RUNNING, QUEUED = "running", "queued"


def lock_key(batch_id: int) -> str:
    return f"upload:batch:{batch_id}"


def prepare_batch(
    batch: UploadBatch, *, user=None, retry: bool = False, resubmit: bool = False
) -> UploadBatch:
    """The checks and state change of a submit (or a retry, or a resubmit of rejected items),
    without queueing.

    Refused: `shop.not_connected`, `batch.busy`, `batch.nothing_to_retry`,
    `batch.nothing_to_resubmit`, `batch.nothing_to_upload`. The command's --inline runs it,
    then run_upload() in-process.
    """
    shop = Shop.objects.get(pk=batch.shop_id)
    if not shop.is_connected:
        raise Refused(
            RefusalCode.SHOP_NOT_CONNECTED,
            _("Shop %(shop)s is not connected or needs re-authorisation. %(reason)s"),
            params={"shop": shop.name, "reason": render(shop.status_reason)},
        )
    refuse_if_busy(batch)
    if resubmit:
        from catalog.publishing.upload.resubmit import (
            reset_rejected,  # it imports the run, which imports us
        )

        reset_rejected(batch)
    validate_batch(batch)  # also after a failure: staff may have fixed the item
    if retry:
        _reset_failed(batch)
    if not batch.items.to_upload().exists():
        raise Refused(
            RefusalCode.BATCH_NOTHING_TO_UPLOAD, _("The batch has no valid item left to upload.")
        )
    batch.status = UploadBatch.Status.SUBMITTED
    batch.submitted_at = timezone.now()
    batch.finished_at = None
    batch.last_error = ""
    if user is not None and batch.created_by_id is None:
        batch.created_by = user
    batch.save(update_fields=["status", "submitted_at", "finished_at", "last_error", "created_by"])
    refresh_batch_counts(batch)
    return batch


def _reset_failed(batch: UploadBatch) -> None:
    retryable = batch.items.filter(status__in=[UploadItem.Status.FAILED, UploadItem.Status.UNKNOWN])
    if not retryable.valid().exists():
        raise Refused(RefusalCode.BATCH_NOTHING_TO_RETRY, _("No failed item to retry."))
    # Unknown items keep their status: the run asks 1688 about them before sending anything.
    retryable.filter(status=UploadItem.Status.FAILED).back_to_pending()


def enqueue_upload(batch: UploadBatch, *, delay: int | None = None) -> str:
    queue = django_rq.get_queue(QUEUE)
    options = {
        "job_timeout": settings.UPLOAD_JOB_TIMEOUT,
        "on_failure": Callback(ON_FAILURE),
        "description": f"upload batch {batch.pk}",
    }
    if delay:
        job = queue.enqueue_in(timedelta(seconds=delay), JOB_FUNC, batch.pk, **options)
    else:
        job = queue.enqueue(JOB_FUNC, batch.pk, **options)
    UploadBatch.objects.filter(pk=batch.pk).update(job_id=job.id)
    batch.job_id = job.id
    return job.id


def upload_state(batch: UploadBatch) -> str:
    """RUNNING when a run holds the batch lock or its job has started, QUEUED when its job
    waits (queued, scheduled, deferred), else ""."""
    connection = django_rq.get_connection("default")
    if connection.exists(lock_key(batch.pk)):
        return RUNNING
    # From the database: a rate-limited run may have scheduled a new job since `batch` was read.
    job_id = UploadBatch.objects.filter(pk=batch.pk).values_list("job_id", flat=True).first()
    if not job_id:
        return ""
    try:
        job = Job.fetch(job_id, connection=django_rq.get_queue(QUEUE).connection)
    except NoSuchJobError:
        return ""
    status = job.get_status(refresh=True)
    if status not in LIVE_JOB:
        return ""
    return RUNNING if status == JobStatus.STARTED else QUEUED


def upload_in_progress(batch: UploadBatch) -> bool:
    """A job of this batch is queued/scheduled/running, or a run holds the batch lock."""
    return bool(upload_state(batch))


def refuse_if_busy(batch: UploadBatch) -> None:
    """Refused `batch.busy`, saying what the batch waits for: the worker publishing it, a free
    worker, or a worker to start at all (then "try again soon" would never come true)."""
    state = upload_state(batch)
    if not state:
        return
    alive = worker_health().serves(QUEUE)
    if state == RUNNING and alive:
        message = _("The batch is being published by a worker; try again when it finishes.")
    elif state == RUNNING:
        message = _(
            "The batch was being published by a worker that no longer answers; its hold on the "
            "batch ends within %(seconds)d s, then try again."
        )
    elif alive:
        message = _(
            "The batch's upload is queued and starts when a worker is free; try again when it "
            "finishes."
        )
    else:
        message = _(
            "The batch's upload is queued, but no worker is running: it waits until one starts."
        )
    raise Refused(
        RefusalCode.BATCH_BUSY, message, params={"seconds": int(settings.LOCK_TTL_SECONDS)}
    )


def resume_stalled_uploads() -> list[int]:
    """Queue again every batch whose run died (a SIGKILLed or lost worker): `running` without
    its lock (a live run holds it while the batch is running), or `submitted` with no live job.
    Run every minute by the scheduler (sync/cron.py): with LOCK_TTL_SECONDS = 60 a killed
    worker's batch goes on within two minutes; its items left `uploading` are looked for on
    1688 before anything is sent again (catalog/publishing/upload/run.py)."""
    connection = django_rq.get_connection("default")
    resumed = []
    stalled = UploadBatch.objects.filter(
        status__in=[UploadBatch.Status.RUNNING, UploadBatch.Status.SUBMITTED]
    )
    for batch in stalled:
        if connection.exists(lock_key(batch.pk)):
            continue
        if batch.status == UploadBatch.Status.SUBMITTED and upload_in_progress(batch):
            continue
        enqueue_upload(batch)
        resumed.append(batch.pk)
    return resumed


def resume_stalled_uploads_job() -> int:
    return len(resume_stalled_uploads())
