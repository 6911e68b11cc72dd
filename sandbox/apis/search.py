"""com.alibaba.fenxiao.crossborder buyer APIs: keyword search, image upload, image search.

Answers: ``{"result": {"success": "true", "code": "200", "message": null, "result": {...}}}``
(``success`` as a string, as docs/protocol.md says the real one may send it).
"""

import base64
import binascii
import math
import re
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from ..wire.timefmt import format_search
from ..world import images, queries
from ..world.offers import Offer, list_price
from .params import ParamInvalid, decimal_value, json_param, json_value

if TYPE_CHECKING:
    from .call import ApiCall

KEYWORD_PAGE_SIZE_MAX = 50  # documented for image search; the sandbox uses it for both
IMAGE_PAGE_SIZE_MAX = 50
# sort: {"price": "asc"} or "price:asc"; fields the sandbox understands (shape not attested).
_SORT_TEXT = re.compile(r"^(\w+?)[:_ ](asc|desc)$", re.IGNORECASE)
SORT_COLUMNS = {"price": "price_fen", "monthSold": "month_sold", "modifyDate": "last_update_ms"}
# keywordQuery's documented `filter` codes; each selects a stable part of the offers (the
# sandbox has no such facts about its offers). A code not in this list is ignored.
FILTER_CODES = (
    "1688Selection", "certifiedFactory", "totalEpScoreLv1", "totalEpScoreLv2",
    "totalEpScoreLv3", "totalEpScoreLv4", "qrr0", "qrr1", "qrr5", "qrr10", "shipInToday",
    "shipIn24Hours", "shipIn48Hours", "noReason7DReturn", "isOnePsale", "isOnePsaleFreePost",
    "new7", "new30", "isQqyx",
)  # fmt: skip
# saleFilterList[{saleType, saleStart, saleEnd}]: sales over 7, 14, 30 days or in all, derived
# from the offer's monthly sales (the sandbox keeps no other figure).
SALE_TYPES = {
    "sales7": "month_sold * 7 / 30",
    "sales14": "month_sold * 14 / 30",
    "sales30": "month_sold",
    "totalSales": "month_sold * 12",
}
KEYWORD_WORDS_MAX = 10
KEYWORD_WORD_CHARS_MAX = 50
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def search_error(code: str, message: str) -> dict:
    return {"result": {"success": "false", "code": code, "message": message}}


def search_answer(result) -> dict:
    return {"result": {"success": "true", "code": "200", "message": None, "result": result}}


def _page_numbers(query: dict, max_size: int) -> tuple[int, int]:
    try:
        page = max(1, int(query.get("beginPage") or 1))
        size = min(max_size, max(1, int(query.get("pageSize") or 20)))
    except (TypeError, ValueError) as error:
        raise ParamInvalid("beginPage and pageSize must be integers") from error
    return page, size


def offer_summary(offer: Offer, host_url: str) -> dict:
    info = offer.info
    pictures = (info.get("image") or {}).get("images") or []
    price = list_price(info)
    return {
        "offerId": offer.product_id,
        "subject": info["subject"],
        "imageUrl": images.public_url(host_url, pictures[0]) if pictures else None,
        "priceInfo": {"price": None if price is None else float(price)},
        "monthSold": offer.month_sold,
        "minOrderQuantity": info["saleInfo"].get("minOrderQuantity", 1),
        "createDate": format_search(offer.create_ms),
        "modifyDate": format_search(offer.last_update_ms),
    }


def _result_page(total: int, page: int, size: int, data: list[dict]) -> dict:
    return {
        "totalRecords": total,
        "totalPage": math.ceil(total / size),
        "pageSize": size,
        "currentPage": page,
        "data": data,
    }


# --- product.search.keywordQuery -------------------------------------------------------
def keyword_query(call: "ApiCall") -> dict:
    try:
        query = json_param(call.params, "offerQueryParam", dict, {})
        page, size = _page_numbers(query, KEYWORD_PAGE_SIZE_MAX)
        search = _keyword_filter(query)
    except ParamInvalid as error:
        return search_error(error.code, str(error))
    total, offers = queries.search_page(call.store, search, (page - 1) * size, size)
    summaries = [offer_summary(offer, call.host_url) for offer in offers]
    return search_answer(_result_page(total, page, size, summaries))


def _keyword_filter(query: dict) -> queries.SearchFilter:
    text = _CONTROL.sub(" ", str(query.get("keyword") or ""))
    keywords = list(dict.fromkeys(text.split()))[:KEYWORD_WORDS_MAX]
    if not keywords:
        raise ParamInvalid("offerQueryParam.keyword is required")
    if not str(query.get("country") or "").strip():
        raise ParamInvalid("offerQueryParam.country is required (e.g. en)")
    column, descending = _sort(query.get("sort"))
    return queries.SearchFilter(
        keywords=[word[:KEYWORD_WORD_CHARS_MAX] for word in keywords],
        price_min_fen=_fen(query.get("priceStart"), "priceStart"),
        price_max_fen=_fen(query.get("priceEnd"), "priceEnd"),
        category_id=_optional_int(query.get("categoryId"), "categoryId"),
        filter_codes=_filter_codes(query.get("filter")),
        sales=_sale_filters(query.get("saleFilterList")),
        sort_column=column,
        descending=descending,
    )


