"""Staff pages for batch upload (批量上货): batches, items, import, export, bulk edit, submit.

Each view parses input, calls one service and renders; a refused action becomes a message.
"""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.bulk_edit import BulkEditError, bulk_edit
from catalog.exporting import COLUMN_HELP, FORMATS, export_batch, import_template
from catalog.forms import (
    BatchCreateForm,
    BulkEditForm,
    CopyOffersForm,
    ImportConfirmForm,
    ImportFileForm,
    UploadItemForm,
)
from catalog.importing import (
    ImportFileError,
    ImportInvalid,
    confirm_import,
    read_upload_file,
    stage_import,
)
from catalog.models import UploadBatch, UploadItem
from catalog.resources import COLUMNS
from catalog.staging import (
    LOCKED_BATCH_STATUSES,
    StagingError,
    check_batch_open,
    check_item_editable,
    create_batch,
    save_item,
)
from catalog.validation import NOT_UPLOADED, validate_batch

ITEMS_PER_PAGE = 100


def _detail(batch_pk):
    return redirect("catalog:batch_detail", pk=batch_pk)


def _posted(request):
    """The POST data, or None on GET: an empty POST is still a submission and gets its errors
    ("This field is required"), where `request.POST or None` would show a blank form."""
    return request.POST if request.method == "POST" else None


def _message(error: Exception) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)


@staff_member_required
def batch_list(request):
    batches = UploadBatch.objects.select_related("shop", "created_by")
    page = Paginator(batches, 50).get_page(request.GET.get("page"))
    return render(request, "catalog/batch_list.html", {"page": page})


@staff_member_required
def batch_create(request):
    form = BatchCreateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        batch = create_batch(
            shop=form.cleaned_data["shop"], name=form.cleaned_data["name"], user=request.user
        )
        messages.success(request, _("批次已创建 / Batch created."))
        return _detail(batch.pk)
    return render(request, "catalog/batch_form.html", {"form": form})


def _filter_items(batch, show: str):
    items = batch.items.all()
    if show == "invalid":
        return items.filter(status__in=NOT_UPLOADED).exclude(validation_errors={})
    if show in UploadItem.Status.values:
        return items.filter(status=show)
    return items


@staff_member_required
def batch_detail(request, pk):
    batch = get_object_or_404(UploadBatch.objects.select_related("shop"), pk=pk)
    show = request.GET.get("show", "")
    page = Paginator(_filter_items(batch, show), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    filters = [("", _("全部 / All")), ("invalid", _("有错误 / With errors"))]
    filters += list(UploadItem.Status.choices)
    context = {
        "batch": batch,
        "page": page,
        "show": show,
        "filters": filters,
        "locked": batch.status in LOCKED_BATCH_STATUSES,
        "editable": list(NOT_UPLOADED),
        "bulk_form": BulkEditForm(batch=batch),
    }
    return render(request, "catalog/batch_detail.html", context)


@staff_member_required
@require_POST
def batch_validate(request, pk):
    batch = get_object_or_404(UploadBatch, pk=pk)
    invalid = validate_batch(batch)
    if invalid:
        messages.warning(
            request, _("%(n)d 个商品有错误 / %(n)d items have errors.") % {"n": invalid}
        )
    else:
        messages.success(request, _("所有商品均有效 / All items are valid."))
    return _detail(pk)


def _upload_action(request, pk, name: str, done: str):
    batch = get_object_or_404(UploadBatch, pk=pk)
    # sync.upload talks to 1688 and is imported only when staff actually submit.
    from sync import upload

    try:
        getattr(upload, name)(batch, user=request.user)
    except (ValueError, ValidationError) as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, done)
    return _detail(pk)


@staff_member_required
@require_POST
def batch_submit(request, pk):
    return _upload_action(
        request, pk, "submit_batch", _("批次已提交上传 / The batch was submitted for upload.")
    )


@staff_member_required
@require_POST
def batch_retry(request, pk):
    return _upload_action(
        request,
        pk,
        "retry_failed",
        _("失败的商品将重新上传 / Failed items will be uploaded again."),
    )


@staff_member_required
def batch_copy(request, pk):
    """Paste 1688 offer links or ids; each offer is read and staged as a new item."""
    batch = get_object_or_404(UploadBatch.objects.select_related("shop"), pk=pk)
    form = CopyOffersForm(_posted(request))
    result = None
    if request.method == "POST" and form.is_valid():
        from sync.upload import copy_offers  # talks to 1688: imported when used

        try:
            result = copy_offers(batch, form.cleaned_data["offer_refs"])
        except (ValueError, ValidationError) as error:
            messages.error(request, _message(error))
        else:
            if result.created:
                messages.success(
                    request,
                    _("已复制 %(n)d 个商品到本批次 / Copied %(n)d offers into this batch.")
                    % {"n": len(result.created)},
                )
            if not (result.errors or result.unrecognised or result.skipped):
                return _detail(pk)
    return render(
        request, "catalog/batch_copy.html", {"batch": batch, "form": form, "result": result}
    )


