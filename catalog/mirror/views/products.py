"""Staff pages for the mirrored catalog: the product list (filters, sorting, export, bulk
actions) and one product's page with its price/stock history chart.

Thin shells: parse the query, call selectors or a service, render.
"""

import csv
import tempfile
from functools import wraps

from django.contrib import messages
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.common.category_names import category_label
from catalog.mirror import change_log, pages, selectors
from catalog.mirror.filters import ProductFilter
from catalog.mirror.tables import ProductTable
from catalog.models import Product
from catalog.publishing import selectors as publishing_selectors
from catalog.publishing.resources import escape_cell  # one formula escaping for every export
from erp1688.refusals import Refused, require
from erp1688.staff_access import staff_member_required

MAX_SELECTED = 500
EXPORT_CHUNK = 2000
XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows, less the header
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def requires(permission: str):
    """Login + staff (else the login page), then the permission (else the refusal page)."""

    def decorate(view):
        @staff_member_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require(request.user, permission)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def filtered_products(request) -> ProductFilter:
    return ProductFilter(request.GET or None, queryset=selectors.product_list_queryset())


def _products(filterset: ProductFilter):
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs


def _is_filtered(filterset: ProductFilter) -> bool:
    if not filterset.is_bound:
        return False
    if not filterset.is_valid():
        return True  # an empty list: its total is counted (nothing to count)
    return any(value not in (None, "") for value in filterset.form.cleaned_data.values())


PAGE_PARAMS = ("after", "before", "last", "n", "page")


def _link(request, **params) -> str:
    """This list's address with the paging parameters replaced."""
    query = request.GET.copy()
    for name in PAGE_PARAMS:
        query.pop(name, None)
    for name, value in params.items():
        if value not in (None, ""):
            query[name] = value
    return "?" + query.urlencode()


def _number(request) -> int:
    text = request.GET.get("n", "1")
    return int(text) if text.isdigit() and len(text) < 7 else 1


@requires("catalog.view_product")
def product_list(request):
    filterset = filtered_products(request)
    sort = pages.parse_sort(request.GET.get("sort"))
    size = pages.parse_size(request.GET.get("size"))
    table = ProductTable([], order_by=sort)  # headers and sort links only: rows come from pages
    products = _products(filterset)
    page = pages.product_page(
        products,
        sort=sort,
        size=size,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        last_page=request.GET.get("last") == "1",
    )
    if not page.rows and (request.GET.get("after") or request.GET.get("before")):
        page = pages.product_page(products, sort=sort, size=size)  # a stale key: the first page
    last_page = request.GET.get("last") == "1"
    number = None if last_page else (_number(request) if page.has_previous else 1)
    total = pages.product_total(products, filtered=_is_filtered(filterset))
    query = request.GET.copy()
    for name in PAGE_PARAMS:
        query.pop(name, None)
    pager = {
        "number": number,
        "size": size,
        "sizes": [(choice, _link(request, size=choice)) for choice in pages.PAGE_SIZES],
        "total": total,
        "first": _link(request) if page.has_previous else "",
        "previous": _link(request, before=page.first.text(), n=number and max(number - 1, 1))
        if page.has_previous
        else "",
        "next": _link(request, after=page.last.text(), n=number and number + 1)
        if page.has_next
        else "",
        "last": _link(request, last=1) if page.has_next else "",
    }
    context = {
        "filter": filterset,
        "table": table,
        "page": page,
        "pager": pager,
        "rows": [selectors.product_row(product) for product in page.rows],
        "open_batches": publishing_selectors.draft_batches()[:50],
        "query": query.urlencode(),
        "sort_query": _sort_query(query),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "mirror/product_list.html", context)


def _sort_query(query) -> str:
    query = query.copy()
    query.pop("sort", None)
    return query.urlencode()


@requires("catalog.view_product")
def product_detail(request, pk):
    product = selectors.product(pk)
    page = selectors.product_page(product)
    context = {
        "page": page,
        "product": product,
        "change_groups": change_log.grouped(page.changes),
        "status": selectors.status_text(product),
        "price": selectors.price_text(product),
        "stock": selectors.total_stock(product),
        "category": category_label(
            shop_id=product.shop_id, category_id=product.category_id, raw=product.raw
        ),
    }
    return render(request, "mirror/product_detail.html", context)


