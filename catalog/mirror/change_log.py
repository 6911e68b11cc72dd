"""The change log as staff read it at volume: rows found by an offer's title, offer id or 货号,
and one offer's moves seen together in one read (a sync or an edit that moved twelve SKUs' stock
is one row to expand, not twelve rows), with the offer's picture and each move's percent.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from catalog.mirror import selectors
from catalog.models import PriceStockChange, Product, WatchedOffer


def search_changes(changes: QuerySet[PriceStockChange], text: str) -> QuerySet[PriceStockChange]:
    """Rows of own offers matching `text` as the product list's search does (title, offer id,
    the offer's or a SKU's 货号), and of watched offers by title or offer id; the offers are
    resolved to ids first (at most SEARCH_ID_LIMIT of each), so the log's newest-first index
    serves the page."""
    text = text.strip()
    if not text:
        return changes
    limit = selectors.SEARCH_ID_LIMIT
    found = selectors.search_products(Product.objects.order_by(), text)
    products = list(found.values_list("pk", flat=True)[:limit])
    watched = Q(subject__icontains=text)
    if text.isdigit() and len(text) <= 18:
        watched |= Q(offer_id=int(text))
    offers = list(WatchedOffer.objects.filter(watched).values_list("pk", flat=True)[:limit])
    return changes.filter(Q(product_id__in=products) | Q(watched_offer_id__in=offers))


@dataclass
class ChangeGroup:
    """One offer's moves seen in one read (same offer, time and source), newest first."""

    rows: list[tuple[PriceStockChange, str]] = field(default_factory=list)  # (change, label)

    @property
    def head(self) -> PriceStockChange:
        return self.rows[0][0]

    @property
    def picture(self) -> str:
        change = self.head
        return selectors.picture(change.product.main_image) if change.product_id else ""

    @property
    def labels(self) -> list[str]:
        """The kinds of value that moved, each once, in the rows' order."""
        return list(dict.fromkeys(label for _change, label in self.rows))


def _key(change: PriceStockChange) -> tuple:
    return (
        change.product_id, change.watched_offer_id, change.observed_at, change.source,
        change.sync_run_id, change.made_by_id,
    )  # fmt: skip


def grouped(changes) -> list[ChangeGroup]:
    """Consecutive rows (in the log's order) of one offer seen in one read, as groups."""
    groups: list[ChangeGroup] = []
    last = None
    for change in changes:
        key = _key(change)
        if not groups or key != last:
            groups.append(ChangeGroup())
            last = key
        groups[-1].rows.append((change, selectors.change_label(change)))
    return groups
