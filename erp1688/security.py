"""Error reports (the DEBUG 500 page, the admin e-mails) that never show a secret.

The 1688 client (open1688/) imports no Django, so `sensitive_variables` cannot mark it; the
filter below hides every local of its frames and of the shop-token helpers instead, and both the
filter and the reporter cleanse any value that holds a known secret: the app secret, the Django
and field-encryption keys, and the access/refresh tokens of every shop, token answer and client
found in the traceback. Django's own filter is off while DEBUG is True; this one is always on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from types import FrameType, TracebackType

from django.conf import settings
from django.utils.html import escape
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

# Frames whose locals are hidden whole: the client package and the token helpers.
HIDDEN_MODULES = ("open1688",)
HIDDEN_FUNCTIONS = {
    ("catalog.shops.clients", "make_client"),
    ("catalog.shops.clients", "save_token"),
    ("catalog.shops.clients", "connect_shop"),
    ("catalog.shops.clients", "access_token_for"),
    ("catalog.shops.clients", "call_as_shop"),
}
SECRET_KEYS = ("access_token", "refresh_token", "app_secret", "_app_secret", "code_verifier")
# Query parameters that carry secrets: the OAuth callback's authorisation code and state.
SECRET_QUERY_PARAMETERS = ("code", "state", "access_token", "refresh_token")
MIN_SECRET_LENGTH = 6  # shorter values would cleanse ordinary words
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@:\s]*:)(?P<password>[^/@\s]+)(?=@)")


def _settings_secrets() -> set[str]:
    found = {
        getattr(settings, "SECRET_KEY", ""),
        getattr(settings, "OPEN1688_APP_SECRET", ""),
        *getattr(settings, "FIELD_ENCRYPTION_KEYS", ()),
        *getattr(settings, "SECRET_KEY_FALLBACKS", ()),
    }
    for name in ("REDIS_URL",):
        match = URL_PASSWORD.search(str(getattr(settings, name, "")))
        if match:
            found.add(match["password"])
    password = settings.DATABASES.get("default", {}).get("PASSWORD") if settings.DATABASES else ""
    found.add(password or "")
    return found


def _secrets_of(value: object) -> Iterator[str]:
    """Secret strings an object carries: a shop, a token answer, a client, a token dict."""
    if isinstance(value, dict):
        for key in SECRET_KEYS:
            candidate = value.get(key)
            if isinstance(candidate, str):
                yield candidate
        return
    attributes = getattr(value, "__dict__", None)
    if not isinstance(attributes, dict):
        attributes = {
            key: getattr(value, key, None)
            for key in SECRET_KEYS
            if key in getattr(type(value), "__dataclass_fields__", {})
        }
    for key in SECRET_KEYS:
        candidate = attributes.get(key)
        if isinstance(candidate, str):
            yield candidate


def _frame_secrets(frames: Iterable[FrameType]) -> set[str]:
    found: set[str] = set()
    for frame in frames:
        for value in list(frame.f_locals.values()):
            try:
                found.update(_secrets_of(value))
            except Exception:  # noqa: S112 - an odd object must not break the error report
                continue
    return found


def _callers(frame: FrameType | None) -> Iterator[FrameType]:
    while frame is not None:
        yield frame
        frame = frame.f_back


def _traceback_frames(tb: TracebackType | None, exc: BaseException | None) -> Iterator[FrameType]:
    seen: set[int] = set()
    pending = [(tb, exc)]
    while pending:
        tb, exc = pending.pop()
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        for linked in (getattr(exc, "__cause__", None), getattr(exc, "__context__", None)):
            if linked is not None and id(linked) not in seen:
                seen.add(id(linked))
                pending.append((linked.__traceback__, linked))


def known_secrets(frames: Iterable[FrameType] = ()) -> list[str]:
    """Every secret known now, longest first (so a longer one is replaced before its part)."""
    found = _settings_secrets() | _frame_secrets(frames)
    return sorted((s for s in found if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str], substitute: str) -> str:
    text = URL_PASSWORD.sub(lambda m: m["head"] + substitute, text)
    for secret in secrets:
        text = text.replace(secret, substitute)
        escaped = escape(secret)
        if escaped != secret:
            text = text.replace(escaped, substitute)
    return text


def _hidden_frame(frame: FrameType) -> bool:
    module = frame.f_globals.get("__name__", "")
    if module.startswith(HIDDEN_MODULES):
        return True
    return (module, frame.f_code.co_name) in HIDDEN_FUNCTIONS


class SecretHidingFilter(SafeExceptionReporterFilter):
    """DEFAULT_EXCEPTION_REPORTER_FILTER: on with DEBUG too; hides client and token frames."""

    def is_active(self, request) -> bool:
        return True

    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        # redis://:password@host, postgres://user:password@host (a lazy object is left alone)
        if type(cleansed) is str:
            cleansed = URL_PASSWORD.sub(lambda m: m["head"] + self.cleansed_substitute, cleansed)
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        if _hidden_frame(tb_frame):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        secrets = known_secrets(_callers(tb_frame))
        cleansed = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if value != self.cleansed_substitute and self._holds_secret(value, secrets):
                value = self.cleansed_substitute
            cleansed.append((name, value))
        return cleansed

    @staticmethod
    def _holds_secret(value: object, secrets: list[str]) -> bool:
        try:
            text = repr(value)
            return any(secret in text for secret in secrets) or any(
                True for _ in _secrets_of(value)
            )
        except Exception:
            return True  # an object that cannot say what it holds is not shown


class SecretRedactingReporter(ExceptionReporter):
    """DEFAULT_EXCEPTION_REPORTER: the rendered page and text never contain a known secret,
    wherever it appears (frame locals, the exception message, request data, settings)."""

    def _secrets(self) -> list[str]:
        found = known_secrets(_traceback_frames(self.tb, self.exc_value))
        query = getattr(self.request, "GET", {})
        for name in SECRET_QUERY_PARAMETERS:
            found.extend(v for v in query.getlist(name, []) if len(v) >= MIN_SECRET_LENGTH)
        return sorted(set(found), key=len, reverse=True)

    def get_traceback_html(self):
        html = super().get_traceback_html()
        return redact(str(html), self._secrets(), self.filter.cleansed_substitute)

    def get_traceback_text(self):
        text = super().get_traceback_text()
        return redact(str(text), self._secrets(), self.filter.cleansed_substitute)


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the styled, translated lockout page (HTTP 429), not a bare 403."""
    from axes.helpers import get_cool_off, get_failure_limit
    from django.shortcuts import render

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": max(1, round(cool_off.total_seconds() / 60)) if cool_off else None,
    }
    return render(
        request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address a lockout counts.

    REMOTE_ADDR, unless TRUSTED_PROXY_COUNT reverse proxies stand in front: then the address the
    outermost trusted proxy saw, counted from the right of X-Forwarded-For (a client can put
    anything on the left of that header, never on the right).
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    return hops[-proxies] if len(hops) >= proxies else remote
