"""Following suppliers, what staff (and the minute job) do: link an own offer to a supplier
offer (by hand, or made for a published copy), map its SKUs, unlink it, and approve or reject a
change a follow rule left waiting. Rules are set in rules.py; the engine is engine.py.

Keyword-only functions taking `user=` (None: the system); permissions (erp1688/roles.py):
operators link (`catalog.add_sourcelink` / `change_sourcelink` / `delete_sourcelink`) and
approve (`catalog.approve_follow_change`); refusals are `erp1688.refusals.Refused`.
"""

from datetime import timedelta

import django_rq
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.common import offer_refs
from catalog.follow import engine, selectors
from catalog.live_edits.services import apply_live_edit
from catalog.models import LinkOrigin, Product, SkuLink, SourceLink, UploadItem, WatchedOffer
from catalog.models.live_edits import LiveEdit
from catalog.watch import services as watch
from erp1688.messages import as_text, from_refusal
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import Open1688Client

LINK = "catalog.add_sourcelink"
MAP = "catalog.change_sourcelink"
UNLINK = "catalog.delete_sourcelink"
APPROVE = "catalog.approve_follow_change"
COPIES_DONE_KEY = "erp1688:follow:copies_linked"  # upload items linked once (never again)


# --- links ------------------------------------------------------------------------------------


def parse_supplier_ref(text: str) -> int:
    """The one offer id in a pasted link or id (catalog/common/offer_refs.py); refused
    `follow.bad_ref` otherwise."""
    ids, bad = offer_refs.parse_offer_refs(text)
    if bad or len(ids) != 1:
        raise Refused(
            RefusalCode.FOLLOW_BAD_REF,
            _("Paste one supplier offer: its link or its offer id."),
        )
    return ids[0]


def link_offer(
    *,
    user,
    product: Product,
    ref: str | int,
    origin: str = LinkOrigin.MANUAL,
    client: Open1688Client | None = None,
) -> SourceLink:
    """Link `product` (an own offer) to the supplier offer `ref` names (a link or an id), watch
    the supplier offer (followed on 1688, pushed, polled) and map the own SKUs whose sale
    attribute values match a supplier SKU's exactly. Linking again to another supplier offer
    replaces the link and its SKU links. A supplier offer that cannot be watched now is kept
    on the link as `watch_error` (the link stands). Refused: `permission_denied`,
    `follow.bad_ref` (not one offer, or the offer itself)."""
    require(user, LINK)
    supplier_offer_id = parse_supplier_ref(str(ref))
    if supplier_offer_id == product.offer_id:
        raise Refused(RefusalCode.FOLLOW_BAD_REF, _("An offer cannot follow itself."))
    with transaction.atomic():
        link = SourceLink.objects.select_for_update().filter(product=product).first()
        if link is not None and link.supplier_offer_id != supplier_offer_id:
            link.sku_links.all().delete()
            link.delisted_by_rule, link.last_followed_at = False, None
        link = link or SourceLink(product=product)
        link.supplier_offer_id, link.origin = supplier_offer_id, origin
        link.created_by, link.created_at = user, timezone.now()
        link.save()
    ensure_watched(link, user=user, client=client)
    if link.watch_error == "":
        map_suggested(link)
    return link


def ensure_watched(link: SourceLink, *, user=None, client=None) -> WatchedOffer | None:
    """Watch the link's supplier offer unless it is watched already; the reason it could not
    be is kept on the link."""
    watched = selectors.watched(link.supplier_offer_id)
    error = ""
    if watched is None or not watched.active:
        try:
            result = watch.watch_offers(user=user, refs=[link.supplier_offer_id], client=client)
        except Refused as refusal:
            error = as_text(from_refusal(refusal))
        else:
            error = "; ".join(reason for _id, reason in result.failed)
        watched = selectors.watched(link.supplier_offer_id)
    if link.watch_error != error[:500]:
        link.watch_error = error[:500]
        SourceLink.objects.filter(pk=link.pk).update(watch_error=link.watch_error)
    return watched


