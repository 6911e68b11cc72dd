"""The category tree, keyword search of leaves and a leaf's attributes (docs/protocol.md,
"Publishing what 1688 accepts")."""

from __future__ import annotations

from collections.abc import Iterable

from .. import answers
from ..transport import Transport, parsed
from ..types import Category, CategoryAttributes
from . import PRODUCT_NAMESPACE


class CategoriesApi(Transport):
    def get_category(self, access_token: str, category_id: int = 0) -> tuple[Category, ...]:
        """alibaba.category.get: the `categoryInfo` entries for `category_id` (0: the root,
        whose childIDs are the top-level categories); each carries its childIDs."""
        api = "alibaba.category.get"
        params = {"categoryID": category_id, "webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_categories, answer, api)

    def category_children(self, access_token: str, category_id: int = 0) -> tuple[Category, ...]:
        """The direct children of `category_id` (0: the top-level categories): one
        alibaba.category.get for the parent, then one per child (the answer names children by
        id only). An answer that lists the children themselves is read as it is."""
        entries = self.get_category(access_token, category_id)
        listed = tuple(c for c in entries if c.category_id != category_id)
        if listed:
            return listed
        return self._categories_by_id(
            access_token, [child for parent in entries for child in parent.child_ids]
        )

    def _categories_by_id(self, access_token: str, ids: Iterable[int]) -> tuple[Category, ...]:
        found: list[Category] = []
        for category_id in ids:
            answer = self.get_category(access_token, category_id)
            found.extend(c for c in answer if c.category_id == category_id)
        return tuple(found)

    def category_tree(self, access_token: str, *, root: int = 0) -> tuple[Category, ...]:
        """Every category under `root`, parents before children: one alibaba.category.get per
        category, plus one for `root` (a few hundred calls for the whole tree: run it in a job
        and cache it)."""
        found: list[Category] = []
        waiting = list(self.category_children(access_token, root))
        while waiting:
            category = waiting.pop(0)
            found.append(category)
            if category.is_leaf:
                continue
            if category.child_ids:
                waiting.extend(self._categories_by_id(access_token, category.child_ids))
            else:  # an answer shape that lists children instead of naming them
                waiting.extend(self.category_children(access_token, category.category_id))
        return tuple(found)

    def search_categories(self, access_token: str, keyword: str) -> tuple[Category, ...]:
        """alibaba.category.searchByKeyword: leaf categories matching `keyword`."""
        api = "alibaba.category.searchByKeyword"
        params = {"keyword": keyword, "webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_category_search, answer, api)

    def get_category_attributes(self, access_token: str, category_id: int) -> CategoryAttributes:
        """alibaba.category.attribute.get: the leaf's attributes and cascading rules; `500_2`
        (数据准备中) is retried after 1-3 s."""
        api = "alibaba.category.attribute.get"
        params = {"categoryID": category_id, "webSite": "1688"}

        def run() -> CategoryAttributes:
            answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
            return parsed(
                lambda body: answers.parse_category_attributes(body, category_id), answer, api
            )

        return self._read_retrying(api, run)
