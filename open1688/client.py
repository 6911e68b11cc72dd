"""The 1688 Open Platform client: signed calls, OAuth, retries, typed errors and typed APIs."""

from __future__ import annotations

import base64
import itertools
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from secrets import token_urlsafe
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from . import answers, push_answers
from .errors import (
    BusinessError,
    ConnectionFailed,
    MalformedResponseError,
    Open1688Error,
    OutcomeUnknownError,
    QuotaError,
    RequestTimeout,
    ServerError,
    TransportError,
    error_class_for,
    redact,
)
from .ratelimit import NullRateLimiter
from .signing import sign
from .timefmt import format_1688_time
from .types import (
    Album,
    BuyerOfferDetail,
    Category,
    CategoryAttributes,
    FreightTemplate,
    NewProductResult,
    PhotobankImage,
    PreviewResult,
    ProductDetail,
    ProductListPage,
    ProductSchema,
    ProductSummary,
    SearchPage,
    SendGoodsAddress,
    TokenInfo,
)

log = logging.getLogger("open1688")

USER_AGENT = f"erp1688-open1688/1.0 python-requests/{requests.__version__}"
MAX_LIST_PAGE_SIZE = 20  # alibaba.product.list.get cuts larger pages to 20
MAX_IMAGE_PAGE_SIZE = 50  # product.search.imageQuery: pageSize at most 50
PRODUCT_NAMESPACE = "com.alibaba.product"
SEARCH_NAMESPACE = "com.alibaba.fenxiao.crossborder"
LOGISTICS_NAMESPACE = "com.alibaba.logistics"
PUSH_NAMESPACE = "cn.alibaba.open"
# product.analyze.*: daily sales over 90 days, 30-day median price (docs/protocol.md).
MARKET_APIS = (
    "product.analyze.getPerdaySellQuantityTrendNew",
    "product.analyze.getThirtyDayMedianPriceTrendNew",
)
# alibaba.new.product.* `scene`: required; working publishers send one of these (docs/protocol.md).
PUBLISH_SCENES = ("cbu", "popular", "industry")
# The buyer-side APIs (queryProductDetail, keywordQuery) require `country`: the language of the
# answer's translated fields.
BUYER_COUNTRY = "en"
# keywordQuery's documented `filter` codes (docs/protocol.md).
SEARCH_FILTER_CODES = (
    "1688Selection", "certifiedFactory", "totalEpScoreLv1", "totalEpScoreLv2",
    "totalEpScoreLv3", "totalEpScoreLv4", "qrr0", "qrr1", "qrr5", "qrr10", "shipInToday",
    "shipIn24Hours", "shipIn48Hours", "noReason7DReturn", "isOnePsale", "isOnePsaleFreePost",
    "new7", "new30", "isQqyx",
)  # fmt: skip
PHOTO_NAME_MAX = 30  # alibaba.photobank.photo.add: `name` at most 30 characters
# Business answers that mean "try again shortly" for a read: attribute.get's 500_2 数据准备中
# (data being prepared) and the schema APIs' SYS_ERROR.
RETRY_LATER_CODES = ("500_2", "SYS_ERROR")
RETRY_LATER_ATTEMPTS = 3
TOKEN_API = "system.oauth2.getToken"  # the name the limiter, the logs and on_request see
POSTPONE_API = "system.oauth2.postponeToken"

OnRequest = Callable[[str, int, int | None, float], None]


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return format_1688_time(value)
    raise TypeError(f"cannot send a {type(value).__name__} to 1688")


