"""Security by default: error pages, production start-up checks, login throttling,
cookies, and no secret in logs, the database or Redis."""

import contextlib
import logging
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import path, reverse
from django.views.debug import (
    ExceptionReporter,
    SafeExceptionReporterFilter,
    technical_500_response,
)

from catalog.models import Shop, SyncRun, UploadItem
from catalog.shops.clients import call_as_shop, make_client
from erp1688.deploy_checks import fernet_keys_problem, gateway_problem
from erp1688.security import SecretHidingFilter, client_ip
from open1688.client import PRODUCT_NAMESPACE
from tests.conftest import run_worker

ROOT = Path(__file__).resolve().parents[2]


# -- 1. no secret on the DEBUG 500 page -------------------------------------------------------


def _failing_call(shop: Shop):
    """A real client and a shop token: the client fails while encoding a parameter."""
    token = shop.access_token  # a careless local holding the token, as any view might have
    with make_client() as client:
        return call_as_shop(
            shop,
            client,
            lambda access_token: client.call(
                PRODUCT_NAMESPACE,
                "alibaba.product.list.get",
                {"productIds": [object()]},
                access_token=access_token,
            ),
        ), token


def view_that_fails(request):
    shop = Shop.objects.get(pk=request.GET["shop"])
    _failing_call(shop)
    return HttpResponse("unreachable")


urlpatterns = [path("boom/", view_that_fails)]


def _secrets(shop: Shop) -> dict[str, str]:
    shop.refresh_from_db()
    return {
        "access token": shop.access_token,
        "refresh token": shop.refresh_token,
        "app secret": settings.OPEN1688_APP_SECRET,
        "secret key": settings.SECRET_KEY,
    }


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value and value in text]


@pytest.mark.urls("tests.erp1688.test_security")
@pytest.mark.django_db
def test_debug_500_page_shows_no_token_or_secret(connected_shop, settings):
    settings.DEBUG = True
    secrets = _secrets(connected_shop)
    assert all(len(v) >= 8 for v in secrets.values())

    # Through the real handler: DEBUG=True renders technical_500 for the uncaught exception.
    page = Client(raise_request_exception=False).get(
        f"/boom/?shop={connected_shop.pk}&code=oauth-code-4417&state=oauth-state-8802"
    )
    assert page.status_code == 500
    html = page.content.decode()
    assert "cannot send a object to 1688" in html and "view_that_fails" in html
    assert _leaks(html, secrets) == []
    assert "oauth-code-4417" not in html and "oauth-state-8802" not in html

    # And rendered directly, as the brief's technical_500_response, in HTML and text.
    request = RequestFactory().get("/boom/")
    try:
        _failing_call(connected_shop)
    except TypeError:
        exc_info = sys.exc_info()
        html = technical_500_response(request, *exc_info).content.decode()
        text = ExceptionReporter(request, *exc_info).get_traceback_text()
    assert "_failing_call" in html and "_failing_call" in text
    assert _leaks(html, secrets) == []
    assert _leaks(text, secrets) == []

    # The filter alone (admin e-mails use it too): client frames are hidden whole, and a local
    # holding a token is cleansed wherever it is.
    hidden = SecretHidingFilter()
    frames, tb = {}, exc_info[2]
    while tb is not None:
        frames[(tb.tb_frame.f_globals["__name__"], tb.tb_frame.f_code.co_name)] = dict(
            hidden.get_traceback_frame_variables(request, tb.tb_frame)
        )
        tb = tb.tb_next
    stars = hidden.cleansed_substitute
    client_frames = [v for (module, _), v in frames.items() if module.startswith("open1688")]
    assert client_frames and all(set(v.values()) == {stars} for v in client_frames)
    mine = frames[(__name__, "_failing_call")]
    assert mine["token"] == stars and mine["shop"] == stars
    assert frames[(__name__, "<lambda>")]["access_token"] == stars

    # The control: Django's own filter (off while DEBUG=True) and reporter show them.
    request.exception_reporter_filter = SafeExceptionReporterFilter()
    plain = ExceptionReporter(request, *exc_info)
    plain.filter = SafeExceptionReporterFilter()
    assert "access token" in _leaks(plain.get_traceback_html(), secrets)


def test_filter_cleanses_urls_with_passwords_and_hides_client_frames():
    cleanse = SecretHidingFilter().cleanse_setting
    assert cleanse("REDIS_URL", "redis://:hunter2pass@redis:6379/0") == (
        "redis://:********************@redis:6379/0"
    )
    assert cleanse("RQ_QUEUES", {"sync": {"URL": "redis://u:pw123456@h/0"}}) == {
        "sync": {"URL": "redis://u:********************@h/0"}
    }


