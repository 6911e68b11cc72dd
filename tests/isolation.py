"""Each test worker of a parallel run (pytest-xdist) gets its own world.

Loaded with `-p tests.isolation` (pyproject addopts), so it runs before pytest-django reads the
settings. In a worker process (PYTEST_XDIST_WORKER = gw0, gw1, ...) it points:

- ERP_DATA_DIR at a folder of the worker's own, so each worker has its own embedded Redis,
  SQLite test database and staged pictures;
- REDIS_URL, when the run is against a real Redis server, at database 1 + the worker's number
  (database 0 stays the app's), so one worker's flush never empties another's queues.

pytest-django names each worker's test database itself (test_..._gw0), and each worker starts
its own sandbox gateway (tests/conftest.py), so nothing else is shared. Without xdist nothing
changes.
"""

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
REDIS_DATABASES = 16  # redis-server's default `databases`


def redis_url_for_database(url: str, number: int) -> str:
    """`url` with its database number replaced (redis://host:port/N or unix://path?db=N)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(number)
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{number}"))


def shared_data_dir() -> Path:
    """The data folder every worker's own folder sits in (data/test by default)."""
    here = Path(os.environ.get("ERP_DATA_DIR") or ROOT / "data" / "test")
    return here.parent if os.environ.get("PYTEST_XDIST_WORKER") else here


def isolate(environ) -> None:
    worker = environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    number = int(worker.removeprefix("gw"))
    base = Path(environ.get("ERP_DATA_DIR") or ROOT / "data" / "test")
    environ["ERP_DATA_DIR"] = str(base / worker)
    if environ.get("REDIS_URL"):
        if number + 1 >= REDIS_DATABASES:
            raise RuntimeError(
                f"{worker}: a shared Redis server has {REDIS_DATABASES} databases; "
                "run fewer test workers (-n)"
            )
        environ["REDIS_URL"] = redis_url_for_database(environ["REDIS_URL"], number + 1)


isolate(os.environ)


class MachineShare:
    """Under xdist: an `exclusive` test runs with no other test running on this machine (it
    measures time, e.g. pages answering while real workers sync); every other test holds a
    shared hold meanwhile. A turnstile makes a waiting exclusive test go first, so the steady
    stream of short tests cannot starve it. Waiting for every other worker to finish its test
    costs seconds, so an exclusive test followed by another keeps its hold for it (tests/conftest.py
    runs the exclusive tests one after another). Without xdist: nothing to share."""

    def __init__(self) -> None:
        self._kept = None  # the open lock files an exclusive test kept for the next one

    @contextmanager
    def hold(self, exclusive: bool, keep: bool = False):
        """Hold the machine for one test; `keep`: an exclusive hold stays for the next test."""
        if not os.environ.get("PYTEST_XDIST_WORKER"):
            yield
            return
        files, self._kept = self._kept, None
        if files is not None and not exclusive:
            self._release(files)
            files = None
        files = files or self._acquire(exclusive)
        try:
            yield
        finally:
            if exclusive and keep:
                self._kept = files
            else:
                self._release(files)

    def release(self) -> None:
        """Give back a hold kept for a test that will not come (the session ends)."""
        files, self._kept = self._kept, None
        if files is not None:
            self._release(files)

    @staticmethod
    def _acquire(exclusive: bool):
        base = shared_data_dir()
        base.mkdir(parents=True, exist_ok=True)
        # Kept open past this call (a hold may outlive its test); _release closes them.
        turnstile = open(base / "tests.turnstile", "a")  # noqa: SIM115
        share = open(base / "tests.share", "a")  # noqa: SIM115
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(share, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        return turnstile, share

    @staticmethod
    def _release(files) -> None:
        for lock in reversed(files):  # closing a file gives back its lock
            lock.close()


machine_share = MachineShare()