# ---------------------------------------------------------------------------------------------
# Exports: streamed, never the whole table in memory


class _Echo:
    def write(self, value):
        return value


def stream_csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """CSV with a byte order mark (Excel then reads UTF-8), one chunk per row batch."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([escape_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_file(filename: str, title: str, header: list[str], rows) -> FileResponse:
    """XLSX written row by row (openpyxl write-only) to a temporary file, then streamed."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    sheet.append(header)
    for number, row in enumerate(rows, start=1):
        if number > XLSX_MAX_ROWS:  # a spreadsheet's last row; CSV has no such limit
            break
        sheet.append([escape_cell(value) for value in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes (and so removes) it
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX)


def export_response(fmt: str, stem: str, title: str, header: list[str], rows):
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        return xlsx_file(f"{stem}-{stamp}.xlsx", title, header, rows)
    return stream_csv(f"{stem}-{stamp}.csv", header, rows)


def product_rows(products):
    for product in products.iterator(chunk_size=EXPORT_CHUNK):
        yield [
            product.offer_id,
            product.subject,
            product.shop.name,
            selectors.status_text(product),
            selectors.price_text(product),
            selectors.tiers_text(product),
            selectors.total_stock(product),
            product.sku_count,
            product.cargo_number,
            product.category_id,
            _stamp(product.last_change_at),
            _stamp(product.remote_modified_at),
        ]


def _stamp(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@requires("catalog.view_product")
def product_export(request, fmt):
    filterset = filtered_products(request)
    products = _products(filterset).order_by("-remote_modified_at", "-id")
    header = [
        _("Offer id"), _("Title"), _("Shop"), _("Status"), _("Price"), _("Price tiers"),
        _("Total stock"), _("SKUs"), _("Cargo number"), _("Category id"), _("Last change"),
        _("Modified on 1688"),
    ]  # fmt: skip
    return export_response(fmt, "products", _("Products"), header, product_rows(products))


# ---------------------------------------------------------------------------------------------
# Bulk actions on the selected products: each one calls a service


def _selected(request) -> list[Product]:
    ids = [int(v) for v in request.POST.getlist("select") if v.isdigit() and len(v) < 19]
    return selectors.products_by_id(ids[:MAX_SELECTED])


def _back(request):
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/catalog/products/") else "catalog:product_list")


@requires("catalog.view_product")
def product_bulk(request):
    """Sync the selected products' shops now, or stage copies of them into a batch."""
    if request.method != "POST":
        return redirect("catalog:product_list")
    products = _selected(request)
    action = request.POST.get("action", "")
    if not products:
        messages.error(request, _("Select at least one product first."))
        return _back(request)
    if action == "sync":
        return _sync_shops(request, products)
    if action == "copy":
        return _stage_copies(request, products)
    messages.error(request, _("Unknown action."))
    return _back(request)


def _sync_shops(request, products):
    from catalog.shops.services import request_sync  # queues a job: imported when used

    for shop in selectors.shops_of(products):
        try:
            request_sync(user=request.user, shop=shop)
        except Refused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("Sync of %(shop)s queued.") % {"shop": shop.name})
    return _back(request)


def _stage_copies(request, products):
    from catalog.publishing.services import copy_offers  # reads offers on 1688: imported when used

    batch_id = request.POST.get("batch", "")
    batch = publishing_selectors.batch_or_none(batch_id)
    if batch is None:
        messages.error(request, _("Choose the batch to copy the products into."))
        return _back(request)
    refs = " ".join(str(product.offer_id) for product in products)
    try:
        result = copy_offers(user=request.user, batch=batch, offer_refs=refs)
    except Refused as refused:
        messages.error(request, refused.message)
        return _back(request)
    messages.success(
        request,
        _("Copied %(n)d products into the batch %(batch)s.")
        % {"n": len(result.created), "batch": batch.name},
    )
    for offer_id, reason in result.errors:
        messages.warning(request, f"{offer_id}: {reason}")
    if result.skipped:
        messages.info(
            request,
            _("Already in this batch: %(ids)s") % {"ids": ", ".join(map(str, result.skipped))},
        )
    return redirect("catalog:batch_detail", pk=batch.pk)
