from django.urls import path

from catalog.shops.views import connect as views

app_name = "sync"
urlpatterns = [
    path("connect/", views.connect_start, name="connect"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
]
