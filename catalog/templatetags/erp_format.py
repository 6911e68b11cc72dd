"""Formatting for staff pages: durations for people (not 0:01:05.031594), money as ¥ with two
decimals, 1688's offer statuses in words, and the unread alerts count of the navigation."""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

from catalog.mirror.selectors import status_label

register = template.Library()


@register.filter
def duration(value) -> str:
    """12 s, 1 min 5 s, 2 h 3 min, 3 d 4 h (rounded to what matters); '' for None."""
    if value is None or value == "":
        return ""
    if not isinstance(value, timedelta):
        try:
            value = timedelta(seconds=float(value))
        except (TypeError, ValueError):
            return ""
    seconds = value.total_seconds()
    if seconds < 0:
        return ""
    if seconds < 10:
        return _("%(seconds)s s") % {"seconds": f"{seconds:.1f}"}
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": secs}
    return _("%(seconds)s s") % {"seconds": secs}


@register.filter
def yuan(value) -> str:
    """¥12.50; '—' when unknown."""
    if value is None or value == "":
        return "—"
    try:
        return f"¥{Decimal(value):.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return "—"


@register.simple_tag
def unread_alerts(user) -> str:
    """The user's unread alerts for the navigation ("" for none, "99+" past 99): one bounded
    read of an index."""
    if not getattr(user, "is_authenticated", False):
        return ""
    from catalog.alerts.selectors import UNREAD_SHOWN, unread_count

    count = unread_count(user)
    if count > UNREAD_SHOWN:
        return f"{UNREAD_SHOWN}+"
    return str(count) if count else ""


@register.filter
def offer_status(status) -> str:
    """1688's status of an offer ("published", "auditing"...) in the reader's words."""
    return status_label(str(status or ""))
