"""SQLite storage of the sandbox: apps, sellers, OAuth codes and tokens, offers, uploaded images.

Offers keep their whole ``productInfo`` as a JSON payload plus the few columns that queries
filter or sort on (sandbox/world/offers.py); the tables are in sandbox/world/schema.py.
Connections are never shared between threads: each request thread borrows one from a small pool
(the threaded server starts a thread per request, so a connection per thread would mean a new
connection, and a leaked one, per request).
"""

import hashlib
import queue
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import DEMO_LOGIN_ID, DEMO_MEMBER_ID, DEMO_SELLER_NAME
from ..wire.timefmt import MonotonicClock, format_1688
from . import images
from .offers import Offer, sku_cargo_rows
from .schema import PUBLISH_SCHEMA, PUBLISH_TABLES, SCHEMA

# The official SDK's note on alibaba.product.republish: at most 400 relists a member a day.
DEFAULT_LIMITS = {"republish_per_day": 400}

FIRST_VALUES = {"product_id": 620_000_000_000, "sku_id": 5_000_000_000_000}

OFFER_COLUMNS = (
    "product_id, member_id, status, category_id, subject, cargo_number, create_ms,"
    " last_update_ms, price_fen, month_sold, image_hash"
)
INSERT_OFFER = f"INSERT INTO offers ({OFFER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"  # noqa: S608
INSERT_PAYLOAD = "INSERT INTO offer_payloads (product_id, payload) VALUES (?, ?)"
INSERT_SKU_CARGO = "INSERT OR IGNORE INTO sku_cargo_numbers VALUES (?, ?, ?)"
SELECT_OFFERS = (
    "SELECT o.product_id, member_id, create_ms, last_update_ms, month_sold, payload"
    " FROM offers o JOIN offer_payloads p ON p.product_id = o.product_id"
)
INSERT_CHUNK = 2000


