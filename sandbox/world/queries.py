"""Offer queries behind the seller list, keyword search and image search."""

import heapq
import sqlite3
from dataclasses import dataclass, field

from . import images
from .offers import Offer
from .store import Store

# Image search ranks every published offer by Hamming distance; like the real service, it only
# pages through the best matches. The cap is the sandbox's choice (not attested).
IMAGE_SEARCH_MAX_RESULTS = 200
NARROW_WINDOW_ROWS = 5000


@dataclass
class ListFilter:
    """Parameters of alibaba.product.list.get, already parsed."""

    member_id: str
    start_ms: int | None = None  # inclusive
    end_ms: int | None = None  # exclusive
    indexed_before_ms: int | None = None  # the list index's lag: later stamps not listed yet
    statuses: list[str] = field(default_factory=list)
    cargo_number: str | None = None
    product_ids: list[int] = field(default_factory=list)
    subject_key: str | None = None
    category_id: int | None = None
    order_by_modify_date: bool = False
    descending: bool = False

    def where(self) -> tuple[str, list]:
        clauses, params = ["member_id = ?"], [self.member_id]
        if self.start_ms is not None:
            clauses.append("last_update_ms >= ?")
            params.append(self.start_ms)
        if self.end_ms is not None:
            clauses.append("last_update_ms < ?")
            params.append(self.end_ms)
        if self.indexed_before_ms is not None:
            clauses.append("last_update_ms < ?")
            params.append(self.indexed_before_ms)
        if self.statuses:
            clauses.append(f"status IN ({','.join('?' * len(self.statuses))})")
            params += self.statuses
        if self.cargo_number is not None:
            # The offer's cargoNumber or 货号 attribute (1398), or any SKU's cargoNumber.
            clauses.append(
                "(cargo_number = ? OR product_id IN (SELECT product_id FROM sku_cargo_numbers"
                " WHERE member_id = ? AND cargo_number = ?))"
            )
            params += [self.cargo_number, self.member_id, self.cargo_number]
        if self.product_ids:
            clauses.append(f"product_id IN ({','.join('?' * len(self.product_ids))})")
            params += self.product_ids
        if self.subject_key:
            clauses.append("subject LIKE ? ESCAPE '\\'")
            params.append(f"%{escape_like(self.subject_key)}%")
        if self.category_id is not None:
            clauses.append("category_id = ?")
            params.append(self.category_id)
        return " AND ".join(clauses), params

    def index_hint(self, total: int) -> str:
        """For a narrow modify window (the incremental sync case) reading the window from its
        index and sorting it beats walking the seller's whole id index; SQLite cannot know the
        window is narrow, the count just taken does."""
        narrow = total <= NARROW_WINDOW_ROWS
        if self.start_ms is not None and narrow and not (self.cargo_number or self.product_ids):
            return "INDEXED BY offers_member_modified"
        return ""

    def order(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        if self.order_by_modify_date:
            return f"last_update_ms {direction}, product_id {direction}"
        return f"product_id {direction}"


@dataclass
class SearchFilter:
    """offerQueryParam of product.search.keywordQuery, already parsed.

    Ranking (the sandbox's; the real one is not public): an offer matches when its subject
    holds any search term; a term is a whitespace-separated word of the keyword and, for a
    Chinese word longer than two characters, each of its two-character pieces. Relevance =
    3 per whole word + 1 per piece found, + 5 when the whole keyword is in the subject; ties
    go to the better seller. An explicit ``sort`` orders the matches by price or sales instead.
    """

    keywords: list[str]
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    category_id: int | None = None
    filter_codes: tuple[int, ...] = ()  # places in FILTER_CODES (apis/search.py)
    sales: tuple[tuple[str, int | None, int | None], ...] = ()  # (figure, at least, at most)
    sort_column: str | None = None  # None: by relevance
    descending: bool = True

    def terms(self) -> list[tuple[str, int]]:
        """(term, weight), de-duplicated."""
        weighted: dict[str, int] = {}
        for word in self.keywords:
            weighted[word] = max(weighted.get(word, 0), 3)
            if len(word) > 2 and any("\u4e00" <= ch <= "\u9fff" for ch in word):
                for start in range(len(word) - 1):
                    weighted.setdefault(word[start : start + 2], 1)
        return list(weighted.items())

    def where(self) -> tuple[str, list]:
        clauses, params = ["status = 'published'"], []
        terms = self.terms()
        clauses.append("(" + " OR ".join("subject LIKE ? ESCAPE '\\'" for _ in terms) + ")")
        params += [f"%{escape_like(term)}%" for term, _ in terms]
        if self.price_min_fen is not None:
            clauses.append("price_fen >= ?")
            params.append(self.price_min_fen)
        if self.price_max_fen is not None:
            clauses.append("price_fen <= ?")
            params.append(self.price_max_fen)
        if self.category_id is not None:
            clauses.append("category_id = ?")
            params.append(self.category_id)
        for code in self.filter_codes:  # a stable two thirds of the offers have each trait
            clauses.append(f"((product_id / 7 + {int(code)}) % 3) != 0")
        for figure, low, high in self.sales:  # figures from SALE_TYPES (apis/search.py) only
            if low is not None:
                clauses.append(f"{figure} >= ?")
                params.append(low)
            if high is not None:
                clauses.append(f"{figure} <= ?")
                params.append(high)
        return " AND ".join(clauses), params

    def index_hint(self, total: int) -> str:
        return ""  # the planner's choice is fine for search

    def order(self) -> str:
        if self.sort_column is not None:
            direction = "DESC" if self.descending else "ASC"
            return f"{self.sort_column} {direction}, product_id ASC"
        # Literals, not parameters (_page passes the WHERE's parameters only); quotes doubled.
        score = [
            f"(instr(subject, {_sql_text(term)}) > 0) * {weight}" for term, weight in self.terms()
        ]
        phrase = " ".join(self.keywords)
        if len(self.keywords) > 1:
            score.append(f"(instr(subject, {_sql_text(phrase)}) > 0) * 5")
        return f"({' + '.join(score)}) DESC, month_sold DESC, product_id ASC"


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page(
    conn: sqlite3.Connection,
    query: "ListFilter | SearchFilter",
    offset: int,
    limit: int,
) -> tuple[int, list[Offer]]:
    # Ids first (answered from an index), then only the page's rows with their payloads.
    where, params = query.where()
    total = conn.execute(f"SELECT COUNT(*) FROM offers WHERE {where}", params).fetchone()[0]  # noqa: S608
    source = f"offers {query.index_hint(total)}"
    sql = f"SELECT product_id FROM {source} WHERE {where} ORDER BY {query.order()} LIMIT ? OFFSET ?"  # noqa: S608
    ids = [row[0] for row in conn.execute(sql, [*params, limit, offset])]
    found = Store.load_offers(conn, ids)
    return total, [found[product_id] for product_id in ids if product_id in found]


def list_page(store: Store, query: ListFilter, offset: int, limit: int) -> tuple[int, list[Offer]]:
    with store.snapshot() as conn:
        return _page(conn, query, offset, limit)


def search_page(
    store: Store, query: SearchFilter, offset: int, limit: int
) -> tuple[int, list[Offer]]:
    with store.snapshot() as conn:
        return _page(conn, query, offset, limit)


def nearest_by_image(
    store: Store, image_hash: int, offset: int, limit: int
) -> tuple[int, list[tuple[Offer, int]]]:
    """Published offers whose main picture is closest to ``image_hash`` (Hamming distance)."""
    with store.connection() as conn:
        rows = conn.execute(
            "SELECT product_id, image_hash FROM offers"
            " WHERE status = 'published' AND image_hash IS NOT NULL"
        ).fetchall()
        ranked = heapq.nsmallest(
            IMAGE_SEARCH_MAX_RESULTS,
            ((images.hamming(image_hash, stored), product_id) for product_id, stored in rows),
        )
        page = ranked[offset : offset + limit]
        found = Store.load_offers(conn, [product_id for _, product_id in page])
    matches = [(found[pid], distance) for distance, pid in page if pid in found]
    return len(ranked), matches
