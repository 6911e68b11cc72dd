"""The follow engine: a watched supplier offer moved, so each own offer linked to it is brought
in step with it by its rule, through the live-edit machinery (the same re-read, conflict check,
exactly-once writes, read-back and undo as staff changes).

- The hook: catalog/watch/services.py `reread` calls `supplier_read` after every read of a
  watched offer (one call). A read that moved nothing is ignored.
- Coalescing: the first move of a supplier offer marks it due in FOLLOW_COALESCE_SECONDS (a
  Redis sorted set) and queues one delayed job (`enqueue_in`); further moves inside the window
  find it due already and add nothing. The job reads the latest snapshot, so a burst makes one
  write with the latest value. Targets are absolute (catalog/follow/targets.py): a stock delta
  is never sent, and a move already followed computes to nothing.
- Per own offer: its rule (the offer's own, else its shop's) gives the target; nothing to
  change, stop; else one draft per kind (listing, prices, stock) made by
  catalog/live_edits/planning.py, carrying the rule, the link and the reason. Inside the guards
  it is applied as the system (apply_live_edit, user=None); outside, it is `awaiting` with the
  guard in `hold`: a person approves or rejects it (catalog/follow/services.py), or, when the
  shop was paused or could not be written to, the minute job follows the offer again once it
  can (`release_waiting`).
- Relists are counted per member per day in Redis (1688 allows 400).
"""

import logging
import time
from datetime import timedelta
from decimal import Decimal

import django_rq
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog.follow import selectors, targets
from catalog.live_edits.planning import plan_live_edit
from catalog.live_edits.services import apply_live_edit
from catalog.models import PriceStockChange, SourceLink, WatchedOffer
from catalog.models.live_edits import LiveEdit, LiveEditLine
from erp1688.messages import Message, stored
from erp1688.refusals import Refused
from sync.locks import held_lock

log = logging.getLogger(__name__)

QUEUE = "default"
DUE_KEY = "erp1688:follow:due"  # sorted set: supplier offer id → when its follow is due
LOCK_PREFIX = "erp1688:follow:offer:"
RELIST_PREFIX = "erp1688:follow:relists:"
RELIST_MAX = 400  # 1688's relists per member per day
QUOTA_HOLD_SECONDS = 3600
Hold = LiveEdit.Hold
WAITING_FOR_SHOP = (Hold.PAUSED, Hold.BLOCKED)


def coalesce_seconds() -> float:
    return float(getattr(settings, "FOLLOW_COALESCE_SECONDS", 10))


def _redis():
    return django_rq.get_connection("default")


# --- the hook and the coalescing --------------------------------------------------------------


def supplier_read(offer_id: int, *, moved: bool, gone: bool = False) -> None:
    """A watched offer was read (catalog/watch/services.py `reread`): `moved` when the read
    logged a move or a new status, `gone` when 1688 says the offer no longer exists. Schedules
    the follow of the own offers linked to it."""
    redis = _redis()
    if gone:
        moved = bool(redis.sadd(selectors.GONE_KEY, offer_id)) or moved
    else:
        moved = bool(redis.srem(selectors.GONE_KEY, offer_id)) or moved
    if moved and SourceLink.objects.filter(supplier_offer_id=offer_id).exists():
        schedule(offer_id)


def schedule(offer_id: int, *, delay: float | None = None) -> bool:
    """Make the follow of `offer_id` due in `delay` seconds (FOLLOW_COALESCE_SECONDS) unless
    it is due already; returns whether a job was queued."""
    delay = coalesce_seconds() if delay is None else max(0.0, delay)
    if not _redis().zadd(DUE_KEY, {str(offer_id): time.time() + delay}, nx=True):
        return False  # already due: that job reads the latest snapshot
    queue = django_rq.get_queue(QUEUE)
    options = {"job_timeout": settings.SYNC_JOB_TIMEOUT, "result_ttl": 600}
    if delay <= 0:
        queue.enqueue(follow_offer_job, offer_id, **options)
    else:
        queue.enqueue_in(timedelta(seconds=delay), follow_offer_job, offer_id, **options)
    return True


