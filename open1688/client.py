"""The 1688 Open Platform client: the transport (signed calls, retries, typed errors) with
every API family (open1688/apis/) mixed in, so one object serves them all."""

from __future__ import annotations

from .apis import (
    BUYER_COUNTRY,
    LOGISTICS_NAMESPACE,
    PRODUCT_NAMESPACE,
    PUSH_NAMESPACE,
    SEARCH_NAMESPACE,
)
from .apis.buyer import MARKET_APIS, BuyerApi
from .apis.categories import CategoriesApi
from .apis.logistics import LogisticsApi
from .apis.oauth import POSTPONE_API, TOKEN_API, OAuthApi
from .apis.photobank import PHOTO_NAME_MAX, PhotobankApi
from .apis.products import INCREMENT_EDIT_API, MAX_LIST_PAGE_SIZE, ProductsApi
from .apis.publish import PUBLISH_SCENES, PublishApi
from .apis.push import PushApi
from .apis.search import MAX_IMAGE_PAGE_SIZE, SEARCH_FILTER_CODES, SearchApi
from .transport import (
    RETRY_LATER_ATTEMPTS,
    RETRY_LATER_CODES,
    USER_AGENT,
    OnRequest,
    Transport,
    encode_param,
    encode_params,
)

__all__ = [
    "BUYER_COUNTRY",
    "INCREMENT_EDIT_API",
    "LOGISTICS_NAMESPACE",
    "MARKET_APIS",
    "MAX_IMAGE_PAGE_SIZE",
    "MAX_LIST_PAGE_SIZE",
    "PHOTO_NAME_MAX",
    "POSTPONE_API",
    "PRODUCT_NAMESPACE",
    "PUBLISH_SCENES",
    "PUSH_NAMESPACE",
    "RETRY_LATER_ATTEMPTS",
    "RETRY_LATER_CODES",
    "SEARCH_FILTER_CODES",
    "SEARCH_NAMESPACE",
    "TOKEN_API",
    "USER_AGENT",
    "OnRequest",
    "Open1688Client",
    "encode_param",
    "encode_params",
]


class Open1688Client(
    ProductsApi,
    CategoriesApi,
    PublishApi,
    PhotobankApi,
    LogisticsApi,
    SearchApi,
    BuyerApi,
    PushApi,
    OAuthApi,
    Transport,
):
    """One app's client; keep it to one thread (requests.Session is not documented as
    thread-safe) and close() it when done, or use it as a context manager."""