def map_suggested(link: SourceLink, *, origin: str = LinkOrigin.SUGGESTED) -> int:
    """Map the own SKUs not mapped yet whose sale attribute values match a supplier SKU's
    exactly (catalog/follow/selectors.py `sku_suggestions`); returns how many."""
    product = link.product
    offer = selectors.watched(link.supplier_offer_id)
    mapped = set(link.sku_links.values_list("sku_id", flat=True))
    rows = []
    for sku in product.skus.all():
        choice = selectors.sku_suggestions(product, offer).get(sku.pk)
        if sku.pk in mapped or choice is None:
            continue
        if set(choice.values) != set(selectors._values(sku.attributes)):
            continue  # only exact matches are mapped without a person
        rows.append(
            SkuLink(
                link=link,
                sku=sku,
                supplier_sku_id=choice.sku_id,
                supplier_spec_id=choice.spec_id[:64],
                origin=origin,
            )
        )
    SkuLink.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def map_skus(*, user, link: SourceLink, mapping: dict) -> list[SkuLink]:
    """Set the SKU mapping of a link: {own Sku pk: supplier SKU id, or None to unmap}. Each
    supplier SKU must be one of the supplier offer's (as last read). Refused:
    `permission_denied`, `follow.bad_sku` (nothing changed)."""
    require(user, MAP)
    own = {sku.pk: sku for sku in link.product.skus.all()}
    offered = {
        s.sku_id: s for s in selectors.supplier_skus(selectors.watched(link.supplier_offer_id))
    }
    wanted = {}
    for raw_sku, raw_supplier in (mapping or {}).items():
        try:
            sku_pk = int(raw_sku)
            supplier = None if raw_supplier in (None, "") else int(raw_supplier)
        except (TypeError, ValueError):
            raise Refused(RefusalCode.FOLLOW_BAD_SKU, _("SKU ids must be numbers.")) from None
        if sku_pk not in own or (supplier is not None and offered and supplier not in offered):
            raise Refused(
                RefusalCode.FOLLOW_BAD_SKU,
                _("%(sku)s is not a SKU of this offer or of its supplier's."),
                params={"sku": raw_supplier if sku_pk in own else raw_sku},
            )
        wanted[sku_pk] = supplier
    with transaction.atomic():
        for sku_pk, supplier in wanted.items():
            if supplier is None:
                SkuLink.objects.filter(link=link, sku_id=sku_pk).delete()
                continue
            spec = offered[supplier].spec_id[:64] if supplier in offered else ""
            SkuLink.objects.update_or_create(
                sku_id=sku_pk,
                defaults={
                    "link": link,
                    "supplier_sku_id": supplier,
                    "supplier_spec_id": spec,
                    "origin": LinkOrigin.MANUAL,
                    "created_by": user,
                    "created_at": timezone.now(),
                },
            )
    return list(link.sku_links.all())


def unlink_offer(*, user, link: SourceLink) -> None:
    """Remove the link (and its SKU links); changes of it still waiting are discarded. The
    supplier offer stays watched, its history kept; the changes made stay in the history."""
    require(user, UNLINK)
    with transaction.atomic():
        LiveEdit.objects.filter(source_link=link, status=LiveEdit.Status.AWAITING).update(
            status=LiveEdit.Status.DISCARDED, finished_at=timezone.now()
        )
        link.delete()


