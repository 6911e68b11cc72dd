"""Message push records: the messages written for followed offers that changed, and what the
watcher last saw of each offer. Delivery is server/push.py's; the replay APIs are apis/push.py's.

Topics, as 1688 documents them for a followed offer (the relation view): every change makes
PRODUCT_CHANGE, its ``action`` saying which (modify, member_expired, member_delete, repost);
a stock move adds INVENTORY_CHANGE with signed deltas; going off sale adds EXPIRE, being
deleted DELETE, coming back on sale REPOST, each {productIds, memberId, status, msgSendTime}.
"""

import json
import time

from .store import Store

PRODUCT_CHANGE = "PRODUCT_RELATION_VIEW_PRODUCT_CHANGE"
INVENTORY_CHANGE = "PRODUCT_PRODUCT_INVENTORY_CHANGE"
EXPIRE = "PRODUCT_RELATION_VIEW_PRODUCT_EXPIRE"
DELETE = "PRODUCT_RELATION_VIEW_PRODUCT_DELETE"
REPOST = "PRODUCT_RELATION_VIEW_PRODUCT_REPOST"
ON_SALE = "published"
GONE_STATUSES = ("member deleted", "deleted")
DELISTED_STATUSES = ("outdated", "expired", "member expired", "auto expired")
# A listing move: (the PRODUCT_CHANGE action, the topic of its own message).
LISTING_MOVES = {
    "delist": ("member_expired", EXPIRE),
    "gone": ("member_delete", DELETE),
    "relist": ("repost", REPOST),
}

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
    status TEXT,                -- the offer's status then (NULL: not known)
    PRIMARY KEY (app_key, member_id, product_id)
);
"""


def ensure_schema(store: Store) -> None:
    with store.connection() as conn:
        conn.executescript(SCHEMA)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(push_seen)")}
        if "status" not in columns:  # a store made before statuses were kept
            conn.execute("ALTER TABLE push_seen ADD COLUMN status TEXT")


def clear(store: Store) -> None:
    ensure_schema(store)
    with store.write() as conn:
        conn.execute("DELETE FROM push_messages")
        conn.execute("DELETE FROM push_seen")


def _stock_of(info: dict) -> dict[str, int]:
    stock = {"0": int((info.get("saleInfo") or {}).get("amountOnSale") or 0)}
    for sku in info.get("skuInfos") or []:
        stock[str(sku.get("skuId"))] = int(sku.get("amountOnSale") or 0)
    return stock


def detect(store: Store) -> int:
    """Write messages for followed offers that changed since last seen; returns how many."""
    written = 0
    with store.write() as conn:
        rows = conn.execute(
            "SELECT f.app_key, f.member_id, f.product_id, f.created_ms, o.last_update_ms,"
            " s.last_update_ms AS seen_ms, s.stock AS seen_stock, s.status AS seen_status"
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
            status = str(offer.info.get("status") or "")
            first_sight = row["seen_ms"] is None
            changed = not first_sight or row["last_update_ms"] > row["created_ms"]
            conn.execute(
                "INSERT INTO push_seen VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                " last_update_ms = excluded.last_update_ms, stock = excluded.stock,"
                " status = excluded.status",
                (row["app_key"], row["member_id"], row["product_id"], row["last_update_ms"],
                 json.dumps(stock), status),
            )  # fmt: skip
            if not changed:
                continue
            key = (row["app_key"], row["member_id"])
            sent_at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now / 1000))
            ids = {"productIds": str(row["product_id"]), "memberId": row["member_id"]}
            move = LISTING_MOVES.get(_listing_move(row["seen_status"], status))
            data = {**ids, "action": move[0] if move else "modify", "msgSendTime": sent_at}
            _add(conn, key, PRODUCT_CHANGE, data, now)
            written += 1
            if move:
                topic = move[1]
                status_word = topic.removeprefix("PRODUCT_")
                _add(conn, key, topic, {**ids, "status": status_word, "msgSendTime": sent_at}, now)
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


def _listing_move(before: str | None, now: str) -> str | None:
    """delist, gone, relist or None. A status not seen before (the offer moved before the
    watcher first looked) counts as on sale: it was followed while it could be bought."""
    before = before or ON_SALE
    if before in GONE_STATUSES or before == now:
        return None
    if now in GONE_STATUSES:
        return "gone"
    if now in DELISTED_STATUSES and before not in DELISTED_STATUSES:
        return "delist"
    if now == ON_SALE and before in DELISTED_STATUSES:
        return "relist"
    return None  # e.g. into or out of an audit


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


def pending(store: Store, app_key: str, older_than_ms: int) -> list:
    with store.connection() as conn:
        return conn.execute(
            "SELECT * FROM push_messages WHERE app_key = ? AND confirmed = 0"
            " AND (sent_ms IS NULL OR sent_ms <= ?) ORDER BY msg_id",
            (app_key, older_than_ms),
        ).fetchall()


def mark(store: Store, msg_ids: list[int], *, sent_ms: int | None = None, confirm=False):
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


def unconfirmed(
    store: Store,
    app_key: str,
    *,
    topic: str | None,
    member_id: str | None,
    limit: int,
    offset: int = 0,
) -> tuple[list, int]:
    """A page of an app's unconfirmed messages (of one topic, for one member, when given) in
    the order they were born, and how many there are in all."""
    ensure_schema(store)
    clauses, params = ["app_key = ?", "confirmed = 0"], [app_key]
    if topic:
        clauses.append("topic = ?")
        params.append(topic)
    if member_id:
        clauses.append("member_id = ?")
        params.append(member_id)
    where = " AND ".join(clauses)
    with store.connection() as conn:
        count_sql = f"SELECT COUNT(*) FROM push_messages WHERE {where}"  # noqa: S608
        total = conn.execute(count_sql, params).fetchone()[0]
        rows = conn.execute(
            f"SELECT * FROM push_messages WHERE {where} ORDER BY msg_id LIMIT ? OFFSET ?",  # noqa: S608
            [*params, limit, offset],
        ).fetchall()
    return rows, total
