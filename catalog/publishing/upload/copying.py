"""Copying existing 1688 offers into a batch: parse pasted links or ids, read each offer with
the buyer-side detail API (any seller's offer) and the batch shop's token, stage the copies as
new items."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from catalog.common.offer_refs import parse_offer_refs
from catalog.models import Shop, UploadBatch, UploadItem
from catalog.publishing.batch_validation import refresh_batch_counts, validate_items
from catalog.publishing.categories import cached_attributes
from catalog.publishing.schema_rules import prefetch_schemas
from catalog.publishing.staging import check_batch_open, next_position
from catalog.publishing.upload.payload import money
from catalog.publishing.upload.run import auth_reason
from catalog.shops.clients import call_as_shop, client_or_new
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from open1688 import AuthError, BusinessError, Open1688Client, Open1688Error
from open1688.types import CARGO_NUMBER_ATTRIBUTE, ProductDetail, image_url


@dataclass
class CopyResult:
    created: list[UploadItem] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (offer id, message)
    unrecognised: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # already copied into this batch


def copy_offers(
    batch: UploadBatch, offer_refs: str, *, client: Open1688Client | None = None
) -> CopyResult:
    """Stage copies of existing 1688 offers (any seller's) as new items of `batch`.

    The details are read from the buyer side (product.search.queryProductDetail: any seller's
    offer; alibaba.product.get reads only the caller's own, docs/protocol.md) with the batch
    shop's token, the shop that will publish the copy. Each copy gets a new cargo number.
    Per-offer errors are reported, the other offers are still copied.
    """
    check_batch_open(batch)  # Refused("batch.locked") while the batch is being uploaded
    ids, unrecognised = parse_offer_refs(offer_refs)
    result = CopyResult(unrecognised=unrecognised)
    if not ids:
        return result
    shop = Shop.objects.get(pk=batch.shop_id)
    if not shop.is_connected:
        raise Refused(
            RefusalCode.SHOP_NOT_CONNECTED,
            _("Shop %(shop)s is not connected, so offers cannot be read."),
            params={"shop": shop.name},
        )
    existing = set(
        batch.items.filter(source_offer_id__in=ids).values_list("source_offer_id", flat=True)
    )
    details: list[ProductDetail] = []
    with client_or_new(client) as api:
        for index, offer_id in enumerate(ids):
            if offer_id in existing:
                result.skipped.append(offer_id)
                continue
            try:
                offer = call_as_shop(shop, api, api.get_buyer_offer, offer_id)
                details.append(offer.as_product_detail())
            except BusinessError as exc:
                result.errors.append((str(offer_id), _copy_error(exc)))
            except AuthError as exc:
                # The shop's authorisation is gone: every further offer would fail the same way.
                reason = str(auth_reason(shop, exc))
                result.errors += [(str(i), reason) for i in ids[index:] if i not in existing]
                break
            except Open1688Error as exc:
                message = _("Could not read it: %(error)s") % {"error": exc}
                result.errors.append((str(offer_id), message))
    result.created = stage_copies(batch, details)
    return result


def _copy_error(exc: BusinessError) -> str:
    if exc.offer_not_found:
        return _("No such offer (or it was deleted).")
    return _("1688 refused: %(message)s (%(code)s)") % {
        "message": exc.message,
        "code": exc.code or "error",
    }


def _absolute_image(path: str) -> str:
    return image_url(path, settings.OPEN1688_IMAGE_BASE)


def stage_copies(batch: UploadBatch, details: list[ProductDetail]) -> list[UploadItem]:
    """New staged items of `batch` from offer details, validated, saved at the batch's end."""
    if not details:
        return []
    # The categories' schemas read before the batch is locked (validation needs them).
    prefetch_schemas({(batch.shop_id, detail.category_id) for detail in details})
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().get(pk=batch.pk)
        check_batch_open(batch)  # again under the lock: a submit may have come in meanwhile
        position = next_position(batch)
        items = [item_from_detail(batch, d, position=position + n) for n, d in enumerate(details)]
        for item in items:
            _mark_custom_values(item, cached_attributes(batch.shop_id, item.category_id))
        for item, errors in zip(items, validate_items(items), strict=True):
            item.validation_errors = errors
            item.save()
        refresh_batch_counts(batch)
    return items


def _mark_custom_values(item: UploadItem, schema) -> None:
    """A value the source published that is not one of the attribute's values was the seller's
    own (the buyer-side detail does not say so): kept, marked isCustom, as 1688 took it."""
    if schema is None:
        return
    for attribute in item.attributes:
        spec = schema.attribute(_int_or_none(attribute.get("attributeID")) or -1)
        value = str(attribute.get("value") or "").strip()
        if spec is not None and spec.values and value and spec.value_named(value) is None:
            attribute["isCustom"] = True


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def item_from_detail(batch: UploadBatch, detail: ProductDetail, *, position: int) -> UploadItem:
    """An unsaved staged item copying an offer's detail (but not its cargo numbers)."""
    tiers = [
        {"start_quantity": r.start_quantity, "price": money(r.price)} for r in detail.price_ranges
    ]
    first_tier_price = tiers[0]["price"] if tiers else None
    # Priced per SKU (quoteType 1) or by the tiers (0 and 2), as the source sells: never both
    # (catalog/publishing/validation.py tier_priced).
    per_sku = not tiers or detail.quote_type == 1
    skus = [
        {
            # Without the source's SKU pictures (skuImageUrl): paths of another seller's
            # photobank, which 1688 refuses in this seller's add.
            "attributes": [
                {k: v for k, v in a.items() if k != "skuImageUrl"} for a in sku.attributes
            ],
            # A SKU priced by the tiers sells at the first tier's price.
            "price": money(sku.price) if per_sku and sku.price is not None else first_tier_price,
            "stock": sku.amount_on_sale or 0,
            "cargo_number": "",  # the seller's own codes stay with the original offer
        }
        for sku in detail.skus
    ]
    sku_prices = [Decimal(s["price"]) for s in skus if s["price"] is not None]
    stock = detail.amount_on_sale
    if stock is None and skus:
        stock = sum(s["stock"] for s in skus)
    return UploadItem(
        batch=batch,
        position=position,
        source=UploadItem.Source.COPY,
        source_offer_id=detail.product_id,
        title=detail.subject[:255],
        category_id=detail.category_id,
        # Staging takes a price or price ranges, not both.
        price=None if not per_sku else (min(sku_prices) if sku_prices else None),
        price_ranges=[] if per_sku else tiers,
        stock=stock,
        unit=(detail.unit or "件")[:20],
        min_order_quantity=detail.min_order_quantity or 1,
        images=[_absolute_image(path) for path in detail.images],
        # 货号 (1398) is the seller's own code: the copy gets its own cargo number.
        attributes=[
            dict(a)
            for a in detail.attributes
            if str(a.get("attributeID")) != str(CARGO_NUMBER_ATTRIBUTE)
        ],
        skus=skus,
        description=detail.description,
    )
