"""The fast paths, each proved where it lives: the sandbox keeps HTTP/1.1 connections alive,
the client reads the environment's proxy settings once, the shared limiter starts a run
without a burst (so a 10/s gateway answers no quota error), and a sync collects garbage
rarely."""

import os
import socket
import time

import pytest
from django.conf import settings

from catalog.shops.clients import make_client
from open1688 import RedisRateLimiter
from open1688.client import Open1688Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller(sandbox):
    answer = sandbox.new_seller("b2b-2209100020", "杭州快路径")
    ids = sandbox.control("seed", {"member_id": "b2b-2209100020", "count": 5, "seed": 20})
    return {"token": answer["access_token"], "ids": ids["product_ids"]}


def _connections_opened(client: Open1688Client) -> int:
    pool = client._session.get_adapter(client.gateway).poolmanager
    return sum(p.num_connections for p in pool.pools._container.values())


def test_the_sandbox_keeps_the_connection_alive(sandbox, seller):
    with make_client() as client:
        for offer_id in seller["ids"]:
            assert client.get_product(seller["token"], offer_id).product_id == offer_id
        assert _connections_opened(client) == 1  # HTTP/1.0 answers made it 5


def test_one_socket_carries_several_requests_until_connection_close(sandbox):
    host, port = sandbox.url.removeprefix("http://").split(":")
    request = "GET / HTTP/1.1\r\nHost: sandbox\r\n{}\r\n"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request.format("").encode() + request.format("Connection: close\r\n").encode())
        received = b""
        while chunk := sock.recv(65536):  # ends only when the server closes the socket
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2


def test_proxy_settings_are_read_once_for_the_gateway(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    remote = Open1688Client(app_key="k", app_secret="s", gateway="https://gw.open.1688.com")
    local = Open1688Client(app_key="k", app_secret="s", gateway="http://127.0.0.1:8688")
    assert remote._session.proxies.get("https") == "http://proxy.example:3128"
    assert not local._session.proxies.get("http")
    # later changes of the environment are not looked up on every call any more
    assert remote._session.trust_env is False
    monkeypatch.setenv("HTTPS_PROXY", "http://elsewhere.example:1")
    assert remote._session.proxies.get("https") == "http://proxy.example:3128"
    assert os.environ["HTTPS_PROXY"] == "http://elsewhere.example:1"


@pytest.mark.exclusive  # timed: no other test may share the cores
def test_a_run_at_the_gateways_limit_draws_no_quota_error(sandbox, seller, redis_conn):
    """The sandbox allows 10 calls/s (a one-second bucket, full at start, like 1688); the
    shared limiter at 10/s used to grant a full second at once and then keep pace, so the
    gateway's bucket ran dry and the first jitter drew gw.QosAppFrequencyLimit."""
    sandbox.control(
        "apps",
        {
            "app_key": settings.OPEN1688_APP_KEY,
            "app_secret": settings.OPEN1688_APP_SECRET,
            "rate_per_sec": 10,
        },
    )
    try:
        limiter = RedisRateLimiter(redis_conn, settings.OPEN1688_APP_KEY, rate=10)
        sandbox.reset_stats()
        began = time.monotonic()
        with make_client(rate_limiter=limiter, max_retries=0) as client:
            for n in range(25):
                client.get_product(seller["token"], seller["ids"][n % 5])
        took = time.monotonic() - began
        stats = sandbox.get("stats")
        assert stats["calls"].get("alibaba.product.get") == 25
        assert "refused" not in stats  # no gw.QosAppFrequencyLimit at all
        assert 2.3 <= took < 5.0  # paced at the limit (25 calls at 10/s: 2.4 s)
    finally:
        sandbox.control(
            "apps",
            {
                "app_key": settings.OPEN1688_APP_KEY,
                "app_secret": settings.OPEN1688_APP_SECRET,
                "rate_per_sec": 1000,
            },
        )


def test_admin_finds_a_product_by_sku_cargo_number_without_distinct(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from catalog.models import Product, Shop, Sku

    shop = Shop.objects.create(member_id="b2b-fast0001", name="货号店")
    wanted = Product.objects.create(shop=shop, offer_id=1, subject="保温杯", cargo_number="P-1")
    other = Product.objects.create(shop=shop, offer_id=2, subject="雨伞", cargo_number="P-2")
    Sku.objects.create(product=wanted, sku_id=11, cargo_number="HB-778-1")
    Sku.objects.create(product=wanted, sku_id=12, cargo_number="HB-778-2")
    Sku.objects.create(product=other, sku_id=21, cargo_number="HB-999-1")
    url = reverse("admin:catalog_product_changelist")
    with CaptureQueriesContext(connection) as queries:
        answer = admin_client.get(url, {"q": "HB-778"})
    assert answer.status_code == 200
    assert list(answer.context["cl"].result_list) == [wanted]  # once, though two SKUs match
    listing = [q["sql"] for q in queries.captured_queries if '"raw"' in q["sql"]]
    assert listing and not any("DISTINCT" in sql for sql in listing)
    by_title = admin_client.get(url, {"q": "雨伞"})
    assert list(by_title.context["cl"].result_list) == [other]


def test_a_sync_collects_garbage_rarely_and_puts_the_thresholds_back(sandbox, connected_shop):
    """The cyclic collector runs rarer while a sync runs (it walked every live object every
    few hundred allocations); overlapping runs in threads leave the thresholds as they were."""
    import gc
    import threading

    from sync.catalog_sync import rare_collections, start_run, sync_shop

    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def hold():
        with rare_collections():
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(5) and gc.get_threshold()[0] >= 20_000
    with rare_collections():
        assert gc.get_threshold()[0] >= 20_000
    assert gc.get_threshold()[0] >= 20_000  # the other one is still inside
    release.set()
    holder.join(5)
    assert gc.get_threshold() == before

    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 3, "seed": 2})
    seen = []
    sync_shop(start_run(connected_shop), progress=lambda run: seen.append(gc.get_threshold()))
    assert seen and all(t[0] >= 20_000 for t in seen) and gc.get_threshold() == before
