from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from catalog.watch.views.watchlist import push_http
from erp1688 import views as catalog_views
from erp1688.rq_gate import rq_urlpatterns
from erp1688.staff_access import StaffLoginView

# Every django-rq page behind the superuser gate (the stats API also opens to a configured API
# token): erp1688/rq_gate.py.
rq_patterns = rq_urlpatterns()

handler403 = catalog_views.refused

urlpatterns = [
    path("healthz", catalog_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without an icon link (the admin's): no 404.
    # Resolved when asked, not at import: production's manifest exists only after collectstatic.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg")), name="favicon"),
    path("", catalog_views.home, name="home"),
    path("catalog/", include("catalog.urls")),
    path("accounts/login/", StaffLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("shops/", include("catalog.shops.urls")),
    path("push/1688/", push_http, name="push_1688"),  # 1688 message push (signed, no login)
    path("admin/rq/", include((rq_patterns, "django_rq"), namespace="django_rq")),
    # The admin's own address for its JavaScript catalogue, answered with the project's
    # translations added (staff only, as the admin's is).
    path(
        "admin/jsi18n/",
        admin.site.admin_view(
            catalog_views.AdminJavaScriptCatalog.as_view(packages=["django.contrib.admin"]),
            cacheable=True,
        ),
    ),
    path("admin/", admin.site.urls),
]
