"""Alerts: rules staff set, evaluated as change rows arrive, and a run's failure in
plain words.

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

Each new alert is sent by email once (rule.email and the owner has an address) after the
transaction commits. The hooks never break the writer: a failure is logged and the savepoint
rolled back.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import open1688 as api
from catalog.models import Alert, AlertRule, PriceStockChange, Product, Shop, Sku, SyncRun
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require

log = logging.getLogger(__name__)
Kind = AlertRule.Kind
Scope = AlertRule.Scope
ErrorKind = SyncRun.ErrorKind
DEFAULT_AUTH_DAYS = 7


# --- why a run failed, in plain words ---------------------------------------------------------

_BY_CLASS = [
    ((api.AuthError, api.PermissionDeniedError, api.SignatureError), ErrorKind.AUTH),
    ((api.QuotaError, api.RateLimitTimeout), ErrorKind.QUOTA),
    ((api.MalformedResponseError, api.InvalidParameterError, api.BusinessError), ErrorKind.DATA),
    ((api.TransportError, api.ServerError, api.Open1688Error), ErrorKind.PLATFORM),
]
_NAMES: dict[str, str] = {}
for _classes, _kind in _BY_CLASS:  # the first match wins, as in `classify`
    for _base in _classes:
        for _cls in [_base, *_base.__subclasses__()]:
            _NAMES.setdefault(_cls.__name__, _kind)
_NAMES.update(
    {
        "LockLost": ErrorKind.WORKER,
        "AbandonedJobError": ErrorKind.WORKER,
        "JobTimeoutException": ErrorKind.WORKER,
        "DataError": ErrorKind.DATA,
        "IntegrityError": ErrorKind.DATA,
        "ValueError": ErrorKind.DATA,
    }
)

EXPLANATIONS = {
    ErrorKind.AUTH: (
        gettext_lazy("1688 refused this shop's authorisation (or this app's access to an API)."),
        gettext_lazy(
            "Authorise the shop again. If an API is listed as not granted, apply for it in the "
            "1688 developer console."
        ),
    ),
    ErrorKind.QUOTA: (
        gettext_lazy("The 1688 call quota or this ERP's rate limit was used up."),
        gettext_lazy(
            "Nothing to do now: the next scheduled sync continues where this one stopped. If it "
            "happens every time, lower the rate or ask 1688 for a larger quota."
        ),
    ),
    ErrorKind.DATA: (
        gettext_lazy("1688 answered with data this ERP could not read or store."),
        gettext_lazy(
            "Look at the offer named in the error; a full resync after it is fixed on 1688 "
            "usually clears it. Report it if it repeats."
        ),
    ),
    ErrorKind.PLATFORM: (
        gettext_lazy("1688 could not be reached or answered with a server error."),
        gettext_lazy("Usually temporary: the next sync retries on its own."),
    ),
    ErrorKind.WORKER: (
        gettext_lazy("The worker running the sync stopped (killed, restarted or lost)."),
        gettext_lazy(
            "The scheduler queues the shop again; check that the worker process is running."
        ),
    ),
    ErrorKind.OTHER: (
        gettext_lazy("The sync stopped on an unexpected error."),
        gettext_lazy(
            'Try "Sync now"; if it fails again, send the error below to your administrator.'
        ),
    ),
}


def classify(exc: BaseException) -> str:
    """The ErrorKind of an exception that ended a run."""
    for classes, kind in _BY_CLASS:
        if isinstance(exc, classes):
            return kind
    return _NAMES.get(exc.__class__.__name__, ErrorKind.OTHER)


def classify_text(error: str) -> str:
    """The ErrorKind of a stored error text ("AuthError: ..." as the sync writes it, or the
    scheduler's sentences about dead workers and lost jobs), for runs without `error_kind`."""
    if not error:
        return ""
    name = error.split(":", 1)[0].strip()
    if name in _NAMES:
        return _NAMES[name]
    lowered = error.lower()
    if "worker" in lowered or "job" in lowered or "heartbeat" in lowered:
        return ErrorKind.WORKER
    if "re-authoris" in lowered or "needs_reauth" in lowered:
        return ErrorKind.AUTH
    return ErrorKind.OTHER


def run_error_kind(run: SyncRun) -> str:
    return run.error_kind or classify_text(run.error)


def explain(run: SyncRun) -> dict | None:
    """A failed run in plain words: {kind, label, what, todo, detail}; None if it did not fail."""
    if run.status != SyncRun.Status.FAILED:
        return None
    kind = run_error_kind(run) or ErrorKind.OTHER
    what, todo = EXPLANATIONS[kind]
    return {
        "kind": kind,
        "label": ErrorKind(kind).label,
        "what": what,
        "todo": todo,
        "detail": _short(run.error),
    }


def _short(text: str, limit: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- rules: the services staff pages call -----------------------------------------------------


def create_rule(
    *,
    user,
    kind: str,
    threshold=None,
    shop=None,
    product=None,
    email: bool = True,
    scope: str = Scope.OWN,
) -> AlertRule:
    """A rule of `user`'s own. Refused: `alert.threshold` when the kind needs N and has none;
    `alert.scope` for an unknown scope or a watched scope on a kind watched offers do not feed.
    A rule on watched suppliers' offers only has no shop or product."""
    require(user, "catalog.view_product")
    if kind not in Kind.values:
        raise Refused(RefusalCode.ALERT_KIND, _("Unknown kind of alert."))
    if scope not in Scope.values:
        raise Refused(RefusalCode.ALERT_SCOPE, _("Unknown choice of offers."))
    if scope != Scope.OWN and kind not in AlertRule.WATCHABLE_KINDS:
        raise Refused(
            RefusalCode.ALERT_SCOPE, _("Only price and stock alerts can watch suppliers' offers.")
        )
    if scope == Scope.WATCHED:
        shop = product = None
    if kind in AlertRule.NEEDS_THRESHOLD and threshold is None and kind != Kind.AUTH_EXPIRING:
        raise Refused(RefusalCode.ALERT_THRESHOLD, _("This kind of alert needs a number N."))
    if kind == Kind.AUTH_EXPIRING and threshold is None:
        threshold = Decimal(DEFAULT_AUTH_DAYS)
    if kind in AlertRule.SHOP_KINDS:
        product = None
    elif product is not None:
        shop = product.shop
    return AlertRule.objects.create(
        owner=user,
        kind=kind,
        threshold=threshold,
        shop=shop,
        product=product,
        email=email,
        scope=scope,
    )


def delete_rule(*, user, rule: AlertRule) -> None:
    if rule.owner_id != getattr(user, "pk", None):
        raise Refused(RefusalCode.ALERT_NOT_YOURS, _("This rule belongs to someone else."))
    rule.delete()


def mark_read(*, user, alert_ids=None) -> int:
    """Mark `user`'s alerts read (all unread ones when `alert_ids` is None); returns how many."""
    alerts = Alert.objects.filter(owner=user, read_at__isnull=True)
    if alert_ids is not None:
        alerts = alerts.filter(pk__in=list(alert_ids))
    return alerts.update(read_at=timezone.now())


UNREAD_SHOWN = 99  # the navigation says "99+" beyond this


def unread_count(user) -> int:
    """The user's unread alerts, at most UNREAD_SHOWN + 1: a bounded read of the (owner,
    read_at) index, no COUNT (the staff pages' rule: no COUNT on every page)."""
    unread = Alert.objects.filter(owner=user, read_at__isnull=True).order_by()
    return len(unread.values_list("pk", flat=True)[: UNREAD_SHOWN + 1])


# --- rendering ----------------------------------------------------------------------------


def message(alert: Alert) -> str:
    """The alert's sentence, in the active language."""
    p = alert.params
    kind = p.get("kind")
    if kind == Kind.PRICE_CHANGE:
        return _(
            "%(product)s%(sku)s: price changed by %(percent)s%% (¥%(old)s → ¥%(new)s)."
        ) % _with_sku(p)
    if kind == Kind.STOCK_BELOW:
        return _("%(product)s%(sku)s: stock %(stock)s is below %(threshold)s.") % _with_sku(p)
    if kind == Kind.DELISTED:
        return _("%(product)s is no longer listed on 1688.") % p
    if kind == Kind.SKU_GONE:
        return _("%(product)s: SKU %(sku)s is gone from 1688.") % p
    if kind == Kind.SYNC_FAILING:
        error_kind = p.get("error_kind")
        error_kind = error_kind if error_kind in ErrorKind.values else ErrorKind.OTHER
        return _("%(shop)s: the sync failed (%(kind)s). %(what)s") % {
            "shop": p.get("shop", ""),
            "kind": ErrorKind(error_kind).label,
            "what": EXPLANATIONS[error_kind][0],
        }
    if kind == Kind.AUTH_EXPIRING:
        if p.get("needs_reauth") or not p.get("expires"):
            return _("%(shop)s needs to be authorised again.") % p
        expires = formats.date_format(
            timezone.localtime(_parse(p["expires"])), "SHORT_DATETIME_FORMAT"
        )
        return _("%(shop)s: the 1688 authorisation expires on %(date)s.") % {
            "shop": p.get("shop", ""),
            "date": expires,
        }
    return alert.state_key


def _with_sku(p: dict) -> dict:
    return {**p, "sku": f" ({p['sku']})" if p.get("sku") else ""}


def _parse(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def link(alert: Alert) -> str:
    if alert.watched_offer_id:
        return reverse("catalog:watch_detail", args=[alert.watched_offer_id])
    if alert.product_id:
        return reverse("catalog:product_detail", args=[alert.product_id])
    if alert.shop_id:
        return reverse("catalog:shop_detail", args=[alert.shop_id])
    return reverse("catalog:alert_inbox")


# --- evaluation ---------------------------------------------------------------------------


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


def _percent(old, new) -> Decimal | None:
    if old is None or new is None or Decimal(old) == 0:
        return None
    return (abs(Decimal(new) - Decimal(old)) * 100 / Decimal(old)).quantize(Decimal("0.1"))


@_guarded
def on_changes(*, changes: list[PriceStockChange]) -> list[Alert]:
    """Price-change and stock-below rules over freshly written change rows, of own offers
    (rules of scope own or all) and of watched suppliers' offers (scope watched or all)."""
    own = [c for c in changes if c.product_id is not None]
    watched = [c for c in changes if c.watched_offer_id is not None]
    kinds = [Kind.PRICE_CHANGE, Kind.STOCK_BELOW]
    rules = _rules(kinds, {c.shop_id for c in own}) if own else []
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
                percent = _percent(change.old_value, change.new_value)
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
    product id, params factory[, watched offer id]). Returns the new alerts (emailed after
    commit)."""
    if not items:
        return []
    keys = {key for _rule, key, *_rest in items}
    rule_ids = {rule.pk for rule, *_rest in items}
    open_now = set(
        Alert.objects.filter(
            rule_id__in=rule_ids, state_key__in=list(keys), resolved_at__isnull=True
        ).values_list("rule_id", "state_key")
    )
    created = []
    for rule, key, shop_id, product_id, params, *watched in items:
        if (rule.pk, key) in open_now:
            continue
        try:
            with transaction.atomic():  # a concurrent writer may have opened it just now
                alert = Alert.objects.create(
                    rule=rule,
                    owner_id=rule.owner_id,
                    shop_id=shop_id,
                    product_id=product_id,
                    watched_offer_id=watched[0] if watched else None,
                    state_key=key[:200],
                    params=params(),
                )
        except IntegrityError:
            continue
        open_now.add((rule.pk, key))
        created.append(alert)
    emailed = [a.pk for a, rule in ((a, a.rule) for a in created) if rule.email]
    if emailed:
        transaction.on_commit(lambda: _send_quietly(emailed))
    return created


def _send_quietly(alert_ids) -> None:
    """After the writer's commit: an email that cannot be sent never fails the sync."""
    try:
        send_emails(alert_ids=alert_ids)
    except Exception:  # the mail server, the template... logged; the alerts stay in the inbox
        log.exception("alert emails %s could not be sent", alert_ids)


def send_emails(*, alert_ids) -> int:
    """One email per alert not emailed yet, to its owner, in the site's language."""
    sent = 0
    alerts = Alert.objects.filter(pk__in=list(alert_ids), emailed_at__isnull=True)
    for alert in alerts.select_related("owner"):
        if not alert.owner.email:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            text = message(alert)
            subject = _("[erp1688] %(message)s") % {"message": _short(text, 120)}
            site = getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")
            body = "\n\n".join([text, site + link(alert)])
        try:
            send_mail(subject, body, None, [alert.owner.email])
        except OSError:
            log.exception("alert %s: the email could not be sent", alert.pk)
            continue
        Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
