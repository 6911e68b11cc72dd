"""Staff pages for importing a file into a batch: upload → preview of every row → confirm.

Thin shells over catalog.publishing.importing (the same pipeline as the admin's import): they parse
the form, read through catalog/publishing/selectors.py, call one service and render; a refusal is
shown as the form's or the page's message.
"""

from django.contrib import messages
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.publishing import item_schema, selectors
from catalog.publishing.categories import cached_attributes
from catalog.publishing.exporting import COLUMN_HELP, FORMATS, import_template
from catalog.publishing.forms import ImportConfirmForm, ImportFileForm
from catalog.publishing.import_partial import rejects_file
from catalog.publishing.importing import ImportInvalid, confirm_import, preview_import
from catalog.publishing.resources import COLUMN_LABELS, COLUMNS
from erp1688.refusals import PermissionRefused, Refused, require
from erp1688.staff_access import staff_member_required


def _import_page(request, batch, form, **extra):
    context = {
        "batch": batch,
        "form": form,
        "columns": [COLUMN_LABELS[name] for name, _header, _aliases in COLUMNS],
        "column_help": [(COLUMN_LABELS[name], COLUMN_HELP[name]) for name, _h, _a in COLUMNS],
        **extra,
    }
    return render(request, "publishing/batch_import.html", context)


@staff_member_required
def batch_import(request, pk):
    require(request.user, "catalog.add_uploaditem")  # the form too: it names the batch and shop
    batch = selectors.batch(pk)
    if request.method != "POST":
        return _import_page(request, batch, ImportFileForm())
    form = ImportFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, batch, form)
    try:
        preview = preview_import(user=request.user, batch=batch, upload=form.cleaned_data["file"])
    except PermissionRefused:
        raise  # the styled refusal page (handler403)
    except Refused as refusal:
        form.add_error("file", refusal.message)
        return _import_page(request, batch, form)
    confirm_form = ImportConfirmForm(initial={"token": preview.name}) if preview.name else None
    return _import_page(request, batch, form, preview=preview, confirm_form=confirm_form)


@staff_member_required
@require_POST
def batch_import_confirm(request, pk):
    batch = selectors.batch(pk)
    form = ImportConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The preview is missing: upload the file again."))
        return redirect("catalog:batch_import", pk=pk)
    try:
        created = confirm_import(user=request.user, batch=batch, name=form.cleaned_data["token"])
    except ImportInvalid as refusal:
        messages.error(request, refusal.message)
        return _import_page(request, batch, ImportFileForm(), preview=refusal.preview)
    except PermissionRefused:
        raise  # the styled refusal page (handler403)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return redirect("catalog:batch_import", pk=pk)
    messages.success(request, _("Imported %(n)d items.") % {"n": created})
    return redirect("catalog:batch_detail", pk=pk)


@staff_member_required
def batch_import_rejects(request, pk, token):
    """The rows a preview left out, with the reason, as an XLSX to fix and import again."""
    require(request.user, "catalog.add_uploaditem")
    batch = selectors.batch(pk)
    try:
        data = rejects_file(user=request.user, batch=batch, name=token)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return redirect("catalog:batch_import", pk=pk)
    return FileResponse(
        ContentFile(data),
        as_attachment=True,
        filename=f"rows-with-errors-{batch.pk}.xlsx",
        content_type=FORMATS["xlsx"],
    )


@staff_member_required
def template_download(request, fmt):
    # ?batch=&category=: the example row is that category's (its attributes and SKU dimensions,
    # from the shop's cached schema: catalog.publishing.item_schema.template_example).
    example = None
    batch, category = request.GET.get("batch", ""), request.GET.get("category", "")
    if (
        batch.isascii()
        and batch.isdigit()
        and category.isascii()
        and category.isdigit()
        and len(batch) < 19
        and len(category) < 19
    ):
        found = selectors.batch_or_none(batch)
        schema = cached_attributes(found.shop_id, int(category)) if found else None
        example = item_schema.template_example(schema) if schema else None
    return FileResponse(
        ContentFile(import_template(fmt, example=example)),
        as_attachment=True,
        filename=f"upload-template.{fmt}",
        content_type=FORMATS[fmt],
    )
