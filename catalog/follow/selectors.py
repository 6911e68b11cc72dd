"""Reads behind following suppliers: which rule an offer follows, why a shop's changes wait
(`follow_blocked_reason`), link coverage, SKU mapping suggestions, the dry run of a rule over
the catalogue, the margin per SKU, the approval inbox and the history. Nothing here calls 1688:
everything is read from the mirror and the watched offers' last snapshots. Writes live in
services.py, rules.py and engine.py.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import django_rq
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog.follow import bulk, targets
from catalog.models import (
    FollowRule,
    Product,
    Shop,
    SourceLink,
    SyncRun,
    WatchedOffer,
)
from catalog.models.live_edits import LiveEdit, LiveEditLine
from erp1688.messages import Message, stored
from open1688 import BuyerOfferDetail
from open1688.answers import parse_buyer_detail

GONE_KEY = "erp1688:follow:gone"  # a Redis set: supplier offers whose read says they are gone
QUOTA_KEY = "erp1688:follow:quota_spent"  # set while the app's paid quota is spent
LIST_MAX = 500


def _redis():
    return django_rq.get_connection("default")


def token_margin() -> timedelta:
    return timedelta(hours=float(getattr(settings, "FOLLOW_TOKEN_MARGIN_HOURS", 24)))


# --- rules ------------------------------------------------------------------------------------


def shop_rule(shop: Shop) -> FollowRule | None:
    return FollowRule.objects.filter(shop=shop, product__isnull=True).first()


def rule_for(product: Product) -> FollowRule | None:
    """The rule `product` follows: its own, else its shop's (None: the offer does not follow)."""
    own = FollowRule.objects.filter(product=product).first()
    return own or shop_rule(product.shop)


def rules_of(shop: Shop) -> list[FollowRule]:
    """The shop's rule first, then the offers' own rules."""
    return list(
        FollowRule.objects.filter(shop=shop).select_related("product").order_by("product", "pk")
    )


def follow_blocked_reason(shop: Shop, rule: FollowRule | None = None) -> Message | None:
    """Why nothing is applied automatically for `shop` now (None: it may be): it needs
    re-authorisation or is disabled, its authorisation expires within FOLLOW_TOKEN_MARGIN_HOURS,
    the app's paid call quota is spent, or following is paused for the shop (or, given the
    offer's own `rule`, for that offer). A stored message: `str()` gives it in the reader's
    language; the shop page shows it, a waiting change keeps it as its `hold_reason`."""
    blocked = blocked_by_shop(shop)
    if blocked is not None:
        return blocked
    if rule is not None and rule.paused:
        if rule.product_id:
            return stored(gettext_noop("Following is paused for this offer."))
        return stored(gettext_noop("Following is paused for this shop."))
    shop_level = shop_rule(shop) if rule is None or rule.product_id else None
    if shop_level is not None and shop_level.paused:
        return stored(gettext_noop("Following is paused for this shop."))
    return None


def blocked_by_shop(shop: Shop) -> Message | None:
    """The part of `follow_blocked_reason` a person cannot override by approving: the shop
    cannot be written to now."""
    if shop.status == Shop.Status.NEEDS_REAUTH or not shop.access_token:
        return stored(gettext_noop("The shop must be authorised again; changes wait until it is."))
    if shop.status != Shop.Status.ACTIVE:
        return stored(gettext_noop("The shop is disabled; changes wait until it is active."))
    expires = shop.refresh_token_expires_at
    if expires is not None and expires <= timezone.now() + token_margin():
        return stored(
            gettext_noop(
                "The shop's authorisation expires on %(when)s: re-authorise it; changes wait "
                "until then."
            )
        ) % {"when": timezone.localtime(expires).strftime("%Y-%m-%d %H:%M")}
    if quota_spent(shop):
        return stored(
            gettext_noop("The app's paid call quota on 1688 is spent; changes wait until renewed.")
        )
    return None


def quota_spent(shop: Shop) -> bool:
    """The paid quota is spent: a follow write met it lately (the engine marks it for an hour),
    or the shop's last sync stopped on it within the hour."""
    if _redis().exists(QUOTA_KEY):
        return True
    last = SyncRun.objects.filter(shop=shop, finished_at__isnull=False).order_by("-pk").first()
    return bool(
        last
        and last.error.startswith("QuotaSpentError")
        and last.finished_at > timezone.now() - timedelta(hours=1)
    )


# --- links ------------------------------------------------------------------------------------


def link_of(product: Product) -> SourceLink | None:
    return SourceLink.objects.filter(product=product).prefetch_related("sku_links").first()


def links_to(supplier_offer_id: int):
    """The own offers linked to a supplier offer, with what following them needs."""
    return (
        SourceLink.objects.filter(supplier_offer_id=supplier_offer_id)
        .select_related("product", "product__shop")
        .prefetch_related("sku_links", "product__skus")
        .order_by("pk")
    )


