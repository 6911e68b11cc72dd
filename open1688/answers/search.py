"""Answers of keyword, picture and store search and of the picture upload (docs/protocol.md,
"Reading other sellers' offers and searching").
"""

from __future__ import annotations

from ..timefmt import parse_search_time
from ..types import SearchOffer, SearchPage
from .reader import Reader, raise_unless_success


def parse_search_page(answer: object) -> SearchPage:
    """product.search.keywordQuery / imageQuery: result.result {totalRecords, ..., data}."""
    result = Reader(answer).child("result")
    raise_unless_success(result)
    page = result.child("result")
    return SearchPage(
        items=tuple(_offer(offer) for offer in page.children("data")),
        total_records=page.integer("totalRecords", required=True),
        total_page=page.integer("totalPage", required=True),
        page_size=page.integer("pageSize", required=True),
        current_page=page.integer("currentPage", required=True),
    )


def _offer(offer: Reader) -> SearchOffer:
    return SearchOffer(
        offer_id=offer.integer("offerId", required=True),
        subject=offer.text("subject"),
        image_url=offer.text("imageUrl"),
        price=offer.child("priceInfo", required=False).decimal("price"),
        month_sold=offer.integer("monthSold"),
        min_order_quantity=offer.integer("minOrderQuantity"),
        create_date=offer.time("createDate", parse_search_time),
        modify_date=offer.time("modifyDate", parse_search_time),
    )


def parse_image_id(answer: object) -> str:
    """product.image.upload: result.result is the image id."""
    result = Reader(answer).child("result")
    raise_unless_success(result)
    return result.text("result", required=True)
