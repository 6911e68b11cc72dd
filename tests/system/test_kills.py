"""Kills and restarts not covered elsewhere. Real `manage.py rqworker` processes,
the sandbox over HTTP; the end state is compared row by row with an independent walk of the
sandbox and must equal what an uninterrupted run leaves.

Already covered: SIGKILL of a sync worker or its work-horse (test_reliability_kill.py), of an
upload mid-add (test_upload_job.py), and restarts of the embedded Redis with jobs queued
(test_reliability_redis.py). Here:
- a work-horse SIGKILLed in the middle of a live stock edit;
- the Redis server restarted while a sync runs (a server of the test's own: works the same
  when the suite runs on REDIS_URL, whose shared server is never touched);
- the PostgreSQL backend of a syncing worker terminated (pg_terminate_backend) mid-run.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from catalog.live_edits.planning import plan_live_edit
from catalog.live_edits.services import apply_live_edit
from catalog.models import Product, Sku, SyncRun
from catalog.models.live_edits import LiveEdit, LiveEditLine
from erp1688.messages import render
from sync.catalog_sync import lock_key, start_run, sync_shop
from sync.jobs import enqueue_due_syncs_job, enqueue_sync
from sync.locks import holder
from tests.child_processes import ROOT, child_env, horse_of, wait_for
from tests.factories import UserFactory
from tests.system.test_fault_matrix import local_skus, sandbox_skus
from tests.system.test_reliability_redis import own_redis  # noqa: F401 - the fixture

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]
STOCK = "alibaba.product.modifyStock"
GET = "alibaba.product.get"
LOCK_TTL = 2


def worker(sandbox, queues: list[str], **env) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", *queues, "--burst"],
        cwd=ROOT,
        env={**child_env(sandbox), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(child: subprocess.Popen) -> str:
    child.kill()
    child.wait()
    tail = child.stderr.read().decode()[-3000:]
    child.stderr.close()
    return tail


def kill_horse_at(sandbox, queues: list[str], api: str, calls: int, what: str) -> None:
    """Start a worker on `queues`; once 1688 has taken `calls` calls of `api` (the last held by
    a slow fault), SIGKILL its work-horse mid-call and end the worker."""
    child = worker(sandbox, queues)
    try:
        wait_for(lambda: sandbox.calls().get(api, 0) >= calls or child.poll() is not None, 60, what)
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        os.kill(horse_of(child.pid), signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        finish(child)


def fresh_worker(sandbox, queues: list[str], **env) -> None:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", *queues, "--burst"],
        cwd=ROOT,
        env={**child_env(sandbox), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]


def run_is_active(run: SyncRun) -> bool:
    active = [SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
    return SyncRun.objects.filter(pk=run.pk, status__in=active).exists()


# --- a live edit killed mid-way --------------------------------------------------------------


def test_a_live_edit_whose_horse_is_killed_is_failed_visibly_and_never_doubled(
    sandbox, connected_shop, client, scoreboard, settings
):
    settings.LOCK_TTL_SECONDS = LOCK_TTL
    shop = connected_shop
    sandbox.control("seed", {"member_id": shop.member_id, "count": 6, "seed": 23})
    assert sync_shop(start_run(shop, kind=SyncRun.Kind.FULL)).status == SyncRun.Status.SUCCEEDED
    operator = UserFactory(username="yunying", roles=["operator"], is_staff=True)
    products = list(
        Product.objects.filter(shop=shop, status="published", skus__isnull=False)
        .distinct()
        .order_by("offer_id")[:4]
    )
    assert len(products) >= 3
    operation = plan_live_edit(
        user=operator,
        product_ids=[p.pk for p in products],
        kind="stock",
        stock_mode="adjust",  # a delta: the kind of write a blind replay would double
        stock=5,
    )
    planned = {
        (line.product.offer_id, line.remote_sku_id): int(line.after)
        for line in operation.lines.select_related("product")
    }
    before = sandbox_skus(sandbox, shop)
    # The first offer's change goes through; the second one's call is held by 1688 for 3 s,
    # long enough to kill the work-horse while it waits (1688 applies it all the same).
    sandbox.fault(STOCK, "slow", times=1, delay=0.0)
    sandbox.fault(STOCK, "slow", times=1, delay=3.0)
    scoreboard.fault()
    apply_live_edit(user=operator, operation=operation)
    kill_horse_at(sandbox, ["default"], STOCK, 2, "the second offer's stock call")
    scoreboard.kill()

    def offers_moved() -> int:  # by the calls 1688 took: the first, then the held one
        now = sandbox_skus(sandbox, shop)
        return len(
            {offer for (offer, sku), target in planned.items() if now[(offer, sku)][1] == target}
        )

    wait_for(lambda: offers_moved() >= 2, 30, "the held call to land on 1688")

    # The scheduler's minute job lets rq fail the dead job; its on_failure records it.
    with translation.override("en"):
        enqueue_due_syncs_job()
    operation.refresh_from_db()
    assert operation.status == LiveEdit.Status.FAILED, operation.status
    assert operation.last_error
    client.force_login(operator)
    page = client.get(reverse("catalog:live_detail", args=[operation.pk]))
    shown = render(operation.last_error)  # stored as a message id, shown in the page's language
    assert page.status_code == 200 and shown[:40] in page.content.decode()

    # Nothing was sent twice: each SKU moved by its delta once or not at all.
    after = sandbox_skus(sandbox, shop)
    moved = 0
    for (offer, sku), target in planned.items():
        old, new = before[(offer, sku)][1], after[(offer, sku)][1]
        assert new in (old, target), (offer, sku, old, new, target)
        moved += new == target
    assert 0 < moved < len(planned)
    lines = {
        (line.product.offer_id, line.remote_sku_id): line.status
        for line in operation.lines.select_related("product")
    }
    for key, status in lines.items():
        if status == LiveEditLine.Status.APPLIED:
            assert after[key][1] == planned[key]

    # Staff plan the same delta again for the SKUs that did not move: the end state is that
    # of an uninterrupted run, every SKU at its target, and the mirror equal to 1688.
    unmoved = [key for key, target in planned.items() if after[key][1] != target]
    skus = Sku.objects.filter(product__shop=shop)
    again = plan_live_edit(
        user=operator,
        product_ids=sorted({p.pk for p in products if p.offer_id in {k[0] for k in unmoved}}),
        kind="stock",
        stock_mode="adjust",
        stock=5,
        sku_ids=[s.pk for s in skus if (s.product.offer_id, s.sku_id) in set(unmoved)],
    )
    apply_live_edit(user=operator, operation=again)
    fresh_worker(sandbox, ["default"])
    final = sandbox_skus(sandbox, shop)
    for key, target in planned.items():
        assert final[key][1] == target, key
    assert sync_shop(start_run(shop, kind=SyncRun.Kind.FULL)).status == SyncRun.Status.SUCCEEDED
    scoreboard.compare(final, local_skus(shop), "mirror after a killed live edit")


# --- Redis restarted under a running sync ----------------------------------------------------


def test_a_sync_survives_a_restart_of_its_redis_server(
    own_redis,  # noqa: F811
    sandbox,
    connected_shop,
    scoreboard,
    settings,
):
    settings.LOCK_TTL_SECONDS = LOCK_TTL
    shop = connected_shop
    sandbox.control("seed", {"member_id": shop.member_id, "count": 60, "seed": 29})
    sandbox.fault(GET, "slow", times=60, delay=0.1)
    run = enqueue_sync(shop)
    env = {"REDIS_URL": own_redis.url, "LOCK_TTL_SECONDS": str(LOCK_TTL)}
    child = worker(sandbox, ["sync"], **env)
    try:
        wait_for(
            lambda: Product.objects.filter(shop=shop).count() >= 20 or child.poll() is not None,
            60,
            "the first page to be committed",
        )
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        own_redis.stop()  # a clean restart: snapshot on the way down
        time.sleep(1.0)
        own_redis.start()
        scoreboard.kill()
        child.wait(timeout=90)
    finally:
        finish(child)
    sandbox.control("faults", method="DELETE")

    # Whatever the run made of it (finished, or failed on a lost lock or connection), the
    # scheduler records it and queues the shop again if it did not finish.
    with translation.override("en"):
        wait_for(
            lambda: enqueue_due_syncs_job() >= 0 and not run_is_active(run),
            60,
            "the interrupted run to be recorded",
        )
    run.refresh_from_db()
    if run.status != SyncRun.Status.SUCCEEDED:
        assert run.error, run.status
        # The snapshot brought the interrupted run's lock back with its TTL: it must end by
        # itself (nobody renews it) before the next run can take the shop.
        wait_for(
            lambda: holder(lock_key(shop.pk)) is None, 3 * LOCK_TTL + 5, "the stale lock to end"
        )
        fresh_worker(sandbox, ["sync"], **env)
        if not SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists():
            sync_shop(start_run(shop))
    assert SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists()
    scoreboard.compare(sandbox_skus(sandbox, shop), local_skus(shop), "sync across a restart")


# --- PostgreSQL backend terminated under a running sync ----------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_terminate_backend needs PostgreSQL (SQLite has no server connection to end)",
)
def test_a_sync_whose_postgresql_backend_is_terminated_is_failed_and_redone(
    sandbox, connected_shop, redis_conn, scoreboard, settings
):
    settings.LOCK_TTL_SECONDS = LOCK_TTL
    shop = connected_shop
    sandbox.control("seed", {"member_id": shop.member_id, "count": 60, "seed": 31})
    sandbox.fault(GET, "slow", times=60, delay=0.1)
    run = enqueue_sync(shop)
    child = worker(sandbox, ["sync"])
    try:
        wait_for(
            lambda: Product.objects.filter(shop=shop).count() >= 20 or child.poll() is not None,
            60,
            "the first page to be committed",
        )
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        with connection.cursor() as cursor:  # a second connection ends the worker's
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (ended,) = cursor.fetchone()
        assert ended >= 1
        scoreboard.kill()
        child.wait(timeout=90)
    finally:
        finish(child)
    sandbox.control("faults", method="DELETE")

    # The worker recorded the failure itself (a new connection), or the scheduler finds the
    # run dead (its lock ended) and queues the shop again at once.
    with translation.override("en"):
        wait_for(
            lambda: enqueue_due_syncs_job() >= 0 and not run_is_active(run),
            60,
            "the interrupted run to be recorded",
        )
    run.refresh_from_db()
    print(f"\n[pg] the terminated run: {run.status}: {run.error[:300]}")
    assert run.status == SyncRun.Status.FAILED and run.error
    if not SyncRun.objects.exclude(pk=run.pk).exists():
        enqueue_sync(shop)  # the shop's next due time, or staff's "sync now"
    fresh_worker(sandbox, ["sync"])
    rerun = SyncRun.objects.exclude(pk=run.pk).get()
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.error
    scoreboard.compare(sandbox_skus(sandbox, shop), local_skus(shop), "sync after a PG kill")
    assert Sku.objects.filter(product__shop=shop).count() == len(
        [k for k in sandbox_skus(sandbox, shop) if k[1] is not None]
    )


# --- an upload worker killed mid-add ---------------------------------------------------------


def test_an_upload_worker_killed_mid_add_is_failed_visibly_and_never_doubled(
    sandbox, connected_shop, client, redis_conn, scoreboard, settings
):
    """The whole worker process (rq.SimpleWorker: the job runs in it) is SIGKILLed while 1688
    works on an add. Its job is failed when its heartbeat ends, the batch says so; staff submit
    again and each item is on 1688 exactly once (the late add is found, not sent again)."""
    import django_rq
    from rq.job import Job

    from catalog.models import UploadBatch
    from catalog.publishing import services
    from catalog.publishing.upload import lock_key
    from erp1688.refusals import Refused
    from tests.conftest import run_worker
    from tests.factories import UploadBatchFactory, UploadItemFactory
    from tests.system.test_fault_matrix import SENT, remote_by_cargo

    settings.LOCK_TTL_SECONDS = LOCK_TTL
    settings.UPLOAD_UNKNOWN_GRACE_SECONDS = 0.5  # an unknown add is looked for this soon
    batch = UploadBatchFactory(shop=connected_shop)
    UploadItemFactory.create_batch(3, batch=batch)
    # the add the run uses for items staged against their leaf's schema (tests/factories.py)
    sandbox.fault("alibaba.new.product.add", "slow", times=1, delay=2.0)
    scoreboard.fault()
    services.submit_batch(user=None, batch=batch)
    child = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "rqworker",
            "upload",
            "--burst",
            "--worker-class",
            "sync.worker_class.SimpleWorker",
        ],  # fmt: skip
        cwd=ROOT,
        env={
            **child_env(sandbox),
            "LOCK_TTL_SECONDS": str(LOCK_TTL),
            "OPEN1688_IMAGE_BASE": sandbox.url + "/",  # the pictures it puts into the photobank
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(
            lambda: sandbox.calls().get("alibaba.new.product.add") or child.poll() is not None,
            60,
            "the first add",
        )
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        finish(child)
    scoreboard.kill()
    wait_for(
        lambda: remote_by_cargo(sandbox, connected_shop),
        30,
        "1688 to finish the add the dead worker was waiting for",
    )

    # The job stays "started" until its heartbeat ends (90 s); time travel: end it now, then
    # the scheduler's minute job lets rq fail it and its on_failure records the batch.
    batch.refresh_from_db()
    queue = django_rq.get_queue("upload")
    job = Job.fetch(batch.job_id, connection=queue.connection)
    registry = queue.started_job_registry
    entries = [e for e in redis_conn.zrange(registry.key, 0, -1) if job.id in e.decode()]
    redis_conn.zadd(registry.key, dict.fromkeys(entries, 1), xx=True)
    with translation.override("en"):
        enqueue_due_syncs_job()
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.PARTLY_FAILED, batch.status
    assert batch.last_error
    client.force_login(UserFactory(username="zhuguan", roles=["manager"]))
    page = client.get(reverse("catalog:batch_detail", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE="en")
    with translation.override("en"):  # stored as a message id, shown in the reader's language
        shown = escape(render(batch.last_error))
    assert shown[:40] in page.content.decode()
    wait_for(lambda: not redis_conn.exists(lock_key(batch.pk)), 10, "the dead run's lock")

    for _ in range(3):  # staff submit again until nothing is left (unknown ones are looked at)
        batch.refresh_from_db()
        if batch.status == UploadBatch.Status.DONE:
            break
        if not batch.items.exclude(status__in=SENT).exists():
            break
        with contextlib.suppress(Refused):  # e.g. already queued again by the run itself
            services.submit_batch(user=None, batch=batch)
        run_worker("upload")
    remote = remote_by_cargo(sandbox, connected_shop)
    rows = [
        (cargo, [offer])
        for cargo, offer in batch.items.filter(status__in=SENT).values_list(
            "cargo_number", "remote_offer_id"
        )
    ]
    assert len(rows) == 3, list(batch.items.values_list("status", flat=True))
    scoreboard.compare(remote, rows, "upload after a killed worker")