def follow_offer_job(offer_id: int) -> dict:
    """RQ job: follow one supplier offer, once per due mark (a duplicate finds none)."""
    if not _redis().zrem(DUE_KEY, str(offer_id)):
        return {"offer_id": offer_id, "skipped": "not due"}
    with held_lock(f"{LOCK_PREFIX}{offer_id}", owner=f"follow {offer_id}") as lock:
        if lock is None:  # another follow of it is running: come back after the window
            schedule(offer_id)
            return {"offer_id": offer_id, "skipped": "busy"}
        made = follow_supplier_offer(offer_id)
    return {"offer_id": offer_id, "changes": [op.pk for op in made]}


def follow_due_job() -> int:
    """Minute job (sync/cron.py): follows whose delayed job was lost (a worker without its
    scheduler, Redis restarted) are queued now; waiting changes are released; links of newly
    published copies are made. Returns how many follows it queued."""
    late = _redis().zrangebyscore(DUE_KEY, 0, time.time() - 30)
    queue = django_rq.get_queue(QUEUE)
    for raw in late:
        queue.enqueue(follow_offer_job, int(raw), job_timeout=settings.SYNC_JOB_TIMEOUT)
    note_quota_spent()
    release_waiting()
    from catalog.follow.services import link_published_copies  # services import this module

    link_published_copies()
    return len(late)


# --- following ------------------------------------------------------------------------------


def follow_supplier_offer(offer_id: int) -> list[LiveEdit]:
    """Follow every own offer linked to `offer_id` from its latest snapshot."""
    watched = WatchedOffer.objects.filter(offer_id=offer_id).first()
    if watched is None or not watched.snapshot:
        return []
    gone = offer_id in selectors.gone_offers()
    made = []
    for link in selectors.links_to(offer_id):
        try:
            made += follow_link(link, watched, gone=gone)
        except Refused as refusal:  # a planner refusal (an offer deleted on 1688): next one
            log.warning("follow of %s for %s refused: %s", offer_id, link.product, refusal)
    return made


def follow_link(link: SourceLink, watched: WatchedOffer, *, gone: bool = False) -> list[LiveEdit]:
    """Bring one own offer in step with its supplier's snapshot; returns the changes made
    (applied, or awaiting approval). Earlier changes of the link still awaiting are replaced:
    they were computed from an older state."""
    product = link.product
    rule = selectors.rule_for(product)
    if rule is None or not rule.active:
        return []
    if selectors.active_change(product.pk):
        schedule(link.supplier_offer_id)  # its mirror settles first; then computed again
        return []
    target = selectors.compute_for(rule, link, watched.snapshot, gone=gone)
    _discard_waiting(link)
    if target.empty:
        return []
    since = link.last_followed_at or link.created_at
    blocked = selectors.follow_blocked_reason(product.shop, rule)
    by_shop = selectors.blocked_by_shop(product.shop) is not None
    made = []
    for kind, values in _operations(target):
        draft = plan_live_edit(
            user=None, product_ids=[product.pk], kind=kind, values=values or None
        )
        hold, why = _hold(kind, rule, link, target, blocked, by_shop)
        draft.origin, draft.follow_rule, draft.source_link = LiveEdit.Origin.FOLLOW, rule, link
        draft.reason = _reason(rule, watched, kind, target, since)
        draft.hold, draft.hold_reason = hold, why or {}
        if hold:
            draft.status = LiveEdit.Status.AWAITING
        draft.save()
        if not hold:
            send(draft, link)
        made.append(draft)
    SourceLink.objects.filter(pk=link.pk).update(last_followed_at=timezone.now())
    return made


