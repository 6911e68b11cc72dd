"""Catalog writes for batch uploads (批量上货): staging by hand, and submitting, retrying,
resubmitting, copying offers in and the pre-flight check (these talk to 1688 or queue the upload
job: catalog/publishing/upload/).

Every function is keyword-only and takes the acting user (`user=None` is the system: a job, a
command); it checks the user's permission itself and raises `erp1688.refusals.Refused` (or its
`PermissionRefused`) with a stable code when it will not do the write. Views, admin and commands
call these and render the result; reads live in catalog/publishing/selectors.py.

Where the other writes live: importing a file — catalog/publishing/importing.py; syncing,
connecting a shop and refreshing its settings from 1688 — catalog/shops/services.py.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from catalog.models import Shop, UploadBatch, UploadItem
from catalog.publishing import upload
from catalog.publishing.batch_validation import refresh_batch_counts, validate_items
from catalog.publishing.batch_validation import validate_batch as _validate_batch
from catalog.publishing.bulk_edit import bulk_edit
from catalog.publishing.schema_rules import prefetch_schemas, schema_keys
from catalog.publishing.staging import check_item_editable, locked_batch, next_position
from catalog.shops.clients import make_client
from erp1688.messages import render_errors
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import Open1688Client


def create_batch(*, user, shop: Shop, name: str) -> UploadBatch:
    require(user, "catalog.add_uploadbatch")
    return UploadBatch.objects.create(shop=shop, name=name.strip(), created_by=user)


def save_item(*, user, item: UploadItem) -> UploadItem:
    """Save a new or changed item (already validated by its form), under the batch lock, keeping
    the batch's counters true. Refused: `batch.locked`, `item.not_editable`, `item.invalid`."""
    require(user, "catalog.change_uploaditem" if item.pk else "catalog.add_uploaditem")
    prefetch_schemas(schema_keys([item]))
    with transaction.atomic():
        if item.pk is None:
            batch = locked_batch(item.batch_id)
            item.position = next_position(batch)
            item.source = UploadItem.Source.FORM
        else:
            # As stored now: the upload may have taken the item since it was read; an item
            # stays in its batch.
            stored = UploadItem.objects.get(pk=item.pk)
            batch = locked_batch(stored.batch_id)
            stored = UploadItem.objects.select_for_update().get(pk=item.pk)
            check_item_editable(stored, batch)
            if stored.remote_offer_id and item.cargo_number != stored.cargo_number:
                # The 货号 finds the item's (rejected) offer on 1688 again: it stays.
                raise Refused(
                    RefusalCode.ITEM_CARGO_LOCKED,
                    _("The cargo number of an item already on 1688 cannot change."),
                )
        item.batch = batch
        # Checked again under the batch lock: another request may have taken the cargo number.
        errors = validate_items([item])[0]
        if errors:
            raise Refused(
                RefusalCode.ITEM_INVALID,
                "%(errors)s",
                params={"errors": " ".join(m for ms in render_errors(errors).values() for m in ms)},
            )
        item.validation_errors = {}
        item.save()
        refresh_batch_counts(batch)
    return item


def delete_item(*, user, item: UploadItem) -> None:
    """Delete a staged item not yet sent, or one rejected in audit (its offer stays on 1688,
    rejected, for the seller centre). Refused: `batch.locked`, `item.not_editable`."""
    require(user, "catalog.delete_uploaditem")
    with transaction.atomic():
        batch = locked_batch(item.batch_id)
        stored = UploadItem.objects.select_for_update().get(pk=item.pk)
        check_item_editable(stored, batch)
        stored.delete()
        refresh_batch_counts(batch)


def validate_batch(*, user, batch: UploadBatch) -> int:
    """Validate every item not yet uploaded; returns the number of invalid items.
    Refused: `batch.locked`."""
    require(user, "catalog.change_uploadbatch")
    categories = batch.items.not_uploaded().values_list("category_id", flat=True).distinct()
    prefetch_schemas({(batch.shop_id, category) for category in categories})
    with transaction.atomic():
        batch = locked_batch(batch.pk)
        return _validate_batch(batch)


