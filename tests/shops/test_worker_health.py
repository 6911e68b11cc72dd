"""Worker health on the pages (sync/workers.py, catalog/templatetags/worker_tags.py): with no
RQ worker alive, the dashboard, a waiting batch, the shop pages and a live edit being sent say
that queued work waits for one; with a worker registered in the same Redis (rq's own
registration and heartbeat, and once a real `manage.py rqworker`) they do not. Refusals name
what they wait for: the worker publishing the batch, a free worker, or a worker to start."""

import signal
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import django_rq
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rq import SimpleWorker
from rq.utils import utcformat

from catalog.models import UploadBatch
from catalog.models.live_edits import LiveEdit
from catalog.publishing.staging import check_batch_open
from catalog.publishing.upload.queue import enqueue_upload, lock_key, refuse_if_busy
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from sync.catalog_sync import start_run, sync_shop
from sync.workers import HEARTBEAT_GRACE, worker_health
from tests.child_processes import ROOT, child_env, wait_for
from tests.factories import ShopFactory, UploadBatchFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # enqueueing waits for the commit

NO_WORKER = "No worker is running: queued work waits until one starts."


@pytest.fixture(autouse=True)
def english():
    """Sentences compared in English (pages choose by Accept-Language; one test asks Chinese)."""
    with translation.override("en"):
        yield


def register_worker(redis_conn, *queues: str, name: str = "health-test") -> SimpleWorker:
    """A worker as rq records one at its start: its key, its queues, a fresh heartbeat."""
    worker = SimpleWorker(
        [django_rq.get_queue(q) for q in queues], connection=redis_conn, name=name
    )
    worker.register_birth()
    worker.heartbeat()
    return worker


@pytest.fixture
def world(redis_conn, client):
    manager = UserFactory(username="health-manager", roles=["manager"])
    client.force_login(manager)
    shop = ShopFactory()
    batch = UploadBatchFactory(shop=shop, status=UploadBatch.Status.SUBMITTED)
    live = LiveEdit.objects.create(
        kind=LiveEdit.Kind.STOCK, status=LiveEdit.Status.QUEUED, created_by=manager
    )
    return SimpleNamespace(shop=shop, batch=batch, live=live, user=manager)


def pages(world) -> dict[str, str]:
    return {
        "dashboard": reverse("home"),
        "dashboard jobs": reverse("catalog:dashboard_jobs"),
        "batch": reverse("catalog:batch_detail", args=[world.batch.pk]),
        "batch progress": reverse("catalog:batch_progress", args=[world.batch.pk]),
        "shop": reverse("catalog:shop_detail", args=[world.shop.pk]),
        "shops": reverse("catalog:shop_list"),
        "live edit": reverse("catalog:live_detail", args=[world.live.pk]),
        "live progress": reverse("catalog:live_progress", args=[world.live.pk]),
    }


def warnings_on(client, world) -> dict[str, bool]:
    shown = {}
    for name, url in pages(world).items():
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (name, response.status_code)
        shown[name] = "worker-warning" in response.content.decode()
    return shown


# --- the selector -----------------------------------------------------------------------------


def test_no_worker_means_none_alive(redis_conn):
    health = worker_health()
    assert health.known and health.none_alive and health.missing() == ["default", "sync", "upload"]
    assert health.warning() == NO_WORKER


def test_a_worker_serves_only_its_queues(redis_conn):
    register_worker(redis_conn, "upload")
    health = worker_health()
    assert health.serves("upload") and not health.serves("sync") and not health.none_alive
    assert health.warning(("upload",)) == ""
    assert "shop syncs" in health.warning(("sync", "upload"))
    assert "batch uploads" not in health.warning(("sync", "upload"))


def test_a_worker_without_a_recent_heartbeat_is_not_alive(redis_conn):
    worker = register_worker(redis_conn, "default", "sync", "upload")
    assert worker_health().missing() == []
    old = timezone.now() - HEARTBEAT_GRACE - timedelta(seconds=5)
    redis_conn.hset(worker.key, "last_heartbeat", utcformat(old))  # killed: no more heartbeats
    assert worker_health().none_alive
    worker.heartbeat()
    assert worker_health().missing() == []
    worker.register_death()  # a clean stop
    worker.teardown()
    assert worker_health().none_alive


def test_redis_away_claims_nothing(settings):
    class Away:
        def smembers(self, *_args):
            from redis.exceptions import ConnectionError

            raise ConnectionError("away")

    health = worker_health(connection=Away())
    assert not health.known and health.warning() == "" and health.serves("sync")


# --- the pages --------------------------------------------------------------------------------


