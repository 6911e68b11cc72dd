"""Locks renewed by their holder (sync/locks.py), refusals that say so, and the scheduler finding
runs that died, all on the real Redis behind RQ and the sandbox over HTTP."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from rq.job import Job

from catalog.models import Product, SyncRun
from sync.catalog_sync import SyncRefused, lock_key, lock_owner, start_run, sync_shop
from sync.jobs import enqueue_due_syncs_job, enqueue_sync
from sync.locks import LockLost, held_lock, holder
from sync.scheduling import fail_dead_runs
from tests.conftest import run_worker

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def english():
    """The reasons are checked by their English message ids (the default language is zh-hans)."""
    with translation.override("en"):
        yield


def seed(sandbox, shop, count):
    return sandbox.control("seed", {"member_id": shop.member_id, "count": count, "seed": 11})


def wait_for(condition, timeout: float, what: str) -> float:
    """Poll until `condition()`; return the seconds it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - start


# --- the lock itself -------------------------------------------------------------------------


def test_a_held_lock_outlives_its_ttl_while_the_holder_works(redis_conn, settings):
    settings.LOCK_TTL_SECONDS = 1
    with held_lock("erp1688:test:renewed", owner="worker A") as lock:
        assert lock is not None
        time.sleep(3.2)  # more than three TTLs
        assert redis_conn.exists("erp1688:test:renewed")
        assert 0 < redis_conn.pttl("erp1688:test:renewed") <= 1000
        assert holder("erp1688:test:renewed") == "worker A"
        assert lock.renewals >= 6
        lock.check()  # not lost
        with held_lock("erp1688:test:renewed", owner="worker B") as second:
            assert second is None  # refused while the first one works
    assert not redis_conn.exists("erp1688:test:renewed")  # released on exit
    assert holder("erp1688:test:renewed") is None


def test_the_lock_is_released_when_the_block_raises(redis_conn):
    with pytest.raises(ZeroDivisionError), held_lock("erp1688:test:raise", owner="x"):
        1 / 0  # noqa: B018
    assert not redis_conn.exists("erp1688:test:raise")


@pytest.mark.exclusive  # timed: no other test may share the cores
def test_a_killed_holders_lock_ends_within_its_ttl(redis_conn):
    """A real process takes the lock and is SIGKILLed: nobody releases it, it simply ends."""
    code = (
        "import time\n"
        "from sync.locks import held_lock\n"
        "with held_lock('erp1688:test:killed', owner='doomed') as lock:\n"
        "    print('HELD', flush=True)\n"
        "    time.sleep(600)\n"
    )
    env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "LOCK_TTL_SECONDS": "2"}
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for line in child.stdout:  # the shell may print a banner first
            if line.strip() == b"HELD":
                break
        else:
            raise AssertionError(child.stderr.read().decode())
        time.sleep(2.5)  # past one TTL: the child's thread has been renewing it
        assert holder("erp1688:test:killed") == "doomed"
        child.send_signal(signal.SIGKILL)
        child.wait()
        took = wait_for(lambda: not redis_conn.exists("erp1688:test:killed"), 5, "the lock to end")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert took <= 2.2  # within one TTL of the last renewal


def test_a_lost_lock_is_noticed_and_reported(redis_conn, settings):
    settings.LOCK_TTL_SECONDS = 0.6
    with held_lock("erp1688:test:lost", owner="me") as lock:
        redis_conn.delete("erp1688:test:lost")  # Redis lost it (restart without data)
        wait_for(lambda: lock.lost, 2, "the renewal to notice")
        with pytest.raises(LockLost, match="erp1688:test:lost"):
            lock.check()
    assert not redis_conn.exists("erp1688:test:lost")


# --- the sync under its lock -----------------------------------------------------------------


