"""The category tree and leaves' attribute schemas, cached per shop (issue 15).

- `refresh_tree(shop)` reads the whole tree (one call per category: run it in a job or on
  demand) and replaces the shop's cached nodes;
- `search(shop, keyword)` answers from the cache when it has the tree, else asks 1688
  (alibaba.category.searchByKeyword) and caches what came back;
- `attributes_for(shop, category_id)` is the leaf's `CategoryAttributes`, read from 1688 once and
  cached (`refresh=True` reads it again); `cached_attributes` never calls 1688 (validation).
"""

from django.db import transaction

from catalog.models import AttributeSchemaCache, CategoryNode, Shop
from sync.gateway import call_as_shop, client_or_new
from sync.open1688 import Open1688Client
from sync.open1688.answers import parse_category_attributes
from sync.open1688.types import Category, CategoryAttributes

SEARCH_LIMIT = 30


def _paths(categories: tuple[Category, ...]) -> dict[int, str]:
    by_id = {c.category_id: c for c in categories}
    paths: dict[int, str] = {}

    def path(category: Category, depth: int = 0) -> str:
        if category.category_id in paths:
            return paths[category.category_id]
        parent = by_id.get(category.parent_id or 0)
        text = category.name
        if parent is not None and depth < 10 and parent.category_id != category.category_id:
            text = f"{path(parent, depth + 1)} > {category.name}"
        paths[category.category_id] = text
        return text

    for category in categories:
        path(category)
    return paths


def _store(shop: Shop, categories: tuple[Category, ...], *, paths: dict[int, str]) -> None:
    """Search answers: leaves only (docs/protocol.md), whatever their isLeaf says."""
    for category in categories:
        CategoryNode.objects.update_or_create(
            shop=shop,
            category_id=category.category_id,
            defaults={
                "name": category.name[:200],
                "parent_id": category.parent_id,
                "is_leaf": True,
                "path": (paths.get(category.category_id) or category.name)[:600],
            },
        )


def refresh_tree(shop: Shop, *, client: Open1688Client | None = None) -> int:
    """Read the whole category tree from 1688 and replace the shop's cache; returns its size."""
    with client_or_new(client) as api:
        categories = call_as_shop(shop, api, api.category_tree)
    with transaction.atomic():
        CategoryNode.objects.filter(shop=shop).delete()
        paths = _paths(categories)
        CategoryNode.objects.bulk_create(
            CategoryNode(
                shop=shop,
                category_id=c.category_id,
                name=c.name[:200],
                parent_id=c.parent_id,
                is_leaf=c.is_leaf,
                path=paths[c.category_id][:600],
            )
            for c in categories
        )
    return len(categories)


def search(shop: Shop, keyword: str, *, client: Open1688Client | None = None) -> list[CategoryNode]:
    """Leaf categories whose path contains `keyword` (from the cache, else from 1688)."""
    keyword = (keyword or "").strip()[:50]
    if not keyword:
        return []
    leaves = CategoryNode.objects.filter(shop=shop, is_leaf=True)
    if keyword.isascii() and keyword.isdigit() and len(keyword) < 19:
        found = list(leaves.filter(category_id=int(keyword))[:1])
        if found:
            return found
    found = list(leaves.filter(path__icontains=keyword)[:SEARCH_LIMIT])
    if found or CategoryNode.objects.filter(shop=shop, parent_id=0).exists():
        return found  # the whole tree is cached: its answer is the answer
    with client_or_new(client) as api:
        answer = call_as_shop(shop, api, api.search_categories, keyword)
    leaves_found = tuple(answer)
    paths = {c.category_id: str(c.raw.get("categoryPath") or c.name) for c in leaves_found}
    _store(shop, leaves_found, paths=paths)
    ids = [c.category_id for c in leaves_found][:SEARCH_LIMIT]
    return list(CategoryNode.objects.filter(shop=shop, category_id__in=ids))


def category_name(shop: Shop, category_id: int | None) -> str:
    if not category_id:
        return ""
    node = CategoryNode.objects.filter(shop=shop, category_id=category_id).first()
    return node.path if node else ""


def cached_attributes(shop_id: int, category_id: int | None) -> CategoryAttributes | None:
    """The cached schema of a leaf, or None; never calls 1688."""
    if not category_id:
        return None
    row = AttributeSchemaCache.objects.filter(shop_id=shop_id, category_id=category_id).first()
    return parse_category_attributes(row.answer, category_id) if row else None


def attributes_for(
    shop: Shop,
    category_id: int,
    *,
    client: Open1688Client | None = None,
    refresh: bool = False,
) -> CategoryAttributes:
    """The leaf's attribute schema: cached, read from 1688 when missing (or `refresh`)."""
    if not refresh:
        cached = cached_attributes(shop.pk, category_id)
        if cached is not None:
            return cached
    with client_or_new(client) as api:
        schema = call_as_shop(shop, api, api.get_category_attributes, category_id)
    AttributeSchemaCache.objects.update_or_create(
        shop=shop, category_id=category_id, defaults={"answer": schema.raw}
    )
    return schema
