"""Answer shapes of the 1688 APIs, parsed in one place so a wrong guess is fixed in one place:
one module per API family, on the typed reader of reader.py.

Each shape decision carries a comment naming its source; docs/protocol.md is the project's
record of them. Where two sources disagree, both shapes are read. Answers must come from
`json.loads(body, parse_float=Decimal)` so prices never pass through float.
"""

from .buyer import check_follow_answer, parse_buyer_detail, parse_market_series
from .categories import (
    parse_cascades,
    parse_categories,
    parse_category_attributes,
    parse_category_search,
)
from .logistics import parse_freight_templates, parse_send_goods_addresses
from .oauth import parse_postponed_token, parse_token
from .photobank import parse_albums, parse_photo
from .products import (
    check_increment_edit_answer,
    check_product_answer,
    parse_added_product_id,
    parse_product_detail,
    parse_product_list,
)
from .publish import parse_new_product, parse_preview, parse_product_schema
from .push import check_confirm_answer, parse_push_messages, parse_push_page, push_envelope
from .search import parse_image_id, parse_search_page

__all__ = [
    "check_confirm_answer",
    "check_follow_answer",
    "check_increment_edit_answer",
    "check_product_answer",
    "parse_added_product_id",
    "parse_albums",
    "parse_buyer_detail",
    "parse_cascades",
    "parse_categories",
    "parse_category_attributes",
    "parse_category_search",
    "parse_freight_templates",
    "parse_image_id",
    "parse_market_series",
    "parse_new_product",
    "parse_photo",
    "parse_postponed_token",
    "parse_preview",
    "parse_product_detail",
    "parse_product_list",
    "parse_product_schema",
    "parse_push_messages",
    "parse_push_page",
    "parse_search_page",
    "parse_send_goods_addresses",
    "parse_token",
    "push_envelope",
]
