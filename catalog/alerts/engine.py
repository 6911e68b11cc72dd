"""The alert rule engine: the rules staff set (catalog/alerts/rules.py), evaluated as change
rows arrive.

Evaluation is called by the writers themselves, inside their transaction:
- `on_changes(changes=...)` after a sync page (sync/catalog_sync.py `_upsert`), a live edit or
  a re-read of a watched supplier's offer (catalog/watch/services.py) wrote its PriceStockChange
  rows:
  price change by N %, stock below N; a rule's `scope` says whose offers (own, watched, both);
- `on_skus_gone(skus=...)` when a sync drops SKUs 1688 no longer lists;
- `on_run_finished(run=...)` when a sync run ends: sync failing (resolved by the next success),
  offers delisted or gone in that run, authorisation expiring within N days.

ONE alert per rule and state: an alert carries a state key ("stock_below:<product>:<sku>") and
the database keeps one open (unresolved) alert per rule and key, so a stock that stays low for
fifty syncs is one alert; when the stock recovers the alert is resolved and the next dip raises
a new one. A price change is an event: its key names the 1688 modify stamp, so re-reading the
same change raises nothing, and the SKUs and tiers of one change make one alert.

Each new alert joins its group (one inbox row per rule, subject and day) and is emailed once,
at once after the transaction commits or in the owner's daily digest, unless its rule (or the
rule for that offer) is snoozed (catalog/alerts/filing.py). The hooks never break the writer:
a failure is logged and the savepoint rolled back.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.alerts import emails, filing
from catalog.alerts.failures import run_error_kind
from catalog.models import Alert, AlertRule, PriceStockChange, Product, Shop, Sku, SyncRun

log = logging.getLogger(__name__)
Kind = AlertRule.Kind
Scope = AlertRule.Scope
DEFAULT_AUTH_DAYS = 7


def _rules(kinds, shop_ids=None, scopes=(Scope.OWN, Scope.ALL)) -> list[AlertRule]:
    rules = AlertRule.objects.filter(
        kind__in=kinds, active=True, owner__is_active=True, scope__in=scopes
    )
    if shop_ids is not None:
        rules = rules.filter(Q(shop__isnull=True) | Q(shop_id__in=list(shop_ids)))
    return list(rules.order_by())


def _covers(rule: AlertRule, change: PriceStockChange) -> bool:
    """Whether a change row (an own offer's or a watched one's) is in the rule's scope."""
    if change.watched_offer_id is not None:
        return rule.scope != Scope.OWN and rule.shop_id is None and rule.product_id is None
    return rule.scope != Scope.WATCHED and _in_scope(rule, change.shop_id, change.product_id)


def _in_scope(rule: AlertRule, shop_id, product_id=None) -> bool:
    if rule.shop_id is not None and rule.shop_id != shop_id:
        return False
    return rule.product_id is None or rule.product_id == product_id


def _guarded(hook):
    """Alerts never break the sync or edit that calls them: a failure is logged, and the
    savepoint keeps the caller's transaction usable."""

    def wrapped(**kwargs):
        try:
            with transaction.atomic():
                return hook(**kwargs)
        except Exception:  # noqa: BLE001 - whatever it is, the caller's write goes on
            log.exception("alert evaluation failed in %s", hook.__name__)
            return []

    wrapped.__name__ = hook.__name__
    wrapped.__doc__ = hook.__doc__
    return wrapped


def wants_changes(*, shop_ids) -> list[AlertRule]:
    """The rules that read the change rows of these shops' own offers (empty: none). A writer
    of many rows (the sync) builds them only then, and hands these rules to `on_changes`,
    one query per batch."""
    return _rules([Kind.PRICE_CHANGE, Kind.STOCK_BELOW], shop_ids)


