"""Is any RQ worker alive, and for which queues? (a selector: reads Redis, writes nothing)

Pages that wait on a worker (the dashboard, a batch's progress, a shop's "sync now", a live
edit's result) say so when none is alive, and refusals name what they wait for: queued work
with no worker waits for ever, and "try again in a minute" would not be true.

A worker counts as alive while its key is in Redis with a recent heartbeat: rq registers a
worker at birth, removes it at a clean exit, and an idle worker heartbeats every
`worker_ttl - 15` s; one killed without a word keeps its key until `worker_ttl + 60` s after its
last heartbeat, so that is the longest a dead worker still counts (rq's default worker_ttl:
420 s; `rqworker --worker-ttl` shortens it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import django_rq
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError
from rq import Worker
from rq.defaults import DEFAULT_WORKER_TTL

QUEUES = ("default", "sync", "upload")
HEARTBEAT_GRACE = timedelta(seconds=DEFAULT_WORKER_TTL + 60)

# What waits on each queue, in the words of the pages.
WORK = {
    "sync": _("shop syncs"),
    "upload": _("batch uploads"),
    "default": _("live offer changes and watched offers"),
}
NO_WORKER = _("No worker is running: queued work waits until one starts.")
NO_WORKER_FOR = _("No worker is running for %(work)s: it waits until one starts.")


@dataclass(frozen=True)
class WorkerHealth:
    known: bool  # False when Redis did not answer: then nothing is claimed either way
    served: frozenset[str]  # the queues that a live worker listens to

    def serves(self, queue: str) -> bool:
        return not self.known or queue in self.served

    def missing(self, queues=QUEUES) -> list[str]:
        return [queue for queue in queues if not self.serves(queue)]

    @property
    def none_alive(self) -> bool:
        return self.known and not self.served

    def warning(self, queues=QUEUES) -> str:
        """The sentence a page shows when work of `queues` would wait for ever, else ""."""
        missing = self.missing(queues)
        if not missing:
            return ""
        if self.none_alive:
            return str(NO_WORKER)
        return str(NO_WORKER_FOR % {"work": ", ".join(str(WORK.get(q, q)) for q in missing)})


def _alive(worker: Worker, now: datetime) -> bool:
    beat = worker.last_heartbeat
    if beat is None:
        return False
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return now - beat <= HEARTBEAT_GRACE


def worker_health(*, connection=None, now: datetime | None = None) -> WorkerHealth:
    """Which queues a live worker serves (one Redis read per registered worker)."""
    try:
        connection = connection or django_rq.get_connection("default")
        workers = Worker.all(connection=connection)
    except (RedisError, OSError):
        return WorkerHealth(known=False, served=frozenset())
    now = now or timezone.now()
    served: set[str] = set()
    for worker in workers:
        if _alive(worker, now):
            served.update(worker.queue_names())
    return WorkerHealth(known=True, served=frozenset(served))


def waiting_note(queue: str) -> str:
    """The sentence to add to "queued" when no live worker serves `queue`, else ""."""
    return worker_health().warning((queue,))


def announce_queued(request, text: str, queue: str) -> None:
    """Tell staff their work is queued on `queue`, and warn when no live worker serves it."""
    from django.contrib import messages

    messages.success(request, text)
    if note := waiting_note(queue):
        messages.warning(request, note)
