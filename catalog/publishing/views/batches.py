"""Staff pages for batch upload (批量上货): batches, items, export, bulk edit, copy, submit.

Each view parses input, reads through catalog/publishing/selectors.py, calls one service
(catalog/publishing/services.py) and renders.
A refusal is a `Refused`: a business refusal (the batch is uploading, nothing to submit...) is
shown as a message; a `PermissionRefused` goes on to Django, which answers with the styled 403
page (handler403). Pages that only show need the view permissions. The import pages are in
catalog/publishing/views/imports.py, the item editor in catalog/publishing/views/editor.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.files.base import ContentFile
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.common.operator_words import problem_words
from catalog.models import UploadItem
from catalog.publishing import selectors, services
from catalog.publishing.exporting import FORMATS, export_batch
from catalog.publishing.forms import BatchCreateForm, BulkEditForm, CopyOffersForm
from catalog.publishing.staging import EDITABLE
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require, show_refusal
from erp1688.staff_access import staff_member_required
from open1688 import Open1688Error
from sync.workers import announce_queued

ITEMS_PER_PAGE = 100
VIEW_BATCHES = ("catalog.view_uploadbatch", "catalog.view_uploaditem")


def _is_number(text: str) -> bool:
    """ASCII digits only ("²".isdigit() is true, and int() refuses it)."""
    return text.isascii() and text.isdigit()


def _detail(batch_pk):
    return redirect("catalog:batch_detail", pk=batch_pk)


def _posted(request):
    """The POST data, or None on GET: an empty POST is still a submission and gets its errors
    ("This field is required"), where `request.POST or None` would show a blank form."""
    return request.POST if request.method == "POST" else None


@staff_member_required
@permission_required(VIEW_BATCHES, raise_exception=True)
def batch_list(request):
    page = Paginator(selectors.batch_list(), 50).get_page(request.GET.get("page"))
    return render(request, "publishing/batch_list.html", {"page": page})


@staff_member_required
def batch_create(request):
    require(request.user, "catalog.add_uploadbatch")
    form = BatchCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        batch = services.create_batch(
            user=request.user, shop=form.cleaned_data["shop"], name=form.cleaned_data["name"]
        )
        messages.success(request, _("Batch created."))
        return _detail(batch.pk)
    return render(request, "publishing/batch_form.html", {"form": form})


@staff_member_required
@permission_required(VIEW_BATCHES, raise_exception=True)
def batch_detail(request, pk):
    batch = selectors.batch(pk)
    show = request.GET.get("show", "")
    items = selectors.batch_items(batch, show)
    page = Paginator(items, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    filters = [("", _("All")), ("invalid", _("With errors"))]
    filters += list(UploadItem.Status.choices)
    context = {
        "batch": batch,
        "page": page,
        "show": show,
        "filters": filters,
        "locked": batch.is_locked,
        "editable": list(EDITABLE),
        "bulk_form": BulkEditForm(batch=batch),
        "publishing": selectors.shop_publishing(batch.shop_id),
    }
    return render(request, "publishing/batch_detail.html", context)


def _optional_id(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not _is_number(value) or len(value) > 18:
        raise Refused(RefusalCode.BATCH_BAD_PUBLISHING, _("Not a valid choice."))
    return int(value)


@staff_member_required
@require_POST
def batch_publishing(request, pk):
    """The batch's freight template and send-goods address (blank: the shop's defaults)."""
    batch = selectors.batch(pk)
    try:
        services.set_batch_publishing(
            user=request.user,
            batch=batch,
            freight_template_id=_optional_id(request.POST.get("freight_template_id", "")),
            send_address_id=_optional_id(request.POST.get("send_address_id", "")),
        )
    except Refused as refused:
        show_refusal(request, refused)
    else:
        messages.success(request, _("Publishing settings of the batch saved."))
    return _detail(pk)


@staff_member_required
@require_POST
def batch_validate(request, pk):
    batch = selectors.batch(pk)
    try:
        invalid = services.validate_batch(user=request.user, batch=batch)
    except Refused as refused:
        show_refusal(request, refused)
        return _detail(pk)
    if invalid:
        messages.warning(request, _("%(n)d items have errors.") % {"n": invalid})
    else:
        messages.success(request, _("All items are valid."))
    return _detail(pk)


@staff_member_required
@require_POST
def batch_submit(request, pk):
    batch = selectors.batch(pk)
    try:
        services.submit_batch(user=request.user, batch=batch)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        announce_queued(request, _("The batch was submitted for upload."), "upload")
    return _detail(pk)


@staff_member_required
@require_POST
def batch_retry(request, pk):
    batch = selectors.batch(pk)
    try:
        services.retry_failed(user=request.user, batch=batch)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        announce_queued(request, _("Failed items will be uploaded again."), "upload")
    return _detail(pk)


@staff_member_required
@require_POST
def batch_resubmit(request, pk):
    """Items rejected in 1688's audit, corrected, go back to 1688 as edits of their offers."""
    batch = selectors.batch(pk)
    try:
        services.resubmit_rejected(user=request.user, batch=batch)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        announce_queued(request, _("Rejected items are sent to 1688's audit again."), "upload")
    return _detail(pk)


