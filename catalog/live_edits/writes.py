"""Which 1688 API writes a change to a live offer, per shop, and the writes themselves
(docs/protocol.md, "Price and title edits").

- Tier prices and the title: `product.increment.editInfo`, which changes them alone.
- Stock: `alibaba.product.modifyStock`. An absolute set is sent as `increaceModify=false`
  with the value; an adjustment (±N) as the delta with `increaceModify=true` (sent explicitly:
  the platform's default is a delta). Either way every SKU is keyed by its **specId**
  (docs/protocol.md).
- Delist and relist: `alibaba.product.expire` and `alibaba.product.republish`.
- SKU prices, and tier prices or titles when the incremental edit is not granted: a full
  `alibaba.product.edit` built from the fresh read of the whole offer, so nothing it does not
  mean to change is lost (a partial productInfo is not on record).

The per-shop choice is derived from the shop's record of APIs 1688 refused this app
(`Shop.declined_apis`, written by catalog.shops.clients): while the incremental edit is noted there,
the full edit is used; a day after the refusal the incremental edit is tried again, and a
success clears the note. A refusal met while writing falls back to the full edit at once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy

from catalog.models import Product, Shop
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import (
    call_as_shop,
    client_or_new,
    record_declined_api,
    wait_for_late_apply,
)
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import (
    InvalidParameterError,
    Open1688Client,
    Open1688Error,
    OutcomeUnknownError,
    PermissionDeniedError,
    ServerError,
    TransportError,
)
from open1688.apis.products import INCREMENT_EDIT_API as INCREMENT_API
from open1688.types import ProductDetail

log = logging.getLogger(__name__)

EDIT_API = "alibaba.product.edit"
DECLINE_CODES = {"gw.APIACLDecline", "gw.APIUnsupported"}
RETRY_DECLINED_AFTER = timedelta(days=1)
# The productInfo fields a full edit sends back as read (what product.add takes).
FULL_EDIT_FIELDS = (
    "subject", "categoryID", "description", "attributes", "image", "saleInfo", "skuInfos",
    "shippingInfo", "cargoNumber", "productType", "language",
)  # fmt: skip
TITLE_MAX_CHARS = 128  # the legacy add's limit; 1688 judges the rest
Field = LiveEditLine.Field


@dataclass(frozen=True)
class EditApi:
    """The API tier prices and titles go by for a shop, and why (for the shop page)."""

    api: str
    declined_at: datetime | None = None
    declined_because: str = ""
    retry_at: datetime | None = None

    @property
    def incremental(self) -> bool:
        return self.api == INCREMENT_API


def edit_api_for(shop: Shop) -> EditApi:
    entry = next((e for e in shop.declined_apis or [] if e.get("api") == INCREMENT_API), None)
    if entry is None:
        return EditApi(INCREMENT_API)
    at = parse_datetime(str(entry.get("at") or ""))
    because = ": ".join(filter(None, (entry.get("code"), entry.get("message"))))
    retry_at = at + RETRY_DECLINED_AFTER if at else None
    if retry_at is not None and retry_at <= timezone.now():
        # Granted since, perhaps: try again (a success clears the note, a refusal renews it).
        return EditApi(INCREMENT_API, at, because, retry_at)
    return EditApi(EDIT_API, at, because, retry_at)


# --- writes ---------------------------------------------------------------------------------
def write_lines(operation, shop, client, detail: ProductDetail, lines: list[LiveEditLine]) -> None:
    """Send the planned `lines` of one offer by the API their kind of change goes by."""
    offer_id = detail.product_id
    if operation.kind == LiveEdit.Kind.DELIST:
        call_as_shop(shop, client, client.expire_products, [offer_id])
    elif operation.kind == LiveEdit.Kind.RELIST:
        call_as_shop(shop, client, client.republish_products, [offer_id])
    elif operation.kind == LiveEdit.Kind.STOCK:
        increment = operation.params.get("mode") == "adjust"
        change = stock_change(detail, lines, increment=increment)
        call_as_shop(shop, client, client.modify_stock, [change], increment=increment)
    else:  # tier prices alone by the incremental edit where granted
        write_prices(shop, client, detail, lines)


def stock_change(detail: ProductDetail, lines: list[LiveEditLine], *, increment: bool) -> dict:
    """One `productStockChange` item: per SKU keyed by the specId 1688 just gave, the delta
    (increment) or the new number."""

    def amount(line: LiveEditLine) -> int:
        after = int(Decimal(line.after))
        return after - int(Decimal(line.before)) if increment else after

    spec_ids = {sku.sku_id: sku.spec_id for sku in detail.skus}
    change: dict = {"productId": detail.product_id}
    sku_lines = [line for line in lines if line.remote_sku_id]
    if sku_lines:
        change["skuStocks"] = [
            {"skuId": spec_ids.get(line.remote_sku_id) or line.spec_id, "stockChange": amount(line)}
            for line in sku_lines
        ]
    else:
        change["productAmountChange"] = amount(lines[0])
    return change


def write_prices(shop: Shop, client, detail: ProductDetail, lines: list[LiveEditLine]) -> str:
    """Send the new prices of `lines` (one offer); returns the API that wrote them."""
    sku_prices = {line.remote_sku_id: line.after for line in lines if line.field == Field.PRICE}
    tier_prices = {
        line.tier_start_quantity: line.after for line in lines if line.field == Field.TIER_PRICE
    }
    if tier_prices and not sku_prices:
        form = {"priceRange": increment_tiers(detail, tier_prices)}
        if _incremental(shop, client, detail, form):
            return INCREMENT_API
    fields = full_edit_fields(detail, sku_prices=sku_prices, tier_prices=tier_prices)
    call_as_shop(shop, client, client.edit_product, detail.product_id, fields)
    return EDIT_API


def write_title(shop: Shop, client, detail: ProductDetail, title: str) -> str:
    if _incremental(shop, client, detail, {"title": title}):
        return INCREMENT_API
    fields = full_edit_fields(detail, subject=title)
    call_as_shop(shop, client, client.edit_product, detail.product_id, fields)
    return EDIT_API


def _incremental(shop: Shop, client, detail: ProductDetail, form: dict) -> bool:
    """Write by the incremental edit when the shop uses it; False when the full edit must."""
    if not detail.category_id or not edit_api_for(shop).incremental:
        return False
    try:
        call_as_shop(
            shop,
            client,
            client.increment_edit_info,
            offer_id=detail.product_id,
            category_id=detail.category_id,
            form_values=form,
        )
    except (PermissionDeniedError, InvalidParameterError) as exc:
        if exc.code not in DECLINE_CODES:
            raise
        # Refused before anything was applied: the full edit, from now on for this shop.
        record_declined_api(shop=shop, api=INCREMENT_API, error=exc)
        log.info("shop %s: %s refused (%s); full edit instead", shop.pk, INCREMENT_API, exc.code)
        return False
    return True


def increment_tiers(detail: ProductDetail, new_prices: dict) -> list[dict]:
    """Every tier of the offer as 1688 just gave it, with the new prices: the list replaces
    the offer's tiers."""
    return [
        {
            "priceRange_beginAmount": tier.start_quantity,
            "priceRange_price": str(new_prices.get(tier.start_quantity, tier.price)),
        }
        for tier in detail.price_ranges
    ]


