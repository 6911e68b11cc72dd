"""Admin views of alert rules and alerts: they belong to one staff member (set on
/catalog/alerts/rules/, evaluated by catalog/alerts/engine.py): each sees only their own,
read-only; superusers see everyone's. Alerts are shown in the reader's language.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from catalog.alerts.rendering import message
from catalog.common.admin_actions import RefusingActionsMixin
from catalog.common.admin_readonly import AppendOnlyAdminMixin
from catalog.models import Alert, AlertRule


class OwnRecordsAdmin(RefusingActionsMixin, AppendOnlyAdminMixin, admin.ModelAdmin):
    """Rows with an `owner`: staff who may see products see their own, superusers everyone's."""

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows if request.user.is_superuser else rows.filter(owner=request.user)

    def has_view_permission(self, request, obj=None):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        own = obj is None or obj.owner_id == user.pk
        return own and user.has_perm("catalog.view_product")

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(AlertRule)
class AlertRuleAdmin(OwnRecordsAdmin):
    list_display = ["kind", "threshold", "scope", "shop", "product", "email", "active", "owner"]
    list_filter = ["kind", "scope", "active"]
    list_select_related = ["owner", "shop", "product"]


@admin.register(Alert)
class AlertAdmin(OwnRecordsAdmin):
    list_display = ["created_at", "text", "owner", "read_at", "resolved_at", "emailed_at"]
    list_filter = ["rule__kind"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    show_full_result_count = False
    exclude = ["params"]
    readonly_fields = ["text"]

    @admin.display(description=_("alert"))
    def text(self, obj):
        return message(obj)
