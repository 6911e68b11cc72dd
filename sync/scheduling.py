"""The scheduler's decisions: which shops are due, and which runs died with their job.

Nothing here queues anything: `sync.jobs` holds the jobs and `enqueue_sync`, and its
every-minute job asks this module first which runs are dead, then which shops are due.

A run is dead when
- it is running but no longer holds its shop's lock: the lock is renewed by the run while it
  works (sync/locks.py), so a worker killed mid-run (SIGKILL, OOM, a lost machine) lets it end
  within LOCK_TTL_SECONDS;
- it is queued but its job is gone from Redis (Redis restarted without its data, or lost the
  last second of it), is no longer on the queue, or ended (failed, stopped, cancelled) without
  the run being recorded, e.g. a work-horse killed before it reached the run;
- its worker stopped sending heartbeats: rq's StartedJobRegistry cleanup moves such a job to
  the failed registry and calls its on_failure callback, which records the run.
"""

from datetime import timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue

from catalog.alerts import engine as alerts
from catalog.models import Shop, SyncRun
from sync.catalog_sync import lock_key, lock_owner
from sync.locks import holder

QUEUE = "sync"
ACTIVE_RUN = SyncRun.ACTIVE_STATUSES
ENDED_JOB = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED}


def due_shops(now=None, *, retry: frozenset[int] | set[int] = frozenset()) -> list[Shop]:
    """Scheduled shops with no run in flight and none started within the interval.

    `retry`: shops whose last run died with its worker or its job; they are due at once.
    """
    now = now or timezone.now()
    interval = timedelta(minutes=settings.SYNC_INTERVAL_MINUTES)
    busy = SyncRun.objects.filter(status__in=ACTIVE_RUN)
    recent = SyncRun.objects.filter(created_at__gt=now - interval).exclude(shop_id__in=retry)
    return list(
        Shop.objects.scheduled()
        .exclude(pk__in=busy.values("shop_id"))
        .exclude(pk__in=recent.values("shop_id"))
    )


def fail_dead_runs(now=None) -> list[SyncRun]:
    """Mark every run whose worker or job died as failed, with the reason; return those runs."""
    now = now or timezone.now()
    queue = django_rq.get_queue(QUEUE)
    active = list(SyncRun.objects.filter(status__in=ACTIVE_RUN).values_list("pk", flat=True))
    clean_abandoned_jobs()
    for run in SyncRun.objects.filter(status__in=ACTIVE_RUN).select_related("shop"):
        reason = why_dead(run, queue, now)
        if reason:
            # Only if it is still in the state we judged: a run that just finished keeps its end.
            SyncRun.objects.filter(pk=run.pk, status=run.status).update(
                status=SyncRun.Status.FAILED,
                finished_at=now,
                error=reason[:2000],
                error_kind=SyncRun.ErrorKind.WORKER,
            )
    dead = list(SyncRun.objects.filter(pk__in=active, status=SyncRun.Status.FAILED))
    for run in dead:  # "sync failing" alerts (a run that failed on its own has raised its own)
        alerts.on_run_finished(run=run)
    return dead


def clean_abandoned_jobs() -> None:
    """Jobs whose worker stopped its heartbeats (every queue: sync, upload, default): rq fails
    them and calls their on_failure callback (sync.jobs.mark_sync_job_failed /
    mark_upload_job_failed), which records their run or batch. Workers do this only every few
    minutes; the scheduler does it every minute."""
    for name in settings.RQ_QUEUES:
        django_rq.get_queue(name).started_job_registry.cleanup()


def why_dead(run: SyncRun, queue: Queue, now) -> str:
    """Why `run` can never finish, or "" while it may still be alive."""
    if run.status == SyncRun.Status.RUNNING:
        if holder(lock_key(run.shop_id)) == lock_owner(run):
            return ""  # its holder renews the lock: alive
        return _(
            "The worker running this sync stopped before it finished (its lock ended); "
            "the scheduler queues the shop again."
        )
    if not run.job_id:  # a run started inline (sync_shops): it takes the lock at once
        if run.created_at < now - timedelta(seconds=2 * settings.LOCK_TTL_SECONDS):
            return _("The process that created this run stopped before the run started.")
        return ""
    try:
        job = Job.fetch(run.job_id, connection=queue.connection)
    except NoSuchJobError:
        return _(
            "Its job is no longer in Redis (Redis restarted without its data?); "
            "the scheduler queues the shop again."
        )
    status = job.get_status(refresh=False)
    if status in ENDED_JOB:
        result = job.latest_result()
        detail = (result.exc_string or "").strip().splitlines()[-1:] if result else []
        return _("Its job ended (%(status)s) before the run started: %(detail)s") % {
            "status": getattr(status, "value", status),
            "detail": detail[0][:500] if detail else "-",
        }
    if (
        status == JobStatus.QUEUED
        and not _on_queue(queue, job.id)
        and job.get_status(refresh=True) == JobStatus.QUEUED  # not just taken by a worker
    ):
        return _(
            "Its job is no longer on the queue (Redis lost it); the scheduler queues the shop "
            "again."
        )
    return ""


def _on_queue(queue: Queue, job_id: str) -> bool:
    connection = queue.connection
    return any(
        connection.lpos(key, job_id) is not None
        for key in (queue.key, queue.intermediate_queue_key)
    )


def shops_to_queue(now=None) -> list[Shop]:
    """The scheduler's every-minute question: dead runs recorded, then the due shops."""
    dead = fail_dead_runs(now)
    return due_shops(now, retry={run.shop_id for run in dead})
