"""The staff item editor: one page per item, with nothing typed in a notation. The category is
picked by name (htmx search, then its panel of attributes and SKU grid), price tiers are rows,
pictures are thumbnails staged as they are dropped, and the SKU grid is kept in the page by
static/item_editor.js, keyed by each row's combination of values. A failed save shows every
value back as typed, each problem beside its field (the post is read by
catalog/publishing/editor.py; the rules are the staging rules, catalog/publishing/forms.py).

A post that names the import's text columns instead (a script) is read as the import reads
them; the page never shows or sends those.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.models import UploadItem
from catalog.publishing import editor, item_schema, selectors, services
from catalog.publishing.categories import attributes_for, cached_attributes, category_name, search
from catalog.publishing.forms import ItemEditorForm, UploadItemForm
from catalog.publishing.staged_pictures import thumbnail
from catalog.publishing.staging import EDITABLE, NOT_EDITABLE_MESSAGE, locked_reason
from catalog.publishing.upload.publishing import DOWNLOAD_MAX_BYTES, PictureError, stage_picture
from catalog.publishing.validation import IMAGES_MAX, first_tier_price
from erp1688.refusals import PermissionRefused, Refused, require
from erp1688.staff_access import staff_member_required
from open1688 import Open1688Error

VIEW_BATCHES = ("catalog.view_uploadbatch", "catalog.view_uploaditem")


def _category(text) -> int | None:
    """A category id as posted (ASCII digits only, within a 64-bit column), or None."""
    text = str(text or "").strip()
    if text.isascii() and text.isdigit() and len(text) < 19 and int(text) > 0:
        return int(text)
    return None


def _detail(batch_pk):
    return redirect("catalog:batch_detail", pk=batch_pk)


def _stager(request):
    if not (
        request.user.has_perm("catalog.add_uploaditem")
        or request.user.has_perm("catalog.change_uploaditem")
    ):
        require(request.user, "catalog.add_uploaditem")


def _stage_files(files) -> tuple[list[str], list[str]]:
    """(the staged references, a problem per picture that could not be taken)."""
    staged, problems = [], []
    for upload in files[:IMAGES_MAX]:
        try:
            staged.append(stage_picture(upload.read(DOWNLOAD_MAX_BYTES + 1)))
        except PictureError as exc:
            problems.append(_("Picture %(name)s: %(error)s") % {"name": upload.name, "error": exc})
    return staged, problems


def _editor_form(request, batch, item):
    """The bound form of a post from the editor, with the rows read as typed."""
    post = request.POST
    uploaded, picture_problems = _stage_files(request.FILES.getlist("picture_files"))
    tiers, ranges, bad_tier = editor.read_tiers(post)
    lists = {"price_ranges": ranges, "images": editor.read_pictures(post, uploaded)}
    problems = {"images": picture_problems}
    if bad_tier:
        problems["price_ranges"] = [_("Correct the marked price tiers.")]
    category = _category(post.get("category_id"))
    schema = cached_attributes(batch.shop_id, category) if category else None
    grid = None
    if schema is not None and post.get("structured") == "1":
        lists["attributes"] = editor.attributes_read(post, schema, item.attributes)
        # Priced by the tiers: a SKU row left without a price sells at the first tier's.
        first = first_tier_price(ranges)
        grid = editor.read_grid(post, schema, item.skus, tier_price=first)
        lists["skus"] = grid.skus
        problems["skus"] = grid.problems + ([_("Correct the marked SKU rows.")] if grid.bad else [])
    form = ItemEditorForm(post, instance=item, lists=lists, problems=problems)
    return form, tiers, grid


def _panel(batch, schema, category_id: int, attributes, grid, errors) -> dict:
    """What templates/publishing/_category_panel.html shows."""
    return {
        "batch": batch,
        "category_id": category_id,
        "path": category_name(batch.shop, category_id) or _("A category not yet named here"),
        "attributes": item_schema.attribute_rows(schema, attributes),
        "dims": grid.dimension_rows(schema),
        "rows": grid.rows(),
        "attribute_errors": errors.get("attributes", []),
        "sku_errors": errors.get("skus", []),
    }


def _item_page(request, batch, item):
    tiers = grid = None
    posted = request.method == "POST"
    if not posted:
        form = ItemEditorForm(instance=item)
    elif request.POST.get("editor") == "1" or request.POST.get("structured") == "1":
        form, tiers, grid = _editor_form(request, batch, item)
    else:
        form = UploadItemForm(request.POST, instance=item)
    if posted and form.is_valid():
        try:
            services.save_item(user=request.user, item=form.instance)
        except Refused as refused:
            if isinstance(refused, PermissionRefused):
                raise
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Item saved."))
            return _detail(batch.pk)
    shown = form.instance  # the lists as read from the post (or as stored)
    category = _category(form["category_id"].value())
    schema = cached_attributes(batch.shop_id, category) if category else None
    errors = form.errors if posted else {}
    panel = None
    if schema is not None:
        grid = grid or editor.stored_grid(schema, shown.skus)
        panel = _panel(batch, schema, category, shown.attributes, grid, errors)
    context = {
        **(panel or {}),  # the panel's own names, for the template it includes
        "batch": batch,
        "item": item,
        "form": form,
        "category_id": category or "",
        "category_path": category_name(batch.shop, category) if category else "",
        "panel": panel is not None,
        "tiers": tiers or editor.tier_rows(shown.price_ranges),
        "pictures": editor.picture_rows(shown.images),
        "images_max": IMAGES_MAX,
    }
    return render(request, "publishing/item_form.html", context)


@staff_member_required
def item_create(request, pk):
    batch = selectors.batch(pk)
    require(request.user, "catalog.add_uploaditem")
    if batch.is_locked:
        messages.error(request, locked_reason(batch))
        return _detail(pk)
    return _item_page(request, batch, UploadItem(batch=batch))


@staff_member_required
def item_edit(request, pk, item_pk):
    item = selectors.item(pk, item_pk)
    require(request.user, "catalog.change_uploaditem")
    if item.batch.is_locked:
        messages.error(request, locked_reason(item.batch))
        return _detail(pk)
    if item.status not in EDITABLE:
        messages.error(request, NOT_EDITABLE_MESSAGE)
        return _detail(pk)
    return _item_page(request, item.batch, item)


@staff_member_required
def category_search(request, pk):
    """htmx: leaf categories of the batch's shop matching `q` (cached; 1688 asked once)."""
    batch = selectors.batch(pk)
    _stager(request)
    query, found, error = request.GET.get("q", "").strip()[:50], [], ""
    if query:
        try:
            found = search(batch.shop, query)
        except Open1688Error as exc:
            error = _("1688 could not be asked for categories: %(error)s") % {"error": exc}
    return render(
        request,
        "publishing/_category_results.html",
        {"batch": batch, "query": query, "found": found, "error": error},
    )