def _operations(target: targets.Target) -> list[tuple[str, dict | None]]:
    ops: list[tuple[str, dict | None]] = []
    if target.status:
        ops.append((target.status, None))
    if target.status == "delist":
        return ops  # off sale: its prices and stock wait for its return
    prices = {v.key: str(v.after) for v in target.price_changes}
    stocks = {v.key: str(v.after) for v in target.stock_changes}
    if prices:
        ops.append((LiveEdit.Kind.PRICE, prices))
    if stocks:
        ops.append((LiveEdit.Kind.STOCK, stocks))
    return ops


def _hold(kind, rule, link, target, blocked, by_shop) -> tuple[str, Message | None]:
    if blocked is not None:
        return (Hold.BLOCKED if by_shop else Hold.PAUSED), blocked
    if kind == LiveEdit.Kind.PRICE and target.below_margin:
        return Hold.MARGIN, stored(
            gettext_noop(
                "The highest price of the rule is below cost plus the minimum margin: a "
                "person decides."
            )
        )
    threshold = Decimal(rule.approval_percent)
    share = max((v.share for v in target.price_changes), default=Decimal("0")) * 100
    if kind == LiveEdit.Kind.PRICE and share > threshold:
        return Hold.APPROVAL, stored(
            gettext_noop("The price would move %(share)s%%, more than the %(threshold)s%% the rule "
                         "applies on its own.")
        ) % {"share": f"{share:.0f}", "threshold": f"{threshold:.0f}"}  # fmt: skip
    if selectors.applied_today(link) >= rule.max_changes_per_day:
        return Hold.LIMIT, stored(
            gettext_noop("This offer had %(max)d automatic changes today, the rule's limit.")
        ) % {"max": rule.max_changes_per_day}
    if kind == LiveEdit.Kind.RELIST and relists_today(link.product.shop) >= RELIST_MAX:
        return Hold.RELISTS, stored(
            gettext_noop("1688 allows %(max)d relists a day per member; this shop used them.")
        ) % {"max": RELIST_MAX}
    return "", None


def send(draft: LiveEdit, link: SourceLink) -> LiveEdit:
    """Queue a follow draft's job as the system; count a relist, note a rule's delist."""
    applied = apply_live_edit(user=None, operation=draft)
    if draft.kind == LiveEdit.Kind.RELIST:
        count_relist(link.product.shop)
    if draft.kind in (LiveEdit.Kind.DELIST, LiveEdit.Kind.RELIST):
        delisted = draft.kind == LiveEdit.Kind.DELIST
        SourceLink.objects.filter(pk=link.pk).update(delisted_by_rule=delisted)
        link.delisted_by_rule = delisted
    return applied


def _discard_waiting(link: SourceLink) -> int:
    return LiveEdit.objects.filter(
        source_link=link, origin=LiveEdit.Origin.FOLLOW, status=LiveEdit.Status.AWAITING
    ).update(status=LiveEdit.Status.DISCARDED, finished_at=timezone.now())


# --- why: the reason each change carries ------------------------------------------------------


def rule_name(rule) -> Message:
    if rule.product_id:
        return stored(gettext_noop("the rule of offer %(offer)s")) % {
            "offer": rule.product.offer_id
        }
    return stored(gettext_noop("the rule of shop %(shop)s")) % {"shop": rule.shop.name}


STATES = {
    targets.LISTED: gettext_noop("on sale"),
    "sold_out": gettext_noop("sold out"),
    targets.GONE: gettext_noop("gone"),
}


def _state(state: str) -> Message:
    return stored(STATES.get(state, gettext_noop("delisted")))


