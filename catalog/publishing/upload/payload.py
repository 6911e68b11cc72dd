"""An UploadItem as the parameters of `alibaba.product.add`."""

from decimal import Decimal

from django.conf import settings

from catalog.models import UploadItem


def money(value) -> str:
    # Strings, never float: the client sends them as they are.
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _image_path(url: str) -> str:
    """1688 keeps pictures as paths relative to the image host; send them so."""
    base = settings.OPEN1688_IMAGE_BASE
    return url[len(base) :] if url.startswith(base) else url


def item_to_add_params(item: UploadItem) -> dict:
    """The `alibaba.product.add` parameters of one staged item."""
    skus = item.skus or []
    ranges = [
        {"startQuantity": int(tier["start_quantity"]), "price": money(tier["price"])}
        for tier in item.price_ranges or []
    ]
    if not ranges and item.price is not None:
        ranges = [{"startQuantity": item.min_order_quantity or 1, "price": money(item.price)}]
    stock = item.stock
    if stock is None and skus:
        stock = sum(int(sku.get("stock") or 0) for sku in skus)
    sale_info = {
        "priceRanges": ranges,
        "amountOnSale": stock or 0,
        "minOrderQuantity": item.min_order_quantity,
        "unit": item.unit,
        "quoteType": 1 if skus else 0,  # 1: each SKU has its own price
    }
    params = {
        "productType": "wholesale",
        "categoryID": item.category_id,
        "subject": item.title,
        "description": item.description,
        "language": "CHINESE",
        "attributes": item.attributes or [],
        "image": {"images": [_image_path(url) for url in item.images or []]},
        "saleInfo": sale_info,
        "cargoNumber": item.cargo_number,
        "webSite": "1688",
    }
    if skus:
        params["skuInfos"] = [
            {
                "attributes": sku.get("attributes") or [],
                "price": money(sku["price"] if sku.get("price") is not None else item.price),
                "amountOnSale": int(sku.get("stock") or 0),
                "cargoNumber": sku.get("cargo_number") or "",
            }
            for sku in skus
        ]
    return params