def encode_param(value: object) -> str:
    """One form value: objects and arrays travel as compact JSON strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_1688_time(value)
    if isinstance(value, Mapping | list | tuple):
        plain = dict(value) if isinstance(value, Mapping) else list(value)
        return json.dumps(plain, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return str(value)


def encode_params(params: Mapping[str, object]) -> dict[str, str]:
    """Form fields of `params`; None means "not sent"."""
    return {key: encode_param(value) for key, value in params.items() if value is not None}


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server: the connect failed."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def _transport_error(
    exc: requests.RequestException, idempotent: bool, hidden: Iterable[str | None], **context
) -> Open1688Error:
    detail = redact(f"{type(exc).__name__}: {exc}", hidden)
    if not idempotent and not _never_sent(exc):
        return OutcomeUnknownError(f"the call may have been applied ({detail})", **context)
    error_class = RequestTimeout if isinstance(exc, requests.Timeout) else ConnectionFailed
    return error_class(detail, **context)


def _json_or_none(content: bytes) -> object:
    try:
        return json.loads(content, parse_float=Decimal)
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        return None


def _without_nul(value: object) -> object:
    """The answer with NUL characters removed from every string (keys too)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _code_and_message(body: dict, status: int) -> tuple[str | None, str]:
    code = body.get("error_code") or body.get("error")  # gateway shape, OAuth2 shape
    message = body.get("error_message") or body.get("error_description") or body.get("exception")
    return (None if code is None else str(code)), str(message or f"HTTP {status}")


def _request_id(response: requests.Response, body: object) -> str | None:
    """The error body's `request_id` (the official Python SDK reads it there), else a header."""
    if isinstance(body, dict) and body.get("request_id") not in (None, ""):
        return str(body["request_id"])[:100]
    return response.headers.get("X-Request-Id")


def _error_in(
    response: requests.Response, body: object, hidden: Iterable[str | None], **context
) -> Open1688Error | None:
    """The typed error an answer carries, or None for a usable JSON object."""
    status = response.status_code
    context.update(http_status=status, request_id=_request_id(response, body))
    if isinstance(body, dict) and (status >= 300 or "error_code" in body):
        code, message = _code_and_message(body, status)
        error_class = error_class_for(code, status, message)
        error = error_class(redact(message, hidden), code=code, **context)
    elif status >= 500 or status == 429:  # e.g. a proxy's HTML page
        error = error_class_for(None, status)(f"HTTP {status} without a JSON error", **context)
    elif isinstance(body, dict):
        return None
    else:
        excerpt = redact(response.text[:120], hidden)
        return MalformedResponseError(f"not a JSON object: {excerpt!r}", **context)
    if isinstance(error, QuotaError):
        error.retry_after = _retry_after(response)
    return error


def _may_have_applied(error: Open1688Error) -> bool:
    """Failures after which a non-idempotent call may still have taken effect."""
    answered_ok = error.http_status is not None and error.http_status < 300
    return isinstance(error, ServerError) or (
        isinstance(error, MalformedResponseError) and answered_ok
    )


def _outcome_unknown(error: Open1688Error) -> OutcomeUnknownError:
    return OutcomeUnknownError(
        f"the call may have been applied ({error.message})",
        code=error.code,
        api=error.api,
        http_status=error.http_status,
        request_id=error.request_id,
    )


def _parsed(parse: Callable[[object], object], answer: dict, api: str):
    try:
        return parse(answer)
    except Open1688Error as exc:
        exc.api = exc.api or api
        raise


