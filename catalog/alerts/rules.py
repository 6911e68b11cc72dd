"""What staff do with their alerts: set and delete their own rules, mark alerts read. The
rules are evaluated by catalog/alerts/engine.py.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.alerts.engine import DEFAULT_AUTH_DAYS
from catalog.models import Alert, AlertRule
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