def full_edit_fields(
    detail: ProductDetail, *, subject: str | None = None, sku_prices=None, tier_prices=None
) -> dict:
    """A whole `alibaba.product.edit` from the offer as just read, with the changes applied."""
    raw = detail.raw if isinstance(detail.raw, dict) else {}
    info = raw.get("productInfo") if isinstance(raw.get("productInfo"), dict) else raw
    fields = {key: info[key] for key in FULL_EDIT_FIELDS if info.get(key) not in (None, "")}
    if subject is not None:
        fields["subject"] = subject
    if sku_prices:
        skus = []
        for sku in fields.get("skuInfos") or []:
            sku = dict(sku)
            if int(sku.get("skuId") or 0) in sku_prices:
                sku["price"] = sku_prices[int(sku["skuId"])]
            skus.append(sku)
        fields["skuInfos"] = skus
    if tier_prices:
        sale = dict(fields.get("saleInfo") or {})
        sale["priceRanges"] = [
            {
                "startQuantity": tier.start_quantity,
                "price": tier_prices.get(tier.start_quantity, str(tier.price)),
            }
            for tier in detail.price_ranges
        ]
        fields["saleInfo"] = sale
    return fields


# --- a title change -------------------------------------------------------------------------
@dataclass(frozen=True)
class Retitled:
    before: str
    after: str
    api: str  # "" when 1688 already had the title


def retitle_offer(
    *, user, product: Product, title: str, client: Open1688Client | None = None
) -> Retitled:
    """Change a live offer's title now (one offer: the page waits for three calls). The offer
    is read first: a title changed on 1688 since the last sync is a conflict, not overwritten;
    read back after the write, and the mirror takes what 1688 then shows."""
    require(user, "catalog.change_live_offer")
    title = " ".join(str(title or "").split())
    if not title:
        raise Refused(RefusalCode.TITLE_REQUIRED, gettext_lazy("Give the new title."))
    if len(title) > TITLE_MAX_CHARS:
        raise Refused(
            RefusalCode.TITLE_TOO_LONG,
            gettext_lazy("A title has at most %(max)d characters."),
            params={"max": TITLE_MAX_CHARS},
        )
    shop = product.shop
    with client_or_new(client) as api:
        detail = _checked(lambda: call_as_shop(shop, api, api.get_product, product.offer_id))
        if detail.subject != product.subject:
            raise Refused(
                RefusalCode.TITLE_CONFLICT,
                gettext_lazy(
                    "Changed on 1688 since the last sync: %(found)s there, %(before)s here. "
                    "Not overwritten."
                ),
                params={"found": detail.subject, "before": product.subject},
            )
        if detail.subject == title:
            return Retitled(product.subject, title, "")
        try:
            used = write_title(shop, api, detail, title)
        except (OutcomeUnknownError, TransportError, ServerError) as exc:
            wait_for_late_apply(exc)  # what 1688 shows next decides
            used = ""
        except Open1688Error as exc:
            raise _refused(exc) from exc
        fresh = _checked(lambda: call_as_shop(shop, api, api.get_product, product.offer_id))
    if fresh.subject != title:
        raise Refused(
            RefusalCode.TITLE_NOT_TAKEN,
            gettext_lazy("1688 did not take the new title; it still shows %(found)s."),
            params={"found": fresh.subject},
        )
    before = product.subject
    Product.objects.filter(pk=product.pk).update(subject=title)
    product.subject = title
    log.info("offer %s retitled by %s via %s", product.offer_id, user, used or "?")
    return Retitled(before, title, used)


def _checked(read):
    try:
        return read()
    except Open1688Error as exc:
        raise _refused(exc) from exc


def _refused(exc: Open1688Error) -> Refused:
    if isinstance(exc, PermissionDeniedError):
        return Refused(
            RefusalCode.API_NOT_GRANTED,
            gettext_lazy(
                "1688 refused: this app is not allowed to call %(api)s (API access not granted)."
            ),
            params={"api": exc.api or "?"},
        )
    return Refused(
        RefusalCode.REFUSED_BY_1688,
        gettext_lazy("1688 refused: %(message)s"),
        params={"message": exc},
    )
