"""Sync-run retention: finished runs older than SYNC_RUN_RETENTION_DAYS are folded into one
summary row a shop a day (catalog.SyncRunDay) and deleted, a batch per transaction, so the
run table stays the size of the retention window (10 shops syncing every 30 minutes leave
~175,000 runs a year otherwise) and a long prune never holds a lock for long.

Queued and running runs are never touched, whatever their age. The change rows a deleted run
wrote stay; their `sync_run` link becomes empty.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import SyncRun
from catalog.models.sync_history import SUMMED, SyncRunDay

FINISHED = (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED, SyncRun.Status.SKIPPED)
BATCH = 1000


def prune_sync_runs(
    *, days: int | None = None, now: datetime | None = None, batch: int = BATCH
) -> int:
    """Fold and delete the finished runs created before `days` ago; how many were deleted."""
    days = settings.SYNC_RUN_RETENTION_DAYS if days is None else days
    if days <= 0:  # retention off
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = SyncRun.objects.filter(created_at__lt=cutoff, status__in=FINISHED)
    deleted = 0
    while True:
        with transaction.atomic():
            # Oldest first along the primary key; locked so a concurrent prune skips them.
            ids = list(
                old.order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                return deleted
            _fold(SyncRun.objects.filter(id__in=ids))
            deleted += SyncRun.objects.filter(id__in=ids).delete()[1].get(SyncRun._meta.label, 0)


def _fold(runs) -> None:
    """Add `runs` to their shops' day summaries."""
    days = (
        runs.annotate(day=TruncDate("created_at"))
        .order_by()
        .values("shop_id", "day")
        .annotate(
            runs=Count("id"),
            succeeded=Count("id", filter=Q(status=SyncRun.Status.SUCCEEDED)),
            failed=Count("id", filter=Q(status=SyncRun.Status.FAILED)),
            **{f"sum_{name}": Sum(name) for name in SUMMED},
        )
    )
    for day in days:
        added = {name: day[name] for name in ("runs", "succeeded", "failed")}
        added.update({name: day[f"sum_{name}"] or 0 for name in SUMMED})
        summary, created = SyncRunDay.objects.get_or_create(
            shop_id=day["shop_id"], day=day["day"], defaults=added
        )
        if not created:
            SyncRunDay.objects.filter(pk=summary.pk).update(
                **{name: F(name) + value for name, value in added.items()}
            )


def prune_job() -> int:
    """The daily RQ cron job (sync/cron.py)."""
    return prune_sync_runs()
