"""The gate in front of every django-rq page: superusers only, whatever headers come.

django-rq admits any staff member to its views, and its stats API (stats.json, metrics) any
request carrying a bearer token when one is configured. Here every django-rq URL needs a
superuser's session, and the stats API alone also opens to the API token (setting
`RQ_API_TOKEN`, which django-rq reads too) when one is configured, compared in constant time:
a monitoring probe without a session. Without a configured token a token-looking header or
URL changes nothing.

Used by erp1688/urls.py (/admin/rq/) and catalog/common/rq_admin.py (the admin's "Job queues"
entry).
"""

from __future__ import annotations

import hmac
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, reverse

BEARER = "Bearer "


def is_superuser(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def superusers_only(view):
    """The RQ dashboard can empty queues and delete jobs: superusers only (others: the styled
    refusal page; anonymous: the login page)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not is_superuser(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def configured_token() -> str:
    return str(getattr(settings, "RQ_API_TOKEN", "") or "")


def presented_token(request, kwargs: dict) -> str:
    """The token of a monitoring request: the bearer header, else the URL's token part."""
    header = request.headers.get("Authorization", "")
    if header.startswith(BEARER):
        return header.removeprefix(BEARER).strip()
    return str(kwargs.get("token") or "")


def token_matches(given: str) -> bool:
    """True only when a token is configured and `given` is it (constant-time comparison of the
    bytes: compare_digest refuses non-ASCII text)."""
    expected = configured_token()
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def superusers_or_api_token(view):
    """The RQ stats API: a superuser's session, or the configured API token."""
    guarded = superusers_only(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if token_matches(presented_token(request, kwargs)):
            return view(request, *args, **kwargs)
        return guarded(request, *args, **kwargs)

    return wrapped


def gated(patterns, wrapper) -> list[URLPattern]:
    """`patterns` with each view behind `wrapper` (same route, arguments and name)."""
    return [URLPattern(p.pattern, wrapper(p.callback), p.default_args, p.name) for p in patterns]


def rq_urlpatterns(name_prefix: str = "") -> list[URLPattern]:
    """Every django-rq URL, each behind its gate."""
    from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

    return gated(get_api_urlpatterns(name_prefix), superusers_or_api_token) + gated(
        get_admin_urlpatterns(name_prefix), superusers_only
    )
