"""Typed errors of the 1688 Open Platform client and the one table that maps codes to them."""

from __future__ import annotations

from collections.abc import Iterable


class Open1688Error(Exception):
    """Base class. `message` comes from the gateway with known secrets redacted."""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        api: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.api = api

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.api, self.http_status, self.code) if part)
        tail = f" (request {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{tail}" if head else f"{self.message}{tail}"


class SignatureError(Open1688Error):
    """The app's own credentials were rejected: bad signature, unknown app key, wrong secret."""


class PermissionDeniedError(Open1688Error):
    """The app may not call this API (not subscribed / API ACL): `api` names the refused API."""


class AuthError(Open1688Error):
    """The seller's access token is missing, invalid or expired: refresh it."""


class RefreshTokenExpiredError(AuthError):
    """The refresh token (or authorization code) is no longer valid: the shop must re-authorise."""


class QuotaError(Open1688Error):
    """Frequency limit. The call was not applied, so it is safe to retry after a pause."""

    retry_after: float | None = None
    retryable = True


class QuotaSpentError(QuotaError):
    """gw.NoUsageLeftError: the app's paid call quota is spent. Retrying in seconds cannot help,
    so the client never retries it and a sync stops at once. A QuotaError all the same: the
    call was not applied, and callers that park work on a quota answer keep doing so."""

    retryable = False

    def __str__(self) -> str:
        return f"the app's paid call quota is spent ({super().__str__()})"


class InvalidParameterError(Open1688Error):
    """The request itself is wrong: missing or invalid parameter, unknown API."""


class BusinessError(Open1688Error):
    """HTTP 200 whose answer says the call failed (`success: false`, `errorMsg`)."""

    def __init__(self, message: str = "", *, sub_code: str | None = None, **context) -> None:
        super().__init__(message, **context)
        self.sub_code = sub_code

    @property
    def offer_not_found(self) -> bool:
        """The offer does not exist (or was deleted): `PRODUCT_NOT_EXIST` (product.get), or
        the buyer side's `SP0056` 商品不存在 (docs/protocol.md)."""
        return self.code in OFFER_NOT_FOUND_CODES


OFFER_NOT_FOUND_CODES = ("PRODUCT_NOT_EXIST", "SP0056")


class TransportError(Open1688Error):
    """No usable HTTP answer arrived."""


class RequestTimeout(TransportError):
    """Connect or read timeout (read timeouts of idempotent calls only)."""


class ConnectionFailed(TransportError):
    """The connection could not be made or broke."""


class OutcomeUnknownError(TransportError):
    """A non-idempotent call may or may not have been applied: reconcile before resending."""


class ServerError(Open1688Error):
    """HTTP 5xx, or a platform-side failure code."""


class MalformedResponseError(Open1688Error, ValueError):
    """The answer is not JSON, is an HTML page, or lacks an expected field."""


class RateLimitTimeout(Open1688Error):
    """The local rate limiter could not grant a token within its max_wait."""


# Gateway `error_code` / OAuth2 `error` -> class. The place to correct a wrong guess; each line
# names its source (docs/protocol.md, "Errors and limits").
ERROR_CODES: dict[str, type[Open1688Error]] = {
    # Seen on the real gateway (official SDKs, doc mirrors, real integrations):
    "gw.SignatureInvalid": SignatureError,
    "gw.AppKeyNotFound": SignatureError,
    "gw.QosAppFrequencyLimit": QuotaError,
    "gw.QosApiFrequencyLimit": QuotaError,
    "gw.QosRequestLimit": QuotaError,  # a rate error like the two above
    "gw.NoUsageLeftError": QuotaSpentError,  # the paid quota: not a rate, never retried
    "gw.ParamMissing": InvalidParameterError,
    "gw.APIUnsupported": InvalidParameterError,
    "gw.APIACLDecline": PermissionDeniedError,  # this app was not granted the API
    "gw.ISPInvokeError": ServerError,
    "gw.ISPInvokeTimeout": ServerError,
    # Seen in real integrations: an unauthorised call answers "401", "Request need user
    # authorized"; refresh the access token once, then retry.
    "401": AuthError,
    # OAuth2 getToken errors follow RFC 6749 (not attested for 1688; docs/protocol.md).
    "invalid_grant": RefreshTokenExpiredError,
    "invalid_client": SignatureError,
    "unauthorized_client": PermissionDeniedError,
    "invalid_request": InvalidParameterError,
    "unsupported_grant_type": InvalidParameterError,
}

# Messages that decide the class whatever the code says (the seen unauthorised answer has been
# reported both with code "401" and with other codes around the same text). Lower case.
ERROR_MESSAGES: dict[str, type[Open1688Error]] = {
    "request need user authorized": AuthError,
}

# Used when the code is absent or unknown.
HTTP_STATUS_ERRORS: dict[int, type[Open1688Error]] = {
    400: InvalidParameterError,
    401: AuthError,
    403: PermissionDeniedError,
    404: InvalidParameterError,
    429: QuotaError,
}


def error_class_for(
    code: str | None, http_status: int | None, message: str = ""
) -> type[Open1688Error]:
    lowered = message.lower()
    for text, error_class in ERROR_MESSAGES.items():
        if text in lowered:
            return error_class
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if http_status in HTTP_STATUS_ERRORS:
        return HTTP_STATUS_ERRORS[http_status]
    if http_status is not None and http_status >= 500:
        return ServerError
    return Open1688Error


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Blank out every known secret value (tokens, app secret, OAuth code) in `text`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