@staff_member_required
def category_panel(request, pk):
    """htmx: the chosen category's attributes as inputs and its SKU grid (the item's values
    when `item` names one)."""
    batch = selectors.batch(pk)
    _stager(request)
    item = selectors.item_or_none(batch, request.GET.get("item", ""))
    category = _category(request.GET.get("category_id"))
    context = {"batch": batch, "category_id": category or "", "error": "", "swap": True}
    if category:
        try:
            refresh = request.GET.get("refresh") == "1"  # staff: read it from 1688 again
            schema = attributes_for(batch.shop, category, refresh=refresh)
        except Open1688Error as exc:
            context["error"] = _("1688 did not give this category's attributes: %(error)s") % {
                "error": exc
            }
        else:
            grid = editor.stored_grid(schema, item.skus if item else [])
            attributes = item.attributes if item else []
            context.update(_panel(batch, schema, category, attributes, grid, {}))
    return render(request, "publishing/_category_panel.html", context)


@staff_member_required
def sku_grid(request, pk):
    """htmx: the SKU grid for the dimension values and rows given (kept by combination)."""
    batch = selectors.batch(pk)
    _stager(request)
    category = _category(request.GET.get("category_id"))
    schema = cached_attributes(batch.shop_id, category) if category else None
    rows = editor.read_grid(request.GET, schema).rows() if schema is not None else []
    return render(request, "publishing/_sku_grid.html", {"rows": rows})


@staff_member_required
@require_POST
def item_pictures(request, pk):
    """The editor's drop zone: stage the pictures given (several at once) and answer their
    references and thumbnails, so the page orders them before the item is saved."""
    selectors.batch(pk)
    _stager(request)
    staged, problems = _stage_files(request.FILES.getlist("picture_files"))
    pictures = [{"ref": ref, "src": editor.picture_src(ref)} for ref in staged]
    return JsonResponse({"pictures": pictures, "errors": problems})


@staff_member_required
@permission_required(VIEW_BATCHES, raise_exception=True)
def staged_picture(request, name):
    """A staged picture's thumbnail (content-addressed: it never changes)."""
    small = thumbnail(name)
    if small is None:
        raise Http404
    response = HttpResponse(small, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