def gone_offers() -> set[int]:
    return {int(v) for v in _redis().smembers(GONE_KEY)}


def watched(supplier_offer_id: int) -> WatchedOffer | None:
    return WatchedOffer.objects.filter(offer_id=supplier_offer_id).first()


@dataclass
class Coverage:
    offers: int
    linked: int
    unlinked: list[Product]

    @property
    def share(self) -> Decimal:
        return Decimal(self.linked) / self.offers if self.offers else Decimal("0")


def coverage(shop: Shop | None = None, *, limit: int = LIST_MAX) -> Coverage:
    """How many of the own offers still listed are linked to a supplier, and (up to `limit`)
    those that are not."""
    offers = Product.objects.listed()
    if shop is not None:
        offers = offers.filter(shop=shop)
    linked = Exists(SourceLink.objects.filter(product=OuterRef("pk")))
    total = offers.count()
    linked_count = offers.filter(linked).count()
    unlinked = list(offers.filter(~linked).select_related("shop").order_by("-pk")[:limit])
    return Coverage(total, linked_count, unlinked)


@dataclass(frozen=True)
class SupplierSku:
    sku_id: int
    spec_id: str
    label: str
    values: tuple[str, ...]


def supplier_detail(offer: WatchedOffer) -> BuyerOfferDetail | None:
    if not offer.raw:
        return None
    wrapped = {"result": {"success": "true", "code": "200", "result": offer.raw}}
    try:
        return parse_buyer_detail(wrapped)
    except Exception:  # a raw payload the parser no longer reads: no SKUs to offer
        return None


def _values(attributes) -> tuple[str, ...]:
    found = (str(a.get("attributeValue") or a.get("value") or "") for a in attributes or [])
    return tuple(sorted(v.strip().casefold() for v in found if v.strip()))


def supplier_skus(offer: WatchedOffer | None) -> list[SupplierSku]:
    """The supplier offer's SKUs with their sale attribute values, from its last read."""
    detail = supplier_detail(offer) if offer is not None else None
    if detail is None:
        return []
    return [
        SupplierSku(
            sku.sku_id,
            sku.spec_id,
            " / ".join(str(a.get("value") or "") for a in sku.attributes),
            _values(sku.attributes),
        )
        for sku in detail.skus
    ]


def sku_suggestions(product: Product, offer: WatchedOffer | None) -> dict[int, SupplierSku]:
    """For each own SKU (Sku pk), the supplier SKU with the same sale attribute values, else the
    one sharing the most values (none when nothing is shared or two tie)."""
    choices = supplier_skus(offer)
    suggested = {}
    for sku in product.skus.all():
        own = set(_values(sku.attributes))
        if not own:
            continue
        exact = [c for c in choices if set(c.values) == own]
        if len(exact) == 1:
            suggested[sku.pk] = exact[0]
            continue
        scored = sorted(((len(own & set(c.values)), c) for c in choices), key=lambda p: -p[0])
        if scored and scored[0][0] and (len(scored) == 1 or scored[1][0] < scored[0][0]):
            suggested[sku.pk] = scored[0][1]
    return suggested


# --- the dry run and the margins --------------------------------------------------------------


@dataclass
class DryRunRow:
    product: bulk.OfferRow  # pk, offer_id, subject, status...
    link: bulk.LinkRow
    target: targets.Target
    hold: str = ""  # LiveEdit.Hold value the change would wait under ("" = applied)

    @property
    def share(self) -> Decimal:
        return max((v.share for v in self.target.price_changes), default=Decimal("0"))


@dataclass
class DryRun:
    rows: list[DryRunRow] = field(default_factory=list)  # offers that would change
    offers: int = 0  # linked offers looked at
    unwatched: int = 0  # linked offers whose supplier offer has no read yet


def dry_run(rule: FollowRule, *, limit: int | None = None) -> DryRun:
    """What `rule` (saved or not: the rule editor's form) would change across its offers now,
    per offer: a shop's rule over the shop's linked offers that have no rule of their own, an
    offer's rule over that offer. From the mirror and the watched offers' last snapshots: no
    1688 call, nothing written."""
    if rule.product_id:
        links = SourceLink.objects.filter(product_id=rule.product_id)
    else:
        own_rules = FollowRule.objects.filter(shop_id=rule.shop_id, product__isnull=False)
        links = SourceLink.objects.filter(product__shop_id=rule.shop_id).exclude(
            product_id__in=own_rules.values("product_id")
        )
    rows, snapshots = bulk.linked(links)
    gone = gone_offers()
    result = DryRun(offers=len(rows))
    for link in rows:
        snapshot = snapshots.get(link.supplier_offer_id)
        if not snapshot:
            result.unwatched += 1
            continue
        target = targets.compute(
            rule, link.product, link.skus, link.sku_map, snapshot,
            gone=link.supplier_offer_id in gone, delisted_by_rule=link.delisted_by_rule,
        )  # fmt: skip
        if target.empty:
            continue
        result.rows.append(DryRunRow(link.product, link, target, hold_for(rule, target)))
        if limit is not None and len(result.rows) >= limit:
            break
    return result