def test_a_sync_that_loses_its_lock_stops_at_the_next_page_and_says_why(
    sandbox, connected_shop, redis_conn, settings
):
    settings.LOCK_TTL_SECONDS = 0.6
    seed(sandbox, connected_shop, 60)

    def lose_the_lock_after_page_one(run):
        if run.pages == 1:
            redis_conn.delete(lock_key(connected_shop.pk))
            time.sleep(0.5)  # the renewing thread finds it gone

    run = start_run(connected_shop)
    with pytest.raises(LockLost):
        sync_shop(run, progress=lose_the_lock_after_page_one)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and "LockLost" in run.error
    assert run.pages == 2 and Product.objects.count() == 40  # stopped after the page it was on
    assert run.cursor_after is None


def test_a_refused_sync_is_recorded_skipped_naming_the_holder_and_the_command_fails(
    sandbox, connected_shop
):
    seed(sandbox, connected_shop, 3)
    with held_lock(lock_key(connected_shop.pk), owner="run 999"):
        run = start_run(connected_shop)
        with pytest.raises(SyncRefused) as refusal:
            sync_shop(run)
        assert refusal.value.code == "sync_running"
        run.refresh_from_db()
        assert run.status == SyncRun.Status.SKIPPED and "run 999" in run.error

        with pytest.raises(CommandError, match="failed to sync"):
            call_command("sync_shops", "--shop", connected_shop.member_id)
        latest = SyncRun.objects.order_by("-pk").first()
        assert latest.status == SyncRun.Status.SKIPPED and "run 999" in latest.error

    call_command("sync_shops", "--shop", connected_shop.member_id)  # free again: exit 0
    assert SyncRun.objects.order_by("-pk").first().status == SyncRun.Status.SUCCEEDED


def test_enqueue_refuses_a_shop_with_a_run_in_flight(sandbox, connected_shop):
    run = enqueue_sync(connected_shop)
    with pytest.raises(CommandError, match="failed to sync"):
        call_command("sync_shops", "--shop", connected_shop.member_id, "--enqueue")
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [run.pk]


# --- runs that died are found, recorded and their shops queued again -------------------------


def test_a_running_run_whose_lock_ended_is_failed_and_its_shop_queued_again(
    sandbox, connected_shop
):
    seed(sandbox, connected_shop, 3)
    enqueue_due_syncs_job()
    run_worker("sync")  # the shop synced just now: not due for SYNC_INTERVAL_MINUTES
    assert enqueue_due_syncs_job() == 0
    # A run whose worker was killed: "running", and no lock of its own any more.
    dead = start_run(connected_shop)
    SyncRun.objects.filter(pk=dead.pk).update(status=SyncRun.Status.RUNNING)
    with held_lock(lock_key(connected_shop.pk), owner=lock_owner(dead)):
        assert fail_dead_runs() == []  # its lock still held: alive

    assert enqueue_due_syncs_job() == 1  # recorded dead, and the shop queued at once
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and "lock ended" in dead.error
    assert dead.finished_at is not None
    run_worker("sync")
    assert SyncRun.objects.order_by("-pk").first().status == SyncRun.Status.SUCCEEDED


def test_a_queued_run_whose_job_vanished_from_redis_is_failed_and_queued_again(
    sandbox, connected_shop
):
    seed(sandbox, connected_shop, 3)
    lost = enqueue_sync(connected_shop)
    assert fail_dead_runs() == []  # queued, job in Redis: alive
    Job.fetch(lost.job_id, connection=django_rq.get_connection("sync")).delete()

    assert enqueue_due_syncs_job() == 1
    lost.refresh_from_db()
    assert lost.status == SyncRun.Status.FAILED and "no longer in Redis" in lost.error
    run_worker("sync")
    assert SyncRun.objects.order_by("-pk").first().status == SyncRun.Status.SUCCEEDED
    assert Product.objects.count() == 3


def test_a_queued_run_whose_job_fell_off_the_queue_is_failed(sandbox, connected_shop, redis_conn):
    lost = enqueue_sync(connected_shop)
    queue = django_rq.get_queue("sync")
    assert redis_conn.lrem(queue.key, 0, lost.job_id) == 1  # the hash survived, the list entry not

    assert enqueue_due_syncs_job() == 1
    lost.refresh_from_db()
    assert lost.status == SyncRun.Status.FAILED and "no longer on the queue" in lost.error
