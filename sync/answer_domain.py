"""What 1688 can mean by a price or a count, and the offers whose answer says otherwise.

The bounds are defined here once (docs/protocol.md, "Values outside 1688's own domain"): a price
is more than 0 and at most 99,999,999.99 yuan, a stock, a tier's start quantity and a minimum
order are whole numbers from 0 to 2^31 - 1. The public record gives no types; these are the
widest values a seller can type on 1688 as far as is known, and far inside every column.

An answer outside them is not a fact about the offer: the sync leaves that offer out (not
mirrored, not logged, no alert), keeps one `OfferDataProblem` per offer with the reasons, and
deletes it when a later answer is sane again. The rest of the shop syncs as usual.
"""

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from catalog.models import OfferDataProblem, Shop
from erp1688.messages import Message
from erp1688.messages import stored as _
from open1688.types import ProductDetail

PRICE_MAX = Decimal("99999999.99")
COUNT_MAX = 2**31 - 1


# The labels, built with their parameters only when a value is out of the domain (a sync
# checks some hundred thousand values and finds none, as a rule).
OFFER_TIER = _("The offer's tier from %(quantity)s pieces")
SKU_TIER = _("SKU %(sku)s's tier from %(quantity)s pieces")
OFFER_STOCK = _("The offer's stock")
OFFER_MINIMUM = _("The offer's minimum order")
SKU_PRICE = _("SKU %(sku)s's price")
SKU_RETAIL_PRICE = _("SKU %(sku)s's retail price")
SKU_STOCK = _("SKU %(sku)s's stock")


def _label(what: Message, params: dict) -> Message:
    return what % {k: str(v) for k, v in params.items()} if params else what


def _price(value: Decimal | None, what: Message, *, zero: bool = False, **params) -> list:
    if value is None or (0 < value <= PRICE_MAX) or (zero and value == 0):
        return []
    return [
        _("%(what)s is %(value)s, outside what 1688 can mean by a price (above 0, at most "
          "%(max)s).") % {"what": _label(what, params), "value": str(value), "max": str(PRICE_MAX)}
    ]  # fmt: skip


def _count(value: int | None, what: Message, **params) -> list[Message]:
    if value is None or 0 <= value <= COUNT_MAX:
        return []
    return [
        _("%(what)s is %(value)s, outside what 1688 can mean by a count (0 to %(max)s).")
        % {"what": _label(what, params), "value": str(value), "max": str(COUNT_MAX)}
    ]


def _tiers(tiers, sku_id: int | None = None) -> list[Message]:
    problems = []
    for tier in tiers:
        what, params = OFFER_TIER, {"quantity": tier.start_quantity}
        if sku_id is not None:
            what, params = SKU_TIER, {"sku": sku_id, "quantity": tier.start_quantity}
        problems += _count(tier.start_quantity, what, **params)
        problems += _price(tier.price, what, **params)
    return problems


def problems(detail: ProductDetail) -> list[Message]:
    """Why this answer cannot be true of an offer (empty: it can)."""
    found = _tiers(detail.price_ranges)
    found += _count(detail.amount_on_sale, OFFER_STOCK)
    found += _count(detail.min_order_quantity, OFFER_MINIMUM)
    for sku in detail.skus:
        found += _price(sku.price, SKU_PRICE, sku=sku.sku_id)
        found += _price(sku.retail_price, SKU_RETAIL_PRICE, zero=True, sku=sku.sku_id)
        found += _count(sku.amount_on_sale, SKU_STOCK, sku=sku.sku_id)
        found += _tiers(sku.price_ranges, sku.sku_id)
    return found


def quarantine(shop: Shop, details: list[ProductDetail]) -> list[ProductDetail]:
    """The details that may be written; the others are recorded as the shop's data problems.
    A sane answer clears its offer's problem."""
    sane, held = [], {}
    for detail in details:
        found = problems(detail)
        if found:
            held[detail.product_id] = (detail, found)
        else:
            sane.append(detail)
    if sane and OfferDataProblem.objects.filter(shop=shop).exists():  # rarely: one probe
        clear(shop, [d.product_id for d in sane])
    now = timezone.now()
    for offer_id, (detail, found) in held.items():
        OfferDataProblem.objects.update_or_create(
            shop=shop,
            offer_id=offer_id,
            defaults={
                "subject": detail.subject[:255],
                "reasons": found[:20],
                "remote_modified_at": detail.modify_time,
                "last_seen_at": now,
            },
            create_defaults={
                "subject": detail.subject[:255],
                "reasons": found[:20],
                "remote_modified_at": detail.modify_time,
                "first_seen_at": now,
                "last_seen_at": now,
            },
        )
    return sane


def clear(shop: Shop, offer_ids: list[int]) -> None:
    """Offers read sane again, or gone from 1688: no longer a problem."""
    OfferDataProblem.objects.filter(Q(shop=shop) & Q(offer_id__in=offer_ids)).delete()