def _import_page(request, batch, form, **extra):
    context = {
        "batch": batch,
        "form": form,
        "columns": [header for _name, header, _aliases in COLUMNS],
        "column_help": [(header, COLUMN_HELP[name]) for name, header, _aliases in COLUMNS],
        **extra,
    }
    return render(request, "catalog/batch_import.html", context)


@staff_member_required
def batch_import(request, pk):
    batch = get_object_or_404(UploadBatch.objects.select_related("shop"), pk=pk)
    form = ImportFileForm(_posted(request), request.FILES if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return _import_page(request, batch, form)
    try:
        preview, token = stage_import(batch, read_upload_file(form.cleaned_data["file"]))
    except (ImportFileError, StagingError) as error:
        form.add_error("file", str(error))
        return _import_page(request, batch, form)
    confirm_form = ImportConfirmForm(initial={"token": token}) if token else None
    return _import_page(request, batch, form, preview=preview, confirm_form=confirm_form)


@staff_member_required
@require_POST
def batch_import_confirm(request, pk):
    batch = get_object_or_404(UploadBatch.objects.select_related("shop"), pk=pk)
    form = ImportConfirmForm(request.POST)
    try:
        if not form.is_valid():
            raise ImportFileError(
                _("缺少预览凭据，请重新上传 / The preview is missing: upload again")
            )
        created = confirm_import(batch, form.cleaned_data["token"])
    except ImportInvalid as error:
        messages.error(request, str(error))
        return _import_page(request, batch, ImportFileForm(), preview=error.preview)
    except (ImportFileError, StagingError) as error:
        messages.error(request, str(error))
        return redirect("catalog:batch_import", pk=pk)
    messages.success(request, _("已导入 %(n)d 个商品 / Imported %(n)d items.") % {"n": created})
    return _detail(pk)


def _download(content: bytes, filename: str, fmt: str):
    return FileResponse(
        ContentFile(content), as_attachment=True, filename=filename, content_type=FORMATS[fmt]
    )


@staff_member_required
def batch_export(request, pk, fmt):
    batch = get_object_or_404(UploadBatch, pk=pk)
    return _download(export_batch(batch, fmt), f"upload-batch-{batch.pk}.{fmt}", fmt)


@staff_member_required
def template_download(request, fmt):
    return _download(import_template(fmt), f"upload-template.{fmt}", fmt)


def _item_page(request, batch, item):
    form = UploadItemForm(_posted(request), instance=item)
    if request.method == "POST" and form.is_valid():
        try:
            save_item(form.instance)
        except StagingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("商品已保存 / Item saved."))
            return _detail(batch.pk)
    return render(request, "catalog/item_form.html", {"batch": batch, "item": item, "form": form})


@staff_member_required
def item_create(request, pk):
    batch = get_object_or_404(UploadBatch, pk=pk)
    try:
        check_batch_open(batch)
    except StagingError as error:
        messages.error(request, str(error))
        return _detail(pk)
    return _item_page(request, batch, UploadItem(batch=batch))


@staff_member_required
def item_edit(request, pk, item_pk):
    item = get_object_or_404(UploadItem.objects.select_related("batch"), pk=item_pk, batch_id=pk)
    try:
        check_item_editable(item)
    except StagingError as error:
        messages.error(request, str(error))
        return _detail(pk)
    return _item_page(request, item.batch, item)


@staff_member_required
@require_POST
def batch_bulk_edit(request, pk):
    batch = get_object_or_404(UploadBatch, pk=pk)
    form = BulkEditForm(request.POST, batch=batch)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return _detail(pk)
    try:
        changed = bulk_edit(form.cleaned_data["items"], **form.changes())
    except BulkEditError as error:
        messages.error(request, str(error))
    else:
        selected = len(form.cleaned_data["items"])
        messages.success(
            request,
            _(
                "已修改 %(n)d 个商品（共选中 %(selected)d 个；已上传的不会修改） / "
                "Changed %(n)d of %(selected)d selected items (uploaded items are left alone)."
            )
            % {"n": changed, "selected": selected},
        )
    return _detail(pk)


@staff_member_required
def batch_progress(request, pk):
    """The counters fragment that the batch page polls (htmx) while an upload runs."""
    batch = get_object_or_404(UploadBatch, pk=pk)
    locked = batch.status in LOCKED_BATCH_STATUSES
    response = render(request, "catalog/_batch_progress.html", {"batch": batch, "locked": locked})
    if not locked:
        # Finished: reload the whole page once so the items table and buttons follow.
        response["HX-Refresh"] = "true"
    return response
