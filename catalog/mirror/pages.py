"""Keyset pages and an honest total for the staff product list.

A page starts after (or before) the sort key of a row, never at an OFFSET: page 2,000 costs what
page 1 costs, because the database reads the sort's index from the key on and evaluates the
per-row figures (catalog.mirror.selectors.product_list_queryset) for the shown rows only. The
id breaks ties, so rows that share a sort value are neither skipped nor repeated.

NULL sort values (an offer without a modify time or a stock) sort where the database puts them
(last ascending on SQLite, first on PostgreSQL: `nulls_order_largest`), so the ORDER BY stays
the plain one the indexes serve; the key conditions follow the same rule.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import connections
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import Product

# The list's sort aliases (catalog.mirror.tables.ProductTable) and the column each one orders by.
# Price and SKU count sort by the figures each product stores for them (Product.sort_price,
# sort_sku_count, kept by ProductQuerySet.refresh_sort_figures), each with its index.
SORT_FIELDS = {
    "modified": "remote_modified_at",
    "subject": "subject",
    "stock": "amount_on_sale",
    "price": "sort_price",
    "sku_count": "sort_sku_count",
}
DEFAULT_SORT = "-modified"
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
# Filtered totals are counted exactly up to this many rows (a bounded count reads at most this
# many index entries); past it, and for the whole table, the planner's estimate stands in.
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Key:
    """A row's place in the order: its sort value and its id."""

    value: object
    pk: int

    def text(self) -> str:
        value = self.value
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        raw = json.dumps([value, self.pk], ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def parse(cls, text: str, field: str) -> Key | None:
        """None for anything that is not a key this sort could have written."""
        if not text or len(text) > 2000:
            return None
        try:
            value, pk = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, TypeError, binascii.Error):
            return None
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63:
            return None
        return cls(_sort_value(value, field), pk) if _valid(value, field) else None


def _valid(value, field: str) -> bool:
    if value is None:
        return field not in ("subject", "sort_sku_count")
    if field == "subject":
        return isinstance(value, str) and len(value) <= 255
    if field in ("amount_on_sale", "sort_sku_count"):
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
    if field == "sort_price":
        return isinstance(value, str) and _money(value) is not None
    try:
        return isinstance(value, str) and not timezone.is_naive(datetime.fromisoformat(value))
    except ValueError:
        return False


def _money(text: str) -> Decimal | None:
    """A price as the key wrote it (12 digits before the point, 2 after), else None."""
    if len(text) > 20:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and abs(value) < 10**12 else None


def _sort_value(value, field: str):
    if value is not None and field == "remote_modified_at":
        return datetime.fromisoformat(value)
    if value is not None and field == "sort_price":
        return _money(value)
    return value


def parse_sort(text: str | None) -> str:
    alias = (text or "").lstrip("-")
    return text if alias in SORT_FIELDS else DEFAULT_SORT


def parse_size(text: str | None) -> int:
    return int(text) if text and text.isdigit() and int(text) in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _after(field: str, key: Key, *, descending: bool, nulls_largest: bool) -> Q:
    """Rows that come after `key` in the order (field, id), descending or ascending."""
    smaller = descending
    op, strict = ("lte", "lt") if smaller else ("gte", "gt")
    null, not_null = Q(**{f"{field}__isnull": True}), Q(**{f"{field}__isnull": False})
    tie = Q(**{f"id__{strict}": key.pk})
    # Whether the NULL group lies at the end this order moves towards.
    nulls_beyond = nulls_largest != smaller
    if key.value is None:
        return null & tie if nulls_beyond else (null & tie) | not_null
    # `field <= v AND (field < v OR id < k)`: the first part bounds the index range scan.
    bounded = Q(**{f"{field}__{op}": key.value}) & (Q(**{f"{field}__{strict}": key.value}) | tie)
    return bounded | null if nulls_beyond else bounded


@dataclass
class Page:
    rows: list[Product]
    first: Key | None  # the first shown row's key (the previous page ends before it)
    last: Key | None  # the last shown row's key (the next page starts after it)
    has_previous: bool
    has_next: bool


def product_page(
    products: QuerySet[Product],
    *,
    sort: str,
    size: int,
    after: str = "",
    before: str = "",
    last_page: bool = False,
) -> Page:
    """One page of `products` in `sort` order: after a key, before one, or the last page."""
    alias = sort.lstrip("-")
    field, descending = SORT_FIELDS[alias], sort.startswith("-")
    nulls_largest = connections[products.db].features.nulls_order_largest
    forward = (f"-{field}", "-id") if descending else (field, "id")
    backward = (field, "id") if descending else (f"-{field}", "-id")
    after_key, before_key = Key.parse(after, field), Key.parse(before, field)
    if before_key is not None or last_page:
        rows = products.order_by(*backward)
        if before_key is not None:
            condition = _after(
                field, before_key, descending=not descending, nulls_largest=nulls_largest
            )
            rows = rows.filter(condition)
        rows = list(rows[: size + 1])
        has_previous = len(rows) > size
        rows = rows[:size][::-1]
        has_next = before_key is not None
    else:
        rows = products.order_by(*forward)
        if after_key is not None:
            rows = rows.filter(
                _after(field, after_key, descending=descending, nulls_largest=nulls_largest)
            )
        rows = list(rows[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = after_key is not None
    return Page(
        rows=rows,
        first=_key(rows[0], field) if rows else None,
        last=_key(rows[-1], field) if rows else None,
        has_previous=has_previous and bool(rows),
        has_next=has_next and bool(rows),
    )


def _key(product: Product, field: str) -> Key:
    return Key(getattr(product, field), product.pk)


# ---------------------------------------------------------------------------------------------
# The total


@dataclass(frozen=True)
class Total:
    number: int
    exact: bool  # False: the planner's estimate ("about N") or a floor ("more than N")
    floor: bool = False


def product_total(products: QuerySet[Product], *, filtered: bool) -> Total:
    return estimated_total(products, filtered=filtered)


def estimated_total(products: QuerySet, *, filtered: bool) -> Total:
    """Exact when it is cheap to be exact; the planner's figure, and said so, when not.

    The whole table: its row estimate (PostgreSQL's pg_class.reltuples, SQLite's
    sqlite_stat1 once ANALYZE ran), no COUNT. A filtered list: counted up to EXACT_COUNT_LIMIT
    rows; past that, PostgreSQL's EXPLAIN estimate, else "more than" the limit."""
    connection = connections[products.db]
    if not filtered:
        estimate = table_estimate(connection, products.model._meta.db_table)
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return Total(estimate, exact=False)
    bounded = products.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1].count()
    if bounded <= EXACT_COUNT_LIMIT:
        return Total(bounded, exact=True)
    if connection.vendor == "postgresql":
        planned = _explain_rows(products)
        if planned is not None and planned > EXACT_COUNT_LIMIT:
            return Total(planned, exact=False)
    return Total(EXACT_COUNT_LIMIT, exact=False, floor=True)


def table_estimate(connection, table: str) -> int | None:
    """The planner's row count of `table`, None where it has none yet (never analysed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
            row = cursor.fetchone()
            return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None
        if connection.vendor == "sqlite":
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone() is None:
                return None
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [table])
            row = cursor.fetchone()
            head = (row[0] or "").split(" ")[0] if row else ""
            return int(head) if head.isdigit() else None
    return None


def _explain_rows(products: QuerySet) -> int | None:
    try:
        plan = json.loads(products.order_by().values("pk").explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
