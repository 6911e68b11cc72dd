"""Change many staged items at once: price formula, stock, title prefix/suffix, category."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import UploadBatch, UploadItem
from catalog.publishing.batch_validation import refresh_batch_counts, validate_items
from catalog.publishing.schema_rules import prefetch_schemas
from catalog.publishing.staging import EDITABLE
from catalog.publishing.validation import CENT
from erp1688.messages import render_errors
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused

ROUNDING_STEPS = (Decimal("0.1"), Decimal("1"))


def new_price(price, *, multiply=None, add=None, round_to=None) -> Decimal:
    """price × multiply + add, rounded half up to `round_to` (0.1 or 1), then to cents."""
    value = Decimal(str(price))
    if multiply is not None:
        value *= Decimal(str(multiply))
    if add is not None:
        value += Decimal(str(add))
    if round_to is not None:
        value = value.quantize(Decimal(str(round_to)), rounding=ROUND_HALF_UP)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _edit(item: UploadItem, *, reprice, stock, prefix, suffix, category_id) -> None:
    if reprice is not None:
        if item.price is not None:
            item.price = reprice(item.price)
        item.price_ranges = [{**r, "price": str(reprice(r["price"]))} for r in item.price_ranges]
        item.skus = [{**sku, "price": str(reprice(sku["price"]))} for sku in item.skus]
    if stock is not None:
        # The stock of an item with SKUs is the SKUs' stock: set both.
        item.stock = stock
        item.skus = [{**sku, "stock": stock} for sku in item.skus]
    if prefix or suffix:
        item.title = f"{prefix}{item.title}{suffix}".strip()
    if category_id is not None:
        item.category_id = category_id


def bulk_edit(
    items_qs,
    *,
    multiply=None,
    add=None,
    round_to=None,
    stock=None,
    prefix="",
    suffix="",
    category_id=None,
) -> int:
    """Apply the changes to the items not yet uploaded (pending or failed, in a batch the upload
    job does not hold), re-validate them, and save — all of them, or none if the change would
    break a rule on a field it touches. Returns the number of items changed.

    The mechanics only: callers go through catalog.publishing.services.bulk_edit_items (permission).
    Refused: `bulk_edit.bad_rounding`, `bulk_edit.would_invalidate` (nothing changed)."""
    if round_to is not None and Decimal(str(round_to)) not in ROUNDING_STEPS:
        raise Refused(RefusalCode.BULK_EDIT_BAD_ROUNDING, _("Round to 0.1 or 1 only."))
    repricing = any(value is not None for value in (multiply, add, round_to))
    touched = {
        "price": repricing,
        "price_ranges": repricing,
        "skus": repricing or stock is not None,
        "stock": stock is not None,
        "title": bool(prefix or suffix),
        "category_id": category_id is not None,
    }
    touched_fields = [name for name, changed in touched.items() if changed]
    if not touched_fields:
        return 0

    def reprice(price):
        return new_price(price, multiply=multiply, add=add, round_to=round_to)

    if category_id is not None:  # its schema read before the items are locked
        shops = items_qs.values_list("batch__shop_id", flat=True).distinct()
        prefetch_schemas({(shop, category_id) for shop in shops})
    with transaction.atomic():
        items = list(
            items_qs.filter(status__in=EDITABLE)  # rejected ones too: corrected, then resubmitted
            .exclude(batch__status__in=UploadBatch.LOCKED_STATUSES)
            .select_related("batch")
            .select_for_update(of=("self",))
        )
        broken = {}  # pk → item
        for item in items:
            try:
                _edit(
                    item,
                    reprice=reprice if repricing else None,
                    stock=stock,
                    prefix=prefix,
                    suffix=suffix,
                    category_id=category_id,
                )
            except (KeyError, TypeError, AttributeError, ArithmeticError):
                broken[item.pk] = item  # prices stored in an unexpected shape
        for item, errors in zip(items, validate_items(items), strict=True):
            item.validation_errors = errors
            if any(name in errors for name in touched_fields):
                broken[item.pk] = item
        if broken:
            raise Refused(
                RefusalCode.BULK_EDIT_WOULD_INVALIDATE,
                _describe(list(broken.values()), touched_fields),
            )
        now = timezone.now()
        for item in items:
            item.updated_at = now  # bulk_update does not touch auto_now fields
        UploadItem.objects.bulk_update(
            items,
            [*touched_fields, "validation_errors", "updated_at"],
            batch_size=500,
        )
        for batch in {item.batch for item in items}:
            refresh_batch_counts(batch)
    return len(items)


def _describe(broken: list[UploadItem], touched_fields: list[str]) -> str:
    shown = []
    for item in broken[:5]:
        errors = render_errors(item.validation_errors)
        messages = [m for name in touched_fields for m in errors.get(name, [])]
        shown.append(f"{item.cargo_number}: {'; '.join(messages) or _('malformed data')}")
    more = len(broken) - len(shown)
    summary = _("The change would make %(n)d items invalid; nothing was changed") % {
        "n": len(broken)
    }
    return f"{summary} — {' | '.join(shown)}" + (f" | +{more}" if more > 0 else "")