def ali_id_for(member_id: str) -> str:
    """Real member ids look like ``b2b-1711749575`` with aliId ``1711749575``."""
    tail = member_id.removeprefix("b2b-")
    if tail.isdigit():
        return tail
    digest = hashlib.sha1(member_id.encode("utf-8")).hexdigest()  # noqa: S324 (an id, not security)
    return str(1_000_000_000 + int(digest[:8], 16) % 8_999_999_999)


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.clock = MonotonicClock()
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        with self.connection() as conn:
            conn.executescript(SCHEMA)
            conn.executescript(PUBLISH_SCHEMA)
        self.ensure_seller(DEMO_MEMBER_ID, DEMO_LOGIN_ID, DEMO_SELLER_NAME)

    # --- connections -------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA synchronous=NORMAL")
        with self._all_lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection for this thread alone; autocommit unless a transaction is open."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            self._idle.put(conn)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; BEGIN IMMEDIATE so concurrent writers queue instead of failing."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so a page and its total come from the same state."""
        with self.connection() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.rollback()

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                conn.close()
            self._all.clear()

    # --- apps and sellers ----------------------------------------------------------------
    def put_app(self, app_key: str, app_secret: str, rate_per_sec: float) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO apps VALUES (?, ?, ?) ON CONFLICT (app_key) DO UPDATE"
                " SET app_secret = excluded.app_secret, rate_per_sec = excluded.rate_per_sec",
                (app_key, app_secret, rate_per_sec),
            )

    def get_app(self, app_key: str) -> sqlite3.Row | None:
        with self.connection() as conn:
            return conn.execute("SELECT * FROM apps WHERE app_key = ?", (app_key,)).fetchone()

    def ensure_seller(self, member_id: str, login_id: str, name: str) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO sellers VALUES (?, ?, ?, ?) ON CONFLICT (member_id) DO UPDATE"
                " SET login_id = excluded.login_id, name = excluded.name",
                (member_id, login_id, name, ali_id_for(member_id)),
            )

    def ensure_seller_exists(self, member_id: str) -> None:
        """Seeding an unknown seller creates it with a login id derived from the member id."""
        if self.get_seller(member_id) is None:
            login_id = member_id.removeprefix("b2b-")
            self.ensure_seller(member_id, login_id, f"{login_id} 的店铺")

    def get_seller(self, member_id: str) -> sqlite3.Row | None:
        with self.connection() as conn:
            sql = "SELECT * FROM sellers WHERE member_id = ?"
            return conn.execute(sql, (member_id,)).fetchone()

    def sellers(self) -> list[sqlite3.Row]:
        with self.connection() as conn:
            return conn.execute("SELECT * FROM sellers ORDER BY member_id").fetchall()

    def reset(self) -> None:
        """Forget everything but the apps; the demo seller comes back."""
        with self.write() as conn:
            for table in (
                "offers",
                "offer_payloads",
                "sellers",
                "auth_codes",
                "access_tokens",
                "refresh_tokens",
                "uploaded_images",
                "sequences",
                "api_declines",
                "limits",
                "republished",
                "follows",
                *PUBLISH_TABLES,
            ):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
        self.ensure_seller(DEMO_MEMBER_ID, DEMO_LOGIN_ID, DEMO_SELLER_NAME)

    # --- ids ----------------------------------------------------------------------------
    @staticmethod
    def reserve_ids(conn: sqlite3.Connection, name: str, span: int) -> int:
        """Reserve ``span`` consecutive values of a sequence; returns the first one."""
        conn.execute(
            "INSERT INTO sequences VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (name, FIRST_VALUES[name]),
        )
        row = conn.execute(
            "UPDATE sequences SET next_value = next_value + ? WHERE name = ? RETURNING next_value",
            (span, name),
        ).fetchone()
        return row[0] - span

    # --- OAuth ---------------------------------------------------------------------------
    def create_code(self, app_key: str, member_id: str, redirect_uri: str, life_ms: int) -> str:
        code = str(uuid.uuid4())
        expires_ms = self.clock.now_ms() + life_ms
        with self.write() as conn:
            conn.execute(
                "INSERT INTO auth_codes (code, app_key, member_id, redirect_uri, expires_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (code, app_key, member_id, redirect_uri, expires_ms),
            )
        return code

    def use_code(self, code: str) -> sqlite3.Row | None:
        """Mark a code used and return it; None if unknown or already used (single use)."""
        with self.write() as conn:
            return conn.execute(
                "UPDATE auth_codes SET used = 1 WHERE code = ? AND used = 0 RETURNING *", (code,)
            ).fetchone()

    def issue_tokens(
        self, app_key: str, member_id: str, access_life_ms: int, refresh_life_ms: int | None
    ) -> dict:
        """New access token (and refresh token when ``refresh_life_ms`` is given)."""
        now = self.clock.now_ms()
        access_token, refresh_token = str(uuid.uuid4()), None
        with self.write() as conn:
            if refresh_life_ms is not None:
                refresh_token = str(uuid.uuid4())
                conn.execute(
                    "INSERT INTO refresh_tokens VALUES (?, ?, ?, ?)",
                    (refresh_token, app_key, member_id, now + refresh_life_ms),
                )
            conn.execute(
                "INSERT INTO access_tokens VALUES (?, ?, ?, ?, ?)",
                (access_token, refresh_token, app_key, member_id, now + access_life_ms),
            )
        return {
            "access_token": access_token,
            "access_expires_ms": now + access_life_ms,
            "refresh_token": refresh_token,
            "refresh_expires_ms": None if refresh_token is None else now + refresh_life_ms,
        }

    def refresh_access(self, refresh_token: str, access_life_ms: int) -> dict:
        """A new access token from a refresh token, which stays valid and unchanged."""
        now = self.clock.now_ms()
        access_token = str(uuid.uuid4())
        with self.write() as conn:
            conn.execute(
                "INSERT INTO access_tokens"
                " SELECT ?, refresh_token, app_key, member_id, ? FROM refresh_tokens"
                " WHERE refresh_token = ?",
                (access_token, now + access_life_ms, refresh_token),
            )
        return {"access_token": access_token, "access_expires_ms": now + access_life_ms}

    def get_refresh_token(self, refresh_token: str) -> sqlite3.Row | None:
        with self.connection() as conn:
            sql = "SELECT * FROM refresh_tokens WHERE refresh_token = ?"
            return conn.execute(sql, (refresh_token,)).fetchone()

    def get_access_token(self, access_token: str) -> sqlite3.Row | None:
        with self.connection() as conn:
            sql = "SELECT * FROM access_tokens WHERE access_token = ?"
            return conn.execute(sql, (access_token,)).fetchone()

    def expire_token(self, *, access_token: str = "", refresh_token: str = "") -> int:
        """Make a token expired now; returns how many rows changed."""
        expired = self.clock.now_ms() - 1
        with self.write() as conn:
            if access_token:
                sql = "UPDATE access_tokens SET expires_ms = ? WHERE access_token = ?"
                return conn.execute(sql, (expired, access_token)).rowcount
            sql = "UPDATE refresh_tokens SET expires_ms = ? WHERE refresh_token = ?"
            return conn.execute(sql, (expired, refresh_token)).rowcount

    # --- uploaded images -----------------------------------------------------------------
    def save_uploaded_image(self, image_hash: int) -> str:
        image_id = str(uuid.uuid4().int % 10**15)
        with self.write() as conn:
            conn.execute(
                "INSERT INTO uploaded_images VALUES (?, ?, ?)",
                (image_id, images.to_signed(image_hash), self.clock.now_ms()),
            )
        return image_id

    def uploaded_image_hash(self, image_id: str) -> int | None:
        with self.connection() as conn:
            row = conn.execute(
                "SELECT image_hash FROM uploaded_images WHERE image_id = ?", (image_id,)
            ).fetchone()
        return None if row is None else images.from_signed(row[0])

    # --- offers --------------------------------------------------------------------------
    @staticmethod
    def insert_offers(conn: sqlite3.Connection, offers: Iterable[Offer]) -> None:
        for chunk in _chunks(offers, INSERT_CHUNK):
            conn.executemany(INSERT_OFFER, [offer.row() for offer in chunk])
            conn.executemany(INSERT_PAYLOAD, [offer.payload_row() for offer in chunk])
            rows = [row for offer in chunk for row in sku_cargo_rows(offer)]
            if rows:
                conn.executemany(INSERT_SKU_CARGO, rows)

    @staticmethod
    def replace_offer(conn: sqlite3.Connection, offer: Offer) -> None:
        conn.execute("DELETE FROM offers WHERE product_id = ?", (offer.product_id,))
        conn.execute("DELETE FROM offer_payloads WHERE product_id = ?", (offer.product_id,))
        conn.execute(INSERT_OFFER, offer.row())
        conn.execute(INSERT_PAYLOAD, offer.payload_row())
        conn.execute("DELETE FROM sku_cargo_numbers WHERE product_id = ?", (offer.product_id,))
        conn.executemany(INSERT_SKU_CARGO, sku_cargo_rows(offer))

    @staticmethod
    def load_offers(conn: sqlite3.Connection, product_ids: list[int]) -> dict[int, Offer]:
        found: dict[int, Offer] = {}
        for chunk in _chunks(product_ids, 500):
            marks = ",".join("?" * len(chunk))
            sql = f"{SELECT_OFFERS} WHERE o.product_id IN ({marks})"  # noqa: S608
            found.update((row[0], Offer.from_row(row)) for row in conn.execute(sql, chunk))
        return found

    @classmethod
    def load_offer(cls, conn: sqlite3.Connection, product_id: int) -> Offer | None:
        return cls.load_offers(conn, [product_id]).get(product_id)

    def get_offer(self, product_id: int) -> Offer | None:
        with self.connection() as conn:
            return self.load_offer(conn, product_id)

    def offer_summaries(self, member_id: str | None, cargo_number: str | None, limit: int) -> list:
        """For the control API: a few columns of a seller's offers, by product id."""
        clauses, params = ["1 = 1"], []
        if member_id:
            clauses.append("member_id = ?")
            params.append(member_id)
        if cargo_number:
            clauses.append("cargo_number = ?")
            params.append(cargo_number)
        where = " AND ".join(clauses)
        columns = "product_id, cargo_number, subject, status, last_update_ms"
        sql = f"SELECT {columns} FROM offers WHERE {where} ORDER BY product_id LIMIT ?"  # noqa: S608
        with self.connection() as conn:
            rows = conn.execute(sql, [*params, limit]).fetchall()
        return [
            {
                "productID": row["product_id"],
                "cargoNumber": row["cargo_number"],
                "subject": row["subject"],
                "status": row["status"],
                "lastUpdateTime": format_1688(row["last_update_ms"]),
            }
            for row in rows
        ]

    # --- live offer changes: ACL, limits, relists per day --------------------------------
    def decline_apis(self, app_key: str, apis: Iterable[str]) -> list[str]:
        """The APIs ``app_key`` is refused from now on (an empty list grants everything)."""
        with self.write() as conn:
            conn.execute("DELETE FROM api_declines WHERE app_key = ?", (app_key,))
            conn.executemany(
                "INSERT INTO api_declines VALUES (?, ?)", [(app_key, api) for api in set(apis)]
            )
        return self.declined_apis(app_key)

    def declined_apis(self, app_key: str) -> list[str]:
        with self.connection() as conn:
            sql = "SELECT api FROM api_declines WHERE app_key = ? ORDER BY api"
            return [row[0] for row in conn.execute(sql, (app_key,))]

    def is_api_declined(self, app_key: str, api: str) -> bool:
        with self.connection() as conn:
            sql = "SELECT 1 FROM api_declines WHERE app_key = ? AND api = ?"
            return conn.execute(sql, (app_key, api)).fetchone() is not None

    def set_limits(self, values: dict[str, int]) -> dict[str, int]:
        unknown = set(values) - set(DEFAULT_LIMITS)
        if unknown:
            raise ValueError(f"unknown limit {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}")
        with self.write() as conn:
            for name, value in values.items():
                conn.execute(
                    "INSERT INTO limits VALUES (?, ?) ON CONFLICT (name) DO UPDATE"
                    " SET value = excluded.value",
                    (name, max(0, int(value))),
                )
        return self.limits()

    def limits(self) -> dict[str, int]:
        with self.connection() as conn:
            stored = dict(conn.execute("SELECT name, value FROM limits").fetchall())
        return {**DEFAULT_LIMITS, **stored}

    @staticmethod
    def republish_cap(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM limits WHERE name = 'republish_per_day'").fetchone()
        return DEFAULT_LIMITS["republish_per_day"] if row is None else row[0]

    def _china_day(self) -> str:
        return format_1688(self.clock.now_ms())[:8]

    def republished_today(self, conn: sqlite3.Connection, member_id: str) -> int:
        sql = "SELECT count FROM republished WHERE member_id = ? AND day = ?"
        row = conn.execute(sql, (member_id, self._china_day())).fetchone()
        return 0 if row is None else row[0]

    def count_republished(self, conn: sqlite3.Connection, member_id: str, count: int) -> None:
        conn.execute(
            "INSERT INTO republished VALUES (?, ?, ?) ON CONFLICT (member_id, day) DO UPDATE"
            " SET count = count + excluded.count",
            (member_id, self._china_day(), count),
        )


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
