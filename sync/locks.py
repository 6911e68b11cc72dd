"""Locks shared by every worker through Redis, renewed by their holder while it works.

A lock lives `LOCK_TTL_SECONDS` (60 by default) unless renewed: a daemon thread renews it every
third of that while the block runs, and the block's exit releases it on every path. A holder
that dies (SIGKILL, OOM, a machine lost) stops renewing, so its lock ends within one TTL and the
next run can start; nobody has to guess how long a run may take.

The lock's value names its owner (`run 12`, `batch 7`) followed by a random token, so a look at
the key says who holds it (`holder`) and a sweeper can tell a dead holder's lock apart.

When renewal fails (the key expired or was taken while Redis was unreachable, or Redis lost it),
the lock is *lost*: `check()` raises `LockLost`, and the holder stops at its next safe point
(the sync after a page, the upload after an item) instead of working on beside a new holder.

    with held_lock(lock_key(shop.pk), owner=f"run {run.pk}") as lock:
        if lock is None:
            ...  # another holder: refuse
        for page in pages:
            work(page)
            lock.check()
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import django_rq
from django.conf import settings
from redis import Redis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

SEPARATOR = "|"


class LockLost(Exception):
    """The lock ended while its holder was still working (renewal failed)."""


class RenewedLock:
    """A Redis lock renewed by a daemon thread every TTL/3 while it is held."""

    def __init__(
        self,
        key: str,
        *,
        owner: str = "",
        ttl: float | None = None,
        connection: Redis | None = None,
    ):
        self.key = key
        self.owner = owner
        self.ttl = float(ttl or settings.LOCK_TTL_SECONDS)
        self.connection = connection or django_rq.get_connection("default")
        self.token = f"{owner}{SEPARATOR}{uuid.uuid4().hex}"
        # thread_local=False: the renewing thread must see the token the holder acquired with.
        self._lock = self.connection.lock(key, timeout=self.ttl, thread_local=False)
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread: threading.Thread | None = None
        self.renewals = 0

    # -- acquire / release ------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the lock if it is free (never waits); start renewing it. False when taken."""
        if not self._lock.acquire(blocking=False, token=self.token):
            return False
        self._stop.clear()
        self._lost.clear()
        self._thread = threading.Thread(
            target=self._renew_loop, name=f"renew {self.key}", daemon=True
        )
        self._thread.start()
        return True

    def release(self) -> None:
        """Stop renewing and delete the key if it is still ours (never someone else's)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.ttl)
            self._thread = None
        try:
            self._lock.release()
        except LockError:  # expired or taken over: nothing of ours left to delete
            log.warning("lock %s was no longer held by %s at release", self.key, self.owner)
        except RedisError as exc:  # Redis away: the key ends by itself within one TTL
            log.warning("lock %s not released (%s); it expires within %ss", self.key, exc, self.ttl)

    def __enter__(self) -> "RenewedLock":
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    # -- while held ----------------------------------------------------------------------

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        """Raise LockLost if renewal failed; call it at the holder's safe points."""
        if self._lost.is_set():
            raise LockLost(
                f"the lock {self.key} ended while {self.owner or 'its holder'} was working; "
                "stopping so that two runs never work on together"
            )

    def renew(self) -> None:
        """Renew now (the thread does this on its own; exposed for holders and tests)."""
        try:
            self._lock.reacquire()
        except LockError as exc:
            self._lost.set()
            raise LockLost(f"the lock {self.key} is no longer held by {self.owner}") from exc
        self.renewals += 1

    def _renew_loop(self) -> None:
        interval = self.ttl / 3
        last_ok = time.monotonic()
        while not self._stop.wait(interval):
            try:
                self.renew()
                last_ok = time.monotonic()
            except LockLost:
                log.error("lock %s lost by %s", self.key, self.owner)
                return
            except RedisError as exc:
                # Redis unreachable for a moment: try again next tick; once a whole TTL has
                # passed without a renewal the key may have ended, so the lock counts as lost.
                if time.monotonic() - last_ok >= self.ttl:
                    log.error(
                        "lock %s lost by %s: Redis unreachable (%s)", self.key, self.owner, exc
                    )
                    self._lost.set()
                    return
                log.warning("lock %s not renewed (%s); retrying", self.key, exc)


@contextmanager
def held_lock(
    key: str, *, owner: str = "", ttl: float | None = None, connection: Redis | None = None
) -> Iterator[RenewedLock | None]:
    """Hold `key` for the block, renewed while it runs; yields None when someone else holds it."""
    lock = RenewedLock(key, owner=owner, ttl=ttl, connection=connection)
    if not lock.acquire():
        yield None
        return
    with lock:
        yield lock


def holder(key: str, *, connection: Redis | None = None) -> str | None:
    """The owner label of whoever holds `key` now ("" when unnamed), or None when it is free."""
    value = (connection or django_rq.get_connection("default")).get(key)
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text.rsplit(SEPARATOR, 1)[0] if SEPARATOR in text else ""
