"""The admin's own words in the reader's language: the site's headings, the names of the
third-party apps it lists (django-axes' login records, django-rq's queues), whose labels are not
translated into Chinese by those apps (django-rq's is not even a message), role names, and
permission names (Django stores them in English when the migrations run)."""

from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from erp1688.roles import ROLE_NAMES

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


def _role_label(group) -> str:
    """A role group reads as its translated role name wherever it is shown (the user form's
    groups, the filters, the group list); the database keeps the English key."""
    return str(ROLE_NAMES.get(group.name, group.name))


Group.__str__ = _role_label

# Django's own four permissions of every model, by the codename's first word.
PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def _permission_label(permission) -> str:
    """A permission reads "app | model | what it allows" in the reader's language wherever the
    admin shows it (a user's or a role's permissions); the project's own permissions are
    messages of the catalogue (their names in the models' Meta)."""
    content_type = permission.content_type
    model = content_type.model_class()
    action, _sep, rest = permission.codename.partition("_")
    if model is not None and action in PERMISSION_ACTIONS and rest == model._meta.model_name:
        name = PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name}
    else:
        name = gettext(permission.name)
    return f"{content_type} | {name}"


Permission.__str__ = _permission_label


@admin.display(description=_("Role"))
def roles_column(user) -> str:
    return "、".join(str(group) for group in user.groups.all()) or "—"


def add_role_column(user_admin) -> None:
    """The admin's user list gets a translated role column (one prefetch for the page); called
    by catalog/staff/admin.py once it registers the user admin."""
    user_admin.list_display = (*user_admin.list_display, roles_column)
    get_queryset = user_admin.get_queryset
    user_admin.get_queryset = lambda request: get_queryset(request).prefetch_related("groups")
