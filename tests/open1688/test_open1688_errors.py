import pytest

from open1688 import (
    ERROR_CODES,
    AuthError,
    ConnectionFailed,
    InvalidParameterError,
    MalformedResponseError,
    Open1688Error,
    OutcomeUnknownError,
    PermissionDeniedError,
    QuotaError,
    QuotaSpentError,
    RefreshTokenExpiredError,
    RequestTimeout,
    ServerError,
    SignatureError,
    TransportError,
    error_class_for,
)
from open1688.errors import redact


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("gw.SignatureInvalid", SignatureError),
        ("gw.AppKeyNotFound", SignatureError),
        ("gw.QosAppFrequencyLimit", QuotaError),
        ("gw.QosApiFrequencyLimit", QuotaError),
        ("gw.QosRequestLimit", QuotaError),
        ("gw.NoUsageLeftError", QuotaSpentError),
        ("gw.ParamMissing", InvalidParameterError),
        ("gw.APIUnsupported", InvalidParameterError),
        ("gw.APIACLDecline", PermissionDeniedError),
        ("gw.ISPInvokeError", ServerError),
        ("gw.ISPInvokeTimeout", ServerError),
        ("401", AuthError),
        ("invalid_grant", RefreshTokenExpiredError),
        ("invalid_client", SignatureError),
    ],
)
def test_gateway_codes_map_to_classes(code, expected):
    assert ERROR_CODES[code] is expected
    assert error_class_for(code, 400) is expected


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (None, 400, InvalidParameterError),
        (None, 401, AuthError),
        ("gw.SomethingNew", 429, QuotaError),
        (None, 500, ServerError),
        (None, 503, ServerError),
        (None, 418, Open1688Error),
        ("gw.SignatureInvalid", 500, SignatureError),
    ],
)
def test_http_status_is_the_fallback_when_the_code_is_unknown(code, status, expected):
    assert error_class_for(code, status) is expected


@pytest.mark.parametrize("code", ["401", "gw.SomethingNew", None, "gw.ParamMissing"])
def test_the_seen_unauthorised_message_means_refresh_whatever_the_code(code):
    assert error_class_for(code, 401, "Request need user authorized") is AuthError
    assert error_class_for(code, 400, "request NEED user authorized.") is AuthError


def test_spent_quota_is_a_quota_error_that_is_not_retried():
    assert issubclass(QuotaSpentError, QuotaError)
    assert QuotaError.retryable and not QuotaSpentError.retryable


def test_hierarchy():
    assert issubclass(RefreshTokenExpiredError, AuthError)
    assert issubclass(MalformedResponseError, ValueError)
    for transport in (RequestTimeout, ConnectionFailed, OutcomeUnknownError):
        assert issubclass(transport, TransportError)
    assert all(issubclass(cls, Open1688Error) for cls in ERROR_CODES.values())


def test_error_carries_context_and_reads_well():
    error = AuthError(
        "access_token is invalid or expired",
        code="401",
        http_status=401,
        request_id="req-1",
        api="alibaba.product.get",
    )
    assert (error.code, error.http_status, error.request_id) == ("401", 401, "req-1")
    assert str(error) == (
        "alibaba.product.get 401 401: access_token is invalid or expired (request req-1)"
    )


def test_redact_blanks_every_known_secret():
    text = "token abc-123 rejected for secret s3cret"
    assert redact(text, ["abc-123", None, "s3cret", ""]) == "token *** rejected for secret ***"
