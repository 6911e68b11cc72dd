"""Reads behind the shops page and the dashboard: each shop's health row (connection, token
expiry, next scheduled sync, the last run's result in plain words), running jobs, recent
failures and changes, the shared rate limit in use, the user's unread alerts.

Every read is a bounded query; the number of queries does not grow with the data
(tests/shops/test_dashboard.py counts them).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.alerts import selectors as alert_selectors
from catalog.alerts.failures import explain
from catalog.alerts.rendering import link, message
from catalog.models import PriceStockChange, Shop, SyncRun, UploadBatch
from catalog.shops.clients import shared_rate_limiter
from open1688.ratelimit import BucketUsage

ACTIVE_RUN = SyncRun.ACTIVE_STATUSES
FAILURES_SINCE = timedelta(days=7)
RUNS_ON_SHOP_PAGE = 20
DATA_PROBLEMS_SHOWN = 100
OVERDUE_AFTER = timedelta(minutes=3)


def shops():
    return Shop.objects.order_by("name")


def shop(pk) -> Shop:
    """One shop for its page (Http404 when there is none)."""
    return get_object_or_404(Shop, pk=pk)


def latest_runs(shop_ids) -> dict[int, SyncRun]:
    """Each shop's newest run (two queries whatever the number of runs)."""
    newest = (
        SyncRun.objects.filter(shop_id__in=list(shop_ids))
        .order_by()
        .values("shop_id")
        .annotate(last=Max("id"))
    )
    ids = [row["last"] for row in newest]
    return {run.shop_id: run for run in SyncRun.objects.filter(pk__in=ids)}


def latest_finished_runs(shop_ids) -> dict[int, SyncRun]:
    """Each shop's newest run that ended (succeeded or failed)."""
    newest = (
        SyncRun.objects.filter(
            shop_id__in=list(shop_ids),
            status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED],
        )
        .order_by()
        .values("shop_id")
        .annotate(last=Max("id"))
    )
    ids = [row["last"] for row in newest]
    return {run.shop_id: run for run in SyncRun.objects.filter(pk__in=ids)}


def next_sync(shop: Shop, latest: SyncRun | None, now) -> dict:
    """When the scheduler syncs the shop next (sync/scheduling.py `due_shops`): {"at", "note"}."""
    if shop.status != Shop.Status.ACTIVE:
        return {"at": None, "note": _("not synced until it is authorised again")}
    if not shop.sync_enabled:
        return {"at": None, "note": _("scheduled sync is off")}
    if latest is not None and latest.status in ACTIVE_RUN:
        return {"at": None, "note": _("a sync is running now")}
    if latest is None:
        return {"at": None, "note": _("within a minute")}
    due = latest.created_at + timedelta(minutes=settings.SYNC_INTERVAL_MINUTES)
    late = now - due
    if late >= OVERDUE_AFTER:  # the scheduler ticks every minute: this late, it is not ticking
        return {
            "at": None,
            "overdue": True,
            "note": _(
                "overdue by %(minutes)d minutes: check that the scheduler is running, or sync now"
            )
            % {"minutes": late.total_seconds() // 60},
        }
    if due - now < timedelta(minutes=1):  # "in 0 minutes" reads like an error
        return {"at": None, "note": _("within a minute")}
    return {"at": due, "note": ""}


def token_state(shop: Shop, now) -> dict:
    """The authorisation's remaining life, for the countdown."""
    refresh = shop.refresh_token_expires_at
    return {
        "refresh_expires": refresh,
        "refresh_left": (refresh - now) if refresh else None,
        "refresh_expired": bool(refresh and refresh <= now),
        "refresh_soon": bool(refresh and now < refresh <= now + timedelta(days=30)),
        "access_expires": shop.access_token_expires_at,
    }


def shop_rows(shops) -> list[dict]:
    """What the shops page and the dashboard show of each shop."""
    shops = list(shops)
    ids = [s.pk for s in shops]
    now = timezone.now()
    newest = latest_runs(ids)
    finished = latest_finished_runs(ids)
    rows = []
    for shop in shops:
        last, current = finished.get(shop.pk), newest.get(shop.pk)
        rows.append(
            {
                "shop": shop,
                # As the last run counted them (None: never synced).
                "products": last.offers_mirrored if last else None,
                "current": current if current and current.status in ACTIVE_RUN else None,
                "last": last,
                "problem": explain(last) if last else None,
                "next": next_sync(shop, current, now),
                "token": token_state(shop, now),
            }
        )
    return rows


def explained_runs(shop: Shop) -> list[SyncRun]:
    """The shop's newest runs, each with its failure in plain words (`problem`)."""
    runs = list(shop.sync_runs.order_by("-id")[:RUNS_ON_SHOP_PAGE])
    for run in runs:
        run.problem = explain(run)
    return runs


def data_problems(shop: Shop) -> list:
    return list(shop.data_problems.order_by("-last_seen_at", "offer_id")[:DATA_PROBLEMS_SHOWN])


def rate_limit_state() -> BucketUsage | None:
    """The shared 1688 rate limit as the limiter reports it: how much is in use now, how many
    calls wait for their slots."""
    try:
        return shared_rate_limiter().usage()
    except Exception:  # Redis down: the dashboard still renders, without this box
        return None


def running_jobs() -> dict:
    runs = list(
        SyncRun.objects.filter(status__in=ACTIVE_RUN).select_related("shop").order_by("-id")[:20]
    )
    for run in runs:
        total = run.offers_total or 0
        run.percent = min(100, round(100 * run.offers_seen / total)) if total else 0
    batches = list(
        UploadBatch.objects.filter(status__in=UploadBatch.LOCKED_STATUSES)
        .select_related("shop")
        .order_by("-id")[:20]
    )
    return {"runs": runs, "batches": batches, "busy": bool(runs or batches)}


def recent_failures(now) -> dict:
    since = now - FAILURES_SINCE
    runs = list(
        SyncRun.objects.filter(status=SyncRun.Status.FAILED, created_at__gte=since)
        .select_related("shop")
        .order_by("-id")[:10]
    )
    for run in runs:
        run.problem = explain(run)
    batches = list(
        UploadBatch.objects.filter(status=UploadBatch.Status.PARTLY_FAILED, created_at__gte=since)
        .select_related("shop")
        .order_by("-id")[:10]
    )
    return {"failed_runs": runs, "failed_batches": batches}


def recent_runs() -> list[SyncRun]:
    return list(SyncRun.objects.select_related("shop").order_by("-id")[:10])


def recent_changes() -> list[PriceStockChange]:
    """The own offers' newest changes, through the (observed_at, id) index."""
    return list(
        PriceStockChange.objects.filter(product__isnull=False)
        .select_related("product", "sku", "shop")
        .order_by("-observed_at", "-id")[:20]
    )


def unread_alerts(user) -> list[tuple]:
    """The user's newest unread alerts: (alert, its message, its link)."""
    shown = list(alert_selectors.inbox(user, unread_only=True)[:5])
    return [(a, message(a), link(a)) for a in shown]
