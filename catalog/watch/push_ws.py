"""The 1688 message channel over WebSocket: the push alternative that needs no public URL
(docs/protocol.md "Message push"). Run by `python manage.py watch_push`.

One connection per app: CONNECT {appKey, type, pubTime, sign = upper-hex MD5(secret + appKey +
pubTime)}, wait for CONNECT_ACK, a HEARTBEAT every HEARTBEAT_SECONDS, each SERVER_PUSH handed to
the HTTP endpoint's handler (catalog/watch/push.py `receive`, channel "push_ws") and answered
CONFIRM
{relatedId}. A message is confirmed only after it is stored, so a crash in between means 1688
sends it again (and the msgId dedupe drops the copy). On a dropped connection it reconnects
with exponential backoff (1 s doubling to BACKOFF_MAX, with jitter); missed messages are
fetched with the replay API on start and after every reconnect.

The frame names (CONNECT, CONNECT_ACK, HEARTBEAT, SERVER_PUSH, CONFIRM) are attested by real
integrations; the exact field layout of SERVER_PUSH (`content` holding the envelope JSON) is
this project's reading and the sandbox's (docs/protocol.md marks it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import connect

from catalog.models import Channel
from open1688 import MalformedResponseError
from open1688.answers import push_envelope

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30.0
ACK_TIMEOUT = 10.0
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0


def connect_frame(app_key: str, secret: str, now_ms: int | None = None) -> dict:
    pub_time = str(now_ms if now_ms is not None else int(time.time() * 1000))
    sign = hashlib.md5((secret + app_key + pub_time).encode()).hexdigest().upper()  # noqa: S324
    return {"type": "CONNECT", "appKey": app_key, "pubTime": pub_time, "sign": sign}


class ConnectRefused(Exception):
    """CONNECT_ACK said no (wrong app key or sign): retrying will not help until fixed."""


@dataclass
class Stats:
    connects: int = 0
    messages: int = 0
    duplicates: int = 0
    confirms: int = 0
    heartbeats: int = 0
    replays: int = 0
    failures: int = 0  # messages not stored (left unconfirmed, so sent again)


def _default_handler(envelope: dict) -> bool:
    """Store and queue re-reads; True when there was nothing new: a duplicate, or a message
    older than the de-duplication memory (refused, and confirmed so that 1688 stops sending it)."""
    from catalog.watch import push

    result = push.receive(envelope, channel=Channel.PUSH_WS)
    return result.duplicate or result.stale


def _default_replay() -> None:
    from catalog.watch import push

    push.replay()


class PushChannel:
    """Holds the channel until `stop()`; `run()` blocks (a thread or the command)."""

    def __init__(
        self,
        *,
        url: str | None = None,
        app_key: str | None = None,
        app_secret: str | None = None,
        heartbeat: float = HEARTBEAT_SECONDS,
        backoff_max: float = BACKOFF_MAX,
        handle: Callable[[dict], bool] = _default_handler,
        replay: Callable[[], None] | None = _default_replay,
    ):
        self.url = url or settings.OPEN1688_PUSH_WS_URL
        self.app_key = app_key or settings.OPEN1688_APP_KEY
        self._secret = app_secret or settings.OPEN1688_APP_SECRET
        self.heartbeat = heartbeat
        self.backoff_max = backoff_max
        self.handle = handle
        self.replay = replay
        self.stats = Stats()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._connection = None

    def stop(self) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            connection.close()

    def run(self) -> None:
        delay = BACKOFF_START
        while not self._stop.is_set():
            try:
                self._session()
                delay = BACKOFF_START  # a session that got going resets the backoff
            except ConnectRefused:
                raise
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                log.warning("push channel %s: %s; reconnecting in %.1fs", self.url, exc, delay)
            self.connected.clear()
            if self._stop.wait(delay * random.uniform(0.8, 1.2)):  # noqa: S311
                break
            delay = min(self.backoff_max, delay * 2)

    def _session(self) -> None:
        with connect(self.url, open_timeout=ACK_TIMEOUT, close_timeout=2) as connection:
            self._connection = connection
            connection.send(json.dumps(connect_frame(self.app_key, self._secret)))
            ack = json.loads(connection.recv(timeout=ACK_TIMEOUT))
            if ack.get("type") != "CONNECT_ACK" or ack.get("success") is False:
                raise ConnectRefused(ack.get("message") or f"no CONNECT_ACK: {ack}")
            self.stats.connects += 1
            self.connected.set()
            log.info("push channel %s connected", self.url)
            if self.replay is not None:  # what was missed while away
                self.replay()
                self.stats.replays += 1
            next_beat = time.monotonic() + self.heartbeat
            while not self._stop.is_set():
                wait = max(0.0, next_beat - time.monotonic())
                try:
                    text = connection.recv(timeout=wait)
                except TimeoutError:
                    connection.send(json.dumps({"type": "HEARTBEAT"}))
                    self.stats.heartbeats += 1
                    next_beat = time.monotonic() + self.heartbeat
                    continue
                self._on_frame(connection, text)

    def _on_frame(self, connection, text) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            log.warning("push channel: a frame that is not JSON: %.200r", text)
            return
        if not isinstance(frame, dict) or frame.get("type") != "SERVER_PUSH":
            return  # HEARTBEAT_ACK and the like
        content = frame.get("content")
        try:
            envelope = push_envelope(json.loads(content) if isinstance(content, str) else content)
        except (ValueError, TypeError, MalformedResponseError) as exc:
            log.warning("push channel: not a message (%s): %.200r", exc, text)
            return
        try:
            duplicate = self.handle(envelope)  # stored before it is confirmed
        except Exception:  # e.g. the database is away: unconfirmed, 1688 sends it again
            log.exception(
                "push channel: message %s not stored; left unconfirmed", envelope["msgId"]
            )
            self.stats.failures += 1
            return
        self.stats.messages += 1
        self.stats.duplicates += bool(duplicate)
        related = frame.get("id") or envelope["msgId"]
        connection.send(json.dumps({"type": "CONFIRM", "relatedId": related}))
        self.stats.confirms += 1
