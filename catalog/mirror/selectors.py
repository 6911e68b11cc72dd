"""Reads behind the staff workspace: the product list, one product's page, the change log.

Every list is built to stay fast at 100,000 products and 1,000,000 change rows: no COUNT over
the table (the pages ask for one row more than they show to know whether a next page exists),
per-row figures (SKU count, stock, price, last change) as correlated subqueries that the database
evaluates only for the rows of the page, and orderings that match an index (see the indexes in
catalog/models/shops.py and mirror.py, and docs/ in the pages benchmark, bench/pages_bench.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connections
from django.db.models import (
    BooleanField,
    DecimalField,
    Exists,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import CategoryNode, PriceStockChange, Product, Shop, Sku
from catalog.models.shops import lowest_price, sku_count
from open1688.types import image_url

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
# A tier's price moved (catalog.models.PriceStockChange.Field; trees before it have no tiers).
TIER_PRICE = "tier_price"

# 1688 offer statuses (productInfo.status, docs/protocol.md), as staff read them.
STATUS_LABELS = {
    "published": _("Published"),
    "online": _("Online"),
    "auditing": _("Under review"),
    "untread": _("Not submitted"),
    "FailAudited": _("Review failed"),
    "outdated": _("Expired"),
    "member deleted": _("Deleted by the seller"),
    "delete": _("Deleted"),
    "TBD": _("To be decided"),
}


def status_choices() -> list[tuple[str, str]]:
    """1688's statuses, and Product.GONE (ProductQuerySet.with_status filters by any of them)."""
    return [*STATUS_LABELS.items(), (Product.GONE, _("No longer on 1688"))]


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status or "—"))


def _tier_price(index: int):
    """The price of tier `index` of the offer's quantity tiers (None past the last tier)."""
    return Cast(KT(f"price_ranges__{index}__price"), MONEY_FIELD)


