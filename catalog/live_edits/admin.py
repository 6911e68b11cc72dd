"""Admin views of live offer changes.

A live edit and its lines are the record of what this ERP sent to 1688 (catalog/live_edits/
writes them; staff preview, apply and undo on /catalog/live/): append-only here, like the change
log — no add, no change; only superusers delete. Stored reasons are shown in the reader's
language.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from catalog.common.admin_actions import RefusingActionsMixin
from catalog.common.admin_readonly import AppendOnlyAdminMixin
from catalog.models.live_edits import LiveEdit, LiveEditLine
from erp1688.messages import render


@admin.register(LiveEdit)
class LiveEditAdmin(RefusingActionsMixin, AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__", "kind", "status", "created_by", "applied_by", "created_at", "finished_at",
        "undo_of", "line_list",
    ]  # fmt: skip
    list_filter = ["kind", "status"]
    date_hierarchy = "created_at"
    list_select_related = ["created_by", "applied_by", "undo_of"]
    search_fields = ["=id"]
    show_full_result_count = False
    exclude = ["last_error"]
    readonly_fields = ["error_shown", "line_list"]

    @admin.display(description=_("last error"))
    def error_shown(self, obj):
        return render(obj.last_error) or "—"

    @admin.display(description=_("lines"))
    def line_list(self, obj):
        url = reverse("admin:catalog_liveeditline_changelist")
        return format_html('<a href="{}?operation__id__exact={}">{}</a>', url, obj.pk, _("lines"))


@admin.register(LiveEditLine)
class LiveEditLineAdmin(RefusingActionsMixin, AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "operation", "product", "label", "field", "before", "after", "found", "status",
        "reason_shown",
    ]  # fmt: skip
    list_filter = ["status", "field"]
    list_select_related = ["operation", "product"]
    search_fields = ["=product__offer_id", "=operation__id"]
    show_full_result_count = False
    exclude = ["reason"]
    readonly_fields = ["reason_shown"]

    @admin.display(description=_("reason"))
    def reason_shown(self, obj):
        return render(obj.reason) or "—"
