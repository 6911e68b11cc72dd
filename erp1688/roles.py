"""Roles: the three groups staff are put in, and the permissions each one grants.

ROLES is the one source of truth. A data migration creates the groups; a post_migrate handler
(`sync_role_permissions`, connected in catalog/apps.py) sets each group's permissions to exactly
what ROLES lists after every `migrate`, so a later feature that adds a permission only adds its
codename here. Services check the permissions (erp1688.refusals.require), not the group names.

- operator 运营: stage, edit, import, bulk edit, copy offers, validate, submit, retry; link own
  offers to suppliers' and approve or reject a follow rule's change;
- manager 主管: everything an operator does, plus follow rules, connect shops, sync, full
  resync and manage staff on the users page (add, role, active flag, password;
  catalog/staff/services.py) — never a superuser (the admin lets a manager change only the
  groups and the active flag of users who are not superusers);
- viewer 只读: sees every page, changes nothing.
"""

from django.utils.translation import gettext_lazy as _

VIEW = [
    "catalog.view_shop",
    "catalog.view_product",
    "catalog.view_sku",
    "catalog.view_syncrun",
    "catalog.view_pricestockchange",
    "catalog.view_uploadbatch",
    "catalog.view_uploaditem",
    "catalog.view_liveedit",
    "catalog.view_liveeditline",  # the lines of a live edit, in the admin (read-only)
    "catalog.view_watchedoffer",
    "catalog.view_sourcelink",  # following suppliers (catalog/follow/)
    "catalog.view_skulink",
    "catalog.view_followrule",
]

OPERATE = [
    "catalog.add_uploadbatch",
    "catalog.change_uploadbatch",
    "catalog.add_uploaditem",
    "catalog.change_uploaditem",
    "catalog.delete_uploaditem",
    "catalog.submit_uploadbatch",
    "catalog.change_live_offer",
    "catalog.watch_offer",  # watch suppliers' offers (catalog/watch/services.py)
    # link own offers and SKUs to suppliers', approve or reject a follow rule's change
    "catalog.add_sourcelink",
    "catalog.change_sourcelink",
    "catalog.delete_sourcelink",
    "catalog.approve_follow_change",
]

MANAGE = [
    "catalog.connect_shop",
    "catalog.change_shop",
    "catalog.sync_shop",
    "catalog.resync_shop",
    # another person's live-edit draft (catalog/live_edits/ownership.py)
    "catalog.take_over_live_edit",
    # the follow rules of a shop or an offer (catalog/follow/rules.py)
    "catalog.add_followrule",
    "catalog.change_followrule",
    "catalog.delete_followrule",
    "auth.view_user",
    "auth.add_user",  # the users page (catalog/staff/views.py); the admin adds for superusers only
    "auth.change_user",
    "auth.view_group",
]

ROLES: dict[str, list[str]] = {
    "operator": VIEW + OPERATE,
    "manager": VIEW + OPERATE + MANAGE,
    "viewer": VIEW,
}

# Group names are the keys above (stable, used in code and tests); people see these.
ROLE_NAMES = {
    "operator": _("Operator"),
    "manager": _("Manager"),
    "viewer": _("Viewer"),
}


def roles_allowed(permissions) -> list[str]:
    """The names people read of the roles that hold every one of `permissions`."""
    if not permissions:
        return []
    return [str(ROLE_NAMES[r]) for r, held in ROLES.items() if set(permissions) <= set(held)]


def _split(permission: str) -> tuple[str, str]:
    app_label, codename = permission.split(".", 1)
    return app_label, codename


def sync_role_permissions(*, group_model=None, permission_model=None, using="default") -> None:
    """Create the role groups if missing and give each exactly the permissions ROLES lists
    (those that exist yet: a permission of an app migrated later is added on its post_migrate).
    """
    if group_model is None:
        from django.contrib.auth.models import Group, Permission

        group_model, permission_model = Group, Permission
    known = {
        (app_label, codename): pk
        for pk, app_label, codename in permission_model.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for role, permissions in ROLES.items():
        group, _created = group_model.objects.using(using).get_or_create(name=role)
        wanted = [known[_split(p)] for p in permissions if _split(p) in known]
        group.permissions.set(wanted)


def on_post_migrate(sender, using="default", apps=None, **kwargs) -> None:
    """post_migrate handler: runs after every app's migrate (the last run sees every permission)
    and after `flush` (tests), which sends it without `apps`."""
    if apps is None:
        sync_role_permissions(using=using)
        return
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    sync_role_permissions(group_model=group_model, permission_model=permission_model, using=using)
