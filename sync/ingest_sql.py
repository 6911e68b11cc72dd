"""The sync's SQL: a batch of offers, SKUs and change rows handed to the database driver as
plain tuples, without model instances or per-value field preparation (which was most of an
ingest's time).

SQLite: `executemany` of one prepared upsert per table. PostgreSQL: COPY into a temporary table,
then one INSERT ... SELECT ... ON CONFLICT per table, so a batch costs a few round trips and
no client-side escaping of thousands of parameters.

Rows hold the columns the sync writes (`Table.columns`) in database form (`Writer.time` turns
a datetime into it); a column the model has beyond those gets its default on insert and is
left alone on update, so a field added to the model later does not break the sync.
Every name in the SQL below comes from the models (S608), every value is a parameter.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.db import connections, router
from django.utils.dateparse import parse_datetime

from catalog.models import PriceStockChange, Product, Sku

PRODUCT_COLUMNS = (
    "shop_id", "offer_id", "subject", "category_id", "status", "unit", "min_order_quantity",
    "amount_on_sale", "quote_type", "cargo_number", "price_ranges", "images", "attributes",
    "remote_created_at", "remote_modified_at", "raw", "first_seen_at", "last_seen_at",
    "delisted_at", "sort_price", "sort_sku_count",
)  # fmt: skip
SKU_COLUMNS = (
    "product_id", "sku_id", "spec_id", "attributes", "cargo_number", "sku_code", "price",
    "retail_price", "stock", "price_ranges",
)  # fmt: skip
CHANGE_COLUMNS = (
    "product_id", "sku_id", "remote_sku_id", "field", "tier_start_quantity", "old_value",
    "new_value", "old_stock", "new_stock", "remote_modified_at",
    # the same for every row of a batch
    "shop_id", "observed_at", "sync_run_id", "source",
)  # fmt: skip


@dataclass(frozen=True)
class Table:
    model: type
    columns: tuple[str, ...]  # what the sync writes, in row order
    conflict: tuple[str, ...]  # the unique key an upsert meets
    updated: tuple[str, ...]  # set on conflict; empty: DO NOTHING
    only_if_changed: bool = False  # update a row only when a value differs

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def extra_fields(self) -> list:
        """The model's other columns (defaults on insert)."""
        return [
            f
            for f in self.model._meta.concrete_fields
            if not f.primary_key and f.column not in self.columns
        ]


@cache
def products_table(keep_attributes: bool = False) -> Table:
    fixed = {"shop_id", "offer_id", "first_seen_at"}
    if keep_attributes:
        fixed.add("attributes")
    updated = tuple(c for c in PRODUCT_COLUMNS if c not in fixed)
    return Table(Product, PRODUCT_COLUMNS, ("shop_id", "offer_id"), updated)


@cache
def skus_table() -> Table:
    updated = SKU_COLUMNS[2:]
    return Table(Sku, SKU_COLUMNS, ("product_id", "sku_id"), updated, only_if_changed=True)


@cache
def changes_table() -> Table:
    # Unique per remote change: a row a re-run finds again is left alone (DO NOTHING).
    return Table(PriceStockChange, CHANGE_COLUMNS, (), ())


def writer(model=Product) -> Writer:
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        return PostgresWriter(connection)
    return SqliteWriter(connection)


