"""The embedded Redis persists queued jobs across restarts (a clean stop and a crash), and a job
lost anyway is visible on its run and queued again by the scheduler.

Each test starts its own embedded redis-server (erp1688/embedded_redis.py) in a fresh folder and
points every RQ queue at it, so it runs the same on SQLite and on PostgreSQL CI, and restarting
it disturbs nobody else's Redis."""

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
import redis
from django.utils import translation

from catalog.models import Product, SyncRun
from erp1688.embedded_redis import AOF_NAME, RDB_NAME, ensure_embedded_redis, stop_embedded_redis
from sync.jobs import enqueue_due_syncs_job, enqueue_sync
from tests.child_processes import wait_for
from tests.conftest import run_worker

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


class EmbeddedRedis:
    def __init__(self, folder: Path):
        self.folder = folder
        self.url = ensure_embedded_redis(folder)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        stop_embedded_redis(self.folder)

    def crash(self) -> None:
        """SIGKILL the server: no shutdown save, only what is already on disk survives."""
        pid = int((self.folder / "redis.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def has_written(self, data: bytes) -> bool:
        """Whether the append-only file (one file, or Redis 7's folder of them) holds `data`."""
        aof = self.folder / AOF_NAME
        files = [aof] if aof.is_file() else [f for f in aof.glob("*") if f.is_file()]
        files += list(self.folder.glob("appendonlydir/*"))
        return any(data in f.read_bytes() for f in files)

    def start(self) -> None:
        assert ensure_embedded_redis(self.folder) == self.url


@pytest.fixture
def own_redis(settings, sandbox):
    """An embedded Redis of this test's own, behind every RQ queue (and so the locks and the
    rate limit). A short folder name: a unix socket path is limited to about 100 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="erp-redis-"))
    server = EmbeddedRedis(folder)
    settings.RQ_QUEUES = {
        name: {**config, "URL": server.url} for name, config in settings.RQ_QUEUES.items()
    }
    yield server
    stop_embedded_redis(folder, save=False)
    shutil.rmtree(folder, ignore_errors=True)


def seed(sandbox, shop, count=5):
    sandbox.control("seed", {"member_id": shop.member_id, "count": count, "seed": 3})


def test_the_embedded_redis_saves_snapshots_and_an_append_only_file(own_redis):
    config = own_redis.client().config_get("*")
    assert config["save"] == "60 1"  # one save point: 60 s after at least one change
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["dir"] == str(own_redis.folder)
    assert (config["dbfilename"], config["appendfilename"]) == (RDB_NAME, AOF_NAME)


def test_a_queued_job_runs_after_a_clean_restart(own_redis, connected_shop, sandbox):
    seed(sandbox, connected_shop)
    run = enqueue_sync(connected_shop)
    own_redis.stop()
    assert (own_redis.folder / RDB_NAME).exists()
    own_redis.start()
    run_worker("sync")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Product.objects.count() == 5


def test_a_queued_job_survives_a_crash_of_the_server(
    own_redis, connected_shop, sandbox, scoreboard
):
    seed(sandbox, connected_shop)
    run = enqueue_sync(connected_shop)
    # appendfsync everysec: at most the last second can be lost. A SIGKILL of the server (not
    # of the machine) keeps what it has written, so wait until the job is in its append-only file.
    wait_for(
        lambda: own_redis.has_written(run.job_id.encode()), 10, "the job in the append-only file"
    )
    own_redis.crash()
    scoreboard.kill()
    own_redis.start()
    run_worker("sync")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Product.objects.count() == 5


def test_a_job_lost_with_redis_data_is_failed_visibly_and_queued_again(
    own_redis, connected_shop, sandbox
):
    seed(sandbox, connected_shop)
    run = enqueue_sync(connected_shop)
    own_redis.crash()
    for name in (AOF_NAME, RDB_NAME):  # a disk lost with the server
        (own_redis.folder / name).unlink(missing_ok=True)
    own_redis.start()
    assert own_redis.client().dbsize() == 0
    run_worker("sync")  # nothing to run: the job is gone
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED

    with translation.override("en"):
        assert enqueue_due_syncs_job() == 1  # the scheduler's next tick
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert "no longer in Redis" in run.error and run.finished_at is not None
    run_worker("sync")
    again = SyncRun.objects.exclude(pk=run.pk).get()
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert Product.objects.count() == 5
