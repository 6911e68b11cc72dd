"""Message push, the sandbox's side: messages for followed offers, delivered over HTTP (a
signed form POST to a configured URL) and over a WebSocket channel, at-least-once (sometimes
twice, sometimes out of order, by switch), and the replay APIs.

- A watcher thread looks at the offers an app's members follow (``follows``); when an offer's
  ``last_update_ms`` moves past what it last saw (or past the follow, for a change right after
  it), it writes ``PRODUCT_RELATION_VIEW_PRODUCT_CHANGE`` {memberId, productIds, action
  "modify", msgSendTime}, and when SKU or offer stock moved also
  ``PRODUCT_PRODUCT_INVENTORY_CHANGE`` {OfferInventoryChangeList [{offerId, skuId,
  offerOnSale, skuOnSale, quantity (a signed delta), bizTime}]}. Envelope {msgId, type,
  userInfo, data, gmtBorn}.
- HTTP: form ``message`` (the envelope JSON) and ``_aop_signature`` = upper-hex
  HMAC-SHA1(secret, "message" + json). A 200 answer confirms; anything else is sent again.
- WebSocket (``websockets`` server in a thread, its own port): the client sends CONNECT
  {appKey, type, pubTime, sign = upper-hex MD5(secret + appKey + pubTime)}, gets CONNECT_ACK,
  sends HEARTBEAT (answered HEARTBEAT_ACK); messages come as SERVER_PUSH {id, msgId, content
  (the envelope JSON)}; CONFIRM {relatedId} confirms one; an unconfirmed one is sent again
  after RESEND_SECONDS. The frame field names beyond those are the sandbox's (not attested).
- Replay (``cn.alibaba.open``, no token): ``push.query.messageList`` {page, pageSize} →
  {pushMessagePage: {datas, totalCount}} (unconfirmed, not confirming),
  ``push.cursor.messageList`` {quantity 20-200} → {pushMessageList} (confirms what it returns),
  ``push.message.confirm`` {msgIdList} → {isSuccess: true}.

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
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from ..apis.params import ParamInvalid, json_param

if TYPE_CHECKING:
    from ..world.store import Store
    from .gateway import ApiCall

log = logging.getLogger("sandbox.push")

PRODUCT_CHANGE = "PRODUCT_RELATION_VIEW_PRODUCT_CHANGE"
INVENTORY_CHANGE = "PRODUCT_PRODUCT_INVENTORY_CHANGE"
TICK_SECONDS = 0.2
RESEND_SECONDS = 3.0
HTTP_TIMEOUT = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS push_messages (
    msg_id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_key TEXT NOT NULL,
    member_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    data TEXT NOT NULL,
    born_ms INTEGER NOT NULL,
    sent_ms INTEGER,            -- last delivery attempt
    confirmed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS push_pending ON push_messages (app_key, confirmed, msg_id);
-- What the watcher last saw of each followed offer, per follower.
CREATE TABLE IF NOT EXISTS push_seen (
    app_key TEXT NOT NULL,
    member_id TEXT NOT NULL,
    product_id INTEGER NOT NULL,
    last_update_ms INTEGER NOT NULL,
    stock TEXT NOT NULL,        -- {"0": offer amount, "<skuId>": amount}
    PRIMARY KEY (app_key, member_id, product_id)
);
"""


@dataclass
class PushSettings:
    url: str = ""  # HTTP delivery target ("" = no HTTP delivery)
    websocket: bool = False  # deliver to connected WebSocket clients
    enabled: bool = True  # False: messages are kept for replay only
    duplicate: float = 0.0  # chance that a delivery is sent twice
    reorder: bool = False  # deliver each round newest first


def ensure_schema(store: "Store") -> None:
    with store.connection() as conn:
        conn.executescript(SCHEMA)


def reset(store: "Store") -> None:
    ensure_schema(store)
    with store.write() as conn:
        conn.execute("DELETE FROM push_messages")
        conn.execute("DELETE FROM push_seen")
    hub = _hubs.get(store.path)
    if hub is not None:
        hub.reset()


# --- signing (the sandbox's own, independent of the client) --------------------------------


def http_signature(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), ("message" + message).encode(), hashlib.sha1)
    return digest.hexdigest().upper()


def ws_sign(secret: str, app_key: str, pub_time: str) -> str:
    return hashlib.md5((secret + app_key + pub_time).encode()).hexdigest().upper()  # noqa: S324


# --- detecting changes of followed offers ---------------------------------------------------


def _stock_of(info: dict) -> dict[str, int]:
    stock = {"0": int((info.get("saleInfo") or {}).get("amountOnSale") or 0)}
    for sku in info.get("skuInfos") or []:
        stock[str(sku.get("skuId"))] = int(sku.get("amountOnSale") or 0)
    return stock


