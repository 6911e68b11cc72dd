"""What every benchmark needs: its own data folder, its own sandbox gateway on a free port,
Django set up against them, one connected sandbox shop, and a table printer.

The database is the project's default (SQLite under data/bench) unless DATABASE_URL names a
PostgreSQL database, which is then dropped and created again: never point it at a database
that holds anything (the suite's `test`/`test_test` are refused).
"""

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# BENCH_DATA_DIR: another folder, so two benchmarks can run at once without sharing files.
DATA = Path(os.environ.get("BENCH_DATA_DIR") or ROOT / "data" / "bench")
LIFTED = 100_000  # requests/s: "no limit", so the code is measured, not the platform's quota
REFUSED_DATABASES = {"test", "test_test", "postgres", "template0", "template1", "erp1688"}


def fresh_postgres(url: str) -> None:
    """Drop and create the database `url` names (a benchmark's own)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in REFUSED_DATABASES:
        raise SystemExit(f"refusing to use the database {name!r} for a benchmark")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


class Bench:
    def __init__(self, sandbox_rate: float = LIFTED, client_rate: float = LIFTED, **env: str):
        sys.path.insert(0, str(ROOT))
        from erp1688.embedded_redis import stop_embedded_redis

        stop_embedded_redis(DATA)  # a previous run's, before its folder goes
        shutil.rmtree(DATA, ignore_errors=True)
        DATA.mkdir(parents=True)
        database_url = os.environ.get("DATABASE_URL", "")
        if database_url.startswith("postgres"):
            fresh_postgres(database_url)
        self.sandbox = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--rate", str(sandbox_rate),
             "--db", str(DATA / "sandbox.sqlite3")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.url = self.sandbox.stdout.readline().split()[-1]  # SANDBOX_LISTENING <url>
        os.environ.update(
            ERP_DATA_DIR=str(DATA),
            OPEN1688_GATEWAY=self.url,
            OPEN1688_RATE_PER_SECOND=str(client_rate),
            DEBUG="False",  # as in production: no query log kept in memory
            **env,
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp1688.settings")
        import django
        import requests

        django.setup()
        from django.core.management import call_command

        from erp1688.embedded_redis import ensure_embedded_redis_for_settings

        ensure_embedded_redis_for_settings()  # reading the settings does not start it

        call_command("migrate", verbosity=0)
        self.http = requests.Session()

    def control(self, path: str, payload: dict | None = None) -> dict:
        answer = self.http.post(f"{self.url}/_sandbox/{path}", json=payload, timeout=600)
        answer.raise_for_status()
        return answer.json()

    def stats(self) -> dict:
        return self.http.get(f"{self.url}/_sandbox/stats").json()

    def calls(self) -> dict:
        return self.stats()["calls"]

    def connected_shop(self, member_id: str, name: str):
        from django.conf import settings
        from django.utils import timezone

        from catalog.shops.clients import connect_shop
        from open1688.answers import parse_token

        self.control("sellers", {"member_id": member_id, "login_id": member_id, "name": name})
        token = self.control(
            "tokens", {"app_key": settings.OPEN1688_APP_KEY, "member_id": member_id}
        )
        return connect_shop(parse_token(token, timezone.now()), name=name)

    def set_sandbox_rate(self, rate: float) -> None:
        """The sandbox gateway's own limit for our app (gw.QosAppFrequencyLimit above it)."""
        from django.conf import settings

        self.control(
            "apps",
            {
                "app_key": settings.OPEN1688_APP_KEY,
                "app_secret": settings.OPEN1688_APP_SECRET,
                "rate_per_sec": rate,
            },
        )

    def close(self) -> None:
        from erp1688.embedded_redis import stop_embedded_redis

        self.sandbox.terminate()
        self.sandbox.wait(timeout=30)
        stop_embedded_redis(DATA)


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (readable on a terminal too); printed and returned."""

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def machine() -> str:
    python = platform.python_version()
    return f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {python}"
