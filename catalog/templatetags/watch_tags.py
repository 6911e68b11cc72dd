"""The dashboard's "watched suppliers" block: how fresh each watched offer is and through
which channel it last changed (catalog/watch/services.py). `{% load watch_tags %}{%
watched_freshness %}`;
the block runs its query only for those who may view watched offers."""

from django import template
from django.db.models import F

from catalog.models import WatchedOffer

register = template.Library()


@register.inclusion_tag("watch/_watch_dashboard.html", takes_context=True)
def watched_freshness(context, limit: int = 10):
    user = context.get("user")
    if user is None or not user.has_perm("catalog.view_watchedoffer"):
        return {"offers": []}
    offers = WatchedOffer.objects.active().order_by(
        F("last_changed_at").desc(nulls_last=True), "-last_read_at", "-pk"
    )[:limit]
    return {"offers": list(offers)}
