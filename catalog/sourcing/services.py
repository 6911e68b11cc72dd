"""Sourcing on 1688 as a buyer: keyword and image search, the buyer-side detail of any seller's
offer, follow / unfollow, and staging found offers into an upload batch.

Buyer-side calls need some shop's access token: the caller's `shop`, else the first connected
shop (by id). Like catalog/publishing/services.py, user-facing services are keyword-only,
check the acting user's permission (`user=None` is the system) and raise
`erp1688.refusals.Refused` with a stable code; `read_supplier_offer`, `follow_offer` and
`unfollow_offer` are system calls (jobs of the watchlist use them) and check no permission.

docs/protocol.md ("Reading other sellers' offers", "Search") records the API shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from catalog.models import Shop, UploadBatch
from catalog.shops.clients import call_as_shop, client_or_new
from catalog.sourcing.selectors import search_shops
from erp1688 import guarded_fetch, pictures
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import (
    AuthError,
    BusinessError,
    BuyerOfferDetail,
    Open1688Client,
    Open1688Error,
    SearchPage,
)
from open1688.client import SEARCH_FILTER_CODES

SEARCH_PERMISSION = "catalog.view_product"
STAGE_PERMISSION = "catalog.add_uploaditem"
PAGE_SIZE_MAX = 50  # image search pages hold at most 50 (docs/protocol.md)
SORTS = ("price:asc", "price:desc", "monthSold:desc")

# Image search uploads: what staff may give, and what goes to 1688.
IMAGE_MAX_BYTES = pictures.PICTURE_MAX_BYTES  # a picture given to search with
UPLOAD_MAX_BYTES = pictures.SEARCH_MAX_BYTES  # shrunk to this before upload (docs/protocol.md)
UPLOAD_MAX_SIDE = pictures.SEARCH_MAX_SIDE


@dataclass(frozen=True)
class KeywordQuery:
    """The filters buyers use; None / "" means "any"."""

    keyword: str
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    category_id: int | None = None
    min_order_max: int | None = None  # offers whose minimum order is at most this
    sort: str = ""  # "" (relevance) or one of SORTS
    filters: tuple[str, ...] = ()  # keywordQuery's documented filter codes (SEARCH_FILTER_CODES)
    sold_30_days_min: int | None = None  # sold at least this many in 30 days (saleFilterList)


# --- which shop's token -------------------------------------------------------------------


def sourcing_shop(shop: Shop | None = None) -> Shop:
    """`shop` when connected, else the first connected shop; Refused `sourcing.no_shop`."""
    candidates = [shop] if shop is not None else search_shops()
    for candidate in candidates:
        if candidate.is_connected:
            return candidate
    if shop is not None:
        raise Refused(
            RefusalCode.SHOP_NOT_CONNECTED,
            _("Shop %(shop)s is not connected, so 1688 cannot be searched with it."),
            params={"shop": shop.name},
        )
    raise Refused(
        RefusalCode.SOURCING_NO_SHOP,
        _("Connect a 1688 shop first: searching 1688 needs a shop's authorisation."),
    )


def _refusal(shop: Shop, exc: Open1688Error) -> Refused:
    if isinstance(exc, AuthError):
        return Refused(
            RefusalCode.SHOP_NEEDS_REAUTH,
            _("The authorisation of shop %(shop)s is no longer valid: re-authorise it."),
            params={"shop": shop.name},
        )
    if isinstance(exc, BusinessError) and exc.offer_not_found:
        return Refused(RefusalCode.OFFER_NOT_FOUND, _("No such offer (or it was deleted)."))
    return Refused(
        RefusalCode.SOURCING_FAILED, _("1688 could not answer: %(error)s"), params={"error": exc}
    )


def _call(shop: Shop | None, client: Open1688Client | None, method_name: str, *args, **kwargs):
    shop = sourcing_shop(shop)
    with client_or_new(client) as api:
        try:
            return call_as_shop(shop, api, getattr(api, method_name), *args, **kwargs)
        except Open1688Error as exc:
            raise _refusal(shop, exc) from exc


# --- system calls (no permission): the watchlist builds on these --------------------------


def read_supplier_offer(
    offer_id: int, *, shop: Shop | None = None, client: Open1688Client | None = None
) -> BuyerOfferDetail:
    """Any seller's offer from the buyer side (product.search.queryProductDetail).

    Refused: `sourcing.no_shop`, `shop.not_connected`, `shop.needs_reauth`, `offer.not_found`,
    `sourcing.failed` (the underlying Open1688Error is the refusal's __cause__)."""
    return _call(shop, client, "get_buyer_offer", offer_id)


def follow_offer(
    offer_id: int, *, shop: Shop | None = None, client: Open1688Client | None = None
) -> None:
    """alibaba.product.follow: 1688 sends stock-change messages only for followed offers."""
    _call(shop, client, "follow_offer", offer_id)


def unfollow_offer(
    offer_id: int, *, shop: Shop | None = None, client: Open1688Client | None = None
) -> None:
    _call(shop, client, "unfollow_offer", offer_id)


# --- search (staff) -------------------------------------------------------------------------


def _page_numbers(page: int, page_size: int) -> tuple[int, int]:
    return max(1, int(page)), min(PAGE_SIZE_MAX, max(1, int(page_size)))


def search_by_keyword(
    *,
    user,
    query: KeywordQuery,
    page: int = 1,
    page_size: int = 20,
    shop: Shop | None = None,
    client: Open1688Client | None = None,
) -> SearchPage:
    """One page of product.search.keywordQuery. Refused: `search.bad_query`, and as
    read_supplier_offer."""
    require(user, SEARCH_PERMISSION)
    keyword = " ".join(query.keyword.split())
    if not keyword:
        raise Refused(RefusalCode.SEARCH_BAD_QUERY, _("Enter a keyword to search for."))
    if query.sort and query.sort not in SORTS:
        raise Refused(RefusalCode.SEARCH_BAD_QUERY, _("Unknown sort order."))
    if not set(query.filters) <= set(SEARCH_FILTER_CODES):
        raise Refused(RefusalCode.SEARCH_BAD_QUERY, _("Unknown search filter."))
    sales = None
    if query.sold_30_days_min is not None:
        sales = [{"saleType": "sales30", "saleStart": int(query.sold_30_days_min)}]
    low, high = query.price_min, query.price_max
    if low is not None and high is not None and low > high:
        raise Refused(
            RefusalCode.SEARCH_BAD_QUERY, _("The lowest price is above the highest price.")
        )
    page, page_size = _page_numbers(page, page_size)
    found = _call(
        shop,
        client,
        "keyword_search",
        keyword,
        page=page,
        page_size=page_size,
        price_start=query.price_min,
        price_end=query.price_max,
        category_id=query.category_id,
        sort=query.sort or None,
        filter=",".join(query.filters) or None,
        sale_filters=sales,
    )
    if query.min_order_max is None:
        return found
    # 1688 has no minimum-order filter: the results' minOrderQuantity is filtered here.
    kept = tuple(
        offer
        for offer in found.items
        if offer.min_order_quantity is None or offer.min_order_quantity <= query.min_order_max
    )
    return replace(found, items=kept)


def upload_search_image(
    *, user, image: bytes, shop: Shop | None = None, client: Open1688Client | None = None
) -> str:
    """Check a picture staff gave, shrink it to at most 300 KB and upload it for image search
    (product.image.upload); returns its imageId. Refused: `image.invalid`, `image.too_large`,
    and as read_supplier_offer."""
    require(user, SEARCH_PERMISSION)
    return _call(shop, client, "upload_image", shrink_for_upload(image))


def search_by_image(
    *,
    user,
    image_id: str = "",
    image_url: str = "",
    page: int = 1,
    page_size: int = 20,
    shop: Shop | None = None,
    client: Open1688Client | None = None,
) -> SearchPage:
    """product.search.imageQuery by an uploaded picture's imageId (upload_search_image) or by
    a picture's address (1688 fetches it; this server never does). An address the guarded fetch
    would refuse by itself (scheme, a private or local address) is refused here too.

    Refused: `search.bad_query`, and as read_supplier_offer."""
    require(user, SEARCH_PERMISSION)
    page, page_size = _page_numbers(page, page_size)
    image_id, address = image_id.strip(), image_url.strip()
    if image_id:
        if not image_id.isalnum() or len(image_id) > 64:
            raise Refused(
                RefusalCode.SEARCH_BAD_QUERY, _("That picture id is not valid; upload it again.")
            )
        found = {"image_id": image_id}
    elif address.startswith(("http://", "https://")) and not any(c.isspace() for c in address):
        if len(address) > 2000:
            raise Refused(RefusalCode.SEARCH_BAD_QUERY, _("The picture address is too long."))
        # 1688 fetches it, not this server: the address itself is checked, the name not resolved.
        problem = guarded_fetch.address_problem(address, resolve_names=False)
        if problem:
            raise Refused(
                RefusalCode.SEARCH_BAD_QUERY,
                _("1688 cannot be given that picture address: %(reason)s."),
                params={"reason": problem.message},
            )
        found = {"image_address": address}
    else:
        raise Refused(
            RefusalCode.SEARCH_BAD_QUERY, _("Give the address of a picture (http or https).")
        )
    return _call(shop, client, "image_search", page=page, page_size=page_size, **found)


def shrink_for_upload(data: bytes, *, max_bytes: int = UPLOAD_MAX_BYTES) -> bytes:
    """A JPEG of at most `max_bytes` from a picture staff gave (JPEG, PNG, WebP or GIF), by the
    one picture conversion (erp1688/pictures.py: pixels counted before decoding, then flattened
    on white and shrunk to JPEG as for the photobank).

    Refused `image.too_large` (over IMAGE_MAX_BYTES or PICTURE_MAX_PIXELS) or `image.invalid`."""
    if len(data) > IMAGE_MAX_BYTES:
        raise Refused(
            RefusalCode.IMAGE_TOO_LARGE,
            _("The picture is larger than %(mb)d MB."),
            params={"mb": IMAGE_MAX_BYTES // (1024 * 1024)},
        )
    return pictures.for_search(data, max_bytes=max_bytes)


# --- staging found offers -----------------------------------------------------------------


def stage_offers(
    *, user, batch: UploadBatch, offer_ids: list[int], client: Open1688Client | None = None
):
    """Copy found offers into `batch` (read buyer-side with the batch shop's token); returns
    the copy service's CopyResult. Refused: `permission_denied`, `batch.locked`,
    `batch.not_draft`, `shop.not_connected`."""
    from catalog.publishing import services  # imports the upload package; only staging needs it

    require(user, STAGE_PERMISSION)
    if not UploadBatch.objects.drafts().filter(pk=batch.pk).exists():
        raise Refused(
            RefusalCode.BATCH_NOT_DRAFT,
            _("Offers can be staged only into a draft batch; %(batch)s is %(status)s."),
            params={"batch": batch.name, "status": batch.get_status_display()},
        )
    refs = " ".join(str(int(offer_id)) for offer_id in offer_ids)
    return services.copy_offers(user=user, batch=batch, offer_refs=refs, client=client)
