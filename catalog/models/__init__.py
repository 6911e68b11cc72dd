"""The catalog app's models, one module per domain: shops (shops, offers, SKUs), mirror (sync
runs, the price/stock change log), sync_history, data_problems, publishing (batches, items, a
shop's publishing settings), follow (source links, follow rules), live_edits, watch (watched
offers, push messages) and alerts.

Every model and every name the migrations reference (catalog.models.JSONField,
catalog.models.new_cargo_number) is re-exported here: Django registers the models by importing
this package, and callers import from catalog.models.
"""

from catalog.models.alerts import Alert, AlertGroup, AlertRule, AlertSnooze
from catalog.models.data_problems import OfferDataProblem
from catalog.models.fields import (
    MONEY,
    EncryptedTextField,
    JSONField,
    ProhibitNullCharactersInJSON,
    json_texts,
)
from catalog.models.follow import FollowRule, LinkOrigin, SkuLink, SourceLink
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.models.mirror import ChangeSource, PriceStockChange, SyncRun
from catalog.models.publishing import (
    VALID_ITEM,
    AttributeSchemaCache,
    CategoryNode,
    PhotobankPicture,
    ShopPublishing,
    UploadBatch,
    UploadBatchQuerySet,
    UploadItem,
    UploadItemQuerySet,
    new_cargo_number,
)
from catalog.models.shops import Product, ProductQuerySet, Shop, ShopQuerySet, Sku
from catalog.models.sync_history import SyncRunDay
from catalog.models.watch import Channel, PushMessage, WatchedOffer, WatchedOfferQuerySet

__all__ = [
    "MONEY",
    "VALID_ITEM",
    "Alert",
    "AlertGroup",
    "AlertRule",
    "AlertSnooze",
    "AttributeSchemaCache",
    "CategoryNode",
    "ChangeSource",
    "Channel",
    "EncryptedTextField",
    "FollowRule",
    "JSONField",
    "LinkOrigin",
    "LiveEdit",
    "LiveEditLine",
    "OfferDataProblem",
    "PhotobankPicture",
    "PriceStockChange",
    "Product",
    "ProductQuerySet",
    "ProhibitNullCharactersInJSON",
    "PushMessage",
    "Shop",
    "ShopPublishing",
    "ShopQuerySet",
    "Sku",
    "SkuLink",
    "SourceLink",
    "SyncRun",
    "SyncRunDay",
    "UploadBatch",
    "UploadBatchQuerySet",
    "UploadItem",
    "UploadItemQuerySet",
    "WatchedOffer",
    "WatchedOfferQuerySet",
    "json_texts",
    "new_cargo_number",
]