def _sku_figure(aggregate, column: str):
    return Subquery(
        Sku.objects.filter(product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(figure=aggregate(column))
        .values("figure")[:1]
    )


def product_list_queryset() -> QuerySet[Product]:
    """Products with the figures the list shows, computed for the shown rows only.

    1688 allows at most three quantity tiers and their prices fall as the quantity grows, so the
    first tier is the highest price and the last one present the lowest (lowest_price, which
    the price sort's stored figure also uses). Offers priced per SKU (quoteType 1) have no
    tiers: their SKUs' lowest and highest price stand in.
    """
    last_change = Subquery(
        PriceStockChange.objects.filter(product=OuterRef("pk"))
        .order_by("-observed_at")
        .values("observed_at")[:1]
    )
    return (
        Product.objects.select_related("shop")
        .defer("raw", "attributes")
        .annotate(
            sku_count=Coalesce(sku_count(), 0),
            sku_stock=_sku_figure(Sum, "stock"),
            low_price=lowest_price(),
            high_price=Coalesce(_tier_price(0), _sku_figure(Max, "price")),
            last_change_at=last_change,
            category_name=_category_name_expression(),
        )
    )


def product(pk) -> Product:
    """One product for its page, with the list's figures (Http404 when there is none)."""
    return get_object_or_404(product_list_queryset().defer(None), pk=pk)


def products_by_id(ids) -> list[Product]:
    """The products a bulk action was asked for, by id."""
    return list(Product.objects.filter(pk__in=list(ids)).order_by("id"))


def shops_of(products) -> list[Shop]:
    """The shops these products belong to, by name."""
    return list(Shop.objects.filter(pk__in={p.shop_id for p in products}).order_by("name"))


SEARCH_ID_LIMIT = 2000  # fewer matches than this are fetched as ids first, then paged


def search_products(products: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Title, offer id, cargo number (货号) of the offer or of one of its SKUs.

    Each text match is its own id query, so each can use its index: a trigram GIN index on
    PostgreSQL (migration 0009), a covering index that is cheaper to scan than the rows on SQLite.
    A rare term (few matches) is resolved to ids first, so the page reads those rows only
    instead of walking the list's order until enough match; a common term pages along the list's
    order and stops early. An exact offer id is looked up first and, when found, is the answer.
    """
    text = text.strip()
    if not text:
        return products
    if text.isdigit() and 6 <= len(text) <= 18:
        exact = products.filter(offer_id=int(text))
        if exact.exists():
            return exact
    by_title = Product.objects.filter(_contains(Product, "subject", text))
    by_cargo = Product.objects.filter(_contains(Product, "cargo_number", text))
    by_sku = Sku.objects.filter(_contains(Sku, "cargo_number", text))
    by_title, by_cargo = (
        by_title.order_by().values_list("pk"),
        by_cargo.order_by().values_list("pk"),
    )
    by_sku = by_sku.order_by().values_list("product_id")
    # UNION ALL streams: the database stops after SEARCH_ID_LIMIT + 1 ids (repeats are harmless).
    ids = [pk for (pk,) in by_title.union(by_cargo, by_sku, all=True)[: SEARCH_ID_LIMIT + 1]]
    if len(ids) <= SEARCH_ID_LIMIT:
        return products.filter(pk__in=set(ids))
    # Many matches: test each row along the list's order; a page fills after a few hundred.
    return products.filter(
        Q(subject__icontains=text)
        | Q(cargo_number__icontains=text)
        | Exists(Sku.objects.filter(product=OuterRef("pk"), cargo_number__icontains=text))
    )


class _HasPiece(Func):
    """erp_bigrams(column) @> ARRAY[UPPER(term)]: the column has this two-character piece."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        (column, column_params), (term, term_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        sql = f"erp_bigrams({column}) @> ARRAY[UPPER({term})]::text[]"
        return sql, (*column_params, *term_params)


def _contains(model, column: str, text: str):
    """`column` contains `text`, case-insensitively, in the form its index can answer.

    On PostgreSQL a two-character term is looked up among the column's two-character pieces
    (a GIN index on erp_bigrams, migration 0021): a trigram index needs three characters."""
    if len(text) == 2 and connections[model.objects.db].vendor == "postgresql":
        return _HasPiece(F(column), Value(text))
    return Q(**{f"{column}__icontains": text})


def filter_price(products: QuerySet[Product], low, high) -> QuerySet[Product]:
    """Offers whose price range (lowest to highest tier or SKU price) meets [low, high]."""
    if low is not None:
        products = products.filter(high_price__gte=low)
    if high is not None:
        products = products.filter(low_price__lte=high)
    return products


def filter_changed_within(products: QuerySet[Product], days: int) -> QuerySet[Product]:
    since = timezone.now() - timedelta(days=days)
    return products.filter(
        Exists(PriceStockChange.objects.filter(product=OuterRef("pk"), observed_at__gte=since))
    )


CATEGORY_NODE_LIMIT = 500  # category ids a name may stand for (a tree holds a few thousand)


def category_name(raw) -> str:
    """The category name 1688 sent with the offer, in the shape the sync stored it.

    A detail answer (alibaba.product.get) nests it under `productInfo`; a list item, or a
    buyer-side detail, carries it at the top level; a list item of the seller's own list may
    carry none (then the category tree, CategoryNode, names the id)."""
    if not isinstance(raw, dict):
        return ""
    info = raw.get("productInfo")
    name = info.get("categoryName") if isinstance(info, dict) else None
    return str(name or raw.get("categoryName") or "")


def _category_name_expression():
    return Coalesce(KT("raw__productInfo__categoryName"), KT("raw__categoryName"))


def filter_category(products: QuerySet[Product], text: str) -> QuerySet[Product]:
    """By the category's name (the one sent with the offer, or the cached category tree's) or
    its numeric id. Each name test is its own OR branch so each can use its own index
    (migrations 0010 and 0019 on PostgreSQL)."""
    text = text.strip()
    if text.isdigit() and len(text) <= 18:
        return products.filter(category_id=int(text))
    named = Q(raw__productInfo__categoryName__icontains=text) | Q(raw__categoryName__icontains=text)
    from_tree = list(
        CategoryNode.objects.filter(Q(name__icontains=text) | Q(path__icontains=text))
        .order_by()
        .values_list("category_id", flat=True)
        .distinct()[:CATEGORY_NODE_LIMIT]
    )
    if from_tree:
        named |= Q(category_id__in=from_tree)
    return products.filter(named)


def money(value) -> str:
    return "" if value is None else f"¥{Decimal(value):.2f}"


def price_text(product) -> str:
    """The price as 1688 shows it: ¥low–high over the tiers (or the SKUs), two decimals."""
    low, high = getattr(product, "low_price", None), getattr(product, "high_price", None)
    if low is None and high is None:
        return "—"
    if low is None or high is None or low == high:
        return money(low if low is not None else high)
    low, high = sorted((low, high))
    return f"{money(low)}–{Decimal(high):.2f}"


def tiers_text(product, tiers=None) -> str:
    unit = product.unit or ""
    return " · ".join(
        f"≥{tier.get('start_quantity')}{unit} {money(tier.get('price'))}"
        for tier in (product.price_ranges if tiers is None else tiers) or []
        if isinstance(tier, dict) and tier.get("price") is not None
    )


def sku_price_text(sku, product) -> str:
    """A SKU's own price, its own tiers (priceRange), or the offer's tiers it shares."""
    if sku.price is not None:
        return money(sku.price)
    own = getattr(sku, "price_ranges", None)
    if own:
        return tiers_text(product, own)
    if product.price_ranges:
        return str(_("The offer's tiers"))
    return "—"


def total_stock(product):
    """1688's amountOnSale for the offer; the SKUs' sum when the offer does not carry one."""
    if product.amount_on_sale is not None:
        return product.amount_on_sale
    return getattr(product, "sku_stock", None)


def picture(path: str) -> str:
    return image_url(path, settings.OPEN1688_IMAGE_BASE) if path else ""


def status_text(product) -> str:
    return str(_("No longer on 1688")) if product.delisted_at else status_label(product.status)


def product_row(product) -> dict:
    """What the product list shows of one product, ready to print."""
    return {
        "product": product,
        "picture": picture(product.main_image),
        "status": status_text(product),
        "status_class": "failed"
        if product.delisted_at
        else ("ok" if product.status == "published" else ""),
        "price": price_text(product),
        "tiers": tiers_text(product),
        "stock": total_stock(product),
    }


# ---------------------------------------------------------------------------------------------
# One product's page


@dataclass
class Series:
    name: str
    kind: str  # "price" or "stock"
    points: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class ProductPage:
    product: Product
    pictures: list[str]
    attributes: list[tuple[str, str]]
    tiers: list[dict]
    skus: list[tuple[Sku, str]]  # (SKU, its price as shown)
    changes: list[PriceStockChange]
    more_changes: bool
    chart: dict


CHART_CHANGES = 5000  # the newest change rows that the chart draws (a product rarely has more)
TABLE_CHANGES = 100


def _attribute_rows(attributes) -> list[tuple[str, str]]:
    rows = []
    for attribute in attributes or []:
        if isinstance(attribute, dict):
            name = attribute.get("attributeName") or attribute.get("name") or ""
            value = attribute.get("value") or attribute.get("attributeValue") or ""
            rows.append((str(name or attribute.get("attributeID", "")), str(value)))
    return rows


def sku_label(sku: Sku | None, remote_sku_id: int = 0) -> str:
    if sku is not None:
        return str(sku)
    return str(_("Whole offer")) if not remote_sku_id else str(remote_sku_id)


def _series_name(change: PriceStockChange, skus_by_remote: dict[int, Sku]) -> tuple[str, str]:
    """(kind, name) of the line a change row belongs to."""
    label = sku_label(skus_by_remote.get(change.remote_sku_id), change.remote_sku_id)
    if change.field == PriceStockChange.Field.STOCK:
        return "stock", label
    if change.field == TIER_PRICE:
        return "price", change_label(change)
    return "price", label


def history_chart(*, first_seen_at: datetime, changes: list[PriceStockChange], skus) -> dict:
    """Step lines per SKU (price, stock) and per tier (price), oldest to newest: the data of
    templates/common/_history_chart.html, for an own product or a watched offer. `skus`: what
    has a `sku_id` and a label (`str`), to name the lines; `first_seen_at`: where a line
    starts at its old value."""
    skus_by_remote = {sku.sku_id: sku for sku in skus}
    lines: dict[tuple[str, str], Series] = {}
    for change in sorted(changes, key=lambda c: (c.observed_at, c.pk)):
        kind, name = _series_name(change, skus_by_remote)
        line = lines.get((kind, name))
        if line is None:
            line = lines[(kind, name)] = Series(name=name, kind=kind)
            if change.before is not None:
                start = min(first_seen_at, change.observed_at)
                line.points.append((_stamp(start), float(change.old_shown)))
        if change.after is not None:
            line.points.append((_stamp(change.observed_at), float(change.new_shown)))
    now = _stamp(timezone.now())
    for line in lines.values():
        if line.points:
            line.points.append((now, line.points[-1][1]))  # the value holds until now
    return {
        "price": [{"name": s.name, "data": s.points} for s in lines.values() if s.kind == "price"],
        "stock": [{"name": s.name, "data": s.points} for s in lines.values() if s.kind == "stock"],
    }


def _stamp(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def product_page(product: Product) -> ProductPage:
    skus = list(product.skus.order_by("id"))
    changes = list(
        PriceStockChange.objects.filter(product=product)
        .select_related("sku", "made_by")
        .order_by("-observed_at", "-id")[:CHART_CHANGES]
    )
    tiers = [
        {"start_quantity": tier.get("start_quantity"), "price": money(tier.get("price"))}
        for tier in product.price_ranges or []
    ]
    return ProductPage(
        product=product,
        pictures=[picture(path) for path in product.images or [] if isinstance(path, str)],
        attributes=_attribute_rows(product.attributes),
        tiers=tiers,
        skus=[(sku, sku_price_text(sku, product)) for sku in skus],
        changes=changes[:TABLE_CHANGES],
        more_changes=len(changes) > TABLE_CHANGES,
        chart=history_chart(first_seen_at=product.first_seen_at, changes=changes, skus=skus),
    )


# ---------------------------------------------------------------------------------------------
# The change log


def change_log_queryset() -> QuerySet[PriceStockChange]:
    # Related rows are fetched for the page's rows only (prefetch): joined into the page query,
    # SQLite's planner walks every product and sorts instead of reading the newest-first index.
    return PriceStockChange.objects.prefetch_related(
        "shop", "product", "sku", "made_by", "watched_offer"
    ).order_by("-observed_at", "-id")


def changes_by_size(changes, *, direction: str, percent, stock_below) -> QuerySet:
    """Direction (up/down), at least `percent` % of the old value, stock ending below N."""
    up = Q(new_value__gt=F("old_value")) | Q(new_stock__gt=F("old_stock"))
    down = Q(new_value__lt=F("old_value")) | Q(new_stock__lt=F("old_stock"))
    if direction == "up":
        changes = changes.filter(up)
    elif direction == "down":
        changes = changes.filter(down)
    if percent:
        share = Decimal(percent) / 100
        bigger = Q(new_value__gte=F("old_value") * (1 + share)) | Q(
            new_stock__gte=F("old_stock") * (1 + share)
        )
        smaller = Q(new_value__lte=F("old_value") * (1 - share)) | Q(
            new_stock__lte=F("old_stock") * (1 - share)
        )
        if direction == "up":
            changes = changes.filter(bigger)
        elif direction == "down":
            changes = changes.filter(smaller)
        else:
            changes = changes.filter(bigger | smaller)
        changes = changes.filter(Q(old_value__gt=0) | Q(old_stock__gt=0))
    if stock_below is not None:
        changes = changes.filter(field="stock", new_stock__lt=stock_below)
    return changes


@dataclass(frozen=True)
class Cursor:
    """Where a change log page starts: after the row (observed_at, id), newest first."""

    observed_at: datetime
    pk: int

    def text(self) -> str:
        return f"{self.observed_at.isoformat()}_{self.pk}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        stamp, _sep, pk = (text or "").rpartition("_")
        try:
            moment = datetime.fromisoformat(stamp)
            number = int(pk)
        except ValueError:
            return None
        if timezone.is_naive(moment) or not 0 < number < 2**63:
            return None
        return cls(moment, number)


def keyset_page(changes: QuerySet, cursor: Cursor | None, size: int):
    """One page newest first, from `cursor` on; (rows, the next page's cursor or None)."""
    if cursor is not None:
        changes = changes.filter(
            Q(observed_at__lt=cursor.observed_at)
            | Q(observed_at=cursor.observed_at, id__lt=cursor.pk)
        )
    rows = list(changes.order_by("-observed_at", "-id")[: size + 1])
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, Cursor(rows[-1].observed_at, rows[-1].pk)


def change_label(change: PriceStockChange) -> str:
    """Which value moved, as staff read it: price, stock, or the tier's price."""
    if change.field == TIER_PRICE:
        quantity = getattr(change, "tier_start_quantity", 0)
        return str(_("Price from %(quantity)s pieces") % {"quantity": quantity})
    return str(change.get_field_display())
