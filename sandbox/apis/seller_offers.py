"""com.alibaba.fenxiao.crossborder:product.search.querySellerOfferList: one supplier's offers.

``offerQueryParam{keyword, beginPage, pageSize, filter, sort, priceStart/End, categoryId,
country, sellerOpenId, offerId}`` (the record's names); it needs the cross-border sourcing
permission, so it is declinable per app (``/_sandbox/acl`` or the ``denied_apis`` switch).
Answered like keywordQuery (``result.result{totalRecords, totalPage, pageSize, currentPage,
data}``). Where the record is silent the sandbox chooses (docs/protocol.md, "A supplier's whole
store"): ``sellerOpenId`` and ``country`` required, the keyword optional (every word must be in
the title), only published offers, by newest first unless sorted, pages of at most 50, an
unknown ``sellerOpenId`` an empty listing.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..world import queries
from ..world.queries import escape_like
from .buyer import open_id
from .params import ParamInvalid, json_param
from .product import acl_declined
from .search import (
    KEYWORD_WORD_CHARS_MAX,
    KEYWORD_WORDS_MAX,
    _fen,
    _filter_codes,
    _optional_int,
    _page_numbers,
    _result_page,
    _sort,
    offer_summary,
    search_answer,
    search_error,
)

if TYPE_CHECKING:
    from .call import ApiCall

API = "product.search.querySellerOfferList"
PAGE_SIZE_MAX = 50  # as imageQuery's documented cap (the sandbox's choice here)


@dataclass
class SellerFilter:
    """offerQueryParam of querySellerOfferList, parsed; the shape queries.search_page pages."""

    member_id: str
    keywords: list[str]
    offer_id: int | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    category_id: int | None = None
    filter_codes: tuple[int, ...] = ()
    sort_column: str | None = None  # None: newest first
    descending: bool = True

    def where(self) -> tuple[str, list]:
        clauses, params = ["member_id = ?", "status = 'published'"], [self.member_id]
        for word in self.keywords:
            clauses.append("subject LIKE ? ESCAPE '\\'")
            params.append(f"%{escape_like(word)}%")
        for column, value, operator in (
            ("product_id", self.offer_id, "="),
            ("price_fen", self.price_min_fen, ">="),
            ("price_fen", self.price_max_fen, "<="),
            ("category_id", self.category_id, "="),
        ):
            if value is not None:
                clauses.append(f"{column} {operator} ?")
                params.append(value)
        for code in self.filter_codes:  # the same stable parts as keywordQuery's codes
            clauses.append(f"((product_id / 7 + {int(code)}) % 3) != 0")
        return " AND ".join(clauses), params

    def index_hint(self, total: int) -> str:
        return ""

    def order(self) -> str:
        if self.sort_column is None:
            return "create_ms DESC, product_id DESC"
        direction = "DESC" if self.descending else "ASC"
        return f"{self.sort_column} {direction}, product_id ASC"


def query_seller_offer_list(call: "ApiCall") -> dict:
    refusal = acl_declined(call, API)
    if refusal is not None:
        return refusal
    try:
        query = json_param(call.params, "offerQueryParam", dict, {})
        page, size = _page_numbers(query, PAGE_SIZE_MAX)
        seller_open_id = str(query.get("sellerOpenId") or "").strip()
        if not seller_open_id:
            raise ParamInvalid("offerQueryParam.sellerOpenId is required")
        if not str(query.get("country") or "").strip():
            raise ParamInvalid("offerQueryParam.country is required (e.g. en)")
        words = str(query.get("keyword") or "").split()
        column, descending = _sort(query.get("sort"))
        member_id = _member_for(call, seller_open_id)
        search = SellerFilter(
            member_id=member_id or "",
            keywords=[w[:KEYWORD_WORD_CHARS_MAX] for w in dict.fromkeys(words)][:KEYWORD_WORDS_MAX],
            offer_id=_optional_int(query.get("offerId"), "offerId"),
            price_min_fen=_fen(query.get("priceStart"), "priceStart"),
            price_max_fen=_fen(query.get("priceEnd"), "priceEnd"),
            category_id=_optional_int(query.get("categoryId"), "categoryId"),
            filter_codes=_filter_codes(query.get("filter")),
            sort_column=column,
            descending=descending,
        )
    except ParamInvalid as error:
        return search_error(error.code, str(error))
    if member_id is None:
        return search_answer(_result_page(0, page, size, []))
    total, offers = queries.search_page(call.store, search, (page - 1) * size, size)  # type: ignore[arg-type]
    summaries = [offer_summary(offer, call.host_url) for offer in offers]
    return search_answer(_result_page(total, page, size, summaries))


def _member_for(call: "ApiCall", seller_open_id: str) -> str | None:
    """The seller whose opaque id this is (buyer.open_id), or None."""
    with call.store.connection() as conn:
        members = [row[0] for row in conn.execute("SELECT DISTINCT member_id FROM offers")]
    return next((m for m in members if open_id(m) == seller_open_id), None)