@staff_member_required
def batch_copy(request, pk):
    """Paste 1688 offer links or ids; each offer is read and staged as a new item."""
    batch = selectors.batch(pk)
    require(request.user, "catalog.add_uploaditem")
    form = CopyOffersForm(_posted(request))
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.copy_offers(
                user=request.user, batch=batch, offer_refs=form.cleaned_data["offer_refs"]
            )
        except Refused as refused:
            show_refusal(request, refused)
        else:
            if result.created:
                messages.success(
                    request,
                    _("Copied %(n)d offers into this batch.") % {"n": len(result.created)},
                )
            if not (result.errors or result.unrecognised or result.skipped):
                return _detail(pk)
    return render(
        request, "publishing/batch_copy.html", {"batch": batch, "form": form, "result": result}
    )


@staff_member_required
@permission_required(VIEW_BATCHES, raise_exception=True)
def batch_export(request, pk, fmt):
    batch = selectors.batch(pk)
    return FileResponse(
        ContentFile(export_batch(batch, fmt)),
        as_attachment=True,
        filename=f"upload-batch-{batch.pk}.{fmt}",
        content_type=FORMATS[fmt],
    )


@staff_member_required
@require_POST
def batch_preflight(request, pk):
    """Validation against the cached schema and 1688's add.preview per item, before submit."""
    batch = selectors.batch(pk)
    try:
        results = services.preflight_batch(user=request.user, batch=batch)
    except Refused as refused:
        show_refusal(request, refused)
        return _detail(pk)
    except Open1688Error as exc:
        messages.error(
            request,
            _("The pre-flight check could not ask 1688: %(what)s") % {"what": problem_words(exc)},
        )
        return _detail(pk)
    return render(request, "publishing/batch_preflight.html", {"batch": batch, "results": results})


@staff_member_required
@require_POST
def item_delete(request, pk, item_pk):
    item = selectors.item(pk, item_pk)
    try:
        services.delete_item(user=request.user, item=item)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        rejected = item.status == UploadItem.Status.REJECTED
        messages.success(
            request,
            _("Item removed from the batch; its rejected offer stays in 1688's seller centre.")
            if rejected
            else _("Item deleted."),
        )
    return _detail(pk)


@staff_member_required
@require_POST
def batch_bulk_edit(request, pk):
    batch = selectors.batch(pk)
    require(request.user, "catalog.change_uploaditem")
    form = BulkEditForm(request.POST, batch=batch)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return _detail(pk)
    try:
        changed = services.bulk_edit_items(
            user=request.user, items=form.cleaned_data["items"], **form.changes()
        )
    except Refused as refused:
        show_refusal(request, refused)
    else:
        selected = len(form.cleaned_data["items"])
        messages.success(
            request,
            _("Changed %(n)d of %(selected)d selected items (uploaded items are left alone).")
            % {"n": changed, "selected": selected},
        )
    return _detail(pk)


@staff_member_required
@permission_required(VIEW_BATCHES, raise_exception=True)
def batch_progress(request, pk):
    """The counters fragment that the batch page polls (htmx) while an upload runs."""
    batch = selectors.batch(pk)
    locked = batch.is_locked
    response = render(
        request, "publishing/_batch_progress.html", {"batch": batch, "locked": locked}
    )
    if not locked:
        # Finished: reload the whole page once so the items table and buttons follow.
        response["HX-Refresh"] = "true"
    return response