def link_published_copies(*, shop_id: int | None = None, days: int = 7) -> int:
    """Links made for copied offers: an item copied from a supplier offer (source "copy") and
    published in the last `days`, whose own offer the mirror now has, gets its source link
    (origin "copied"), its supplier offer watched and its SKUs mapped by their sale attribute
    values. Each item once: an unlinked copy is not linked again. The system's own call (the
    minute job); returns how many links it made."""
    since = timezone.now() - timedelta(days=days)
    items = UploadItem.objects.filter(
        source=UploadItem.Source.COPY,
        status=UploadItem.Status.PUBLISHED,
        remote_offer_id__isnull=False,
        source_offer_id__isnull=False,
        updated_at__gte=since,
    ).select_related("batch")
    if shop_id is not None:
        items = items.filter(batch__shop_id=shop_id)
    redis = django_rq.get_connection("default")
    done = {int(v) for v in redis.smembers(COPIES_DONE_KEY)}
    wanted = {(i.batch.shop_id, i.remote_offer_id): i for i in items if i.pk not in done}
    if not wanted:
        return 0
    products = Product.objects.filter(
        offer_id__in={offer for _shop, offer in wanted}, source_link__isnull=True
    ).select_related("shop")
    made = 0
    for product in products:
        item = wanted.get((product.shop_id, product.offer_id))
        if item is None:
            continue
        with transaction.atomic():
            link, created = SourceLink.objects.get_or_create(
                product=product,
                defaults={
                    "supplier_offer_id": item.source_offer_id,
                    "origin": LinkOrigin.COPIED,
                    "upload_item": item,
                },
            )
        redis.sadd(COPIES_DONE_KEY, item.pk)
        if created:
            ensure_watched(link)
            map_suggested(link, origin=LinkOrigin.COPIED)
            made += 1
    return made


# --- the approval inbox -------------------------------------------------------------------------


def _awaiting(operation: LiveEdit) -> LiveEdit:
    locked = LiveEdit.objects.select_for_update().get(pk=operation.pk)
    if locked.status != LiveEdit.Status.AWAITING or locked.origin != LiveEdit.Origin.FOLLOW:
        raise Refused(
            RefusalCode.FOLLOW_NOT_AWAITING,
            _("This change is no longer waiting for approval."),
        )
    return locked


def approve_change(*, user, operation: LiveEdit) -> LiveEdit:
    """Send a follow change that waited for approval (operators): it goes through the same
    job as any live edit — re-read, conflict check, exactly once, read-back, undo. Refused:
    `permission_denied`, `follow.not_awaiting` (already decided, or replaced by a newer one),
    `follow.shop_blocked` (the shop cannot be written to now: it waits for that)."""
    require(user, APPROVE)
    with transaction.atomic():
        locked = _awaiting(operation)
        link = locked.source_link
        shop = link.product.shop if link else None
        blocked = selectors.blocked_by_shop(shop) if shop else None
        if blocked is not None:
            raise Refused(
                RefusalCode.FOLLOW_SHOP_BLOCKED, "%(reason)s", params={"reason": str(blocked)}
            )
        locked.status, locked.decided_by, locked.decided_at = (
            LiveEdit.Status.DRAFT,
            user,
            timezone.now(),
        )
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        if link is not None:
            engine.send(locked, link)
        else:
            apply_live_edit(user=None, operation=locked)
        LiveEdit.objects.filter(pk=locked.pk).update(applied_by=user)
    locked.refresh_from_db()
    return locked


def reject_change(*, user, operation: LiveEdit) -> LiveEdit:
    """Discard a follow change that waited for approval (operators). Refused as approve."""
    require(user, APPROVE)
    with transaction.atomic():
        locked = _awaiting(operation)
        now = timezone.now()
        locked.status, locked.decided_by, locked.decided_at = LiveEdit.Status.DISCARDED, user, now
        locked.finished_at = now
        locked.save(update_fields=["status", "decided_by", "decided_at", "finished_at"])
    return locked


def follow_now(*, user, shop=None, product: Product | None = None) -> int:
    """Follow the linked offers of a shop (or one offer) now, by their rules, from the latest
    snapshots (after a rule changed): each supplier offer due at once. Needs the rule
    permission (a whole shop may change); returns how many supplier offers were queued."""
    require(user, "catalog.change_followrule")
    links = SourceLink.objects.all()
    if product is not None:
        links = links.filter(product=product)
    elif shop is not None:
        links = links.filter(product__shop=shop)
    offers = set(links.values_list("supplier_offer_id", flat=True))
    return sum(engine.schedule(offer_id, delay=0) for offer_id in offers)
