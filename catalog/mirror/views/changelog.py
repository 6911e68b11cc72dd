"""The price/stock change log for staff: filters, keyset pages (no COUNT over a million rows),
and CSV/XLSX export of what is filtered, streamed."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.mirror import change_log, selectors
from catalog.mirror.filters import ChangeFilter
from catalog.mirror.views.products import EXPORT_CHUNK, export_response, requires

PER_PAGE = 100


def filtered_changes(request):
    filterset = ChangeFilter(request.GET or None, queryset=selectors.change_log_queryset())
    if filterset.is_bound and not filterset.is_valid():
        return filterset, filterset.queryset.none()
    return filterset, filterset.qs


@requires("catalog.view_pricestockchange")
def change_list(request):
    filterset, changes = filtered_changes(request)
    cursor = selectors.Cursor.parse(request.GET.get("after", ""))
    rows, next_cursor = selectors.keyset_page(changes, cursor, PER_PAGE)
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "filter": filterset,
        "groups": change_log.grouped(rows),
        "next_cursor": next_cursor.text() if next_cursor else "",
        "first_page": cursor is None,
        "query": query.urlencode(),
        "export_query": query.urlencode(),
    }
    return render(request, "mirror/changelog_list.html", context)


def change_rows(changes):
    for change in changes.iterator(chunk_size=EXPORT_CHUNK):
        yield [
            timezone.localtime(change.observed_at).strftime("%Y-%m-%d %H:%M:%S"),
            change.subject_owner,  # the shop, or a watched offer's supplier
            change.subject_offer_id,
            change.subject_title,
            change.remote_sku_id or "",
            selectors.sku_label(change.sku, change.remote_sku_id),
            selectors.change_label(change),
            change.old_shown,
            change.new_shown,
            change.delta,
            timezone.localtime(change.remote_modified_at).strftime("%Y-%m-%d %H:%M:%S"),
            change.get_source_display(),
            change.made_by.get_username() if change.made_by else "",
        ]


@requires("catalog.view_pricestockchange")
def change_export(request, fmt):
    _filterset, changes = filtered_changes(request)
    header = [
        _("Observed"), _("Shop"), _("Offer id"), _("Title"), _("SKU id"), _("SKU"), _("Field"),
        _("Old value"), _("New value"), _("Change"), _("Modified on 1688"), _("Source"),
        _("Made by"),
    ]  # fmt: skip
    title = _("Price and stock changes")
    return export_response(fmt, "changes", title, header, change_rows(changes))