def compute_for(rule: FollowRule, link: SourceLink, snapshot: dict, *, gone: bool = False):
    """The target of one linked offer (model instances: the engine's, one offer at a time)."""
    product = link.product
    sku_map = {s.sku_id: s.supplier_sku_id for s in link.sku_links.all()}
    return targets.compute(
        rule,
        product,
        list(product.skus.all()),
        sku_map,
        snapshot,
        gone=gone,
        delisted_by_rule=link.delisted_by_rule,
    )


def hold_for(rule: FollowRule, target: targets.Target) -> str:
    """The guard a price change stops at (no daily count: that is the engine's, at the time)."""
    if target.below_margin:
        return LiveEdit.Hold.MARGIN
    threshold = Decimal(rule.approval_percent) / 100
    if any(v.share > threshold for v in target.price_changes):
        return LiveEdit.Hold.APPROVAL
    return ""


@dataclass
class MarginRow:
    product: bulk.OfferRow  # pk, offer_id, subject...
    label: str  # the SKU, or the first tier
    price: Decimal | None  # own price
    cost: Decimal | None  # supplier price

    @property
    def margin(self) -> Decimal | None:
        if self.price is None or self.cost is None:
            return None
        return self.price - self.cost

    @property
    def margin_share(self) -> Decimal | None:
        if self.margin is None or not self.cost:
            return None
        return self.margin / self.cost

    @property
    def negative(self) -> bool:
        return self.margin is not None and self.margin < 0


def margins(shop: Shop | None = None, *, negative_only: bool = False) -> list[MarginRow]:
    """Own price against supplier cost per linked SKU (an offer priced by tiers: its first
    tier against the supplier's price at that quantity), worst margin first."""
    links = (
        SourceLink.objects.all() if shop is None else SourceLink.objects.filter(product__shop=shop)
    )
    linked, snapshots = bulk.linked(links)
    rows = []
    for link in linked:
        snapshot = snapshots.get(link.supplier_offer_id) or {}
        product, skus, sku_map = link.product, link.skus, link.sku_map
        if targets.by_sku(product, skus):
            for sku in skus:
                cost = targets.supplier_price(snapshot, sku_map.get(sku.pk)) if snapshot else None
                rows.append(MarginRow(product, str(sku), sku.price, cost))
            continue
        tiers = sorted(product.price_ranges or [], key=lambda t: int(t.get("start_quantity") or 0))
        if tiers:
            start = int(tiers[0].get("start_quantity") or 1)
            mapped = [sku_map[s.pk] for s in skus if s.pk in sku_map] or [None]
            costs = [targets.supplier_price(snapshot, i, start) for i in mapped] if snapshot else []
            costs = [c for c in costs if c is not None]
            price = targets.decimal_or_none(tiers[0].get("price"))
            rows.append(MarginRow(product, f"≥ {start}", price, max(costs) if costs else None))
    if negative_only:
        rows = [row for row in rows if row.negative]
    rows.sort(key=lambda r: (r.margin_share is None, r.margin_share or 0))
    return rows


# --- the inbox and the history ------------------------------------------------------------------


def follow_changes():
    """Every change a follow rule made, newest first."""
    return (
        LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW)
        .select_related("follow_rule", "source_link", "source_link__product", "decided_by")
        .order_by("-created_at", "-id")
    )


def awaiting(shop: Shop | None = None):
    """The approval inbox: follow changes waiting for a person (or for the shop), oldest first."""
    changes = follow_changes().filter(status=LiveEdit.Status.AWAITING)
    if shop is not None:
        changes = changes.filter(source_link__product__shop=shop)
    return changes.order_by("created_at", "id")


def with_conflicts():
    """Follow changes that met a value changed on 1688 by hand: not overwritten, flagged."""
    conflicting = LiveEditLine.objects.filter(
        operation=OuterRef("pk"), status=LiveEditLine.Status.CONFLICT
    )
    return follow_changes().filter(Exists(conflicting))


def applied_today(link: SourceLink) -> int:
    """Follow changes of `link` applied automatically since local midnight (not approved)."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        LiveEdit.objects.filter(
            source_link=link, origin=LiveEdit.Origin.FOLLOW, applied_at__gte=midnight
        )
        .filter(Q(decided_by__isnull=True))
        .count()
    )


def active_change(product_id: int) -> bool:
    """A change of the offer is being sent or confirmed: its mirror is not settled yet."""
    busy = [LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING, LiveEdit.Status.CONFIRMING]
    return LiveEdit.objects.filter(status__in=busy, lines__product_id=product_id).exists()
