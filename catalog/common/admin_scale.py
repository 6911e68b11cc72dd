"""Admin pieces that keep the lists flat at scale: a paginator that never counts a whole
table or a big search (the admin otherwise runs COUNT(*) over every match on every view), and
the read-only sync day summaries that outlive pruned runs (sync/retention.py)."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from catalog.mirror.pages import estimated_total
from catalog.models.sync_history import SyncRunDay


class CountingPaginator(Paginator):
    """The count is exact up to a bound (catalog.mirror.pages.EXACT_COUNT_LIMIT), else the
    planner's estimate (or the bound plus one): pages past an estimate end on the last real one
    when followed."""

    @cached_property
    def count(self):
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return super().count
        total = estimated_total(rows, filtered=bool(rows.query.where))
        return total.number + 1 if total.floor else total.number


@admin.register(SyncRunDay)
class SyncRunDayAdmin(admin.ModelAdmin):
    list_display = [
        "day", "shop", "runs", "succeeded", "failed", "requests_made", "offers_seen",
        "offers_created", "offers_updated", "changes_written",
    ]  # fmt: skip
    list_filter = ["shop"]
    list_select_related = ["shop"]
    show_full_result_count = False
    paginator = CountingPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
