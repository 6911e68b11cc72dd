"""alibaba.category.get, alibaba.category.searchByKeyword, alibaba.category.attribute.get.

Shapes (docs/protocol.md): category.get answers ``{"categoryInfo": [the category asked for,
with its childIDs], "succes": "true"}`` (the SDK spells it so); categoryID 0 is the pseudo root
whose childIDs are the top-level categories. searchByKeyword answers ``{"products": [leaves],
"success": "true"}`` with no outer ``result``. attribute.get answers ``{"attributes": [...],
"attributeLevelMapStr": "<JSON string>", "success": true}``; a non-leaf has no attributes.
"""

import json
from typing import TYPE_CHECKING

from ..world import categories

if TYPE_CHECKING:
    from .call import ApiCall


def category_error(code: str, message: str) -> dict:
    return {"success": False, "errorCode": code, "errorMsg": message}


def _category_id(call: "ApiCall") -> int | None:
    try:
        return int(call.params.get("categoryID", "0") or "0")
    except ValueError:
        return None


def category_info(node: categories.Node) -> dict:
    return {
        "categoryID": node.category_id,
        "name": node.name,
        "level": node.level,
        "isLeaf": node.is_leaf,
        "parentIDs": categories.path_ids(node.category_id)[:1] or [0],
        "childIDs": list(node.child_ids),
        "categoryType": "1",
        "isSupportProcessing": False,
    }


def get_category(call: "ApiCall") -> dict:
    category_id = _category_id(call)
    node = None if category_id is None else categories.node(category_id)
    if node is None:
        return category_error("CATEGORY_NOT_EXIST", f"类目不存在：{call.params.get('categoryID')}")
    return {"categoryInfo": [category_info(node)], "succes": "true"}


def search_by_keyword(call: "ApiCall") -> dict:
    keyword = call.params.get("keyword", "").strip()
    if not keyword:
        return category_error("KEYWORD_REQUIRED", "keyword is required")
    found = categories.search(keyword)
    products = [
        {
            **category_info(node),
            "categoryPath": " > ".join(
                [
                    categories.nodes()[pid].name
                    for pid in reversed(categories.path_ids(node.category_id))
                ]
                + [node.name]
            ),
        }
        for node in found
    ]
    return {"products": products, "success": "true"}


def get_attributes(call: "ApiCall") -> dict:
    category_id = _category_id(call)
    node = None if category_id is None else categories.node(category_id)
    if node is None:
        return category_error("CATEGORY_NOT_EXIST", f"类目不存在：{call.params.get('categoryID')}")
    if not node.is_leaf:
        return category_error(
            "CATEGORY_NOT_LEAF", f"只能查询叶子类目的属性 / {category_id} is not a leaf category"
        )
    attributes = categories.attributes_for(category_id) or ()
    return {
        "success": True,
        "attributes": [attribute.as_answer() for attribute in attributes],
        "attributeLevelMapStr": json.dumps(
            categories.cascades_for(category_id), ensure_ascii=False, separators=(",", ":")
        ),
    }
