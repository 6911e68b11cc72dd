"""Validating a batch's items together: the item rules (catalog/publishing/validation.py), the
cargo numbers unique in the shop (a few queries for any number of items), the leaf category's
schema (catalog/publishing/schema_rules.py); the errors stored and the batch's counters kept.
"""

from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count, Q

from catalog.models import VALID_ITEM, Product, UploadBatch, UploadItem
from catalog.publishing.schema_rules import check_against_schema, schema_keys, schemas_for
from catalog.publishing.validation import valid_id, validate_item
from erp1688.messages import stored as _

# Items still to be uploaded: the only ones staging may validate or change.
NOT_UPLOADED = UploadItem.NOT_UPLOADED
LOOKUP_CHUNK = 500


def _cargo_conflicts(items: Sequence[UploadItem]) -> dict[int, str]:
    """Index → message for items whose cargo number is not unique in their shop.

    The cargo number is the idempotency key the upload uses to find an offer on 1688, so it must
    be unique among the given items, the shop's other staged items and the shop's live offers.
    """
    positions = defaultdict(list)  # (shop id, cargo number) → indexes in items
    for index, item in enumerate(items):
        if item.cargo_number:
            positions[(item.batch.shop_id, item.cargo_number.strip())].append(index)
    conflicts = {}
    for (_shop, cargo), indexes in positions.items():
        if len(indexes) > 1:
            for index in indexes:
                conflicts[index] = _("Cargo number %(cargo)s appears more than once") % {
                    "cargo": cargo
                }
    own = {item.pk for item in items if item.pk}
    cargos_by_shop = defaultdict(list)
    for shop_id, cargo in positions:
        cargos_by_shop[shop_id].append(cargo)
    for shop_id, cargos in cargos_by_shop.items():
        for start in range(0, len(cargos), LOOKUP_CHUNK):
            chunk = cargos[start : start + LOOKUP_CHUNK]
            staged = UploadItem.objects.filter(batch__shop_id=shop_id, cargo_number__in=chunk)
            for pk, cargo, batch_id, batch_name in staged.values_list(
                "pk", "cargo_number", "batch_id", "batch__name"
            ):
                if pk in own:
                    continue
                for index in positions[(shop_id, cargo)]:
                    if items[index].batch_id == batch_id:
                        message = _(
                            "Cargo number %(cargo)s is already used by another item of this batch"
                        )
                    else:
                        message = _("Cargo number %(cargo)s is already used in batch “%(batch)s”")
                    conflicts[index] = message % {"cargo": cargo, "batch": batch_name}
            offers = Product.objects.filter(
                shop_id=shop_id, cargo_number__in=chunk, delisted_at__isnull=True
            )
            for cargo, offer_id in offers.values_list("cargo_number", "offer_id"):
                for index in positions[(shop_id, cargo)]:
                    if items[index].remote_offer_id != offer_id:
                        conflicts[index] = _(
                            "Cargo number %(cargo)s is already used by offer %(offer)s of this shop"
                        ) % {"cargo": cargo, "offer": offer_id}
    return conflicts


def validate_items(items: Sequence[UploadItem]) -> list[dict[str, list[str]]]:
    """validate_item for each item, plus cargo-number uniqueness and the leaf category's
    attribute schema (read from 1688 when not cached; an item whose category has none to give
    is invalid: 1688 would refuse it). Items must have their batch."""
    results = [validate_item(item) for item in items]
    for index, message in _cargo_conflicts(items).items():
        results[index].setdefault("cargo_number", []).append(message)
    schemas, problems = schemas_for(schema_keys(items))
    for item, errors in zip(items, results, strict=True):
        if not valid_id(item.category_id):
            continue
        key = (item.batch.shop_id, item.category_id)
        schema = schemas.get(key)
        if schema is None:
            errors.setdefault("category_id", []).append(
                problems.get(key)
                or _("Category %(id)s has no attribute schema") % {"id": item.category_id}
            )
            continue
        for field, messages in check_against_schema(item, schema).items():
            errors.setdefault(field, []).extend(messages)
    return results


def refresh_batch_counts(batch: UploadBatch) -> UploadBatch:
    """Recompute every counter of the batch from its items' statuses, in one query.

    `items_invalid` counts items still to be uploaded that carry validation errors;
    `items_pending` counts every item with status pending, valid or not.
    """
    status = UploadItem.Status
    counts = batch.items.aggregate(
        items_total=Count("pk"),
        items_invalid=Count("pk", filter=Q(status__in=NOT_UPLOADED) & ~VALID_ITEM),
        items_pending=Count("pk", filter=Q(status=status.PENDING)),
        items_succeeded=Count("pk", filter=Q(status=status.PUBLISHED)),
        items_failed=Count("pk", filter=Q(status=status.FAILED)),
        items_unknown=Count("pk", filter=Q(status__in=UploadItem.UNRESOLVED)),
        items_auditing=Count("pk", filter=Q(status=status.AUDITING)),
        items_rejected=Count("pk", filter=Q(status=status.REJECTED)),
    )
    for name, value in counts.items():
        setattr(batch, name, value)
    batch.save(update_fields=list(counts))
    return batch


def validate_batch(batch: UploadBatch) -> int:
    """Validate every item not yet uploaded, store the errors, update the counters; returns the
    number of invalid items. A draft batch becomes validated."""
    items = list(batch.items.not_uploaded())
    for item in items:
        item.batch = batch
    results = validate_items(items)
    for item, errors in zip(items, results, strict=True):
        item.validation_errors = errors
    with transaction.atomic():
        UploadItem.objects.bulk_update(items, ["validation_errors"], batch_size=500)
        if batch.status == UploadBatch.Status.DRAFT:
            batch.status = UploadBatch.Status.VALIDATED
            batch.save(update_fields=["status"])
        refresh_batch_counts(batch)
    return sum(1 for errors in results if errors)
