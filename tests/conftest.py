"""Shared fixtures: the sandbox 1688 gateway over real HTTP, a connected shop, real Redis/RQ."""

import os
import threading
from pathlib import Path

import django_rq
import pytest
import requests
from django.conf import settings

import tests.fuzz_profiles  # noqa: F401 - loads the Hypothesis profile before any test module

# The scoreboard line at the end of the suite and its `scoreboard` fixture; the test database
# (one migration per run) and its quick flush after transactional tests.
pytest_plugins = ["tests.scoreboard", "tests.worker_databases", "tests.quick_flush"]


@pytest.fixture(scope="session", autouse=True)
def embedded_redis():
    """Start this test process's embedded Redis (its own data folder under xdist,
    tests/isolation.py), unless the run is against REDIS_URL. Settings never start it."""
    from erp1688.embedded_redis import ensure_embedded_redis_for_settings

    ensure_embedded_redis_for_settings()


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Django's PBKDF2 (a million rounds) costs 0.3 s of CPU for every user a factory makes; no
    test is about the strength of the hash, so the suite stores passwords with a fast one."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the app's default language, as a fresh process does: a request of an
    earlier test leaves its language active in the thread (LocaleMiddleware never resets it)."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


_NEXT_IS_EXCLUSIVE = pytest.StashKey[bool]()


def _exclusive(item) -> bool:
    return item is not None and item.get_closest_marker("exclusive") is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    item.stash[_NEXT_IS_EXCLUSIVE] = _exclusive(nextitem)
    return (yield)


@pytest.fixture(autouse=True)
def _machine_share(request):
    """Tests marked `exclusive` have the machine to themselves (tests/isolation.py); one
    followed by another keeps the machine for it."""
    from tests.isolation import machine_share

    exclusive = _exclusive(request.node)
    if exclusive and os.environ.get("PYTEST_XDIST_WORKER"):
        # The test databases first: the run's one migration must not share the cores with it.
        request.getfixturevalue("django_db_setup")
    with machine_share.hold(exclusive, keep=request.node.stash.get(_NEXT_IS_EXCLUSIVE, False)):
        yield


def pytest_sessionfinish(session, exitstatus):
    from tests.isolation import machine_share

    machine_share.release()


class SandboxGateway:
    """The sandbox gateway running in a thread of the test process, reached over real HTTP."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def control(self, path: str, payload: dict | None = None, method: str = "POST") -> dict:
        answer = self.http.request(method, f"{self.url}/_sandbox/{path}", json=payload, timeout=60)
        answer.raise_for_status()
        return answer.json()

    def get(self, path: str, **params) -> dict:
        answer = self.http.get(f"{self.url}/_sandbox/{path}", params=params, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def fault(self, api: str, kind: str, times: int = 1, **extra) -> None:
        self.control("faults", {"api": api, "kind": kind, "times": times, **extra})

    def calls(self) -> dict:
        return self.get("stats")["calls"]

    def reset_stats(self) -> None:
        self.control("stats/reset")

    def new_seller(self, member_id: str, name: str = "测试店铺") -> dict:
        self.control("sellers", {"member_id": member_id, "login_id": member_id, "name": name})
        return self.control(
            "tokens", {"app_key": settings.OPEN1688_APP_KEY, "member_id": member_id}
        )


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    from sandbox.server.httpd import make_server

    db_path = Path(tmp_path_factory.mktemp("sandbox")) / "sandbox.sqlite3"
    server = make_server("127.0.0.1", 0, str(db_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway = SandboxGateway(f"http://127.0.0.1:{server.server_port}")
    gateway.control(
        "apps",
        {
            "app_key": settings.OPEN1688_APP_KEY,
            "app_secret": settings.OPEN1688_APP_SECRET,
            "rate_per_sec": 1000,
        },
    )
    yield gateway
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(sandbox_server, settings, redis_conn):
    """A clean sandbox for this test, with the app's settings pointing at it."""
    sandbox_server.control("reset")
    settings.OPEN1688_GATEWAY = sandbox_server.url
    settings.OPEN1688_AUTHORIZE_URL = sandbox_server.url + "/oauth/authorize"
    settings.OPEN1688_IMAGE_BASE = sandbox_server.url + "/"  # it serves /img/ pictures
    settings.OPEN1688_RATE_PER_SECOND = 200.0
    settings.OPEN1688_READ_TIMEOUT = 3.0
    # Tests prove what is retried, not the waiting (the retries themselves still happen).
    settings.OPEN1688_BACKOFF_BASE, settings.OPEN1688_BACKOFF_MAX = 0.02, 0.1
    settings.OPEN1688_RETRY_LATER_DELAY = (0.02, 0.06)
    yield sandbox_server
    sandbox_server.control("faults", method="DELETE")


@pytest.fixture
def redis_conn():
    """The real Redis behind RQ (embedded or REDIS_URL), emptied for this test."""
    connection = django_rq.get_connection("default")
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def connected_shop(sandbox, db):
    """A Shop connected to a fresh sandbox seller through a real token answer."""
    from django.utils import timezone

    from catalog.shops.clients import connect_shop
    from open1688.answers import parse_token

    answer = sandbox.new_seller("b2b-2209000001", "义乌测试店")
    return connect_shop(parse_token(answer, timezone.now()), name="义乌测试店")


def run_worker(*queues: str) -> None:
    """Run a real RQ worker in burst mode until the queues are empty (no fork: same process)."""
    from sync.worker_class import SimpleWorker

    connection = django_rq.get_connection("default")
    names = queues or ("default", "sync", "upload")
    worker = SimpleWorker([django_rq.get_queue(n) for n in names], connection=connection)
    worker.work(burst=True, with_scheduler=False)


@pytest.fixture
def staff_user(db):
    """A staff member with the manager role (erp1688.roles): may do everything staff pages do.
    tests/staff/test_permissions.py checks the narrower roles."""
    from tests.factories import UserFactory

    return UserFactory(username="staff", roles=["manager"])


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def pytest_collection_modifyitems(config, items):
    """Every Hypothesis test is a `fuzz` test, so `make test-fast` can leave them out.
    The `exclusive` tests run first, one after another: in a parallel run they go to the first
    worker together, so the other workers stop once for all of them, not once for each."""
    from hypothesis import is_hypothesis_test

    fuzz = pytest.mark.fuzz
    for item in items:
        if is_hypothesis_test(getattr(item, "obj", None)):
            item.add_marker(fuzz)
    items.sort(key=lambda item: not _exclusive(item))  # stable: the same order otherwise