def detect(store: "Store") -> int:
    """Write messages for followed offers that changed since last seen; returns how many."""
    from ..world.store import Store

    written = 0
    with store.write() as conn:
        rows = conn.execute(
            "SELECT f.app_key, f.member_id, f.product_id, f.created_ms, o.last_update_ms,"
            " s.last_update_ms AS seen_ms, s.stock AS seen_stock"
            " FROM follows f JOIN offers o ON o.product_id = f.product_id"
            " LEFT JOIN push_seen s ON s.app_key = f.app_key AND s.member_id = f.member_id"
            " AND s.product_id = f.product_id"
            " WHERE s.last_update_ms IS NULL OR s.last_update_ms != o.last_update_ms"
        ).fetchall()
        if not rows:
            return 0
        offers = Store.load_offers(conn, sorted({r["product_id"] for r in rows}))
        now = store.clock.now_ms()
        for row in rows:
            offer = offers.get(row["product_id"])
            if offer is None:
                continue
            stock = _stock_of(offer.info)
            first_sight = row["seen_ms"] is None
            changed = not first_sight or row["last_update_ms"] > row["created_ms"]
            conn.execute(
                "INSERT INTO push_seen VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                " last_update_ms = excluded.last_update_ms, stock = excluded.stock",
                (row["app_key"], row["member_id"], row["product_id"], row["last_update_ms"],
                 json.dumps(stock)),
            )  # fmt: skip
            if not changed:
                continue
            key = (row["app_key"], row["member_id"])
            data = {
                "memberId": row["member_id"],
                "productIds": str(row["product_id"]),
                "action": "modify",
                "msgSendTime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now / 1000)),
            }
            _add(conn, key, PRODUCT_CHANGE, data, now)
            written += 1
            before = json.loads(row["seen_stock"]) if row["seen_stock"] else {}
            moves = [
                {
                    "offerId": row["product_id"],
                    "skuId": int(sku_id) if sku_id != "0" else None,
                    "offerOnSale": stock["0"],
                    "skuOnSale": amount,
                    "quantity": amount - before[sku_id],
                    "bizTime": now,
                }
                for sku_id, amount in stock.items()
                if sku_id in before and amount != before[sku_id]
            ]
            if moves:
                _add(conn, key, INVENTORY_CHANGE, {"OfferInventoryChangeList": moves}, now)
                written += 1
    return written


def _add(conn, key: tuple[str, str], topic: str, data: dict, now: int) -> None:
    conn.execute(
        "INSERT INTO push_messages (app_key, member_id, topic, data, born_ms)"
        " VALUES (?, ?, ?, ?, ?)",
        (*key, topic, json.dumps(data, ensure_ascii=False), now),
    )


def envelope(row) -> dict:
    return {
        "msgId": row["msg_id"],
        "type": row["topic"],
        "userInfo": row["member_id"],
        "data": json.loads(row["data"]),
        "gmtBorn": row["born_ms"],
        "bizKey": str(json.loads(row["data"]).get("productIds") or ""),
    }


def _pending(store: "Store", app_key: str, older_than_ms: int) -> list:
    with store.connection() as conn:
        return conn.execute(
            "SELECT * FROM push_messages WHERE app_key = ? AND confirmed = 0"
            " AND (sent_ms IS NULL OR sent_ms <= ?) ORDER BY msg_id",
            (app_key, older_than_ms),
        ).fetchall()


def _mark(store: "Store", msg_ids: list[int], *, sent_ms: int | None = None, confirm=False):
    if not msg_ids:
        return
    marks = ",".join("?" * len(msg_ids))
    with store.write() as conn:
        if confirm:
            conn.execute(
                f"UPDATE push_messages SET confirmed = 1 WHERE msg_id IN ({marks})",  # noqa: S608
                msg_ids,
            )
        if sent_ms is not None:
            conn.execute(
                f"UPDATE push_messages SET sent_ms = ? WHERE msg_id IN ({marks})",  # noqa: S608
                [sent_ms, *msg_ids],
            )


# --- the hub: one per sandbox store ---------------------------------------------------------

_hubs: dict[str, "PushHub"] = {}
_hubs_lock = threading.Lock()


def hub_for(store: "Store") -> "PushHub":
    with _hubs_lock:
        hub = _hubs.get(store.path)
        if hub is None:
            hub = _hubs[store.path] = PushHub(store)
        return hub


@dataclass
class PushHub:
    store: "Store"
    settings: dict[str, PushSettings] = field(default_factory=dict)
    sent: int = 0
    http_failures: int = 0
    _thread: threading.Thread | None = None
    _ws_server: object = None
    _ws_port: int = 0
    _sockets: dict[str, list] = field(default_factory=dict)  # app_key -> connections
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        with self._lock:
            self.settings.clear()
            self.sent = self.http_failures = 0
        self.drop_websockets()

    def configure(self, app_key: str, values: dict, *, ws_port: int = 0) -> PushSettings:
        """Set an app's delivery; `ws_port`: where the WebSocket channel listens when it
        starts (0: a free port)."""
        ensure_schema(self.store)
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
        ensure_schema(self.store)
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
                detect(self.store)
                for app_key, settings in list(self.settings.items()):
                    if settings.enabled:
                        self._deliver(app_key, settings)
            except sqlite3.ProgrammingError:  # the store was closed: the sandbox stopped
                return
            except Exception:  # a sandbox bug must not stop delivery for good
                log.exception("push delivery round failed")

    def _deliver(self, app_key: str, settings: PushSettings) -> None:
        now = self.store.clock.now_ms()
        rows = _pending(self.store, app_key, now - int(RESEND_SECONDS * 1000))
        if not rows:
            return
        if settings.reorder:
            rows = list(reversed(rows))
        app = self.store.get_app(app_key)
        secret = app["app_secret"] if app else ""
        _mark(self.store, [r["msg_id"] for r in rows], sent_ms=now)
        for row in rows:
            times = 2 if random.random() < settings.duplicate else 1  # noqa: S311
            text = json.dumps(envelope(row), ensure_ascii=False)
            for _ in range(times):
                if settings.url and self._post(settings.url, secret, text):
                    _mark(self.store, [row["msg_id"]], confirm=True)
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
                _mark(self.store, [int(frame.get("relatedId"))], confirm=True)

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


