"""Helpers for tests that run real `manage.py` children (workers to SIGKILL, load runs)."""

import os
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
LOCK_TTL = 2  # seconds, in the children and here, so a test waits seconds instead of a minute


def database_url(settings_dict: dict, name: str | None = None) -> str:
    """DATABASE_URL for a child process: the database of `settings_dict`, or `name` on its
    server."""
    name = name or settings_dict["NAME"]
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{name}"
    auth = settings_dict["USER"] + (
        f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    )
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{name}"


def child_env(sandbox) -> dict:
    """The environment of a child `manage.py` sharing this test's database, Redis and sandbox."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "OPEN1688_GATEWAY": sandbox.url,
        "OPEN1688_IMAGE_BASE": sandbox.url + "/",  # it serves /img/ pictures
        "OPEN1688_APP_KEY": settings.OPEN1688_APP_KEY,
        "OPEN1688_APP_SECRET": settings.OPEN1688_APP_SECRET,
        "OPEN1688_RATE_PER_SECOND": "200",
        "OPEN1688_READ_TIMEOUT": "30",
        "LOCK_TTL_SECONDS": str(LOCK_TTL),  # so a killed holder's lock expires quickly
    }


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def horse_of(worker_pid: int) -> int:
    """The work-horse a forking rq worker forked for its job (its only child)."""
    children = Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])