def _reason(rule, watched: WatchedOffer, kind: str, target: targets.Target, since) -> Message:
    """ "Made by rule R because supplier offer S moved a → b" for this change."""
    if kind in (LiveEdit.Kind.DELIST, LiveEdit.Kind.RELIST):
        before = targets.LISTED if kind == LiveEdit.Kind.DELIST else "delisted"
        what, a, b = stored(gettext_noop("listing")), _state(before), _state(target.supplier_state)
    else:
        fields = ["stock"] if kind == LiveEdit.Kind.STOCK else ["price", "tier_price"]
        what = stored(
            gettext_noop("stock") if kind == LiveEdit.Kind.STOCK else gettext_noop("price")
        )
        a, b = _biggest_move(watched, fields, since)
        if kind == LiveEdit.Kind.STOCK and target.supplier_state != targets.LISTED:
            b = _state(target.supplier_state)
    return stored(
        gettext_noop("Made by %(rule)s because supplier offer %(offer)s moved %(what)s "
                     "%(before)s → %(after)s.")
    ) % {"rule": rule_name(rule), "offer": watched.offer_id, "what": what, "before": a,
         "after": b}  # fmt: skip


def _biggest_move(watched: WatchedOffer, fields: list[str], since) -> tuple[str, str]:
    """The supplier's largest move of `fields` since the offer was last followed: the first
    value and the latest of the value that moved most ("—" when none was logged)."""
    rows = PriceStockChange.objects.filter(
        watched_offer=watched, field__in=fields, observed_at__gte=since
    ).order_by("observed_at", "pk")
    moves: dict[tuple, list] = {}
    for row in rows:
        key = (row.field, row.remote_sku_id, row.tier_start_quantity)
        old = row.old_stock if row.field == "stock" else row.old_value
        new = row.new_stock if row.field == "stock" else row.new_value
        moves.setdefault(key, [old, new])[1] = new
    best, best_share = None, Decimal("-1")
    for old, new in moves.values():
        if old is None or new is None:
            continue
        share = abs(Decimal(new) - Decimal(old)) / max(abs(Decimal(old)), Decimal("0.01"))
        if share > best_share:
            best, best_share = (old, new), share
    if best is None:
        return "—", "—"
    return str(best[0]), str(best[1])


# --- guards kept in Redis ---------------------------------------------------------------------


def _relist_key(shop) -> str:
    return f"{RELIST_PREFIX}{shop.member_id}:{timezone.localdate():%Y%m%d}"


def relists_today(shop) -> int:
    return int(_redis().get(_relist_key(shop)) or 0)


def count_relist(shop) -> int:
    key = _relist_key(shop)
    pipe = _redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, 2 * 24 * 3600)
    return int(pipe.execute()[0])


QUOTA_REASON = "The app's paid call quota on 1688 is spent."  # catalog/live_edits/errors.py


def note_quota_spent() -> bool:
    """A follow change failed lately because the paid quota is spent: nothing automatic for
    an hour (selectors.quota_spent)."""
    recent = timezone.now() - timedelta(minutes=10)
    hit = LiveEditLine.objects.filter(
        operation__origin=LiveEdit.Origin.FOLLOW,
        operation__finished_at__gte=recent,
        status=LiveEditLine.Status.FAILED,
        reason__contains=QUOTA_REASON,
    ).exists()
    if hit:
        _redis().set(selectors.QUOTA_KEY, "1", ex=QUOTA_HOLD_SECONDS)
    return hit


def release_waiting() -> int:
    """Changes that waited for their shop (paused, not writable) are followed again once it
    may be written to: computed anew from the latest snapshot. Returns how many links."""
    waiting = (
        LiveEdit.objects.filter(
            origin=LiveEdit.Origin.FOLLOW,
            status=LiveEdit.Status.AWAITING,
            hold__in=WAITING_FOR_SHOP,
            source_link__isnull=False,
        )
        .values_list("source_link", flat=True)
        .distinct()
    )
    released = 0
    for link in SourceLink.objects.filter(pk__in=list(waiting)).select_related("product__shop"):
        rule = selectors.rule_for(link.product)
        if rule is None or selectors.follow_blocked_reason(link.product.shop, rule) is not None:
            continue
        with transaction.atomic():
            _discard_waiting(link)
        schedule(link.supplier_offer_id, delay=0)
        released += 1
    return released
