"""The category tree and leaves' attribute schemas, cached per shop.

- `refresh_tree(shop)` reads the whole tree (one call per category: run it in a job or on
  demand) and replaces the shop's cached nodes;
- `search(shop, keyword)` answers from the cache when it has the tree, else asks 1688
  (alibaba.category.searchByKeyword) and caches what came back;
- `attributes_for(shop, category_id)` is the leaf's `CategoryAttributes`, read from 1688 once and
  cached (`refresh=True` reads it again); `cached_attributes` never calls 1688;
- `load_schemas(keys)` reads the schemas validation needs and are not cached yet, and says why
  one could not be had (not a leaf, refused, 1688 not reachable now).
"""

from contextlib import nullcontext

from django.db import transaction

from catalog.models import AttributeSchemaCache, CategoryNode, Shop
from catalog.shops.clients import call_as_shop, client_or_new, make_client
from erp1688.messages import stored as _
from open1688 import BusinessError, InvalidParameterError, Open1688Client, Open1688Error
from open1688.answers import parse_category_attributes
from open1688.types import Category, CategoryAttributes

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


def load_schemas(
    keys: set[tuple[int, int]], *, client: Open1688Client | None = None
) -> tuple[dict[tuple[int, int], CategoryAttributes], dict[tuple[int, int], dict]]:
    """The schemas of (shop id, category id) pairs not cached yet, read from 1688 and cached
    (validation needs one for every item: 1688 refuses an add that misses a required
    attribute). Returns (schemas, problems): a problem is a stored message (erp1688.messages)
    for a category that is not a leaf, that 1688 refused, or that could not be read now."""
    schemas: dict[tuple[int, int], CategoryAttributes] = {}
    problems: dict[tuple[int, int], dict] = {}
    if not keys:
        return schemas, problems
    shops = Shop.objects.in_bulk({shop_id for shop_id, _c in keys})
    known = {
        (node.shop_id, node.category_id): node
        for node in CategoryNode.objects.filter(
            shop_id__in=shops, category_id__in={c for _s, c in keys}
        )
    }
    unreachable: dict[int, dict] = {}  # shop id → why 1688 cannot be asked now
    # Staff wait on validation: one retry and a short budget, not the jobs' patience.
    quick = nullcontext(client) if client else make_client(max_retries=1, retry_budget=5.0)
    with quick as api:
        for key in sorted(keys):
            shop_id, category_id = key
            node = known.get(key)
            if node is not None and not node.is_leaf:
                problems[key] = _(
                    "Category %(id)s (%(name)s) is not a leaf category: choose one of its "
                    "sub-categories"
                ) % {"id": category_id, "name": node.path or node.name}
                continue
            if shop_id in unreachable:
                problems[key] = unreachable[shop_id]
                continue
            try:
                schemas[key] = attributes_for(shops[shop_id], category_id, client=api)
            except (BusinessError, InvalidParameterError) as exc:
                problems[key] = _("1688 gave no attributes for category %(id)s: %(error)s") % {
                    "id": category_id,
                    "error": (exc.message or str(exc))[:300],
                }
            except Open1688Error as exc:  # transport, quota, authorisation: not now
                unreachable[shop_id] = problems[key] = _(
                    "The attributes of category %(id)s could not be read from 1688 now "
                    "(%(error)s): validate again later"
                ) % {"id": category_id, "error": str(exc)[:300]}
    return schemas, problems