@_guarded
def on_changes(*, changes: list[PriceStockChange], rules=None) -> list[Alert]:
    """Price-change and stock-below rules over freshly written change rows, of own offers
    (rules of scope own or all) and of watched suppliers' offers (scope watched or all);
    `rules`: what `wants_changes` gave for the own rows' shops (read here when not given)."""
    own = [c for c in changes if c.product_id is not None]
    watched = [c for c in changes if c.watched_offer_id is not None]
    kinds = [Kind.PRICE_CHANGE, Kind.STOCK_BELOW]
    if rules is None:
        rules = _rules(kinds, {c.shop_id for c in own}) if own else []
    rules = list(rules)
    if watched:
        known = {rule.pk for rule in rules}
        rules += [
            rule
            for rule in _rules(kinds, scopes=(Scope.WATCHED, Scope.ALL))
            if rule.pk not in known
        ]
    rows = own + watched
    if not rules:
        return []
    wanted: dict[tuple[int, str], tuple[AlertRule, PriceStockChange, dict]] = {}
    recovered: dict[int, set[str]] = {}
    for rule in rules:
        for change in rows:
            if not _covers(rule, change):
                continue
            subject = _subject_key(change)
            if rule.kind == Kind.PRICE_CHANGE and change.field != PriceStockChange.Field.STOCK:
                percent = change.percent  # the move's share of the old price, either way
                percent = None if percent is None else abs(percent)
                if percent is None or percent < rule.threshold:
                    continue
                stamp = change.remote_modified_at.isoformat()
                key = f"price_change:{subject}:{stamp}"
                seen = wanted.get((rule.pk, key))
                if seen is None or Decimal(seen[2]["percent"]) < percent:
                    wanted[(rule.pk, key)] = (rule, change, {"percent": str(percent)})
            elif rule.kind == Kind.STOCK_BELOW and change.field == PriceStockChange.Field.STOCK:
                key = f"stock_below:{subject}:{change.remote_sku_id}"
                if change.new_stock is not None and change.new_stock < rule.threshold:
                    wanted[(rule.pk, key)] = (rule, change, {})
                else:
                    recovered.setdefault(rule.pk, set()).add(key)
    _resolve(recovered)
    return _raise(
        [
            (rule, key, change.shop_id, change.product_id, lambda c=change, e=extra, r=rule: {
                **_change_params(c, r), **e
            }, change.watched_offer_id)
            for (_pk, key), (rule, change, extra) in wanted.items()
        ]
    )  # fmt: skip


def _subject_key(change: PriceStockChange) -> str:
    """The offer part of a state key: the product's id, or "w<id>" for a watched offer."""
    if change.watched_offer_id is not None:
        return f"w{change.watched_offer_id}"
    return str(change.product_id)


def _change_params(change: PriceStockChange, rule: AlertRule) -> dict:
    subject = change.product if change.product_id else change.watched_offer
    sku = ""
    if change.remote_sku_id:
        sku_obj = change.sku if change.sku_id else None
        if sku_obj is None and change.watched_offer_id is not None:
            skus = (subject.snapshot or {}).get("skus") or {}
            sku = (skus.get(str(change.remote_sku_id)) or {}).get("label") or ""
        sku = str(sku_obj) if sku_obj is not None else sku or str(change.remote_sku_id)
    stock = change.new_stock
    return {
        "kind": rule.kind,
        "product": subject.subject or str(subject.offer_id),
        "offer_id": subject.offer_id,
        "sku": sku,
        "old": f"{Decimal(change.old_value):.2f}" if change.old_value is not None else "",
        "new": f"{Decimal(change.new_value):.2f}" if change.new_value is not None else "",
        "stock": str(stock) if stock is not None else "",
        "threshold": _number(rule.threshold),
    }


def _number(value) -> str:
    if value is None:
        return ""
    value = Decimal(value)
    return str(int(value)) if value == value.to_integral() else f"{value:.2f}"


@_guarded
def on_skus_gone(*, skus: list[Sku]) -> list[Alert]:
    """SKUs a sync is about to drop because 1688 no longer lists them."""
    if not skus:
        return []
    products = {p.pk: p for p in Product.objects.filter(pk__in={s.product_id for s in skus})}
    rules = _rules([Kind.SKU_GONE], {p.shop_id for p in products.values()})
    items = []
    for rule in rules:
        for sku in skus:
            product = products[sku.product_id]
            if not _in_scope(rule, product.shop_id, product.pk):
                continue
            params = {
                "kind": rule.kind,
                "product": product.subject,
                "offer_id": product.offer_id,
                "sku": str(sku),
            }
            key = f"sku_gone:{product.pk}:{sku.sku_id}"
            items.append((rule, key, product.shop_id, product.pk, lambda p=params: p))
    return _raise(items)


@_guarded
def on_run_finished(*, run: SyncRun) -> list[Alert]:
    """A sync run ended: sync failing (or recovered), offers it found delisted or gone, and
    the shop's authorisation."""
    if run.status not in (SyncRun.Status.FAILED, SyncRun.Status.SUCCEEDED):
        return []
    rules = _rules([Kind.SYNC_FAILING, Kind.DELISTED, Kind.AUTH_EXPIRING], {run.shop_id})
    if not rules:
        return []
    shop = Shop.objects.get(pk=run.shop_id)
    items, resolved = [], {}
    key = f"sync_failing:{shop.pk}"
    for rule in [r for r in rules if r.kind == Kind.SYNC_FAILING and _in_scope(r, shop.pk)]:
        if run.status == SyncRun.Status.FAILED:
            params = {
                "kind": rule.kind,
                "shop": shop.name,
                "error_kind": run_error_kind(run),
                "run": run.pk,
            }
            items.append((rule, key, shop.pk, None, lambda p=params: p))
        else:
            resolved.setdefault(rule.pk, set()).add(key)
    delisted_rules = [r for r in rules if r.kind == Kind.DELISTED]
    if delisted_rules and run.started_at:
        gone = list(
            Product.objects.filter(shop=shop, delisted_at__gte=run.started_at).order_by()[:500]
        )
        for rule in delisted_rules:
            for product in gone:
                if _in_scope(rule, shop.pk, product.pk):
                    params = {
                        "kind": rule.kind,
                        "product": product.subject,
                        "offer_id": product.offer_id,
                    }
                    key = f"delisted:{product.pk}"
                    items.append((rule, key, shop.pk, product.pk, lambda p=params: p))
        # Offers listed again: their open "delisted" alerts end.
        back = Alert.objects.filter(
            rule__in=delisted_rules, resolved_at__isnull=True, product__delisted_at__isnull=True
        )
        back.update(resolved_at=timezone.now())
    _resolve(resolved)
    created = _raise(items)
    auth_rules = [r for r in rules if r.kind == Kind.AUTH_EXPIRING]
    return created + _check_authorisation(shop, auth_rules)