def _filter_codes(value) -> tuple[int, ...]:
    """``filter``: comma-separated documented codes, as their places in FILTER_CODES; a code
    that is not documented (e.g. ``minOrderQuantity:5``) is ignored."""
    codes = [code.strip() for code in str(value or "").split(",")]
    return tuple(sorted({FILTER_CODES.index(code) for code in codes if code in FILTER_CODES}))


def _sale_filters(value) -> tuple[tuple[str, int | None, int | None], ...]:
    """``saleFilterList`` (a list, or its JSON string) as (SQL figure, at least, at most);
    an entry with a saleType that is not documented is ignored."""
    if value in (None, "", []):
        return ()
    if isinstance(value, str):
        value = json_value(value, "saleFilterList")
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ParamInvalid("saleFilterList must be a list of {saleType, saleStart, saleEnd}")
    found = []
    for item in value:
        figure = SALE_TYPES.get(str(item.get("saleType") or ""))
        if figure is not None:
            low = _optional_int(item.get("saleStart"), "saleStart")
            high = _optional_int(item.get("saleEnd"), "saleEnd")
            found.append((figure, low, high))
    return tuple(found)


def _sort(value) -> tuple[str | None, bool]:
    """Default: by relevance (sandbox/world/queries.py). Accepts {"price": "asc"} (also as a JSON
    string) and the string forms "price:asc", "price_asc", "price asc"."""
    if not value:
        return None, True
    if isinstance(value, str) and value.strip().startswith("{"):
        value = json_value(value, "sort")
    if isinstance(value, dict) and len(value) == 1:
        field, direction = next(iter(value.items()))
    else:
        match = _SORT_TEXT.match(str(value).strip())
        if not match:
            raise ParamInvalid('sort must look like {"price": "asc"} or "price:asc"')
        field, direction = match.groups()
    if field not in SORT_COLUMNS or str(direction).lower() not in ("asc", "desc"):
        raise ParamInvalid(f"sort by one of {', '.join(SORT_COLUMNS)}, asc or desc")
    return SORT_COLUMNS[field], str(direction).lower() == "desc"


def _fen(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    return int(decimal_value(value, name) * 100)


def _optional_int(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise ParamInvalid(f"{name} must be an integer") from error


# --- product.image.upload --------------------------------------------------------------
UPLOAD_PARAM = "uploadImageParam"  # the official SDK's name (not uploadParams)


def upload_image(call: "ApiCall") -> dict:
    """``uploadImageParam`` = ``{"imageBase64": ...}`` → ``result.result`` the imageId (a
    string), ``success`` the string "true"."""
    try:
        upload = json_param(call.params, UPLOAD_PARAM, dict, {})
        image_bytes = _image_bytes(upload)
        image_hash = images.average_hash(image_bytes)
    except ParamInvalid as error:
        return search_error(error.code, str(error))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return search_error("IMAGE_INVALID", "the uploaded data is not a readable image")
    return search_answer(call.store.save_uploaded_image(image_hash))


def _image_bytes(upload: dict) -> bytes:
    encoded = str(upload.get("imageBase64") or "")
    if not encoded:
        raise ParamInvalid(f"{UPLOAD_PARAM}.imageBase64 is required")
    encoded = encoded.split(",", 1)[1] if encoded.startswith("data:") else encoded
    try:
        return base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError) as error:
        raise ParamInvalid(f"{UPLOAD_PARAM}.imageBase64 is not base64") from error


# --- product.search.imageQuery ---------------------------------------------------------
def image_query(call: "ApiCall") -> dict:
    try:
        query = json_param(call.params, "offerQueryParam", dict, {})
        page, size = _page_numbers(query, IMAGE_PAGE_SIZE_MAX)
        image_hash = _query_hash(call, query)
    except ParamInvalid as error:
        return search_error(error.code, str(error))
    total, matches = queries.nearest_by_image(call.store, image_hash, (page - 1) * size, size)
    summaries = [offer_summary(offer, call.host_url) for offer, _ in matches]
    return search_answer(_result_page(total, page, size, summaries))


def _query_hash(call: "ApiCall", query: dict) -> int:
    image_id = str(query.get("imageId") or "")
    if image_id:
        image_hash = call.store.uploaded_image_hash(image_id)
        if image_hash is None:
            raise ParamInvalid(f"unknown imageId {image_id}")
        return image_hash
    address = str(query.get("imageAddress") or "")
    if address:
        # Any address works: the picture at a path is a function of the path (world/images.py).
        return images.pattern_for_path(address)
    raise ParamInvalid("offerQueryParam needs imageId or imageAddress")
