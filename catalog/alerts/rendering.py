"""An alert in words: its sentence in the active language, and the page it points to."""

from datetime import datetime

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from catalog.alerts.failures import EXPLANATIONS
from catalog.models import Alert, AlertRule, SyncRun

Kind = AlertRule.Kind
ErrorKind = SyncRun.ErrorKind


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
    return datetime.fromisoformat(text)


def link(alert: Alert) -> str:
    if alert.watched_offer_id:
        return reverse("catalog:watch_detail", args=[alert.watched_offer_id])
    if alert.product_id:
        return reverse("catalog:product_detail", args=[alert.product_id])
    if alert.shop_id:
        return reverse("catalog:shop_detail", args=[alert.shop_id])
    return reverse("catalog:alert_inbox")