def bulk_edit_items(*, user, items, **changes) -> int:
    """Change many staged items at once (catalog/publishing/bulk_edit.py); all or nothing.
    Items of a batch the upload job holds, and items already sent, are left alone. Returns how
    many changed."""
    require(user, "catalog.change_uploaditem")
    return bulk_edit(items, **changes)


def set_batch_publishing(
    *, user, batch: UploadBatch, freight_template_id: int | None, send_address_id: int | None
) -> UploadBatch:
    """Override the shop's default freight template and send-goods address for one batch
    (None: the shop's default). Only ids 1688 listed for the shop (freight template 0 and 1 are
    everyone's). Refused: `batch.locked`, `batch.bad_publishing`."""
    from catalog.models import ShopPublishing

    require(user, "catalog.change_uploadbatch")
    publishing = ShopPublishing.objects.filter(shop_id=batch.shop_id).first()
    templates = {c["id"] for c in (publishing.freight_templates if publishing else [])} | {0, 1}
    addresses = {c["id"] for c in (publishing.send_addresses if publishing else [])}
    if (freight_template_id is not None and freight_template_id not in templates) or (
        send_address_id is not None and send_address_id not in addresses
    ):
        raise Refused(
            RefusalCode.BATCH_BAD_PUBLISHING,
            _("Choose a freight template and a send-goods address of the batch's shop."),
        )
    with transaction.atomic():
        batch = locked_batch(batch.pk)
        batch.freight_template_id = freight_template_id
        batch.send_address_id = send_address_id
        batch.save(update_fields=["freight_template_id", "send_address_id"])
    return batch


# --- submitting, retrying, copying: the upload job -------------------------------------------


def submit_batch(*, user, batch: UploadBatch, queue: bool = True) -> str | None:
    """Validate the batch and queue its upload; returns the job id (None with queue=False, for
    a caller that runs `catalog.publishing.upload.run_upload` itself, as `upload_batch --inline`
    does).

    Refused: `shop.not_connected`, `batch.busy`, `batch.nothing_to_upload`.
    """
    require(user, "catalog.submit_uploadbatch")
    upload.prepare_batch(batch, user=user)
    return upload.enqueue_upload(batch) if queue else None


def retry_failed(*, user, batch: UploadBatch, queue: bool = True) -> str | None:
    """Queue the failed items again (unknown ones are reconciled first); succeeded ones stay.

    Refused: as submit_batch, and `batch.nothing_to_retry`.
    """
    require(user, "catalog.submit_uploadbatch")
    upload.prepare_batch(batch, user=user, retry=True)
    return upload.enqueue_upload(batch) if queue else None


def resubmit_rejected(*, user, batch: UploadBatch, queue: bool = True) -> str | None:
    """Queue the items rejected in 1688's audit again, as edits of their offers (never a second
    offer under the same 货号: catalog/publishing/upload/resubmit.py).

    Refused: as submit_batch, and `batch.nothing_to_resubmit`.
    """
    require(user, "catalog.submit_uploadbatch")
    upload.prepare_batch(batch, user=user, resubmit=True)
    return upload.enqueue_upload(batch) if queue else None


def copy_offers(
    *, user, batch: UploadBatch, offer_refs: str, client: Open1688Client | None = None
) -> upload.CopyResult:
    """Stage copies of 1688 offers (pasted links or ids) as new items of the batch.

    Refused: `batch.locked`, `shop.not_connected`; per-offer errors are in the result.
    """
    require(user, "catalog.add_uploaditem")
    return upload.copy_offers(batch, offer_refs, client=client)


def preflight_batch(*, user, batch: UploadBatch) -> list[dict]:
    """Validation and 1688's add.preview per item before submit
    (catalog/publishing/upload/publishing.py)."""
    require(user, "catalog.change_uploadbatch")
    from catalog.publishing.upload.publishing import preflight

    with make_client() as client:
        return preflight(batch, client=client)
