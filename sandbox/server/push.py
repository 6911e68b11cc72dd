"""Message push, the sandbox's side: messages for followed offers, delivered over HTTP (a
signed form POST to a configured URL) and over a WebSocket channel, at-least-once (sometimes
twice, sometimes out of order, by switch). The messages themselves are kept by
sandbox/world/push_messages.py; the replay APIs are sandbox/apis/push.py.

- A watcher thread looks at the offers an app's members follow (``follows``); when an offer's
  ``last_update_ms`` moves past what it last saw (or past the follow, for a change right after
  it), it writes ``PRODUCT_RELATION_VIEW_PRODUCT_CHANGE`` {memberId, productIds, action
  "modify", msgSendTime}, and when SKU or offer stock moved also
  ``PRODUCT_PRODUCT_INVENTORY_CHANGE`` {OfferInventoryChangeList [{offerId, skuId,
  offerOnSale, skuOnSale, quantity (a signed delta), bizTime}]}; a listing move makes the
  action member_expired / member_delete / repost and adds ``..._PRODUCT_EXPIRE`` /
  ``_DELETE`` / ``_REPOST`` (sandbox/world/push_messages.py). Envelope {msgId, type,
  userInfo, data, gmtBorn}.
- HTTP: form ``message`` (the envelope JSON) and ``_aop_signature`` = upper-hex
  HMAC-SHA1(secret, "message" + json). A 200 answer confirms; anything else is sent again.
- WebSocket (``websockets`` server in a thread, its own port): the client sends CONNECT
  {appKey, type, pubTime, sign = upper-hex MD5(secret + appKey + pubTime)}, gets CONNECT_ACK,
  sends HEARTBEAT (answered HEARTBEAT_ACK); messages come as SERVER_PUSH {id, msgId, content
  (the envelope JSON)}; CONFIRM {relatedId} confirms one; an unconfirmed one is sent again
  after RESEND_SECONDS. The frame field names beyond those are the sandbox's (not attested).

Control: ``POST /_sandbox/push`` {app_key, url, websocket, enabled, duplicate, reorder,
drop_websockets}; ``GET /_sandbox/push`` → the settings, the WebSocket URL, counts.
"""

import contextlib
import hashlib
import hmac
import json
import logging
import random
import sqlite3
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field

from ..world import push_messages
from ..world.store import Store

log = logging.getLogger("sandbox.push")

TICK_SECONDS = 0.2
RESEND_SECONDS = 3.0
HTTP_TIMEOUT = 5.0


@dataclass
class PushSettings:
    url: str = ""  # HTTP delivery target ("" = no HTTP delivery)
    websocket: bool = False  # deliver to connected WebSocket clients
    enabled: bool = True  # False: messages are kept for replay only
    duplicate: float = 0.0  # chance that a delivery is sent twice
    reorder: bool = False  # deliver each round newest first


def reset(store: Store) -> None:
    push_messages.clear(store)
    hub = _hubs.get(store.path)
    if hub is not None:
        hub.reset()


# --- signing (the sandbox's own, independent of the client) --------------------------------


def http_signature(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), ("message" + message).encode(), hashlib.sha1)
    return digest.hexdigest().upper()


def ws_sign(secret: str, app_key: str, pub_time: str) -> str:
    return hashlib.md5((secret + app_key + pub_time).encode()).hexdigest().upper()  # noqa: S324


# --- the hub: one per sandbox store ---------------------------------------------------------

_hubs: dict[str, "PushHub"] = {}
_hubs_lock = threading.Lock()


def hub_for(store: Store) -> "PushHub":
    with _hubs_lock:
        hub = _hubs.get(store.path)
        if hub is None:
            hub = _hubs[store.path] = PushHub(store)
        return hub


