"""Every API the gateway answers, by (namespace, name): its handler and what the gateway checks
before calling it (token, signature, required parameters). The one module that imports every
API family; nothing here imports the server."""

from . import (
    analyze,
    buyer,
    category,
    increment_edit,
    logistics,
    new_product,
    photobank,
    product,
    publish,
    push,
    search,
    seller_offers,
    system,
)
from .call import Api

PRODUCT = "com.alibaba.product"
CROSSBORDER = "com.alibaba.fenxiao.crossborder"
LOGISTICS = "com.alibaba.logistics"
PUSH = "cn.alibaba.open"
APIS: dict[tuple[str, str], Api] = {
    ("system", "currentTime"): Api(system.current_time, needs_token=False),
    (PRODUCT, "alibaba.product.list.get"): Api(product.list_products),
    (PRODUCT, "alibaba.product.get"): Api(product.get_product, required=("productID",)),
    (PRODUCT, "alibaba.product.add"): Api(product.add_product),
    (PRODUCT, "alibaba.product.edit"): Api(product.edit_product, required=("productID",)),
    # No `alibaba.` prefix, as practitioners call it (sandbox/apis/increment_edit.py).
    (PRODUCT, "product.increment.editInfo"): Api(
        increment_edit.edit_info, required=("catId", "scene", "offerId", "dataBody")
    ),
    (PRODUCT, "alibaba.product.modifyStock"): Api(
        product.modify_stock, required=("productStockChange",)
    ),
    (PRODUCT, "alibaba.product.expire"): Api(product.expire_products, required=("productIds",)),
    (PRODUCT, "alibaba.product.republish"): Api(
        product.republish_products, required=("productIds",)
    ),
    (CROSSBORDER, "product.search.keywordQuery"): Api(
        search.keyword_query, required=("offerQueryParam",)
    ),
    (CROSSBORDER, "product.search.imageQuery"): Api(
        search.image_query, required=("offerQueryParam",)
    ),
    (CROSSBORDER, "product.image.upload"): Api(search.upload_image, required=("uploadImageParam",)),
    (CROSSBORDER, seller_offers.API): Api(
        seller_offers.query_seller_offer_list, required=("offerQueryParam",)
    ),
    (CROSSBORDER, "product.search.queryProductDetail"): Api(
        buyer.query_product_detail, required=("offerDetailParam",)
    ),
    (PRODUCT, "alibaba.product.follow"): Api(buyer.follow, required=("productId",)),
    # Publishing (sandbox/apis/publish.py, category.py, photobank.py, logistics.py)
    # The official SDK: category.get need_auth() False (no token), photo.add need_sign() False,
    # getSchema requires only scene (catId or offerId), new.product.add catId, scene, dataBody.
    (PRODUCT, "alibaba.category.get"): Api(category.get_category, needs_token=False),
    (PRODUCT, "alibaba.category.searchByKeyword"): Api(
        category.search_by_keyword, required=("keyword",)
    ),
    (PRODUCT, "alibaba.category.attribute.get"): Api(
        category.get_attributes, required=("categoryID",)
    ),
    (PRODUCT, "alibaba.new.product.getSchema"): Api(new_product.get_schema, required=("scene",)),
    (PRODUCT, "alibaba.new.product.add"): Api(
        new_product.add_new, required=("catId", "scene", "dataBody")
    ),
    (PRODUCT, "alibaba.product.add.preview"): Api(publish.preview),
    (PRODUCT, "alibaba.photobank.album.getList"): Api(photobank.list_albums),
    (PRODUCT, "alibaba.photobank.photo.add"): Api(
        photobank.add_photo, required=("albumID",), needs_sign=False
    ),
    (LOGISTICS, "alibaba.logistics.myFreightTemplate.list.get"): Api(
        logistics.list_freight_templates
    ),
    (LOGISTICS, "alibaba.logistics.mySendGoodsAddress.list.get"): Api(
        logistics.list_send_goods_addresses
    ),
    (PRODUCT, "alibaba.product.unfollow"): Api(buyer.unfollow, required=("productId",)),
    # Message push replay (sandbox/apis/push.py; no token) and market figures (not attested).
    (PUSH, "push.query.messageList"): Api(push.query_message_list, needs_token=False),
    (PUSH, "push.cursor.messageList"): Api(push.cursor_message_list, needs_token=False),
    (PUSH, "push.message.confirm"): Api(
        push.confirm_messages, needs_token=False, required=("msgIdList",)
    ),
    (CROSSBORDER, "product.analyze.getPerdaySellQuantityTrendNew"): Api(
        analyze.market_sales, required=("offerId",)
    ),
    (CROSSBORDER, "product.analyze.getThirtyDayMedianPriceTrendNew"): Api(
        analyze.market_median_price, required=("offerId",)
    ),
}
