"""Reads of a staff member's alerts: the inbox, the unread count in the navigation, their
rules, and the choices of the rule form.
"""

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from catalog.models import Alert, AlertGroup, AlertRule, Product, Shop

UNREAD_SHOWN = 99  # the navigation says "99+" beyond this


def unread_count(user) -> int:
    """The user's unread alerts, at most UNREAD_SHOWN + 1: a bounded read of the (owner,
    read_at) index, no COUNT (the staff pages' rule: no COUNT on every page)."""
    unread = Alert.objects.filter(owner=user, read_at__isnull=True).order_by()
    return len(unread.values_list("pk", flat=True)[: UNREAD_SHOWN + 1])


def inbox(user, *, unread_only: bool = False):
    """The user's alerts, newest first (the model's ordering), for a paginator."""
    alerts = Alert.objects.filter(owner=user)
    return alerts.filter(read_at__isnull=True) if unread_only else alerts


def inbox_groups(user, *, unread_only: bool = False):
    """The user's alert groups (one row per rule, subject and day), latest first, through the
    (owner, -last_at) index, for a paginator."""
    groups = AlertGroup.objects.filter(owner=user).select_related("rule")
    return groups.filter(read_at__isnull=True) if unread_only else groups


GROUP_ALERTS_SHOWN = 20  # expanded, a group lists its newest alerts, up to this many


def with_alerts(groups) -> list[AlertGroup]:
    """The page's groups, each with `.shown`: its newest alerts (one query for the page)."""
    groups = list(groups)
    newest = Window(
        RowNumber(), partition_by=F("group_id"), order_by=[F("created_at").desc(), F("id").desc()]
    )
    alerts = (
        Alert.objects.filter(group__in=groups)
        .annotate(place=newest)
        .filter(place__lte=GROUP_ALERTS_SHOWN)
        .select_related("rule")
        .order_by("group_id", "-created_at", "-id")
    )
    by_group: dict[int, list[Alert]] = {}
    for alert in alerts:
        by_group.setdefault(alert.group_id, []).append(alert)
    for group in groups:
        group.shown = by_group.get(group.pk, [])
    return groups


def own_group(user, pk) -> AlertGroup:
    """One of the user's alert groups (Http404 for another's or none)."""
    return get_object_or_404(AlertGroup.objects.select_related("rule"), pk=pk, owner=user)


def rules_of(user):
    return (
        AlertRule.objects.filter(owner=user)
        .select_related("shop", "product")
        .order_by("kind", "id")
    )


def own_rule(user, pk) -> AlertRule:
    """One of the user's rules (Http404 for another's or none)."""
    return get_object_or_404(AlertRule, pk=pk, owner=user)


def shop_choices():
    return Shop.objects.order_by("name")


def product_by_offer(offer_id: int, shop: Shop | None = None) -> Product | None:
    """The product a rule is for, by its 1688 offer id (in `shop` when given)."""
    products = Product.objects.filter(offer_id=offer_id)
    if shop is not None:
        products = products.filter(shop=shop)
    return products.order_by("id").first()
