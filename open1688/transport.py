"""The 1688 Open Platform transport: signed calls, retries, typed errors (docs/protocol.md).

`Transport.call()` signs one API call, sends it through the rate limiter, retries what is
safe to retry and maps every failure to a typed error. The API families (open1688/apis/)
build on it; open1688/client.py composes them into Open1688Client.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from .answers.reader import without_nul
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

log = logging.getLogger("open1688")

USER_AGENT = f"erp1688-open1688/1.0 python-requests/{requests.__version__}"
# Business answers that mean "try again shortly" for a read: attribute.get's 500_2 数据准备中
# (data being prepared) and the schema APIs' SYS_ERROR.
RETRY_LATER_CODES = ("500_2", "SYS_ERROR")
RETRY_LATER_ATTEMPTS = 3

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


def _json_or_none(content: bytes) -> tuple[object, bool]:
    """The body's JSON (None when it is not JSON), and whether it is plain: no NaN or
    Infinity and no number in exponent form or of more than 40 characters, so any JSON reader
    (a database's too) reads the body's text as this object."""
    plain = True

    def number(text: str) -> Decimal:
        nonlocal plain
        if len(text) > 40 or "e" in text or "E" in text:
            plain = False
        return Decimal(text)

    def constant(name: str) -> float:
        nonlocal plain
        plain = False
        return float(name)

    try:
        return json.loads(content, parse_float=number, parse_constant=constant), plain
    except (ValueError, RecursionError):  # RecursionError: nested past Python's limit
        return None, False


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


class Answer(dict):
    """An answer's JSON object, with `received`: the body's bytes exactly as they came when
    they are plain JSON that reads as this object (None when the object was altered on the
    way in, NUL characters removed, or the text is not plain). A caller that stores the
    answer can keep those bytes instead of encoding the object again."""

    __slots__ = ("received",)

    def __init__(self, body: dict, received: bytes | None) -> None:
        super().__init__(body)
        self.received = received


def parsed(parse: Callable[[object], object], answer: dict, api: str):
    """`parse(answer)`, its errors naming the API."""
    try:
        return parse(answer)
    except Open1688Error as exc:
        exc.api = exc.api or api
        raise


class Transport:
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
        retry_later_delay: tuple[float, float] = (1.0, 3.0),
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
        self.retry_later_delay = retry_later_delay  # seconds, least and most, before a "500_2"
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
        name = type(self).__name__
        return f"{name}(app_key={self.app_key!r}, gateway={self.gateway!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
        body, plain = _json_or_none(response.content)
        received = response.content if plain else None
        if b"\\u0000" in response.content:
            # No 1688 text means a NUL, and PostgreSQL stores none (text or jsonb): a title or
            # attribute carrying one would make every save of the offer fail. Dropped here, once.
            try:
                body, received = without_nul(body), None
            except RecursionError:  # too deep to clean: refused below as not a JSON object
                body = None
            log.warning("%s answer held NUL characters (\\u0000); they were removed", api)
        error = _error_in(response, body, hidden, api=api)
        if error is None:
            return Answer(body, received)
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

    def _read_retrying(self, api: str, run: Callable[[], object]):
        """A safe read whose answer may be a "try again shortly" business code: retried after
        `retry_later_delay` (1-3 s), at most RETRY_LATER_ATTEMPTS times in all."""
        for attempt in itertools.count(1):
            try:
                return run()
            except BusinessError as exc:
                if exc.code not in RETRY_LATER_CODES or attempt >= RETRY_LATER_ATTEMPTS:
                    raise
                delay = random.uniform(*self.retry_later_delay)
                log.warning("%s answered %s; retry in %.2fs", api, exc.code, delay)
                self._sleep(delay)