class Open1688Client:
    """One app's client; keep it to one thread (requests.Session is not documented as
    thread-safe) and close() it when done, or use it as a context manager."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        gateway: str = "https://gw.open.1688.com",
        authorize_endpoint: str = "https://auth.1688.com/oauth/authorize",
        connect_timeout: float = 3.05,
        read_timeout: float = 20.0,
        max_retries: int = 3,
        retry_budget: float = 30.0,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        rate_limiter=None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        on_request: OnRequest | None = None,
    ) -> None:
        self.app_key = app_key
        self._app_secret = app_secret
        self.gateway = gateway.rstrip("/")
        self.authorize_endpoint = authorize_endpoint
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._rate_limiter = rate_limiter or NullRateLimiter()
        self._owns_session = session is None
        self._session = session or self._new_session(self.gateway)
        self._sleep = sleep
        self._clock = clock
        self._on_request = on_request

    @staticmethod
    def _new_session(gateway: str) -> requests.Session:
        """A keep-alive session to the gateway. The environment's proxy and CA settings
        (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE, ...) are read once here, for the gateway;
        requests would otherwise look them (and ~/.netrc) up again on every call."""
        session = requests.Session()
        # Retries are ours (only we know what is idempotent), so the adapter never retries.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        found = session.merge_environment_settings(gateway, {}, None, None, None)
        session.proxies.update(found["proxies"])
        session.verify = found["verify"] if found["verify"] is not None else True
        session.trust_env = False
        return session

    def __repr__(self) -> str:
        return f"Open1688Client(app_key={self.app_key!r}, gateway={self.gateway!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Open1688Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def call(
        self,
        namespace: str,
        name: str,
        params: Mapping | None = None,
        *,
        access_token: str | None = None,
        version: int = 1,
        idempotent: bool = True,
        files: Mapping[str, bytes] | None = None,
    ) -> dict:
        """One signed API call; returns the answer's JSON object or raises a typed error."""
        path = f"param2/{version}/{namespace}/{name}/{self.app_key}"
        encoded = encode_params(params or {})

        def signed_fields() -> dict[str, str]:  # each attempt gets a fresh timestamp
            fields = {**encoded, "_aop_timestamp": str(int(self._clock() * 1000))}
            if access_token:
                fields["access_token"] = access_token
            fields["_aop_signature"] = sign(path, fields, self._app_secret)
            return fields

        url = f"{self.gateway}/openapi/{path}"
        return self._send(
            name, url, signed_fields, idempotent=idempotent, files=files, hidden=(access_token,)
        )

    def _send(
        self,
        api: str,
        url: str,
        make_fields: Callable[[], dict[str, str]],
        *,
        idempotent: bool,
        files: Mapping[str, bytes] | None = None,
        hidden: Iterable[str | None] = (),
    ) -> dict:
        hidden = (self._app_secret, *hidden)
        started, attempt = self._clock(), 0
        while True:
            attempt += 1
            self._rate_limiter.acquire(api)
            try:
                return self._attempt(api, url, make_fields(), files, attempt, idempotent, hidden)
            except (TransportError, ServerError, QuotaError) as exc:
                delay = self._retry_delay(exc, attempt, started)
                if delay is None:
                    raise
                reason = exc.code or type(exc).__name__
                log.warning(
                    "%s attempt %d failed (%s); retry in %.2fs", api, attempt, reason, delay
                )
                self._sleep(delay)

    def _attempt(
        self,
        api: str,
        url: str,
        fields: dict[str, str],
        files: Mapping[str, bytes] | None,
        attempt: int,
        idempotent: bool,
        hidden: tuple[str | None, ...],
    ) -> dict:
        began, status = time.monotonic(), None
        try:
            response = self._session.post(
                url,
                data=fields,
                files={k: (k, v, "application/octet-stream") for k, v in (files or {}).items()},
                headers={"User-Agent": USER_AGENT},
                timeout=self.timeout,
                allow_redirects=False,
            )
            status = response.status_code
        except requests.RequestException as exc:
            raise _transport_error(exc, idempotent, hidden, api=api) from exc
        finally:
            self._report(api, attempt, status, time.monotonic() - began)
        body = _json_or_none(response.content)
        if b"\\u0000" in response.content:
            # No 1688 text means a NUL, and PostgreSQL stores none (text or jsonb): a title or
            # attribute carrying one would make every save of the offer fail. Dropped here, once.
            try:
                body = _without_nul(body)
            except RecursionError:  # too deep to clean: refused below as not a JSON object
                body = None
            log.warning("%s answer held NUL characters (\\u0000); they were removed", api)
        error = _error_in(response, body, hidden, api=api)
        if error is None:
            return body
        if not idempotent and _may_have_applied(error):
            raise _outcome_unknown(error) from error
        raise error

    def _retry_delay(self, exc: Open1688Error, attempt: int, started: float) -> float | None:
        """Exponential backoff with full jitter; None when retrying is unsafe or over budget."""
        if isinstance(exc, OutcomeUnknownError) or attempt > self.max_retries:
            return None
        if not getattr(exc, "retryable", True):  # e.g. the app's paid quota is spent
            return None
        cap = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        delay = max(random.uniform(0, cap), getattr(exc, "retry_after", None) or 0.0)
        if self._clock() - started + delay > self.retry_budget:
            return None
        return delay

    def _report(self, api: str, attempt: int, status: int | None, elapsed: float) -> None:
        log.debug("%s attempt=%d status=%s elapsed=%.3fs", api, attempt, status, elapsed)
        if self._on_request is not None:
            try:
                self._on_request(api, attempt, status, elapsed)
            except Exception:
                log.exception("on_request hook failed")

    # -- products ----------------------------------------------------------------------------

    def list_products(
        self,
        access_token: str,
        *,
        page_no: int = 1,
        page_size: int = 20,
        start_modify_time: datetime | None = None,
        end_modify_time: datetime | None = None,
        cargo_number: str | None = None,
        status_list: Sequence[str] | None = None,
        product_ids: Sequence[int] | None = None,
        order_by: str = "ID",
        order_type: str = "ASC",
    ) -> ProductListPage:
        params = {
            "pageNo": page_no,
            "pageSize": page_size,
            "startModifyTime": start_modify_time,
            "endModifyTime": end_modify_time,
            "cargoNumber": cargo_number,
            "statusList": None if status_list is None else list(status_list),
            "productIds": None if product_ids is None else list(product_ids),
            "orderByCondition": order_by,
            "orderByType": order_type,
        }
        api = "alibaba.product.list.get"
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_product_list, answer, api)

    def iter_products(
        self,
        access_token: str,
        *,
        start_modify_time: datetime | None,
        end_modify_time: datetime | None,
        page_size: int = 20,
        **filters,
    ) -> Iterator[ProductListPage]:
        """Pages 1..N of one modify-time window, sorted by ID unless `order_by` says otherwise."""
        page_size = min(page_size, MAX_LIST_PAGE_SIZE)  # a cut page would look like the last
        seen = 0
        for page_no in itertools.count(1):
            page = self.list_products(
                access_token,
                page_no=page_no,
                page_size=page_size,
                start_modify_time=start_modify_time,
                end_modify_time=end_modify_time,
                **filters,
            )
            yield page
            seen += len(page.items)
            if len(page.items) < page_size or seen >= page.total_records:
                return

    def get_product(self, access_token: str, product_id: int) -> ProductDetail:
        api = "alibaba.product.get"
        params = {"productID": product_id, "webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_product_detail, answer, api)

    def add_product(self, access_token: str, product: Mapping) -> int:
        """Publish an offer; returns its productID. Not idempotent: an unknown outcome raises
        OutcomeUnknownError, to be reconciled by cargo number before sending again."""
        api = "alibaba.product.add"
        params = {"webSite": "1688", "language": "CHINESE", **product}
        answer = self.call(
            PRODUCT_NAMESPACE, api, params, access_token=access_token, idempotent=False
        )
        try:
            return _parsed(answers.parse_added_product_id, answer, api)
        except MalformedResponseError as exc:  # a success we cannot read may have created it
            message = f"the offer may have been created ({exc.message})"
            raise OutcomeUnknownError(message, api=api, http_status=200) from exc

    def edit_product(self, access_token: str, product_id: int, changes: Mapping) -> None:
        """Idempotent: an edit sets a state, so a replay sets the same state."""
        api = "alibaba.product.edit"
        params = {"webSite": "1688", **changes, "productID": product_id}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        _parsed(answers.check_product_answer, answer, api)

    # -- search ------------------------------------------------------------------------------

    def keyword_search(
        self,
        access_token: str,
        keyword: str,
        *,
        page: int = 1,
        page_size: int = 20,
        price_start: Decimal | str | None = None,
        price_end: Decimal | str | None = None,
        category_id: int | None = None,
        sort: str | None = None,
        filter: str | None = None,
        sale_filters: list[dict] | None = None,
        country: str = BUYER_COUNTRY,
    ) -> SearchPage:
        """`sort` e.g. "price:asc" / "monthSold:desc"; `filter` a comma list of the documented
        filter codes (SEARCH_FILTER_CODES; there is no minimum-order filter: results carry
        `minOrderQuantity`); `sale_filters` [{saleType: sales7 | sales14 | sales30 |
        totalSales, saleStart, saleEnd}]; `country` is required by 1688 (docs/protocol.md)."""
        query = {
            "keyword": keyword,
            "beginPage": page,
            "pageSize": page_size,
            "priceStart": price_start,
            "priceEnd": price_end,
            "categoryId": category_id,
            "sort": sort,
            "filter": filter,
            "saleFilterList": sale_filters or None,
            "country": country,
        }
        return self._search(access_token, "product.search.keywordQuery", query)

    def image_search(
        self,
        access_token: str,
        *,
        image_id: str | None = None,
        image_address: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> SearchPage:
        if (image_id is None) == (image_address is None):
            raise ValueError("give exactly one of image_id and image_address")
        query = {
            "imageId": image_id,
            "imageAddress": image_address,
            "beginPage": page,
            "pageSize": min(page_size, MAX_IMAGE_PAGE_SIZE),
        }
        return self._search(access_token, "product.search.imageQuery", query)

    def _search(self, access_token: str, api: str, query: dict) -> SearchPage:
        params = {"offerQueryParam": {k: v for k, v in query.items() if v is not None}}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_search_page, answer, api)

    def upload_image(self, access_token: str, image: bytes) -> str:
        """Upload a picture for image search; returns its imageId. The parameter is
        `uploadImageParam` {imageBase64} (the official SDK); the answer's `success` is the
        string "true". Shrink the picture to at most 300 KB first (docs/protocol.md)."""
        api = "product.image.upload"
        encoded = base64.b64encode(image).decode("ascii")
        params = {"uploadImageParam": {"imageBase64": encoded}}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_image_id, answer, api)

    # -- buyer side: other sellers' offers ---------------------------------------------------

    def get_buyer_offer(
        self, access_token: str, offer_id: int, *, country: str = BUYER_COUNTRY
    ) -> BuyerOfferDetail:
        """Any seller's offer, read from the buyer side (product.search.queryProductDetail);
        alibaba.product.get reads only the token's own offers."""
        api = "product.search.queryProductDetail"
        params = {"offerDetailParam": {"offerId": offer_id, "country": country}}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_buyer_detail, answer, api)

    def follow_offer(self, access_token: str, offer_id: int) -> None:
        """alibaba.product.follow: stock-change messages come only for followed offers.
        Sets a state, so a replay is harmless."""
        api = "alibaba.product.follow"
        answer = self.call(
            PRODUCT_NAMESPACE, api, {"productId": offer_id}, access_token=access_token
        )
        _parsed(answers.check_follow_answer, answer, api)

    def unfollow_offer(self, access_token: str, offer_id: int) -> None:
        api = "alibaba.product.unfollow"
        answer = self.call(
            PRODUCT_NAMESPACE, api, {"productId": offer_id}, access_token=access_token
        )
        _parsed(answers.check_follow_answer, answer, api)

    # -- message push replay (docs/protocol.md "Message push"); no access token -------------

    def cursor_messages(self, *, quantity: int = 20, message_type: str = "") -> list[dict]:
        """cn.alibaba.open:push.cursor.messageList: up to `quantity` (20-200) undelivered
        messages, oldest first; reading them confirms them (store them before asking for
        more). Each is the push envelope {msgId, type, userInfo, data, gmtBorn}."""
        api = "push.cursor.messageList"
        params = {"quantity": max(20, min(200, quantity)), "type": message_type or None}
        answer = self.call(PUSH_NAMESPACE, api, {k: v for k, v in params.items() if v})
        return _parsed(push_answers.parse_push_messages, answer, api)

    def query_messages(
        self, *, page: int = 1, page_size: int = 20, message_type: str = ""
    ) -> tuple[list[dict], int]:
        """cn.alibaba.open:push.query.messageList: one page of undelivered messages and the
        total; not confirmed (push.message.confirm does that)."""
        api = "push.query.messageList"
        params = {"page": page, "pageSize": max(20, min(200, page_size))}
        if message_type:
            params["type"] = message_type
        answer = self.call(PUSH_NAMESPACE, api, params)
        return _parsed(push_answers.parse_push_page, answer, api)

    def confirm_messages(self, msg_ids: Sequence[int]) -> None:
        """cn.alibaba.open:push.message.confirm (`msgIdList`). Idempotent."""
        if not msg_ids:
            return
        api = "push.message.confirm"
        answer = self.call(PUSH_NAMESPACE, api, {"msgIdList": list(msg_ids)})
        _parsed(push_answers.check_confirm_answer, answer, api)

    # -- market figures (cross-border sourcing solution; parameters and shapes not attested) --

    def market_trend(self, access_token: str, api: str, offer_id: int) -> tuple:
        """One of MARKET_APIS for an offer: ((day "yyyy-MM-dd", Decimal value), ...), oldest
        first. Raises PermissionDeniedError (gw.APIACLDecline) when the app is not granted it."""
        if api not in MARKET_APIS:
            raise ValueError(f"not a market figures API: {api}")
        params = {"offerId": offer_id}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return _parsed(push_answers.parse_market_series, answer, api)

    # -- OAuth -------------------------------------------------------------------------------

    @staticmethod
    def new_state() -> str:
        return token_urlsafe(24)

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "client_id": self.app_key,
                "site": "1688",
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.authorize_endpoint}?{query}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenInfo:
        """Trade the callback's code for tokens. A bad or used code raises
        RefreshTokenExpiredError (invalid_grant): authorisation must start again."""
        fields = {
            "grant_type": "authorization_code",
            "need_refresh_token": "true",
            "client_id": self.app_key,
            "client_secret": self._app_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        }
        # A code works once, so an exchange whose answer was lost must not be replayed.
        return self._get_token("http", fields, idempotent=False, hidden=(code,))

    def refresh_access_token(self, refresh_token: str) -> TokenInfo:
        """New access token; TokenInfo.refresh_token None means "keep the old one"."""
        fields = {
            "grant_type": "refresh_token",
            "client_id": self.app_key,
            "client_secret": self._app_secret,
            "refresh_token": refresh_token,
        }
        return self._get_token("param2", fields, idempotent=True, hidden=(refresh_token,))

    def postpone_token(self, refresh_token: str, access_token: str) -> TokenInfo:
        """Extend a refresh token inside the last 30 days of its life (postponeToken).

        The answer carries a new refresh token and the old one dies; it is not replayed when
        its answer is lost (a replay would present a dead token)."""
        fields = {
            "client_id": self.app_key,
            "client_secret": self._app_secret,
            "refresh_token": refresh_token,
            "access_token": access_token,
        }
        url = f"{self.gateway}/openapi/param2/1/system.oauth2/postponeToken/{self.app_key}"
        answer = self._send(
            POSTPONE_API,
            url,
            lambda: fields,
            idempotent=False,
            hidden=(refresh_token, access_token),
        )
        now = datetime.fromtimestamp(self._clock(), UTC)
        return _parsed(lambda body: answers.parse_postponed_token(body, now), answer, POSTPONE_API)

    def _get_token(self, protocol: str, fields: dict, *, idempotent: bool, hidden) -> TokenInfo:
        # getToken is not signed (docs/protocol.md, OAuth2).
        url = f"{self.gateway}/openapi/{protocol}/1/system.oauth2/getToken/{self.app_key}"
        answer = self._send(TOKEN_API, url, lambda: fields, idempotent=idempotent, hidden=hidden)
        now = datetime.fromtimestamp(self._clock(), UTC)
        return _parsed(lambda body: answers.parse_token(body, now), answer, TOKEN_API)

    # -- live offer changes: stock, delist, relist (docs/protocol.md) -------------------------

    def modify_stock(
        self, access_token: str, changes: Sequence[Mapping], *, increment: bool
    ) -> None:
        """alibaba.product.modifyStock. `changes`: [{"productId", "skuStocks": [{"skuId": the
        SKU's **specId**, "stockChange": n}]}], or [{"productId", "productAmountChange": n}] for
        an offer without SKUs. `increment` True adds n (the platform's default when
        `increaceModify`, so spelled, is absent), False sets n. A delta is not idempotent: an
        answer that may have been lost raises OutcomeUnknownError (re-read the offer)."""
        api = "alibaba.product.modifyStock"
        params = {
            "productStockChange": [dict(change) for change in changes],
            "webSite": "1688",
            "increaceModify": increment,  # always sent: the default (a delta) is the trap
        }
        answer = self.call(
            PRODUCT_NAMESPACE, api, params, access_token=access_token, idempotent=not increment
        )
        _parsed(answers.check_product_answer, answer, api)
        # A per-offer refusal some answers carry is caught by the caller re-reading the offer.

    def expire_products(self, access_token: str, product_ids: Sequence[int]) -> None:
        """alibaba.product.expire (下架): the offers become `outdated`. Sets a state: replayable."""
        api = "alibaba.product.expire"
        params = {"productIds": list(product_ids), "webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        _parsed(answers.check_product_answer, answer, api)

    def republish_products(self, access_token: str, product_ids: Sequence[int]) -> None:
        """alibaba.product.republish (重新上架); capped per member per day (the SDK says 400)."""
        api = "alibaba.product.republish"
        params = {"productIds": list(product_ids)}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        _parsed(answers.check_product_answer, answer, api)

    # -- publishing: categories, schemas, photobank, freight (docs/protocol.md,
    # "Publishing what 1688 accepts") -------------------------------------------------------

    def _read_retrying(self, api: str, run: Callable[[], object]):
        """A safe read whose answer may be a "try again shortly" business code: retried after
        1-3 s, at most RETRY_LATER_ATTEMPTS times in all."""
        for attempt in itertools.count(1):
            try:
                return run()
            except BusinessError as exc:
                if exc.code not in RETRY_LATER_CODES or attempt >= RETRY_LATER_ATTEMPTS:
                    raise
                delay = random.uniform(1.0, 3.0)
                log.warning("%s answered %s; retry in %.2fs", api, exc.code, delay)
                self._sleep(delay)

    def get_category(self, access_token: str, category_id: int = 0) -> tuple[Category, ...]:
        """alibaba.category.get: the `categoryInfo` entries for `category_id` (0: the root,
        whose childIDs are the top-level categories); each carries its childIDs."""
        api = "alibaba.category.get"
        params = {"categoryID": category_id, "webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_categories, answer, api)

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
        return _parsed(answers.parse_category_search, answer, api)

    def get_category_attributes(self, access_token: str, category_id: int) -> CategoryAttributes:
        """alibaba.category.attribute.get: the leaf's attributes and cascading rules; `500_2`
        (数据准备中) is retried after 1-3 s."""
        api = "alibaba.category.attribute.get"
        params = {"categoryID": category_id, "webSite": "1688"}

        def run() -> CategoryAttributes:
            answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
            return _parsed(
                lambda body: answers.parse_category_attributes(body, category_id), answer, api
            )

        return self._read_retrying(api, run)

    def get_product_schema(
        self,
        access_token: str,
        category_id: int | None,
        *,
        scene: str,
        offer_id: int | None = None,
    ) -> ProductSchema:
        """alibaba.new.product.getSchema: the publish form of a leaf (result.bizData, a JSON
        string), or of one's own offer's leaf by `offer_id` (the SDK requires only `scene`);
        SYS_ERROR is retried after 1-3 s."""
        api = "alibaba.new.product.getSchema"
        params = {"catId": category_id, "scene": scene, "offerId": offer_id}

        def run() -> ProductSchema:
            answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
            return _parsed(
                lambda body: answers.parse_product_schema(body, category_id, scene), answer, api
            )

        return self._read_retrying(api, run)

    def add_new_product(
        self,
        access_token: str,
        *,
        category_id: int,
        data_body: Mapping,
        scene: str,
        biz_param: Mapping | None = None,
    ) -> NewProductResult:
        """alibaba.new.product.add (`scene` required: one of PUBLISH_SCENES). `data_body`:
        {"formValues": {"outerId" (the 货号), "title", "primaryPicture", "catProp",
        "skuTable", "priceRange", "freight", "cbuSendAddress", ...}, "global": {...}}
        (catalog/publishing/upload/schema_body.py builds it).
        Not idempotent: a lost answer, a server error, an unreadable success and SYS_ERROR
        raise OutcomeUnknownError (reconcile by 货号 before sending again); a refusal raises
        BusinessError whose `code` is the bizCode."""
        api = "alibaba.new.product.add"
        params = {
            "catId": category_id,
            "scene": scene,
            "dataBody": dict(data_body),
            "bizParam": dict(biz_param) if biz_param is not None else None,
        }
        answer = self.call(
            PRODUCT_NAMESPACE, api, params, access_token=access_token, idempotent=False
        )
        try:
            return _parsed(answers.parse_new_product, answer, api)
        except MalformedResponseError as exc:
            message = f"the offer may have been created ({exc.message})"
            raise OutcomeUnknownError(message, api=api, http_status=200) from exc
        except BusinessError as exc:
            if exc.code in RETRY_LATER_CODES:
                message = f"the offer may have been created ({exc.code}: {exc.message})"
                raise OutcomeUnknownError(message, code=exc.code, api=api, http_status=200) from exc
            raise

    def preview_product(self, access_token: str, product: Mapping) -> PreviewResult:
        """alibaba.product.add.preview: the legacy add's dry run (same fields); nothing is
        created, so it is retried like any read. A refusal is a PreviewResult with ok False."""
        api = "alibaba.product.add.preview"
        params = {"webSite": "1688", "language": "CHINESE", **product}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_preview, answer, api)

    def find_products_by_cargo_number(
        self, access_token: str, cargo_number: str
    ) -> tuple[ProductSummary, ...]:
        """Offers whose 货号 (attribute 1398, an offer-level cargoNumber or a SKU's) is
        `cargo_number`: alibaba.product.list.get filtered by `cargoNumber`, every page."""
        found: list[ProductSummary] = []
        for page in self.iter_products(
            access_token, start_modify_time=None, end_modify_time=None, cargo_number=cargo_number
        ):
            found.extend(page.items)
        return tuple(found)

    def list_albums(self, access_token: str) -> tuple[Album, ...]:
        """alibaba.photobank.album.getList: the seller's photobank albums."""
        api = "alibaba.photobank.album.getList"
        params = {"webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return _parsed(answers.parse_albums, answer, api)

    def add_photo(
        self,
        access_token: str,
        *,
        album_id: int,
        name: str,
        image: bytes,
        description: str | None = None,
    ) -> PhotobankImage:
        """alibaba.photobank.photo.add: `image` goes as the multipart file `imageBytes`
        (a file's bytes are not signed); `name` is cut to 30 characters. The platform refuses
        over 2 MB, formats but jpg/jpeg/gif/bmp/png and transparent PNGs. Retried like a read:
        a replayed upload at worst leaves a second copy of the picture in the album."""
        api = "alibaba.photobank.photo.add"
        params = {
            "albumID": album_id,
            "name": name[:PHOTO_NAME_MAX],
            "description": description,
            "webSite": "1688",
        }
        answer = self.call(
            PRODUCT_NAMESPACE,
            api,
            params,
            access_token=access_token,
            files={"imageBytes": image},
        )
        return _parsed(answers.parse_photo, answer, api)

    def list_freight_templates(self, access_token: str) -> tuple[FreightTemplate, ...]:
        """alibaba.logistics.myFreightTemplate.list.get: the seller's freight templates."""
        api = "alibaba.logistics.myFreightTemplate.list.get"
        answer = self.call(LOGISTICS_NAMESPACE, api, {"webSite": "1688"}, access_token=access_token)
        return _parsed(answers.parse_freight_templates, answer, api)

    def list_send_goods_addresses(self, access_token: str) -> tuple[SendGoodsAddress, ...]:
        """alibaba.logistics.mySendGoodsAddress.list.get: the seller's send-goods addresses."""
        api = "alibaba.logistics.mySendGoodsAddress.list.get"
        answer = self.call(LOGISTICS_NAMESPACE, api, {"webSite": "1688"}, access_token=access_token)
        return _parsed(answers.parse_send_goods_addresses, answer, api)
