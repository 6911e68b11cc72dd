"""A supplier's whole store, browsed as a buyer: the supplier's offers page by page
(product.search.querySellerOfferList, open1688/apis/search.py), searched within, sorted.

The supplier is named by its opaque `sellerOpenId`, which the buyer-side detail of any of its
offers carries: a watched offer keeps it, a search result is looked up by its offer id first.
The listing needs the cross-border sourcing permission; when 1688 declines it the refusal
`supplier_store.not_granted` says so in an operator sentence (and the shop records the declined
API, as for every API). Watching and staging from the store reuse the watchlist and
catalog/sourcing/services.py. docs/protocol.md ("A supplier's whole store") records the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from catalog.models import Shop
from catalog.shops.clients import call_as_shop, client_or_new
from catalog.sourcing import services as sourcing
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import Open1688Client, Open1688Error, PermissionDeniedError, SearchPage
from open1688.apis.search import SELLER_OFFERS_PAGE_MAX

OPEN_ID_MAX = 64
_OPEN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # its alphabet is not on record


@dataclass(frozen=True)
class Supplier:
    open_id: str
    name: str = ""


def supplier_of_offer(
    *, user, offer_id: int, shop: Shop | None = None, client: Open1688Client | None = None
) -> Supplier:
    """The seller of any offer, from its buyer-side detail. Refused as
    sourcing.read_supplier_offer, and `supplier_store.no_seller` when 1688 does not say."""
    require(user, sourcing.SEARCH_PERMISSION)
    detail = sourcing.read_supplier_offer(offer_id, shop=shop, client=client)
    open_id = (detail.supplier.open_id or "")[:OPEN_ID_MAX]
    if not open_id:
        raise Refused(
            RefusalCode.SUPPLIER_STORE_NO_SELLER,
            _("1688 did not say which supplier sells offer %(offer)s."),
            params={"offer": offer_id},
        )
    return Supplier(open_id=open_id, name=detail.supplier.label)


def browse_store(
    *,
    user,
    seller_open_id: str,
    keyword: str = "",
    sort: str = "",
    page: int = 1,
    page_size: int = 20,
    shop: Shop | None = None,
    client: Open1688Client | None = None,
) -> SearchPage:
    """One page of the supplier's offers, optionally only those whose title has every word of
    `keyword`. Refused: `search.bad_query`, `supplier_store.not_granted`, and as
    sourcing.read_supplier_offer."""
    require(user, sourcing.SEARCH_PERMISSION)
    seller_open_id = seller_open_id.strip()
    if not _OPEN_ID.match(seller_open_id):
        raise Refused(RefusalCode.SEARCH_BAD_QUERY, _("That supplier id is not valid."))
    if sort and sort not in sourcing.SORTS:
        raise Refused(RefusalCode.SEARCH_BAD_QUERY, _("Unknown sort order."))
    shop = sourcing.sourcing_shop(shop)
    with client_or_new(client) as api:
        try:
            return call_as_shop(
                shop,
                api,
                api.query_seller_offers,
                seller_open_id,
                keyword=" ".join(keyword.split()) or None,
                sort=sort or None,
                page=max(1, int(page)),
                page_size=min(SELLER_OFFERS_PAGE_MAX, max(1, int(page_size))),
            )
        except PermissionDeniedError as exc:
            raise Refused(
                RefusalCode.SUPPLIER_STORE_NOT_GRANTED,
                _(
                    "1688 has not granted this app the cross-border sourcing permission, so a "
                    "supplier's whole store cannot be listed. Ask whoever manages the app on the "
                    "1688 open platform to add it; searching by keyword or picture and watching "
                    "offers still work."
                ),
            ) from exc
        except Open1688Error as exc:
            raise sourcing._refusal(shop, exc) from exc