# -- 2. production settings refuse a loopback/sandbox gateway and a bad Fernet key -------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8443",
        "https://localhost",
        "https://LOCALHOST./x",
        "https://api.localhost",
        "https://127.0.0.1",
        "https://127.8.9.10:443",
        "https://127.1",
        "https://2130706433",
        "https://0x7f000001",
        "https://[::1]:8443",
        "https://[::ffff:127.0.0.1]",
        "https://0.0.0.0",
        "https://[::]",
        "https://gw.example.com:8688",
        "https://sandbox.example.com",
        "http://gw.open.1688.com",
        "gw.open.1688.com",
        "https://[::1",
        "",
    ],
)
def test_gateway_problem_refuses_loopback_sandbox_and_plain_http(url):
    assert gateway_problem(url)


@pytest.mark.parametrize("url", ["https://gw.open.1688.com", "https://auth.1688.com/oauth/x"])
def test_gateway_problem_accepts_the_real_gateway(url):
    assert gateway_problem(url) is None


def test_fernet_keys_problem_names_positions_never_keys():
    good = Fernet.generate_key().decode()
    assert fernet_keys_problem([good, good]) is None
    assert fernet_keys_problem([]) == "holds no key"
    problem = fernet_keys_problem([good, "notakey-secretish", ""])
    assert problem.startswith("key 2, 3 of 3 is not a valid Fernet key")
    assert "notakey-secretish" not in problem


def _production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ERP_ENV": "production",
        "ERP_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "ci-" + Fernet.generate_key().decode() * 2,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": "erp.example.com",
        "OPEN1688_APP_KEY": "1",
        "OPEN1688_APP_SECRET": "x",
        "OPEN1688_GATEWAY": "https://gw.open.1688.com",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    env.update(overrides)
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"OPEN1688_GATEWAY": "http://localhost:8688"}, "OPEN1688_GATEWAY must be an https"),
        ({"OPEN1688_GATEWAY": "https://127.0.0.2"}, "OPEN1688_GATEWAY points at this machine"),
        ({"OPEN1688_GATEWAY": "https://[::1]"}, "OPEN1688_GATEWAY points at this machine"),
        ({"OPEN1688_GATEWAY": "https://gw.corp:8688"}, "OPEN1688_GATEWAY points at the sandbox"),
        ({"FIELD_ENCRYPTION_KEY": "notakey"}, "FIELD_ENCRYPTION_KEY: key 1 of 1 is not a valid"),
    ],
)
@pytest.mark.system
def test_production_check_deploy_refuses(tmp_path, overrides, message):
    proc = _check_deploy(_production_env(tmp_path, **overrides))
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert message in proc.stderr
    if "FIELD_ENCRYPTION_KEY" in overrides:
        assert overrides["FIELD_ENCRYPTION_KEY"] not in proc.stderr  # a key is never echoed


