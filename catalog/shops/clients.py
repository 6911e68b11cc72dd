"""The one place the Django side builds 1688 clients and hands out shop access tokens."""

import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import django_rq
import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from django.views.decorators.debug import sensitive_variables

from catalog.models import Shop
from erp1688.messages import as_text, stored
from open1688 import (
    AuthError,
    MalformedResponseError,
    Open1688Client,
    Open1688Error,
    PermissionDeniedError,
    RedisRateLimiter,
    RefreshTokenExpiredError,
    TokenInfo,
)

log = logging.getLogger(__name__)
REFRESH_MARGIN = timedelta(minutes=10)
# postponeToken works only inside the last 30 days of a refresh token's life (docs/protocol.md).
POSTPONE_WINDOW = timedelta(days=30)


# The APIs 1688 answered with HTTP 200 during the current call_as_shop of this thread: an
# APIACLDecline is HTTP 400, so a 200 means the app is granted that API (now).
_answered = threading.local()


def _note_answer(api: str, attempt: int, status: int | None, elapsed: float) -> None:
    if status == 200 and getattr(_answered, "apis", None) is not None:
        _answered.apis.add(api)


def shared_rate_limiter() -> RedisRateLimiter:
    """The rate limit every worker shares, configured from settings (its state is in Redis)."""
    return RedisRateLimiter(
        django_rq.get_connection("default"),
        settings.OPEN1688_APP_KEY,
        rate=settings.OPEN1688_RATE_PER_SECOND,
        per_api=settings.OPEN1688_API_RATES,
    )


def make_client(**overrides) -> Open1688Client:
    """A client configured from settings, sharing the Redis rate limit with every worker."""
    limiter = shared_rate_limiter()
    options = {
        "app_key": settings.OPEN1688_APP_KEY,
        "app_secret": settings.OPEN1688_APP_SECRET,
        "gateway": settings.OPEN1688_GATEWAY,
        "authorize_endpoint": settings.OPEN1688_AUTHORIZE_URL,
        "connect_timeout": settings.OPEN1688_CONNECT_TIMEOUT,
        "read_timeout": settings.OPEN1688_READ_TIMEOUT,
        "max_retries": settings.OPEN1688_MAX_RETRIES,
        "backoff_base": settings.OPEN1688_BACKOFF_BASE,
        "backoff_max": settings.OPEN1688_BACKOFF_MAX,
        "retry_later_delay": settings.OPEN1688_RETRY_LATER_DELAY,
        "rate_limiter": limiter,
        "on_request": _note_answer,
    }
    options.update(overrides)
    return Open1688Client(**options)


def save_token(shop: Shop, token: TokenInfo) -> Shop:
    shop.access_token = token.access_token
    shop.access_token_expires_at = token.expires_at
    if token.refresh_token:  # a refresh answer may omit it: the old one stays valid
        shop.refresh_token = token.refresh_token
        shop.refresh_token_expires_at = token.refresh_token_expires_at
    shop.status = Shop.Status.ACTIVE
    shop.status_reason = ""
    shop.save()
    return shop


def connect_shop(token: TokenInfo, *, name: str = "") -> Shop:
    """Create or re-authorise the shop a token belongs to (the OAuth callback's service).

    Raises MalformedResponseError when the answer names no member, or names that do not fit
    the shop's columns (PostgreSQL refuses them; nothing is cut short silently).
    """
    fits = {"member_id": token.member_id, "login_id": token.resource_owner}
    if not token.member_id:
        raise MalformedResponseError("the token answer names no memberId")
    for field, value in fits.items():
        limit = Shop._meta.get_field(field).max_length
        if value and len(value) > limit:
            raise MalformedResponseError(
                f"the token answer's {field} is longer than {limit} characters: {value[:80]}…"
            )
    shop, _ = Shop.objects.get_or_create(
        member_id=token.member_id,
        defaults={"name": name or token.resource_owner or token.member_id},
    )
    shop.login_id = token.resource_owner or shop.login_id
    return save_token(shop, token)


def refresh_token_refused(exc: RefreshTokenExpiredError) -> str:
    """The shop's status reason, stored as a message shown in the reader's language; 1688's own
    words stay beside it for the record (erp1688/messages.py)."""
    reason = stored(gettext_noop("1688 refused the refresh token: connect the shop again."))
    return as_text(reason % {"platform": exc.message[:120]})


def mark_needs_reauth(shop: Shop, reason: str) -> None:
    Shop.objects.filter(pk=shop.pk).update(
        status=Shop.Status.NEEDS_REAUTH, status_reason=reason[:300], updated_at=timezone.now()
    )
    shop.status, shop.status_reason = Shop.Status.NEEDS_REAUTH, reason[:300]
    log.warning("shop %s needs re-authorisation: %s", shop.member_id, reason)


def access_token_for(shop: Shop, client: Open1688Client, *, force_refresh: bool = False) -> str:
    """A valid access token for `shop`, refreshed first when it is about to expire.

    Raises RefreshTokenExpiredError (after marking the shop) when only a new authorisation helps.
    """
    if not force_refresh and shop.access_token_fresh(REFRESH_MARGIN):
        return shop.access_token
    try:
        with transaction.atomic():
            # Row lock: two workers must not both spend the refresh token at the same moment.
            locked = Shop.objects.select_for_update().get(pk=shop.pk)
            if force_refresh or not locked.access_token_fresh(REFRESH_MARGIN):
                if not locked.refresh_token:
                    raise RefreshTokenExpiredError("the shop has no refresh token", code="none")
                save_token(locked, client.refresh_access_token(locked.refresh_token))
    except RefreshTokenExpiredError as exc:
        # Outside the rolled-back transaction, so the mark sticks and the scheduler skips the shop.
        mark_needs_reauth(shop, refresh_token_refused(exc))
        raise
    shop.access_token = locked.access_token
    shop.access_token_expires_at = locked.access_token_expires_at
    return shop.access_token