@dataclass
class PushHub:
    store: Store
    settings: dict[str, PushSettings] = field(default_factory=dict)
    sent: int = 0
    http_failures: int = 0
    _thread: threading.Thread | None = None
    _ws_server: object = None
    _ws_port: int = 0
    _sockets: dict[str, list] = field(default_factory=dict)  # app_key -> connections
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _generation: int = 0  # counts resets

    def reset(self) -> None:
        with self._lock:
            self._generation += 1  # a delivery round under way stops
            self.settings.clear()
            self.sent = self.http_failures = 0
        self.drop_websockets()

    def configure(self, app_key: str, values: dict, *, ws_port: int = 0) -> PushSettings:
        """Set an app's delivery; `ws_port`: where the WebSocket channel listens when it
        starts (0: a free port)."""
        push_messages.ensure_schema(self.store)
        with self._lock:
            current = self.settings.get(app_key, PushSettings())
            known = set(PushSettings.__dataclass_fields__)
            updated = PushSettings(
                **{**asdict(current), **{k: v for k, v in values.items() if k in known}}
            )
            updated.duplicate = min(1.0, max(0.0, float(updated.duplicate)))
            self.settings[app_key] = updated
        if updated.websocket:
            self._start_websocket(ws_port)
        self._start()
        return updated

    def snapshot(self, host: str) -> dict:
        push_messages.ensure_schema(self.store)
        with self.store.connection() as conn:
            counts = conn.execute("SELECT COUNT(*), SUM(confirmed) FROM push_messages").fetchone()
        return {
            "apps": {k: asdict(v) for k, v in self.settings.items()},
            "ws_url": f"ws://{host}:{self._ws_port}/websocket" if self._ws_port else "",
            "messages": counts[0] or 0,
            "confirmed": counts[1] or 0,
            "sent": self.sent,
            "websockets": {k: len(v) for k, v in self._sockets.items()},
        }

    # --- the thread ------------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name="sandbox-push", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                push_messages.detect(self.store)
                generation = self._generation
                for app_key, settings in list(self.settings.items()):
                    if settings.enabled:
                        self._deliver(app_key, settings, generation)
            except sqlite3.ProgrammingError as error:  # the store was closed: sandbox stopped
                log.warning("push delivery stops: %s", error)
                return
            except Exception:  # a sandbox bug must not stop delivery for good
                log.exception("push delivery round failed")

    def _deliver(self, app_key: str, settings: PushSettings, generation: int = 0) -> None:
        now = self.store.clock.now_ms()
        rows = push_messages.pending(self.store, app_key, now - int(RESEND_SECONDS * 1000))
        if not rows:
            return
        if settings.reorder:
            rows = list(reversed(rows))
        app = self.store.get_app(app_key)
        secret = app["app_secret"] if app else ""
        push_messages.mark(self.store, [r["msg_id"] for r in rows], sent_ms=now)
        for row in rows:
            if generation != self._generation:
                return  # reset meanwhile: these rows and their delivery target are gone
            times = 2 if random.random() < settings.duplicate else 1  # noqa: S311
            text = json.dumps(push_messages.envelope(row), ensure_ascii=False)
            for _ in range(times):
                if settings.url and self._post(settings.url, secret, text):
                    push_messages.mark(self.store, [row["msg_id"]], confirm=True)
                if settings.websocket:
                    self._send_ws(app_key, row["msg_id"], text)

    def _post(self, url: str, secret: str, text: str) -> bool:
        body = urllib.parse.urlencode(
            {"message": text, "_aop_signature": http_signature(secret, text)}
        ).encode()
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
        request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
        self.sent += 1
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:  # noqa: S310
                return answer.status == 200
        except (urllib.error.URLError, OSError) as error:
            self.http_failures += 1
            log.info("push to %s failed: %s", url, error)
            return False

    # --- WebSocket ---------------------------------------------------------------------------
    def _start_websocket(self, port: int = 0) -> None:
        from websockets.sync.server import serve

        with self._lock:
            if self._ws_server is not None:
                return
            self._ws_server = serve(self._ws_session, "127.0.0.1", port)
            self._ws_port = self._ws_server.socket.getsockname()[1]
            threading.Thread(
                target=self._ws_server.serve_forever, name="sandbox-push-ws", daemon=True
            ).start()

    def _ws_session(self, connection) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            hello = json.loads(connection.recv(timeout=10))
            app_key = str(hello.get("appKey") or "")
            app = self.store.get_app(app_key)
            expected = ws_sign(app["app_secret"], app_key, str(hello.get("pubTime"))) if app else ""
            if (
                hello.get("type") != "CONNECT"
                or not app
                or not hmac.compare_digest(expected, str(hello.get("sign") or ""))
            ):
                connection.send(json.dumps({"type": "CONNECT_ACK", "success": False,
                                            "message": "bad appKey or sign"}))  # fmt: skip
                connection.close()
                return
            # Registered before the ACK: a message born right after the client saw the ACK
            # must find its connection.
            with self._lock:
                self._sockets.setdefault(app_key, []).append(connection)
            connection.send(json.dumps({"type": "CONNECT_ACK", "success": True}))
            try:
                for frame in connection:
                    self._on_frame(connection, json.loads(frame))
            finally:
                with self._lock:
                    if connection in self._sockets.get(app_key, []):
                        self._sockets[app_key].remove(connection)
        except (ConnectionClosed, TimeoutError, ValueError):
            return

    def _on_frame(self, connection, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "HEARTBEAT":
            connection.send(json.dumps({"type": "HEARTBEAT_ACK"}))
        elif kind == "CONFIRM":
            with contextlib.suppress(TypeError, ValueError):
                push_messages.mark(self.store, [int(frame.get("relatedId"))], confirm=True)

    def _send_ws(self, app_key: str, msg_id: int, text: str) -> None:
        frame = json.dumps({"type": "SERVER_PUSH", "id": msg_id, "msgId": msg_id, "content": text})
        for connection in list(self._sockets.get(app_key, [])):
            try:
                connection.send(frame)
                self.sent += 1
            except Exception:  # closed meanwhile: sent again after RESEND_SECONDS
                log.info("websocket send failed")

    def drop_websockets(self) -> int:
        """Close every open WebSocket (the client must reconnect)."""
        with self._lock:
            connections = [c for group in self._sockets.values() for c in group]
            self._sockets.clear()
        for connection in connections:
            with contextlib.suppress(Exception):  # already gone
                connection.close()
        return len(connections)