@_guarded
def check_authorisations(*, now=None) -> list[Alert]:
    """Every shop's authorisation against the "expiring within N days" rules (the scheduler or
    the shops page may call it; a finished run checks its own shop)."""
    rules = _rules([Kind.AUTH_EXPIRING])
    if not rules:
        return []
    created = []
    for shop in Shop.objects.exclude(status=Shop.Status.DISABLED):
        created += _check_authorisation(shop, rules, now)
    return created


def check_authorisations_job() -> int:
    """The scheduler's hourly job (sync.cron): how many "authorisation expiring" alerts opened."""
    return len(check_authorisations())


def _check_authorisation(shop: Shop, rules: list[AlertRule], now=None) -> list[Alert]:
    now = now or timezone.now()
    key = f"auth_expiring:{shop.pk}"
    items, resolved = [], {}
    expires = shop.refresh_token_expires_at
    for rule in rules:
        if not _in_scope(rule, shop.pk):
            continue
        days = timedelta(days=float(rule.threshold or DEFAULT_AUTH_DAYS))
        needs_reauth = shop.status == Shop.Status.NEEDS_REAUTH
        if needs_reauth or (expires is not None and expires <= now + days):
            params = {
                "kind": rule.kind,
                "shop": shop.name,
                "needs_reauth": needs_reauth,
                "expires": expires.isoformat() if expires else "",
            }
            items.append((rule, key, shop.pk, None, lambda p=params: p))
        else:
            resolved.setdefault(rule.pk, set()).add(key)
    _resolve(resolved)
    return _raise(items)


def _resolve(keys_by_rule: dict[int, set[str]]) -> None:
    now = timezone.now()
    for rule_id, keys in keys_by_rule.items():
        Alert.objects.filter(
            rule_id=rule_id, state_key__in=list(keys), resolved_at__isnull=True
        ).update(resolved_at=now)


def _raise(items) -> list[Alert]:
    """Open an alert per (rule, key) that has none open; `items`: (rule, key, shop id,
    product id, params factory[, watched offer id]). Each is filed into its group, snoozed or
    not, with its email (catalog/alerts/filing.py). Returns the new alerts (those to email at
    once are sent after commit)."""
    if not items:
        return []
    keys = {key for _rule, key, *_rest in items}
    rule_ids = {rule.pk for rule, *_rest in items}
    open_now = set(
        Alert.objects.filter(
            rule_id__in=rule_ids, state_key__in=list(keys), resolved_at__isnull=True
        ).values_list("rule_id", "state_key")
    )
    quiet = filing.snoozed(rule_ids)
    created = []
    for rule, key, shop_id, product_id, params, *watched in items:
        if (rule.pk, key) in open_now:
            continue
        watched_id = watched[0] if watched else None
        subject = filing.subject_key(
            watched_offer_id=watched_id, product_id=product_id, shop_id=shop_id
        )
        snoozed = filing.is_snoozed(quiet, rule.pk, subject)
        now = timezone.now()
        try:
            with transaction.atomic():  # a concurrent writer may have opened it just now
                group = filing.group_for(
                    rule, subject, now, shop_id=shop_id, product_id=product_id,
                    watched_offer_id=watched_id, unread=not snoozed,
                )  # fmt: skip
                alert = Alert.objects.create(
                    rule=rule,
                    owner_id=rule.owner_id,
                    shop_id=shop_id,
                    product_id=product_id,
                    watched_offer_id=watched_id,
                    state_key=key[:200],
                    params=params(),
                    created_at=now,
                    group=group,
                    mail=filing.mail_for(rule, snoozed),
                    snoozed=snoozed,
                    read_at=now if snoozed else None,
                )
        except IntegrityError:
            continue
        open_now.add((rule.pk, key))
        created.append(alert)
    emailed = [a.pk for a in created if a.mail == Alert.Mail.NOW]
    if emailed:
        transaction.on_commit(lambda: emails.send_quietly(emailed))
    return created
