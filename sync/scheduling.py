"""Which shops are due, and putting their sync jobs on the queue."""

from datetime import timedelta

import django_rq
from django.conf import settings
from django.utils import timezone
from rq import Callback

from catalog.models import Shop, SyncRun
from sync.catalog_sync import start_run

ACTIVE_RUN = [SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]


def enqueue_sync(shop: Shop, *, kind: str = SyncRun.Kind.INCREMENTAL) -> SyncRun:
    """Queue a sync job for `shop` and return its SyncRun (status queued)."""
    from sync.jobs import mark_sync_job_failed, sync_shop_job

    run = start_run(shop, kind)
    job = django_rq.get_queue("sync").enqueue(
        sync_shop_job,
        run.pk,
        job_timeout=settings.SYNC_JOB_TIMEOUT,
        on_failure=Callback(mark_sync_job_failed),
        description=f"sync {shop.member_id} ({kind})",
    )
    SyncRun.objects.filter(pk=run.pk).update(job_id=job.id)
    run.job_id = job.id
    return run


def due_shops(now=None) -> list[Shop]:
    """Active, scheduled shops with no run in flight and none started within the interval."""
    now = now or timezone.now()
    interval = timedelta(minutes=settings.SYNC_INTERVAL_MINUTES)
    busy = SyncRun.objects.filter(status__in=ACTIVE_RUN, created_at__gt=now - stale_after())
    recent = SyncRun.objects.filter(created_at__gt=now - interval)
    return list(
        Shop.objects.filter(status=Shop.Status.ACTIVE, sync_enabled=True)
        .exclude(pk__in=busy.values("shop_id"))
        .exclude(pk__in=recent.values("shop_id"))
    )


def stale_after() -> timedelta:
    """A run still queued/running after twice the job timeout died with its worker."""
    return timedelta(seconds=2 * settings.SYNC_JOB_TIMEOUT)


def enqueue_due_syncs() -> int:
    """The periodic job (rqcron): queue every due shop. Returns how many were queued."""
    now = timezone.now()
    SyncRun.objects.filter(status__in=ACTIVE_RUN, created_at__lte=now - stale_after()).update(
        status=SyncRun.Status.FAILED, finished_at=now, error="the worker died during this run"
    )
    shops = due_shops(now)
    for shop in shops:
        enqueue_sync(shop)
    return len(shops)
