"""The admin's users: superusers edit them fully; a manager changes only the groups (roles)
and the active flag of users who are not superusers. The staff pages' users page is
catalog/staff/views.py."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

from catalog.common.admin_actions import RefusingActionsMixin
from catalog.common.admin_labels import add_role_column
from catalog.common.admin_readonly import SuperuserDeletesMixin, is_superuser

User = get_user_model()


class ManagedUserAdmin(RefusingActionsMixin, SuperuserDeletesMixin, UserAdmin):
    """Superusers edit users fully; a manager (auth.change_user) changes only the groups and the
    active flag of users who are not superusers, so a role cannot grant itself more."""

    def get_fieldsets(self, request, obj=None):
        if obj is None or is_superuser(request):
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": ["username", "first_name", "last_name", "is_active", "groups"]})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None or is_superuser(request):
            return super().get_readonly_fields(request, obj)
        return ["username", "first_name", "last_name"]

    def has_add_permission(self, request):
        return is_superuser(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not is_superuser(request):
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not is_superuser(request):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, ManagedUserAdmin)
add_role_column(admin.site._registry[User])
