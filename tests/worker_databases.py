"""One migration per run: parallel test workers clone a migrated template database.

Without xdist pytest-django creates the test database by migrating it, as usual. Under xdist
each worker would migrate its own (about 6 s of CPU each, all at once on two cores); instead
the first worker to get the lock migrates a template once per run (`manage.py migrate` in a
child process, so the template is what a real deployment gets), and every worker copies it:
the file on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL (what Django's own parallel
runner does). The lock also keeps PostgreSQL's copies one at a time, as it requires.

On SQLite the run's controller starts that migration as it starts the workers, so it runs while
they start and collect the tests instead of after, when they would all wait for it.
"""

import fcntl
import os
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.child_processes import database_url
from tests.isolation import ROOT, shared_data_dir


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _migrate(settings_dict: dict, name: str, env: dict | None = None) -> None:
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **(env or {}), "DATABASE_URL": database_url(settings_dict, name)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"migrating the template database failed:\n{done.stderr[-3000:]}")


def _drop(connection, name: str) -> None:
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        return
    with connection._nodb_cursor() as cursor:
        # FORCE (PostgreSQL 13+): a thread a test left behind must not keep the database alive.
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_template() -> str:
    return str(shared_data_dir() / "template-erp1688.sqlite3")


def _template(connection, run: str) -> str:
    """This run's migrated template (made by whichever comes first: the controller on SQLite, or
    a worker)."""
    base = shared_data_dir()
    if connection.vendor == "sqlite":
        name = _sqlite_template()
    else:
        name = f"test_{connection.settings_dict['NAME']}_template"
    marker = base / "template.run"
    if not (marker.exists() and marker.read_text() == f"{run} {name}"):
        _drop(connection, name)
        if connection.vendor != "sqlite":
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        _migrate(connection.settings_dict, name)
        marker.write_text(f"{run} {name}")
    return name


def _migrate_sqlite_template(run: str, worker: str) -> None:
    """What _template does on SQLite, without a connection (the controller has none open), in
    the data folder of `worker` (manage.py starts that folder's embedded Redis, as a worker
    migrating would)."""
    from django.conf import settings

    base, name = shared_data_dir(), _sqlite_template()
    marker = base / "template.run"
    with _locked(base / "template.lock"):
        if marker.exists() and marker.read_text() == f"{run} {name}":
            return
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        try:
            _migrate(settings.DATABASES["default"], name, {"ERP_DATA_DIR": str(base / worker)})
        except RuntimeError:
            return  # the first worker migrates again and reports the failure with its test
        marker.write_text(f"{run} {name}")


_early: list[threading.Thread] = []


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist's controller, starting a worker: the first start also starts the run's migration
    (SQLite; on PostgreSQL the first worker makes the template)."""
    from django.conf import settings

    if _early or not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return
    run, worker = node.workerinput["testrunuid"], node.workerinput["workerid"]
    _early.append(
        threading.Thread(target=_migrate_sqlite_template, args=(run, worker), daemon=True)
    )
    _early[0].start()


def pytest_sessionfinish(session):
    for thread in _early:
        thread.join()


def _copy(connection, template: str, name: str) -> None:
    _drop(connection, name)
    if connection.vendor == "sqlite":
        shutil.copyfile(template, name)
        return
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_modify_db_settings
):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield from _migrated_by_django(request, django_db_blocker)
        return
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    name = connection.settings_dict["TEST"]["NAME"]  # pytest-django suffixed it per worker
    with django_db_blocker.unblock():
        with _locked(shared_data_dir() / "template.lock"):
            template = _template(connection, os.environ["PYTEST_XDIST_TESTRUNUID"])
            _copy(connection, template, name)
        # What Django's create_test_db does once the database exists: point every user at it.
        connection.close()
        settings.DATABASES["default"]["NAME"] = name
        connection.settings_dict["NAME"] = name
        connection.ensure_connection()
    yield
    with django_db_blocker.unblock():
        connection.close()
        _drop(connection, name)


def _migrated_by_django(request, django_db_blocker):
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=request.config.option.verbose, interactive=False, serialized_aliases=set()
        )
    yield
    with django_db_blocker.unblock():
        teardown_databases(config, verbosity=request.config.option.verbose)
