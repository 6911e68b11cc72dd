"""django-rq jobs: thin shells over the services."""

from django.utils import timezone

from catalog.models import SyncRun
from sync.catalog_sync import SyncRefused, sync_shop


def _failure(exc_type, exc_value, prefix: str = "") -> str:
    return f"{prefix}{getattr(exc_type, '__name__', exc_type)}: {exc_value}"[:2000]


def sync_shop_job(run_id: int) -> dict:
    run = SyncRun.objects.select_related("shop").get(pk=run_id)
    try:
        sync_shop(run)
    except SyncRefused:
        return {"status": "skipped"}
    return {"status": run.status, "changes": run.changes_written, "offers": run.offers_seen}


def mark_sync_job_failed(job, connection, exc_type, exc_value, traceback):
    """on_failure callback: a job killed by its timeout never reached the service's own handler."""
    SyncRun.objects.filter(
        job_id=job.id, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
    ).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        error=_failure(exc_type, exc_value),
    )


def enqueue_due_syncs_job() -> int:
    from sync.scheduling import enqueue_due_syncs

    return enqueue_due_syncs()


def upload_batch_job(batch_id: int) -> dict:
    from sync.upload import run_upload

    batch = run_upload(batch_id)
    return {"status": batch.status, "succeeded": batch.items_succeeded}


def mark_upload_job_failed(job, connection, exc_type, exc_value, traceback):
    """on_failure callback: a job killed by its timeout never reached the service's own handler."""
    from catalog.models import UploadBatch

    UploadBatch.objects.filter(
        job_id=job.id, status__in=[UploadBatch.Status.SUBMITTED, UploadBatch.Status.RUNNING]
    ).update(
        status=UploadBatch.Status.PARTLY_FAILED,
        finished_at=timezone.now(),
        last_error=_failure(exc_type, exc_value, "上传任务失败 / The upload job failed: "),
    )
