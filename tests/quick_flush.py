"""Transactional tests without post_migrate's bill at every flush.

After each transactional test (`transactional_db`, `django_db(transaction=True)`) Django
flushes the database and sends post_migrate for every app, which rebuilds the content types,
the permissions and the role groups (erp1688/roles.py) query by query: about 35 ms a test on an
idle machine, twice that on a busy one. The rows it makes are the same every time, so the first
flush of a test process runs the handlers for real and keeps a copy of every row they made
(the only rows in the database right after a flush); each later flush puts that copy back in a
few inserts. Loaded by tests/conftest.py (`pytest_plugins`).
"""

import pytest
from django.core.management.commands import flush
from django.db import connections, transaction

_send_post_migrate = flush.emit_post_migrate_signal
# By database alias: [(table, columns, rows)] as the first real post_migrate left them.
_made: dict[str, list[tuple[str, list[str], list[tuple]]]] = {}


def _rows_after_post_migrate(connection) -> list[tuple[str, list[str], list[tuple]]]:
    made = []
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows = cursor.fetchall()
            if rows:
                made.append((table, [c[0] for c in cursor.description], rows))
    return made


def _put_back(connection, made) -> None:
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for table, columns, rows in made:
            names = ", ".join(quote(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608


def emit_post_migrate_once(verbosity, interactive, db, **kwargs) -> None:
    """flush's post_migrate: real the first time, the kept rows after that."""
    from django.contrib.contenttypes.models import ContentType

    connection = connections[db]
    if db not in _made:
        _send_post_migrate(verbosity, interactive, db, **kwargs)
        _made[db] = _rows_after_post_migrate(connection)
        return
    _put_back(connection, _made[db])
    ContentType.objects.clear_cache()  # as the real handler does; the ids are the same anyway


@pytest.fixture(scope="session", autouse=True)
def _quick_flush():
    flush.emit_post_migrate_signal = emit_post_migrate_once
    yield
    flush.emit_post_migrate_signal = _send_post_migrate
