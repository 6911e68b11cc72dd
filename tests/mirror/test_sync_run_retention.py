"""Sync runs past their retention become one summary a shop a day and are deleted in batches,
never a queued or running one; the admin lists of runs, products and changes count nothing
past a bound and scan no dates."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.mirror import pages as product_pages
from catalog.models import PriceStockChange, SyncRun, SyncRunDay
from sync.retention import prune_sync_runs
from tests.factories import (
    PriceStockChangeFactory,
    ProductFactory,
    ShopFactory,
    SyncRunFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def run(shop, *, days_ago: float, status=SyncRun.Status.SUCCEEDED, **counters) -> SyncRun:
    created = SyncRunFactory(shop=shop, status=status, **counters)
    when = timezone.now() - timedelta(days=days_ago)
    SyncRun.objects.filter(pk=created.pk).update(created_at=when)
    return created


def test_old_finished_runs_become_day_summaries(settings):
    settings.SYNC_RUN_RETENTION_DAYS = 30
    shop, other = ShopFactory(), ShopFactory()
    old = [
        run(shop, days_ago=40, requests_made=3, offers_seen=10, changes_written=2),
        run(shop, days_ago=40, status=SyncRun.Status.FAILED, requests_made=1),
        run(shop, days_ago=40, status=SyncRun.Status.SKIPPED),
        run(other, days_ago=50, offers_created=7),
    ]
    running = run(shop, days_ago=45, status=SyncRun.Status.RUNNING)
    queued = run(shop, days_ago=45, status=SyncRun.Status.QUEUED)
    recent = run(shop, days_ago=2)
    change = PriceStockChangeFactory(sync_run=old[0])

    assert prune_sync_runs(batch=2) == 4
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {running.pk, queued.pk, recent.pk}
    day = SyncRunDay.objects.get(shop=shop)
    assert (day.runs, day.succeeded, day.failed) == (3, 1, 1)
    assert (day.requests_made, day.offers_seen, day.changes_written) == (4, 10, 2)
    assert SyncRunDay.objects.get(shop=other).offers_created == 7
    assert PriceStockChange.objects.get(pk=change.pk).sync_run is None  # the change stays

    same_day = timezone.localdate(timezone.now() - timedelta(days=40))
    late = run(shop, days_ago=40, requests_made=5)
    SyncRun.objects.filter(pk=late.pk).update(
        created_at=timezone.now() - timedelta(days=40, seconds=1)
    )
    assert prune_sync_runs() == 1
    day = SyncRunDay.objects.get(shop=shop, day=same_day)
    assert (day.runs, day.requests_made) == (4, 9)  # added to the day's summary


def test_zero_keeps_every_run_and_the_command_uses_the_setting(settings, capsys):
    shop = ShopFactory()
    run(shop, days_ago=400)
    settings.SYNC_RUN_RETENTION_DAYS = 0
    call_command("prune_sync_runs")
    assert SyncRun.objects.count() == 1
    settings.SYNC_RUN_RETENTION_DAYS = 90
    call_command("prune_sync_runs")
    assert SyncRun.objects.count() == 0 and "1" in capsys.readouterr().out


@pytest.fixture
def boss(client):
    client.force_login(UserFactory(username="boss", is_superuser=True, is_staff=True))
    return client


def _counts(captured) -> list[str]:
    return [q["sql"].upper() for q in captured if q["sql"].upper().startswith("SELECT COUNT(")]


def test_admin_lists_count_only_up_to_a_bound(boss, monkeypatch):
    monkeypatch.setattr(product_pages, "EXACT_COUNT_LIMIT", 5)
    shop = ShopFactory()
    for n in range(12):
        ProductFactory(shop=shop, subject=f"保温杯 {n}")
        run(shop, days_ago=n)
    for name, params in (
        ("admin:catalog_product_changelist", {"q": "保温杯"}),
        ("admin:catalog_product_changelist", {}),
        ("admin:catalog_pricestockchange_changelist", {"q": "保温杯"}),
        ("admin:catalog_syncrun_changelist", {}),
        ("admin:catalog_syncrunday_changelist", {}),
    ):
        with CaptureQueriesContext(connection) as captured:
            response = boss.get(reverse(name), params)
        assert response.status_code == 200, name
        assert all("LIMIT" in sql for sql in _counts(captured)), (name, _counts(captured))
        # No date_hierarchy: no scan of every run's date for the year links.
        assert not any("DISTINCT" in q["sql"].upper() for q in captured), name


def test_the_whole_table_is_not_counted_once_analysed(boss, monkeypatch):
    monkeypatch.setattr(product_pages, "EXACT_COUNT_LIMIT", 5)
    shop = ShopFactory()
    ProductFactory.create_batch(12, shop=shop)
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE catalog_product" if connection.vendor == "postgresql" else "ANALYZE"
        )
    with CaptureQueriesContext(connection) as captured:
        response = boss.get(reverse("admin:catalog_product_changelist"))
    assert response.status_code == 200 and not _counts(captured)
    assert len(response.context["cl"].result_list) == 12