@pytest.mark.system
def test_production_check_deploy_is_clean_with_good_settings(tmp_path):
    """What .ci/run runs: secure cookies, HSTS, SSL redirect... no warning at all."""
    env = _production_env(tmp_path)
    proc = _check_deploy(env)
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; print("
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
            " s.CSRF_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS, s.SECURE_REFERRER_POLICY, s.DEBUG)",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "erp1688.settings"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert shown.stdout.split() == ["True"] * 4 + ["DENY", "same-origin", "False"], shown.stderr


# -- 3. login throttling (django-axes) --------------------------------------------------------

PASSWORD = "Correct-horse-9187"


@pytest.fixture
def staff_with_password(db):
    from tests.factories import UserFactory

    user = UserFactory(username="guessme", is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client: Client, password: str, ip: str = "203.0.113.7"):
    return client.post(
        reverse("admin:login"),
        {"username": "guessme", "password": password, "next": "/"},
        REMOTE_ADDR=ip,
    )


def test_five_wrong_passwords_lock_the_username_on_that_address(staff_with_password):
    client = Client()
    for _ in range(4):
        assert _login(client, "wrong-password").status_code == 200  # the form again
    fifth = _login(client, "wrong-password")
    assert fifth.status_code == 429
    refused = _login(client, PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    page = refused.content.decode()
    assert "登录失败次数过多" in page  # the styled, translated page (zh-hans by default)
    assert "15" in page and "erp1688.css" in page
    from axes.models import AccessAttempt

    stored = repr(list(AccessAttempt.objects.values()))
    assert "guessme" in stored and "wrong-password" not in stored  # passwords are masked
    # Another address may still log in with the right password (lockout is username + IP).
    other = Client()
    assert _login(other, PASSWORD, ip="198.51.100.4").status_code == 302
    assert "_auth_user_id" in other.session


def test_a_successful_login_resets_the_failure_count(staff_with_password):
    client = Client()
    for _ in range(4):
        _login(client, "wrong-password")
    assert _login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "wrong-password").status_code == 200
    assert _login(client, PASSWORD).status_code == 302


def test_lockout_page_in_english(staff_with_password):
    client = Client(headers={"accept-language": "en"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _ in range(5):
        _login(client, "wrong-password")
    page = _login(client, PASSWORD).content.decode()
    assert "Too many failed logins" in page and "15 minutes" in page


def test_force_login_is_not_throttled(staff_client):
    assert staff_client.get("/").status_code == 200


def test_client_ip_trusts_only_the_configured_proxies(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")
    request.META["HTTP_X_FORWARDED_FOR"] = "6.6.6.6, 203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # a client-sent header is ignored
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # what our proxy appended, not the client's 6.6
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"


# -- 5. secrets never logged or stored in plain text ------------------------------------------


def _redis_dump(conn) -> bytes:
    chunks = []
    for key in conn.scan_iter(count=1000):
        chunks.append(key)
        kind = conn.type(key).decode()
        if kind == "string":
            values = [conn.get(key)]
        elif kind == "hash":
            values = [b for pair in conn.hgetall(key).items() for b in pair]
        elif kind == "list":
            values = conn.lrange(key, 0, -1)
        elif kind == "set":
            values = list(conn.smembers(key))
        elif kind == "zset":
            values = conn.zrange(key, 0, -1)
        elif kind == "stream":
            values = [repr(e).encode() for e in conn.xrange(key)]
        else:
            values = []
        for value in values:
            value = value or b""
            chunks.append(value)
            with contextlib.suppress(zlib.error):  # RQ keeps job data zlib-compressed
                chunks.append(zlib.decompress(value))
    return b"\n".join(chunks)


def _database_dump() -> bytes:
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        files = [name, Path(f"{name}-wal"), Path(f"{name}-journal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.append(repr(cursor.fetchall()).encode())
    return b"".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_sync_and_upload_leave_no_secret_in_logs_database_or_redis(
    sandbox, connected_shop, redis_conn, caplog
):
    from catalog.publishing.upload import enqueue_upload, prepare_batch
    from sync.jobs import enqueue_sync
    from tests.factories import UploadBatchFactory, UploadItemFactory

    for name in ("", "open1688", "sync", "catalog", "rq", "urllib3", "django", "axes"):
        caplog.set_level(logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    connection.force_debug_cursor = True  # every SQL statement logged with its parameters
    try:
        secrets = {"app secret": settings.OPEN1688_APP_SECRET}
        secrets["first access token"] = connected_shop.access_token
        secrets["first refresh token"] = connected_shop.refresh_token
        sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 25, "seed": 3})
        # The first call meets an expired token: the sync refreshes it (a refresh-token call).
        sandbox.control("tokens/expire", {"access_token": connected_shop.access_token})
        run = enqueue_sync(connected_shop)
        run_worker("sync")
        run.refresh_from_db()
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        connected_shop.refresh_from_db()
        assert connected_shop.access_token != secrets["first access token"]
        secrets["second access token"] = connected_shop.access_token

        # The upload goes by the schema-driven add after the photobank and freight calls; its
        # offers are decided at once instead of `auditing` for 3 s.
        sandbox.control("switches", {"audit_seconds": 0, "audit_reject_share": 0})
        batch = UploadBatchFactory(shop=connected_shop)
        items = [UploadItemFactory(batch=batch) for _ in range(3)]
        enqueue_upload(prepare_batch(batch))
        run_worker("upload")
        for item in items:
            item.refresh_from_db()
            assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
    finally:
        connection.force_debug_cursor = False
        sandbox.control("switches", {"audit_seconds": 3})

    assert all(len(value) >= 8 for value in secrets.values())
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert "alibaba.product" in logged and "INSERT" in logged  # the logs were really captured
    stored, queued = _database_dump(), _redis_dump(redis_conn)
    assert len(stored) > 10_000 and queued
    for name, value in secrets.items():
        assert value not in logged, f"{name} in the logs"
        assert value.encode() not in stored, f"{name} in the database"
        assert value.encode() not in queued, f"{name} in Redis"
