"""Reads behind the sourcing pages: the shops whose authorisation may search. The batches
offers are staged into are publishing's (catalog/publishing/selectors.py draft_batches)."""

from catalog.models import Shop


def search_shops():
    """Shops that may search, oldest first: the first is the default."""
    return Shop.objects.syncable().order_by("pk")


def default_search_shop() -> Shop | None:
    return search_shops().first()