class Writer:
    """One batch's statements on one connection (inside the caller's transaction)."""

    def __init__(self, connection):
        self.connection = connection
        self.quote = connection.ops.quote_name

    def time(self, value: datetime | None):
        return value

    def _defaults(self, table: Table) -> tuple:
        return tuple(
            f.get_db_prep_save(f.get_default(), self.connection) for f in table.extra_fields()
        )

    def _insert_head(self, table: Table) -> str:
        names = [*table.columns, *(f.column for f in table.extra_fields())]
        return f"INSERT INTO {self.quote(table.name)} ({', '.join(map(self.quote, names))})"

    def _on_conflict(self, table: Table, distinct: str) -> str:
        if not table.updated:
            return " ON CONFLICT DO NOTHING"
        q = self.quote
        sets = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in table.updated)
        tail = f" ON CONFLICT ({', '.join(map(q, table.conflict))}) DO UPDATE SET {sets}"
        if table.only_if_changed:
            tail += " WHERE " + " OR ".join(
                f"{q(table.name)}.{q(c)} {distinct} EXCLUDED.{q(c)}" for c in table.updated
            )
        return tail

    # -- reads ------------------------------------------------------------------------------

    def known_products(self, shop_id: int, offer_ids: list[int]) -> list[tuple]:
        """(offer_id, id, remote_modified_at, delisted_at, price_ranges, amount_on_sale) of
        these offers, through the (shop, offer_id) unique index."""
        if not offer_ids:
            return []
        sql = (
            "SELECT offer_id, id, remote_modified_at, delisted_at, price_ranges, amount_on_sale "  # noqa: S608
            f"FROM {self.quote(Product._meta.db_table)} WHERE shop_id = %s AND offer_id IN "
            f"({', '.join(['%s'] * len(offer_ids))})"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [shop_id, *offer_ids])
            return [(*row[:2], aware(row[2]), *row[3:]) for row in cursor.fetchall()]

    def skus_of(self, product_ids: list[int]) -> list[tuple]:
        """(id, product_id, sku_id, price, stock, price_ranges, attributes) of these
        products' SKUs; prices as Decimal-able text or Decimal, JSON as text."""
        if not product_ids:
            return []
        sql = (
            f"SELECT id, product_id, sku_id, {self._money('price')}, stock, price_ranges, "  # noqa: S608
            f"attributes FROM {self.quote(Sku._meta.db_table)} WHERE product_id IN "
            f"({', '.join(['%s'] * len(product_ids))})"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, product_ids)
            return cursor.fetchall()

    def _money(self, column: str) -> str:
        return self.quote(column)

    # -- writes -----------------------------------------------------------------------------

    def touch(self, product_ids: list[int], now: datetime) -> None:
        """Offers listed unchanged: seen now."""
        if not product_ids:
            return
        sql = (
            f"UPDATE {self.quote(Product._meta.db_table)} SET last_seen_at = %s "  # noqa: S608
            f"WHERE id IN ({', '.join(['%s'] * len(product_ids))})"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [self.time(now), *product_ids])

    def upsert_products(self, rows: list[tuple], kept: list[tuple]) -> dict[int, int]:
        """Insert or update the offers; `kept`: rows whose attributes stay as stored (a list
        item that left them out). Returns {offer_id: product id} of new offers (and possibly
        of others)."""
        raise NotImplementedError

    def upsert_skus(self, rows: list[tuple]) -> None:
        raise NotImplementedError

    def insert_changes(self, rows: list[tuple]) -> None:
        raise NotImplementedError


