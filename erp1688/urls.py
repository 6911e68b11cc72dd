from functools import wraps

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import URLPattern, include, path, reverse
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from catalog import views as catalog_views
from catalog.watch_views import push_http


def superusers_only(view):
    """The RQ dashboard can empty queues and delete jobs: superusers only (others: the styled
    refusal page; anonymous: the login page)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def superusers_or_api_token(view):
    """The RQ stats API: with an API token (URL or bearer header) django-rq checks the token
    itself (monitoring); a browser session must be a superuser's, as for the dashboard."""
    guarded = superusers_only(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if kwargs.get("token") or request.headers.get("Authorization", "").startswith("Bearer "):
            return view(request, *args, **kwargs)
        return guarded(request, *args, **kwargs)

    return wrapped


def _wrapped(patterns, wrapper):
    return [URLPattern(p.pattern, wrapper(p.callback), p.default_args, p.name) for p in patterns]


rq_patterns = _wrapped(get_api_urlpatterns(), superusers_or_api_token) + get_admin_urlpatterns(
    view_wrapper=superusers_only
)

handler403 = catalog_views.refused

urlpatterns = [
    path("healthz", catalog_views.healthz, name="healthz"),
    path("", catalog_views.home, name="home"),
    path("catalog/", include("catalog.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("shops/", include("sync.urls")),
    path("push/1688/", push_http, name="push_1688"),  # 1688 message push (signed, no login)
    path("admin/rq/", include((rq_patterns, "django_rq"), namespace="django_rq")),
    path("admin/", admin.site.urls),
]
