"""Watching suppliers: other sellers' offers read from the buyer side, followed on 1688, and
every price, tier and stock move written to the shop sync's change log (source "watch").

docs/contracts.md "Watching suppliers" is the contract; in short:
- a watched offer is a WatchedOffer (not a Product of a pseudo-shop): its last read is its
  `snapshot`, in the same shapes as Product/Sku, and the diff is the shop sync's own
  (`sync.catalog_sync.offer_changes` / `sku_changes`), so a tier, SKU price or stock move is the
  same kind of row as in an own shop, with `watched_offer` set instead of shop/product;
- a read happens on a push (catalog/watch/push.py: HTTP, WebSocket, replay), on the scheduled poll,
or
  by hand; a push is only a hint: the offer is read again, its delta is never applied;
- the rows feed the same alert rules as the shop sync's (catalog/alerts/engine.py `on_changes`,
rules
  whose scope takes watched offers);
- one read of an offer at a time (a Redis lock), so a duplicated or out-of-order message
  writes each move once: the second read finds the snapshot already equal to 1688;
- the buyer-side detail is cached in Redis for WATCH_CACHE_SECONDS: the scheduled poll (and a
  push born before the cached read) uses the cached answer and makes no request.

Services are keyword-only; staff ones check `catalog.watch_offer` (erp1688/roles.py) and raise
`erp1688.refusals.Refused`; `reread` and `poll_due` are system calls (jobs).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.alerts import engine as alerts
from catalog.common import offer_refs
from catalog.follow import engine as follow
from catalog.models import ChangeSource, Channel, PriceStockChange, Shop, WatchedOffer
from catalog.shops.clients import call_as_shop, client_or_new
from catalog.sourcing import services as sourcing
from erp1688.messages import as_text, from_refusal
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require
from open1688 import BuyerOfferDetail, Open1688Client, Open1688Error, PermissionDeniedError
from open1688.answers import parse_buyer_detail
from open1688.client import MARKET_APIS
from sync.catalog_sync import change_maker, offer_changes, sku_changes, tiers_json
from sync.locks import held_lock

log = logging.getLogger(__name__)

WATCH_PERMISSION = "catalog.watch_offer"
MAX_REFS = 200  # offers one paste may add
CACHE_PREFIX = "erp1688:watch:detail:"
LOCK_PREFIX = "erp1688:watch:offer:"
LOCK_WAIT_SECONDS = 30.0


def cache_seconds() -> int:
    return int(getattr(settings, "WATCH_CACHE_SECONDS", 300))


def poll_interval() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "WATCH_POLL_MINUTES", 30)))


# --- parsing what staff paste ---------------------------------------------------------------


def parse_offer_refs(text: str) -> list[int]:
    """Offer ids from ids and offer links (catalog/common/offer_refs.py); in order, once each.
    Refused `watch.bad_refs` naming what is neither."""
    found, bad = offer_refs.parse_offer_refs(text)
    if bad:
        raise Refused(
            RefusalCode.WATCH_BAD_REFS,
            _("Not an offer id or an offer link: %(refs)s"),
            params={"refs": ", ".join(token[:60] for token in bad[:5])},
        )
    if not found:
        raise Refused(RefusalCode.WATCH_BAD_REFS, _("Give at least one offer id or offer link."))
    if len(found) > MAX_REFS:
        raise Refused(
            RefusalCode.WATCH_BAD_REFS,
            _("At most %(max)d offers at a time."),
            params={"max": MAX_REFS},
        )
    return found


# --- the cached buyer-side read -------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    detail: BuyerOfferDetail
    read_at: datetime
    from_cache: bool


def _redis():
    return django_rq.get_connection("default")


def _cached(offer_id: int) -> Read | None:
    value = _redis().get(f"{CACHE_PREFIX}{offer_id}")
    if value is None:
        return None
    try:
        entry = json.loads(value)
        wrapped = {"result": {"success": "true", "code": "200", "result": entry["raw"]}}
        read_at = datetime.fromtimestamp(entry["read_at"], tz=UTC)
        return Read(parse_buyer_detail(wrapped), read_at, True)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("unreadable watch cache entry for %s: %s", offer_id, exc)
        return None


def read_offer(
    offer_id: int,
    *,
    fresh: bool = False,
    newer_than: datetime | None = None,
    shop: Shop | None = None,
    client: Open1688Client | None = None,
) -> Read:
    """The buyer-side detail of `offer_id` through the Redis cache (WATCH_CACHE_SECONDS).

    `fresh`: always ask 1688; `newer_than`: use a cached answer only if it was read after that
    moment (a push born before the cached read is already in it). Refused as
    catalog.sourcing.services.read_supplier_offer."""
    if not fresh:
        cached = _cached(offer_id)
        if cached is not None and (newer_than is None or cached.read_at > newer_than):
            return cached
    read_at = timezone.now()
    detail = sourcing.read_supplier_offer(offer_id, shop=shop, client=client)
    ttl = cache_seconds()
    if ttl > 0:
        entry = {"read_at": read_at.timestamp(), "raw": detail.raw}
        _redis().set(f"{CACHE_PREFIX}{offer_id}", json.dumps(entry, default=str), ex=ttl)
    return Read(detail, read_at, False)


def forget_cached(offer_id: int) -> None:
    _redis().delete(f"{CACHE_PREFIX}{offer_id}")


# --- snapshot and diff ----------------------------------------------------------------------


def _sku_label(attributes) -> str:
    return " / ".join(str(a.get("value") or a.get("attributeValue") or "") for a in attributes)


def snapshot_of(detail: BuyerOfferDetail) -> dict:
    """The watched offer's state in the mirror's shapes (Product.price_ranges, Sku fields)."""
    seller_view = detail.as_product_detail()
    labels = {sku.sku_id: _sku_label(sku.attributes) for sku in detail.skus}
    return {
        "status": detail.status,
        "unit": detail.unit,
        "min_order_quantity": detail.min_order_quantity,
        "quote_type": detail.quote_type,
        "price_ranges": tiers_json(seller_view.price_ranges),
        "amount_on_sale": seller_view.amount_on_sale,
        "skus": {
            str(info.sku_id): {
                "price": None if info.price is None else str(info.price),
                "price_ranges": tiers_json(info.price_ranges),
                "stock": info.amount_on_sale,
                "label": labels.get(info.sku_id, ""),
            }
            for info in seller_view.skus
        },
    }


def change_rows(watched: WatchedOffer, detail: BuyerOfferDetail, now) -> list[PriceStockChange]:
    """The moves between `watched.snapshot` and `detail`, by the shop sync's own diff. A first
    read (empty snapshot) has nothing to compare with and writes nothing."""
    before = watched.snapshot or {}
    if not before:
        return []
    seller_view = detail.as_product_detail()

    def maker(remote_sku_id: int):
        return change_maker(
            None,  # the buyer detail has no modify stamp: the row's stamp is when it was seen
            now,
            watched_offer=watched,
            remote_sku_id=remote_sku_id,
            source=ChangeSource.WATCH,
        )

    rows = offer_changes(
        maker(0), before.get("price_ranges", []), before.get("amount_on_sale"), seller_view
    )
    old_skus = before.get("skus", {})
    for info in seller_view.skus:
        old = old_skus.get(str(info.sku_id))
        if old is None:
            continue  # a new SKU: nothing to compare with
        rows += sku_changes(
            maker(info.sku_id), old.get("price"), old.get("price_ranges", []), old.get("stock"),
            info,
        )  # fmt: skip
    return rows


def _supplier_fields(detail: BuyerOfferDetail) -> dict:
    supplier = detail.supplier
    return {
        "subject": detail.subject[:255],
        "image": (detail.images[0] if detail.images else "")[:1000],
        "supplier_open_id": supplier.open_id[:64],
        "supplier_member_id": supplier.member_id[:64],
        "supplier_login_id": supplier.login_id[:128],
        "supplier_company": supplier.company_name[:255],
        "supplier_trade_level": supplier.trade_medal_level[:20],
        "supplier_score": supplier.composite_score,
    }


def _store(watched: WatchedOffer, read: Read, channel: str) -> int:
    """Write the moves and the new snapshot in one transaction; returns the rows written."""
    now = timezone.now()
    with transaction.atomic():
        rows = change_rows(watched, read.detail, now)
        written = PriceStockChange.objects.bulk_create(rows, ignore_conflicts=True)
        for name, value in _supplier_fields(read.detail).items():
            setattr(watched, name, value)
        watched.snapshot = snapshot_of(read.detail)
        watched.raw = read.detail.raw
        watched.last_read_at = read.read_at
        watched.last_read_channel = channel
        watched.last_error = ""
        if rows:
            watched.last_changed_at = now
            watched.last_change_channel = channel
        watched.save()
        alerts.on_changes(changes=written)  # the same rules as own rows (catalog/alerts/engine.py)
    return len(written)


# --- one re-read (jobs call this) -----------------------------------------------------------


@dataclass
class RereadResult:
    offer_id: int
    changes: int = 0
    from_cache: bool = False
    error: str = ""


def reread(
    offer_id: int,
    *,
    channel: str,
    fresh: bool = True,
    newer_than: datetime | None = None,
    client: Open1688Client | None = None,
) -> RereadResult:
    """Read a watched offer again and log its moves. One read per offer at a time: a second
    caller waits for the first (LOCK_WAIT_SECONDS), then reads, so duplicated or reordered
    pushes end in one row per move. A refusal (offer gone, shop needs re-authorisation) is
    kept on the offer as `last_error` and returned, not raised."""
    result = RereadResult(offer_id)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        with held_lock(f"{LOCK_PREFIX}{offer_id}", owner=f"watch {offer_id}") as lock:
            if lock is not None:
                watched = WatchedOffer.objects.filter(offer_id=offer_id, active=True).first()
                if watched is None:
                    result.error = "not watched"
                    return result
                status_before = (watched.snapshot or {}).get("status")
                gone = False
                try:
                    read = read_offer(offer_id, fresh=fresh, newer_than=newer_than, client=client)
                except Refused as refusal:
                    result.error = str(refusal.message)
                    kept = as_text(from_refusal(refusal))  # shown in the reader's language
                    WatchedOffer.objects.filter(pk=watched.pk).update(last_error=kept[:500])
                    gone = refusal.code == RefusalCode.OFFER_NOT_FOUND
                else:
                    result.from_cache = read.from_cache
                    result.changes = _store(watched, read, channel)
                moved = bool(result.changes) or (
                    not gone and status_before not in (None, watched.snapshot.get("status"))
                )
                # Own offers linked to it follow it (catalog/follow/engine.py).
                follow.supplier_read(offer_id, moved=moved, gone=gone)
                return result
        if time.monotonic() > deadline:
            result.error = "another read of this offer is still running"
            return result
        time.sleep(0.1)


def reread_job(offer_id: int, channel: str, born_at: float | None = None) -> dict:
    """RQ job: a re-read asked for by a push (born_at: the message's gmtBorn, epoch s)."""
    newer_than = None if born_at is None else datetime.fromtimestamp(born_at, tz=UTC)
    result = reread(offer_id, channel=channel, fresh=newer_than is None, newer_than=newer_than)
    return result.__dict__


def enqueue_reread(offer_id: int, channel: str, born_at: datetime | None = None) -> None:
    django_rq.get_queue("default").enqueue(
        reread_job,
        offer_id,
        channel,
        None if born_at is None else born_at.timestamp(),
        job_timeout=120,
        result_ttl=600,
    )


# --- the scheduled poll ----------------------------------------------------------------------


@dataclass
class PollResult:
    offers: int = 0
    changes: int = 0
    from_cache: int = 0
    errors: list[str] = field(default_factory=list)


def poll_due(
    *, now: datetime | None = None, interval: timedelta | None = None, client=None
) -> PollResult:
    """Read every active watched offer not read for WATCH_POLL_MINUTES, through the cache."""
    now = now or timezone.now()
    interval = poll_interval() if interval is None else interval
    result = PollResult()
    due = WatchedOffer.objects.due_for_poll(now, interval).order_by("last_read_at", "pk")
    for offer_id in list(due.values_list("offer_id", flat=True)):
        one = reread(offer_id, channel=Channel.POLL, fresh=False, client=client)
        result.offers += 1
        result.changes += one.changes
        result.from_cache += one.from_cache
        if one.error:
            result.errors.append(f"{offer_id}: {one.error}")
    return result


def poll_due_job() -> dict:
    """RQ cron job (sync/cron.py)."""
    return poll_due().__dict__


# --- staff services ---------------------------------------------------------------------------


@dataclass
class WatchResult:
    added: list[WatchedOffer] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


def watch_offers(
    *,
    user,
    refs: str | list[int],
    shop: Shop | None = None,
    client: Open1688Client | None = None,
) -> WatchResult:
    """Watch offers given by id or link (one or many): read each from the buyer side, follow
    it on 1688 and keep its snapshot. Refused: `permission_denied`, `watch.bad_refs`,
    `sourcing.no_shop`; an offer 1688 cannot read is listed in `failed` with the reason."""
    require(user, WATCH_PERMISSION)
    offer_ids = parse_offer_refs(refs if isinstance(refs, str) else " ".join(map(str, refs)))
    sourcing.sourcing_shop(shop)  # no shop at all: refuse before anything else
    result = WatchResult()
    for offer_id in offer_ids:
        existing = WatchedOffer.objects.filter(offer_id=offer_id).first()
        if existing is not None and existing.active:
            result.already.append(offer_id)
            continue
        try:
            read = read_offer(offer_id, fresh=True, shop=shop, client=client)
            sourcing.follow_offer(offer_id, shop=shop, client=client)
        except Refused as refusal:
            result.failed.append((offer_id, str(refusal.message)))
            continue
        watched = existing or WatchedOffer(offer_id=offer_id)
        watched.active, watched.followed, watched.added_by = True, True, user
        watched.added_at = timezone.now()
        # A new one has an empty snapshot (nothing to compare); one watched before compares
        # with its last read: moves since then are real moves.
        _store(watched, read, Channel.MANUAL)
        result.added.append(watched)
    return result


def unwatch(*, user, watched: WatchedOffer, client: Open1688Client | None = None) -> None:
    """Stop watching (the history stays) and unfollow on 1688 (best effort: a refusal there
    is kept as `last_error`)."""
    require(user, WATCH_PERMISSION)
    error = ""
    try:
        sourcing.unfollow_offer(watched.offer_id, client=client)
    except Refused as refusal:
        error = as_text(from_refusal(refusal))[:500]  # shown in the reader's language
    watched.active, watched.followed, watched.last_error = False, False, error
    watched.save(update_fields=["active", "followed", "last_error"])
    forget_cached(watched.offer_id)


def reread_now(
    *, user, watched: WatchedOffer, client: Open1688Client | None = None
) -> RereadResult:
    """Staff's "read again now": a fresh read (not the cache)."""
    require(user, WATCH_PERMISSION)
    if not watched.active:
        raise Refused(RefusalCode.WATCH_INACTIVE, _("This offer is no longer watched."))
    return reread(watched.offer_id, channel=Channel.MANUAL, fresh=True, client=client)


# --- market figures (product.analyze.*), where the app is granted them --------------------

MARKET_PREFIX = "erp1688:watch:market:"
MARKET_CACHE_SECONDS = 3600
MARKET_LABELS = {
    "product.analyze.getPerdaySellQuantityTrendNew": _("Daily sales (90 days)"),
    "product.analyze.getThirtyDayMedianPriceTrendNew": _("30-day median price"),
}


def market_figures(offer_id: int, *, client: Open1688Client | None = None) -> dict:
    """{"granted": bool, "error": str, "series": [{"api", "label", "points": [[day, value]]}]}.
    `granted` is False when 1688 answers gw.APIACLDecline (the app lacks the cross-border
    sourcing solution's market APIs). Cached in Redis for an hour."""
    key = f"{MARKET_PREFIX}{offer_id}"
    cached = _redis().get(key)
    if cached is not None:
        figures = json.loads(cached)
    else:
        figures = _read_market(offer_id, client)
        if not figures["error"]:
            _redis().set(key, json.dumps(figures), ex=MARKET_CACHE_SECONDS)
    for series in figures["series"]:
        series["label"] = str(MARKET_LABELS.get(series["api"], series["api"]))
    return figures


def _read_market(offer_id: int, client: Open1688Client | None) -> dict:
    figures: dict = {"granted": True, "error": "", "series": []}
    try:
        shop = sourcing.sourcing_shop()
    except Refused as refusal:
        return {**figures, "error": refusal.message}
    with client_or_new(client) as api:
        for name in MARKET_APIS:
            try:
                points = call_as_shop(shop, api, api.market_trend, name, offer_id)
            except PermissionDeniedError:
                return {**figures, "granted": False, "series": []}
            except Open1688Error as exc:
                return {**figures, "error": str(exc)[:300]}
            figures["series"].append(
                {"api": name, "points": [[day, float(value)] for day, value in points]}
            )
    return figures