def aware(value):
    """A stored time as an aware datetime: SQLite hands a datetime back naive (in UTC), or as
    its text when it was written as text in this batch (SqliteWriter.time); PostgreSQL
    aware."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class SqliteWriter(Writer):
    def time(self, value: datetime | None):
        # As Django stores it: naive UTC text (its adapter would keep the offset).
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return str(value)

    def _money(self, column: str) -> str:
        # The column holds a REAL: as text, so Decimal() reads the digits SQLite kept.
        return f"CAST({self.quote(column)} AS TEXT)"

    def _many(self, table: Table, rows: list[tuple]) -> None:
        if not rows:
            return
        defaults = self._defaults(table)
        # A NULL default is written in the statement: no longer row to build for each row.
        marks = ["?"] * len(table.columns) + ["NULL" if d is None else "?" for d in defaults]
        sql = (
            self._insert_head(table)
            + f" VALUES ({', '.join(marks)})"
            + self._on_conflict(table, "IS NOT")
        )
        given = tuple(d for d in defaults if d is not None)
        if given:
            rows = [row + given for row in rows]
        self.connection.ensure_connection()
        # The driver's cursor: Django's wrapper would rewrite the query for every call.
        cursor = self.connection.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def upsert_products(self, rows: list[tuple], kept: list[tuple]) -> dict[int, int]:
        self._many(products_table(), rows)
        self._many(products_table(keep_attributes=True), kept)
        return {}

    def upsert_skus(self, rows: list[tuple]) -> None:
        self._many(skus_table(), rows)

    def insert_changes(self, rows: list[tuple]) -> None:
        self._many(changes_table(), rows)


class PostgresWriter(Writer):
    def __init__(self, connection):
        super().__init__(connection)
        self._staging: dict[str, str] = {}

    def _names(self, table: Table) -> list[str]:
        return [*table.columns, *(f.column for f in table.extra_fields())]

    def _stage(self, cursor) -> None:
        """Temporary tables of the same columns (plus a flag), made once per connection (the
        statement does nothing when they exist); their rows go at each commit."""
        q, statements = self.quote, ["SET LOCAL client_min_messages TO warning"]
        for table in (products_table(), skus_table(), changes_table()):
            names = self._names(table)
            digest = hashlib.sha1(" ".join(names).encode(), usedforsecurity=False).hexdigest()[:10]
            self._staging[table.name] = name = f"ingest_{table.name}_{digest}"
            statements.append(
                f"CREATE TEMP TABLE IF NOT EXISTS {q(name)} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {', '.join(map(q, names))}, false AS ingest_keep "
                f"FROM {q(table.name)} WITH NO DATA"
            )
        cursor.execute("; ".join(statements))

    def _copy(self, table: Table, rows: list[tuple], kept=(), returning=False) -> list:
        if not rows and not kept:
            return []
        q, names = self.quote, self._names(table)
        defaults = self._defaults(table)
        found = []
        with self.connection.cursor() as cursor:
            if not self._staging:
                self._stage(cursor)
            staging = self._staging[table.name]
            columns = ", ".join(map(q, names))
            with cursor.copy(f"COPY {q(staging)} ({columns}, ingest_keep) FROM STDIN") as copy:
                for tail, group in ((defaults + (False,), rows), (defaults + (True,), kept)):
                    for row in group:
                        copy.write_row(row + tail)
            for keep, group in ((False, rows), (True, kept)):
                if not group:
                    continue
                target = products_table(keep_attributes=True) if keep else table
                cursor.execute(
                    self._insert_head(target)  # noqa: S608
                    + f" SELECT {columns} FROM {q(staging)} "  # noqa: S608
                    + f"WHERE ingest_keep = {'true' if keep else 'false'}"
                    + self._on_conflict(target, "IS DISTINCT FROM")
                    + (" RETURNING offer_id, id" if returning else "")
                )
                if returning:
                    found += cursor.fetchall()
        return found

    def known_products(self, shop_id: int, offer_ids: list[int]) -> list[tuple]:
        if not offer_ids:
            return []
        sql = (
            "SELECT offer_id, id, remote_modified_at, delisted_at, price_ranges, amount_on_sale "  # noqa: S608
            f"FROM {self.quote(Product._meta.db_table)} "
            "WHERE shop_id = %s AND offer_id = ANY(%s)"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [shop_id, list(offer_ids)])
            return cursor.fetchall()

    def skus_of(self, product_ids: list[int]) -> list[tuple]:
        if not product_ids:
            return []
        sql = (
            "SELECT id, product_id, sku_id, price, stock, price_ranges, attributes "  # noqa: S608
            f"FROM {self.quote(Sku._meta.db_table)} WHERE product_id = ANY(%s)"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [list(product_ids)])
            return cursor.fetchall()

    def touch(self, product_ids: list[int], now: datetime) -> None:
        if not product_ids:
            return
        sql = (
            f"UPDATE {self.quote(Product._meta.db_table)} SET last_seen_at = %s "  # noqa: S608
            "WHERE id = ANY(%s)"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [now, list(product_ids)])

    def upsert_products(self, rows: list[tuple], kept: list[tuple]) -> dict[int, int]:
        return dict(self._copy(products_table(), rows, kept, returning=True))

    def upsert_skus(self, rows: list[tuple]) -> None:
        self._copy(skus_table(), rows)

    def insert_changes(self, rows: list[tuple]) -> None:
        self._copy(changes_table(), rows)
