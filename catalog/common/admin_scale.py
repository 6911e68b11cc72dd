"""A paginator that keeps the admin's big lists flat at scale: it never counts a whole table or
a big search (the admin otherwise runs COUNT(*) over every match on every view)."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

from catalog.mirror.pages import estimated_total


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
