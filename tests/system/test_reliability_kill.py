"""A sync worker SIGKILLed mid-run (a real `manage.py rqworker` process, the sandbox over HTTP):
the run is recorded failed, the scheduler queues the shop again, a fresh worker finishes within
two minutes, and the mirror equals an independent walk of the sandbox."""

import os
import signal
import subprocess
import sys
import time

import django_rq
import pytest
from django.utils import translation
from rq.job import Job, JobStatus

from catalog.models import PriceStockChange, Product, Sku, SyncRun
from catalog.shops.clients import make_client
from sync.jobs import enqueue_due_syncs_job, enqueue_sync
from tests.child_processes import LOCK_TTL, ROOT, child_env, horse_of, wait_for

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


def sandbox_truth(sandbox, shop) -> tuple[set[int], dict]:
    """An independent walk of the sandbox: its offer ids (control API), each offer's SKUs with
    price and stock as `alibaba.product.get` answers them now."""
    ids = {o["productID"] for o in sandbox.get("offers", member_id=shop.member_id)["offers"]}
    with make_client() as client:
        details = [client.get_product(shop.access_token, pid) for pid in sorted(ids)]
    skus = {(d.product_id, s.sku_id): (s.price, s.amount_on_sale) for d in details for s in d.skus}
    return ids, skus


def local_state(shop) -> tuple[set[int], dict]:
    ids = set(Product.objects.filter(shop=shop).values_list("offer_id", flat=True))
    skus = {
        (offer, sku): (price, stock)
        for offer, sku, price, stock in Sku.objects.filter(product__shop=shop).values_list(
            "product__offer_id", "sku_id", "price", "stock"
        )
    }
    return ids, skus


@pytest.mark.parametrize("victim", ["worker", "horse"])
def test_sigkilled_sync_is_failed_requeued_and_finished_by_a_fresh_worker(
    sandbox, connected_shop, redis_conn, settings, victim, scoreboard
):
    """`worker`: the whole worker process dies (a lost machine, a container killed);
    `horse`: the OS kills only the forked work-horse (OOM killer), its worker lives on."""
    settings.LOCK_TTL_SECONDS = LOCK_TTL
    shop = connected_shop
    sandbox.control("seed", {"member_id": shop.member_id, "count": 100, "seed": 5})
    # Hold the run in its detail calls long enough to kill it after its first committed page.
    sandbox.fault("alibaba.product.get", "slow", times=60, delay=0.15)
    killed_run = enqueue_sync(shop)
    command = [sys.executable, "manage.py", "rqworker", "sync", "--burst"]
    if victim == "worker":
        # The job runs in this very process.
        command += ["--worker-class", "sync.worker_class.SimpleWorker"]
    env = child_env(sandbox)
    child = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(
            lambda: Product.objects.filter(shop=shop).count() >= 20 or child.poll() is not None,
            60,
            "the first page to be committed",
        )
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        killed_run.refresh_from_db()
        assert killed_run.status == SyncRun.Status.RUNNING
        if victim == "worker":
            child.send_signal(signal.SIGKILL)
        else:
            os.kill(horse_of(child.pid), signal.SIGKILL)
        child.wait(timeout=30)  # the forking worker notices its horse died, then ends (burst)
        killed_at = time.monotonic()
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
    sandbox.control("faults", method="DELETE")
    assert Product.objects.filter(shop=shop).count() < 100  # it really died mid-run

    # The scheduler's every-minute job (ticked every second here) finds the dead run once its
    # lock has ended and queues the shop again at once.
    with translation.override("en"):  # the reason is checked by its English message id
        wait_for(lambda: enqueue_due_syncs_job() == 1, 130, "the shop to be queued again")
    found_after = time.monotonic() - killed_at
    killed_run.refresh_from_db()
    assert killed_run.status == SyncRun.Status.FAILED
    assert "lock ended" in killed_run.error, killed_run.error

    fresh = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", "sync", "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    finished_after = time.monotonic() - killed_at
    assert fresh.returncode == 0, fresh.stderr.decode()[-3000:]
    rerun = SyncRun.objects.exclude(pk=killed_run.pk).get()
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.error
    assert finished_after < 120, f"finished {finished_after:.1f}s after the kill"
    print(f"\n[{victim}] dead run found {found_after:.1f}s, done {finished_after:.1f}s after kill")

    # The same end state as an uninterrupted run: exactly what the sandbox holds, no change rows
    # (every offer was new), no duplicates.
    truth_ids, truth_skus = sandbox_truth(sandbox, shop)
    ids, skus = local_state(shop)
    assert len(truth_ids) == 100
    assert ids == truth_ids
    assert skus == truth_skus
    scoreboard.kill()
    scoreboard.compare(truth_skus, skus.items(), f"sync after a SIGKILLed {victim}")
    assert Product.objects.filter(shop=shop).count() == 100
    assert not PriceStockChange.objects.exists()
    assert not redis_conn.exists(f"erp1688:sync:shop:{shop.pk}")

    # The killed job itself: the forking worker failed it when its horse died; the job of the
    # killed SimpleWorker stays "started" until its heartbeat expires (90 s), then the
    # scheduler's minute job has rq fail it. Time travel: expire its registry entry now.
    queue = django_rq.get_queue("sync")
    job = Job.fetch(killed_run.job_id, connection=queue.connection)
    if victim == "worker":
        assert job.get_status() == JobStatus.STARTED
        registry = queue.started_job_registry
        entries = [e for e in redis_conn.zrange(registry.key, 0, -1) if job.id in e.decode()]
        redis_conn.zadd(registry.key, dict.fromkeys(entries, 1), xx=True)
        enqueue_due_syncs_job()
    assert job.get_status(refresh=True) == JobStatus.FAILED
