"""Searching 1688: by keyword, by picture and within one supplier's store (docs/protocol.md,
"Reading other sellers' offers and searching", "A supplier's whole store")."""

from __future__ import annotations

import base64
from decimal import Decimal

from .. import answers
from ..transport import Transport, parsed
from ..types import SearchPage
from . import BUYER_COUNTRY, SEARCH_NAMESPACE

MAX_IMAGE_PAGE_SIZE = 50  # product.search.imageQuery: pageSize at most 50
# product.search.querySellerOfferList needs the cross-border sourcing permission (without it:
# gw.APIACLDecline, PermissionDeniedError); its answer is read as keywordQuery's.
SELLER_OFFERS_API = "product.search.querySellerOfferList"
SELLER_OFFERS_PAGE_MAX = 50  # not on record for this API; imageQuery's documented cap
# keywordQuery's documented `filter` codes (docs/protocol.md).
SEARCH_FILTER_CODES = (
    "1688Selection", "certifiedFactory", "totalEpScoreLv1", "totalEpScoreLv2",
    "totalEpScoreLv3", "totalEpScoreLv4", "qrr0", "qrr1", "qrr5", "qrr10", "shipInToday",
    "shipIn24Hours", "shipIn48Hours", "noReason7DReturn", "isOnePsale", "isOnePsaleFreePost",
    "new7", "new30", "isQqyx",
)  # fmt: skip


class SearchApi(Transport):
    def keyword_search(
        self,
        access_token: str,
        keyword: str,
        *,
        page: int = 1,
        page_size: int = 20,
        price_start: Decimal | str | None = None,
        price_end: Decimal | str | None = None,
        category_id: int | None = None,
        sort: str | None = None,
        filter: str | None = None,
        sale_filters: list[dict] | None = None,
        country: str = BUYER_COUNTRY,
    ) -> SearchPage:
        """`sort` e.g. "price:asc" / "monthSold:desc"; `filter` a comma list of the documented
        filter codes (SEARCH_FILTER_CODES; there is no minimum-order filter: results carry
        `minOrderQuantity`); `sale_filters` [{saleType: sales7 | sales14 | sales30 |
        totalSales, saleStart, saleEnd}]; `country` is required by 1688 (docs/protocol.md)."""
        query = {
            "keyword": keyword,
            "beginPage": page,
            "pageSize": page_size,
            "priceStart": price_start,
            "priceEnd": price_end,
            "categoryId": category_id,
            "sort": sort,
            "filter": filter,
            "saleFilterList": sale_filters or None,
            "country": country,
        }
        return self._search(access_token, "product.search.keywordQuery", query)

    def image_search(
        self,
        access_token: str,
        *,
        image_id: str | None = None,
        image_address: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> SearchPage:
        if (image_id is None) == (image_address is None):
            raise ValueError("give exactly one of image_id and image_address")
        query = {
            "imageId": image_id,
            "imageAddress": image_address,
            "beginPage": page,
            "pageSize": min(page_size, MAX_IMAGE_PAGE_SIZE),
        }
        return self._search(access_token, "product.search.imageQuery", query)

    def _search(self, access_token: str, api: str, query: dict) -> SearchPage:
        params = {"offerQueryParam": {k: v for k, v in query.items() if v is not None}}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_search_page, answer, api)

    def upload_image(self, access_token: str, image: bytes) -> str:
        """Upload a picture for image search; returns its imageId. The parameter is
        `uploadImageParam` {imageBase64} (the official SDK); the answer's `success` is the
        string "true". Shrink the picture to at most 300 KB first (docs/protocol.md)."""
        api = "product.image.upload"
        encoded = base64.b64encode(image).decode("ascii")
        params = {"uploadImageParam": {"imageBase64": encoded}}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_image_id, answer, api)

    def query_seller_offers(
        self,
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
        country: str = BUYER_COUNTRY,
    ) -> SearchPage:
        """One page of the supplier's offers (`offerQueryParam.sellerOpenId`); `sort` as
        keyword search ("price:asc", ...)."""
        if not seller_open_id:
            raise ValueError("seller_open_id is required")
        query = {
            "sellerOpenId": seller_open_id,
            "keyword": keyword or None,
            "beginPage": page,
            "pageSize": min(page_size, SELLER_OFFERS_PAGE_MAX),
            "sort": sort,
            "filter": filter,
            "priceStart": price_start,
            "priceEnd": price_end,
            "categoryId": category_id,
            "country": country,
        }
        return self._search(access_token, SELLER_OFFERS_API, query)
