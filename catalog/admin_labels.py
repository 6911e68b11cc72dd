"""The admin's own words in the reader's language: the site's headings, and the names of the
third-party apps it lists (django-axes' login records, django-rq's queues), whose labels are not
translated into Chinese by those apps (django-rq's is not even a message)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("erp1688 administration")
admin.site.site_title = _("erp1688 administration")
admin.site.index_title = _("Site administration")

APP_NAMES = {"axes": _("Login security"), "django_rq": _("Background jobs")}
MODEL_NAMES = {
    ("axes", "AccessAttempt"): _("Login attempts"),
    ("axes", "AccessFailureLog"): _("Failed logins"),
    ("axes", "AccessLog"): _("Login records"),
    ("django_rq", "Dashboard"): _("Job queues"),
}

_get_app_list = admin.site.get_app_list


def get_app_list(request, app_label=None):
    """The admin index and its side bar, with the names above."""
    apps = _get_app_list(request, app_label)
    for app in apps:
        label = app.get("app_label")
        app["name"] = APP_NAMES.get(label, app["name"])
        for model in app.get("models", []):
            model["name"] = MODEL_NAMES.get((label, model.get("object_name")), model["name"])
    return apps


admin.site.get_app_list = get_app_list