# --- replay APIs (gateway handlers) ----------------------------------------------------------


def _int_param(call: "ApiCall", name: str, default: int, low: int, high: int) -> int:
    text = call.params.get(name)
    if text in (None, ""):
        return default
    try:
        return max(low, min(high, int(text)))
    except ValueError as error:
        raise ParamInvalid(f"{name} must be a number") from error


def _select(call: "ApiCall", limit: int, offset: int = 0) -> tuple[list, int]:
    ensure_schema(call.store)
    clauses, params = ["app_key = ?", "confirmed = 0"], [call.app_key]
    if call.params.get("type"):
        clauses.append("topic = ?")
        params.append(call.params["type"])
    if call.params.get("userInfo"):
        clauses.append("member_id = ?")
        params.append(call.params["userInfo"])
    where = " AND ".join(clauses)
    with call.store.connection() as conn:
        count_sql = f"SELECT COUNT(*) FROM push_messages WHERE {where}"  # noqa: S608
        total = conn.execute(count_sql, params).fetchone()[0]
        rows = conn.execute(
            f"SELECT * FROM push_messages WHERE {where} ORDER BY msg_id LIMIT ? OFFSET ?",  # noqa: S608
            [*params, limit, offset],
        ).fetchall()
    return rows, total


def query_message_list(call: "ApiCall") -> dict:
    try:
        page = _int_param(call, "page", 1, 1, 10**6)
        size = _int_param(call, "pageSize", 20, 20, 200)
    except ParamInvalid as error:
        return {"success": False, "code": error.code, "message": str(error)}
    rows, total = _select(call, size, (page - 1) * size)
    return {"pushMessagePage": {"datas": [envelope(r) for r in rows], "totalCount": total}}


def cursor_message_list(call: "ApiCall") -> dict:
    try:
        quantity = _int_param(call, "quantity", 20, 20, 200)
    except ParamInvalid as error:
        return {"success": False, "code": error.code, "message": str(error)}
    rows, _total = _select(call, quantity)
    _mark(call.store, [r["msg_id"] for r in rows], confirm=True)
    return {"pushMessageList": [envelope(r) for r in rows]}


def confirm_messages(call: "ApiCall") -> dict:
    try:
        ids = json_param(call.params, "msgIdList", list, [])
        msg_ids = [int(i) for i in ids]
    except (ParamInvalid, TypeError, ValueError):
        return {"isSuccess": False, "code": "PARAM_INVALID", "message": "msgIdList: ids"}
    ensure_schema(call.store)
    _mark(call.store, msg_ids, confirm=True)
    return {"isSuccess": True}


# --- market figures (product.analyze.*; shapes not attested) ---------------------------------


def market_sales(call: "ApiCall") -> dict:
    """product.analyze.getPerdaySellQuantityTrendNew: 90 days of generated daily sales."""
    return _market_series(call, days=90, sales=True)


def market_median_price(call: "ApiCall") -> dict:
    """product.analyze.getThirtyDayMedianPriceTrendNew: 30 days of a generated median price."""
    return _market_series(call, days=30, sales=False)


def _market_series(call: "ApiCall", *, days: int, sales: bool) -> dict:
    """The same series for the same offer and day (seeded by the offer id)."""
    from datetime import date, timedelta

    try:
        offer_id = int(str(call.params.get("offerId", "")).strip())
    except ValueError:
        return {"result": {"success": "false", "code": "PARAM_INVALID", "message": "offerId"}}
    if call.store.get_offer(offer_id) is None:
        return {"result": {"success": "false", "code": "PRODUCT_NOT_EXIST", "message": "gone"}}
    rng = random.Random(offer_id * 2 + sales)  # noqa: S311
    base = rng.uniform(5, 200)
    today = date.fromtimestamp(call.store.clock.now_ms() / 1000)
    points = []
    for back in range(days, 0, -1):
        value = base * (1 + 0.3 * rng.uniform(-1, 1))
        points.append(
            {
                "date": (today - timedelta(days=back)).isoformat(),
                "value": round(value) if sales else f"{value:.2f}",
            }
        )
    return {"result": {"success": "true", "code": "200", "result": points}}
