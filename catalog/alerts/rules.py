"""What staff do with their alerts: set and delete their own rules, mark alerts (or whole
groups) read, snooze a rule or its alerts about one offer. The rules are evaluated by
catalog/alerts/engine.py.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.alerts import filing
from catalog.alerts.engine import DEFAULT_AUTH_DAYS
from catalog.models import Alert, AlertGroup, AlertRule, AlertSnooze
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require

Kind = AlertRule.Kind
Scope = AlertRule.Scope


def create_rule(
    *,
    user,
    kind: str,
    threshold=None,
    shop=None,
    product=None,
    email: bool = True,
    scope: str = Scope.OWN,
    digest: bool = False,
) -> AlertRule:
    """A rule of `user`'s own. Refused: `alert.threshold` when the kind needs N and has none;
    `alert.scope` for an unknown scope or a watched scope on a kind watched offers do not feed.
    A rule on watched suppliers' offers only has no shop or product. `digest`: its alerts are
    emailed once a day together instead of one mail each (with `email` only)."""
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
        digest=bool(email and digest),
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
    chosen = list(alerts.values_list("pk", flat=True))
    count = alerts.update(read_at=timezone.now())
    filing.settle_group_reads(user, chosen)
    return count


def mark_groups_read(*, user, group_ids=None) -> int:
    """Mark `user`'s alert groups read with every alert in them (all when `group_ids` is
    None); returns how many alerts were unread."""
    return filing.mark_groups_read(user, group_ids)


SNOOZE_HOURS = (24, 24 * 7)  # the choices the inbox offers: a day, a week


def snooze(*, user, group: AlertGroup, hours: int, whole_rule: bool = False) -> AlertSnooze:
    """Keep `user`'s rule quiet for `hours` about the group's offer (or altogether): alerts
    raised meanwhile are recorded read and not emailed. The group is marked read. Refused:
    `alert.not_yours`, `alert.snooze` for a length not offered."""
    if group.owner_id != getattr(user, "pk", None):
        raise Refused(RefusalCode.ALERT_NOT_YOURS, _("This rule belongs to someone else."))
    if hours not in SNOOZE_HOURS:
        raise Refused(RefusalCode.ALERT_SNOOZE, _("Snooze for a day or a week."))
    key = "" if whole_rule else group.subject_key
    until = timezone.now() + timedelta(hours=hours)
    quiet, _made = AlertSnooze.objects.update_or_create(
        rule_id=group.rule_id, subject_key=key, defaults={"until": until}
    )
    filing.mark_groups_read(user, [group.pk])
    return quiet