def test_with_no_worker_every_waiting_page_says_so(client, world):
    assert warnings_on(client, world) == dict.fromkeys(pages(world), True)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert NO_WORKER in html


def test_the_warning_is_in_chinese_for_chinese_readers(client, world):
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "没有正在运行的后台进程" in html and NO_WORKER not in html


def test_with_a_live_worker_no_page_warns(client, world, redis_conn):
    register_worker(redis_conn, "default", "sync", "upload")
    assert warnings_on(client, world) == dict.fromkeys(pages(world), False)


def test_a_worker_for_some_queues_leaves_the_others_warned(client, world, redis_conn):
    register_worker(redis_conn, "sync")
    shown = warnings_on(client, world)
    assert not shown["shop"] and not shown["shops"]
    assert shown["batch"] and shown["live edit"] and shown["dashboard"]
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No worker is running for batch uploads, live offer changes" in html or (
        "live offer changes and watched offers, batch uploads" in html
    )


def test_pages_that_do_not_wait_stay_quiet(client, world, redis_conn):
    """A finished batch and a finished live edit wait for nothing."""
    UploadBatch.objects.filter(pk=world.batch.pk).update(status=UploadBatch.Status.DONE)
    LiveEdit.objects.filter(pk=world.live.pk).update(status=LiveEdit.Status.DONE)
    for name in ("batch", "live edit"):
        html = client.get(pages(world)[name]).content.decode()
        assert "worker-warning" not in html, name


def test_sync_now_and_submit_say_the_work_waits_for_a_worker(client, world, redis_conn):
    answer = client.post(
        reverse("catalog:shop_sync", args=[world.shop.pk]), HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    shown = [str(m) for m in answer.context["messages"]]
    assert any("is queued" in m for m in shown) and NO_WORKER in shown


def test_applying_a_live_edit_says_it_waits_for_a_worker(client, sandbox, connected_shop):
    from tests.live_edits.test_live_edit_truth import draft, stock_skus

    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 3, "seed": 29})
    assert sync_shop(start_run(connected_shop, kind="full")).status == "succeeded"
    author = UserFactory(username="health-operator", roles=["operator"])
    operation = draft(author, stock_skus(connected_shop, 1)[0])
    client.force_login(author)
    answer = client.post(
        reverse("catalog:live_apply", args=[operation.pk]), HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    shown = [str(m) for m in answer.context["messages"]]
    assert any("Sent to the queue" in m for m in shown) and NO_WORKER in shown
    assert "worker-warning" in answer.content.decode()  # the result page says it too


# --- refusals that name what they wait for ----------------------------------------------------


def _refusal(call, *args) -> Refused:
    with pytest.raises(Refused) as refused:
        call(*args)
    return refused.value


def test_a_busy_batch_refusal_says_what_it_waits_for(world, redis_conn):
    batch = world.batch
    enqueue_upload(batch)  # queued, and no worker
    refused = _refusal(refuse_if_busy, batch)
    assert refused.code == RefusalCode.BATCH_BUSY and "no worker is running" in refused.message
    assert "try again in" not in refused.message
    worker = register_worker(redis_conn, "upload")
    refused = _refusal(refuse_if_busy, batch)
    assert "queued and starts when a worker is free" in refused.message
    redis_conn.set(lock_key(batch.pk), "run", ex=60)  # a run holds the batch
    refused = _refusal(refuse_if_busy, batch)
    assert "being published by a worker" in refused.message
    worker.register_death()
    worker.teardown()
    refused = _refusal(refuse_if_busy, batch)
    assert "no longer answers" in refused.message


def test_a_locked_batch_refusal_says_whether_a_worker_is_on_it(world, redis_conn):
    refused = _refusal(check_batch_open, world.batch)
    assert refused.code == RefusalCode.BATCH_LOCKED and "no worker is running" in str(
        refused.message
    )
    register_worker(redis_conn, "upload")
    refused = _refusal(check_batch_open, world.batch)
    assert "being uploaded by a worker" in str(refused.message)


# --- a real worker process ----------------------------------------------------------------------


def test_a_real_rqworker_clears_the_warning_and_its_stop_brings_it_back(client, world):
    env = child_env(SimpleNamespace(url="http://127.0.0.1:9"))
    worker = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "rqworker", "default", "sync", "upload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: not worker_health().missing(), 60, "the worker's registration")
        assert warnings_on(client, world) == dict.fromkeys(pages(world), False)
    finally:
        worker.send_signal(signal.SIGTERM)  # a warm stop: rq unregisters the worker
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    wait_for(lambda: worker_health().none_alive, 10, "the worker's unregistration")
    assert warnings_on(client, world) == dict.fromkeys(pages(world), True)
