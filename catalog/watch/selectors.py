"""Reads behind the watch pages: the watch list, the latest push messages, one watched offer,
its change history and the other watched offers of its supplier. Writes live in services.py
and push.py.
"""

from django.shortcuts import get_object_or_404

from catalog.models import PriceStockChange, PushMessage, WatchedOffer

LIST_MAX = 500
RECENT_MESSAGES = 10
SIBLINGS_MAX = 50


def watch_list(*, show_all: bool) -> list[WatchedOffer]:
    """The watched offers (those no longer watched too when `show_all`), latest change first."""
    offers = WatchedOffer.objects.all() if show_all else WatchedOffer.objects.active()
    return list(offers.order_by("-last_changed_at", "-added_at", "-pk")[:LIST_MAX])


def recent_push_messages() -> list[PushMessage]:
    return list(PushMessage.objects.order_by("-received_at", "-pk")[:RECENT_MESSAGES])


def watched_offer(pk) -> WatchedOffer:
    """One watched offer (Http404 when there is none)."""
    return get_object_or_404(WatchedOffer, pk=pk)


def recent_changes(watched: WatchedOffer, limit: int) -> list[PriceStockChange]:
    """The offer's latest change-log rows, newest first."""
    return list(
        PriceStockChange.objects.filter(watched_offer=watched)
        .select_related("watched_offer")
        .order_by("-observed_at", "-id")[:limit]
    )


def same_supplier(watched: WatchedOffer) -> list[WatchedOffer]:
    """Other watched offers of the offer's supplier, known by its open id or member id."""
    siblings = WatchedOffer.objects.exclude(pk=watched.pk)
    if watched.supplier_open_id:
        siblings = siblings.filter(supplier_open_id=watched.supplier_open_id)
    elif watched.supplier_member_id:
        siblings = siblings.filter(supplier_member_id=watched.supplier_member_id)
    else:
        return []
    return list(siblings.order_by("-added_at")[:SIBLINGS_MAX])
