"""com.alibaba.fenxiao.crossborder:product.search.querySellerOfferList, one supplier's whole
store (docs/protocol.md, "A supplier's whole store"): kept beside the client rather than in it,
called with the client.

`offerQueryParam{keyword, beginPage, pageSize, filter, sort, priceStart/End, categoryId,
country, sellerOpenId, offerId}`; it needs the cross-border sourcing permission, so an app
without it gets gw.APIACLDecline (PermissionDeniedError). The answer is read as keywordQuery's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from . import answers
from .errors import Open1688Error
from .types import SearchPage

if TYPE_CHECKING:
    from .client import Open1688Client

API = "product.search.querySellerOfferList"
NAMESPACE = "com.alibaba.fenxiao.crossborder"
PAGE_SIZE_MAX = 50  # not on record for this API; imageQuery's documented cap
COUNTRY = "en"


def query_seller_offers(
    client: Open1688Client,
    access_token: str,
    seller_open_id: str,
    *,
    keyword: str | None = None,
    page: int = 1,
    page_size: int = 20,
    sort: str | None = None,
    filter: str | None = None,
    price_start: Decimal | str | None = None,
    price_end: Decimal | str | None = None,
    category_id: int | None = None,
    country: str = COUNTRY,
) -> SearchPage:
    """One page of the supplier's offers; `sort` as keyword search ("price:asc", …)."""
    if not seller_open_id:
        raise ValueError("seller_open_id is required")
    query = {
        "sellerOpenId": seller_open_id,
        "keyword": keyword or None,
        "beginPage": page,
        "pageSize": min(page_size, PAGE_SIZE_MAX),
        "sort": sort,
        "filter": filter,
        "priceStart": price_start,
        "priceEnd": price_end,
        "categoryId": category_id,
        "country": country,
    }
    params = {"offerQueryParam": {k: v for k, v in query.items() if v is not None}}
    try:
        answer = client.call(NAMESPACE, API, params, access_token=access_token)
        return answers.parse_search_page(answer)
    except Open1688Error as exc:
        exc.api = exc.api or API
        raise