@sensitive_variables("token")
def call_as_shop(shop: Shop, client: Open1688Client, method, *args, **kwargs):
    """Call `method(access_token, ...)`; on a rejected token refresh once and call again.

    Safe for non-idempotent calls too: a gateway that rejects the token has not applied the call.
    """
    token = access_token_for(shop, client)
    _answered.apis = set()
    try:
        try:
            return method(token, *args, **kwargs)
        except RefreshTokenExpiredError:
            raise
        except AuthError:  # e.g. "401" / "Request need user authorized": refresh once, retry
            token = access_token_for(shop, client, force_refresh=True)
            return method(token, *args, **kwargs)
    except PermissionDeniedError as exc:  # gw.APIACLDecline: the app was not granted the API
        record_declined_api(shop=shop, api=exc.api or getattr(method, "__name__", ""), error=exc)
        raise
    finally:
        answered, _answered.apis = _answered.apis, None
        if shop.declined_apis and answered:
            _forget_declined(shop, answered)


def _forget_declined(shop: Shop, granted: set[str]) -> None:
    """APIs noted as not granted that 1688 has now answered: granted since (a subscription
    added), so the shop page stops saying otherwise."""
    kept = [e for e in shop.declined_apis if e.get("api") not in granted]
    if len(kept) != len(shop.declined_apis):
        Shop.objects.filter(pk=shop.pk).update(declined_apis=kept)
        shop.declined_apis = kept
        log.info("shop %s: 1688 now answers %s", shop.member_id, sorted(granted))


def may_land_later(exc: Open1688Error) -> bool:
    """A write that timed out — our read timeout, or the gateway's gw.ISPInvokeTimeout — may be
    applied after the answer was given up; a dropped connection or a 5xx is decided at once."""
    return exc.code == "gw.ISPInvokeTimeout" or isinstance(exc.__cause__, requests.Timeout)


def wait_for_late_apply(exc: Open1688Error) -> None:
    """Before 1688 is read to decide whether a write with an unknown outcome took: after a
    timeout, give it OPEN1688_LATE_APPLY_GRACE_SECONDS first, or a check made at once misses a
    late apply (and a resend doubles it: tests/system/test_fault_matrix.py, `slow`,
    `apply_late`)."""
    if may_land_later(exc):
        time.sleep(settings.OPEN1688_LATE_APPLY_GRACE_SECONDS)


def record_declined_api(*, shop: Shop, api: str, error: Open1688Error) -> None:
    """Note on the shop that 1688 refused this app `api` (one entry per API, newest first), so
    the shop page can say which API the app was not granted."""
    entry = {
        "api": api,
        "at": timezone.now().isoformat(),
        "code": error.code or "",
        "message": error.message[:300],
    }
    declined = [entry, *(e for e in shop.declined_apis if e.get("api") != api)]
    Shop.objects.filter(pk=shop.pk).update(declined_apis=declined)
    shop.declined_apis = declined
    log.warning("shop %s: 1688 refused %s to this app: %s", shop.member_id, api, error)


def postpone_expiring_tokens(*, client: Open1688Client | None = None) -> dict[str, int]:
    """Extend (postponeToken) every active shop's refresh token that is inside the last
    POSTPONE_WINDOW of its life, so a shop is not lost to a lapsed token. Run by the scheduler.

    A shop whose token is refused is marked "needs re-authorisation"; another failure is logged
    and tried again on the next run. Returns counts: {"postponed", "failed", "needs_reauth"}.
    """
    now = timezone.now()
    due = Shop.objects.filter(
        status=Shop.Status.ACTIVE,
        refresh_token_expires_at__gt=now,
        refresh_token_expires_at__lte=now + POSTPONE_WINDOW,
    ).order_by("refresh_token_expires_at")
    counts = {"postponed": 0, "failed": 0, "needs_reauth": 0}
    with client_or_new(client) as api:
        for shop in due:
            try:
                _postpone(shop, api)
            except RefreshTokenExpiredError as exc:
                mark_needs_reauth(shop, refresh_token_refused(exc))
                counts["needs_reauth"] += 1
            except Open1688Error as exc:
                log.warning("shop %s: postponeToken failed: %s", shop.member_id, exc)
                counts["failed"] += 1
            else:
                counts["postponed"] += 1
    return counts


@sensitive_variables("access")
def _postpone(shop: Shop, client: Open1688Client) -> None:
    access = access_token_for(shop, client)
    with transaction.atomic():
        # Row lock: a refresh must not spend the refresh token this call is replacing.
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        token = client.postpone_token(locked.refresh_token, access)
        locked.refresh_token = token.refresh_token
        locked.refresh_token_expires_at = token.refresh_token_expires_at
        fields = ["refresh_token", "refresh_token_expires_at", "updated_at"]
        if token.access_token:  # the answer may or may not carry a new access token
            locked.access_token, locked.access_token_expires_at = (
                token.access_token,
                token.expires_at,
            )
            fields += ["access_token", "access_token_expires_at"]
        locked.save(update_fields=fields)


@contextmanager
def client_or_new(client: Open1688Client | None):
    """Use the caller's client, or a new one from settings that is closed afterwards."""
    if client is not None:
        yield client
        return
    with make_client() as fresh:
        yield fresh
