"""Who may add, change and delete rows the system writes, in one place for every admin.

- `ViewOnlyMixin`: nothing is added or changed by hand (a mirror of 1688, a record of what a
  job did); deleting is as the model's permission says. Also for inlines.
- `AppendOnlyAdminMixin`: the audit trail (sync runs, the change log, live edits...): no add,
  no change; only superusers delete.
- `ReadOnlyAdminMixin`: shown only: no add, no change, no delete.
"""


def is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


class ViewOnlyMixin:
    # `obj` is optional: a ModelAdmin's has_add_permission takes none, an inline's takes one.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SuperuserDeletesMixin:
    """Deleting takes a superuser (it deletes what a sync or a job wrote)."""

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request)


class AppendOnlyAdminMixin(SuperuserDeletesMixin, ViewOnlyMixin):
    """Written by the system, never by hand: no add, no change; only superusers delete."""


class ReadOnlyAdminMixin(ViewOnlyMixin):
    def has_delete_permission(self, request, obj=None):
        return False
