from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from catalog import views as catalog_views

urlpatterns = [
    path("healthz", catalog_views.healthz, name="healthz"),
    path("", catalog_views.home, name="home"),
    path("catalog/", include("catalog.urls")),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("shops/", include("sync.urls")),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
]
