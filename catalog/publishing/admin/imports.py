"""The admin's import of upload items: django-import-export's pages (import form, dry-run result,
confirm form) on top of the one pipeline in catalog.publishing.importing, which the staff pages use
too.

The library's own import_action/process_import write the raw upload to a temporary file before
reading it and remove it only after a successful confirm (a refused 50 MB file left a 50 MB file
behind); here both steps call catalog.publishing.importing's services instead: the size is checked
by the
form before the file is read, the dataset is kept in ImportStorage only when every row is valid,
and the confirm step claims (deletes) it.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.signals import post_import

from catalog.models import UploadBatch
from catalog.publishing.import_reading import SpreadsheetFormat, check_upload_size
from catalog.publishing.importing import (
    IMPORT_PERMISSION,
    ImportInvalid,
    ImportStorage,
    confirm_import,
    preview_import,
)
from catalog.publishing.resources import UploadItemResource
from catalog.publishing.staging import LOCKED_BATCH_STATUSES
from erp1688.refusals import PermissionRefused, Refused


class UploadItemImportForm(ImportForm):
    batch = forms.ModelChoiceField(
        queryset=UploadBatch.objects.exclude(status__in=LOCKED_BATCH_STATUSES),
        label=gettext_lazy("batch"),
    )

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            check_upload_size(upload)  # from the size alone: nothing is read or written
        except Refused as refusal:
            raise ValidationError(refusal.message, code=refusal.code) from None
        return upload


class UploadItemConfirmImportForm(ConfirmImportForm):
    batch = forms.ModelChoiceField(queryset=UploadBatch.objects.all(), widget=forms.HiddenInput)


class UploadItemImportMixin(ImportExportMixin):
    resource_classes = [UploadItemResource]
    import_form_class = UploadItemImportForm
    confirm_form_class = UploadItemConfirmImportForm
    import_formats = [SpreadsheetFormat]
    tmp_storage_class = ImportStorage
    export_formats = [base_formats.XLSX, base_formats.CSV]
    to_encoding = "utf-8-sig"  # CSV exports open in Excel with Chinese intact

    def has_import_permission(self, request):
        return request.user.has_perm(IMPORT_PERMISSION)

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["batch"] = import_form.cleaned_data["batch"].pk
        return initial

    def _import_page(self, request, form, context):
        context.update(self.admin_site.each_context(request))
        context.update(
            {
                "title": _("Import"),
                "form": form,
                "opts": self.model._meta,
                "media": self.media + form.media,
                "fields_list": [
                    (
                        UploadItemResource.get_display_name(),
                        [f.column_name for f in UploadItemResource().get_user_visible_fields()],
                    )
                ],
                "import_error_display": self.import_error_display,
            }
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def import_action(self, request, **kwargs):
        """Upload → dry run through catalog.publishing.importing.preview_import → confirm form."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        context = self.get_import_context_data()
        form = self.create_import_form(request)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            try:
                preview = preview_import(
                    user=request.user, batch=form.cleaned_data["batch"], upload=upload
                )
            except PermissionRefused:
                raise  # the styled refusal page (handler403)
            except Refused as refusal:
                form.add_error("import_file", refusal.message)
            else:
                context["result"] = preview.result
                if preview.rejects_name:  # the admin's page shows the rows; no file to give
                    ImportStorage(name=preview.rejects_name).remove()
                if preview.name:
                    upload.tmp_storage_name = preview.name
                    context["confirm_form"] = self.create_confirm_form(request, import_form=form)
        return self._import_page(request, form, context)

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """Confirm: catalog.publishing.importing.confirm_import claims the kept dataset and
        imports it."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        import_url = reverse("admin:catalog_uploaditem_import", current_app=self.admin_site.name)
        if not confirm_form.is_valid():
            messages.error(request, _("The preview is missing: upload the file again."))
            return HttpResponseRedirect(import_url)
        try:
            created = confirm_import(
                user=request.user,
                batch=confirm_form.cleaned_data["batch"],
                name=confirm_form.cleaned_data["import_file_name"],
            )
        except ImportInvalid as refusal:
            messages.error(request, refusal.message)
            context = {"result": refusal.preview.result}
            form_class = self.get_import_form_class(request)
            form = form_class(
                self.get_import_formats(), self.get_import_resource_classes(request)
            )  # unbound: the posted data is the confirm form's
            return self._import_page(request, form, context)
        except PermissionRefused:
            raise  # the styled refusal page (handler403)
        except Refused as refusal:
            messages.error(request, refusal.message)
            return HttpResponseRedirect(import_url)
        messages.success(request, _("Imported %(n)d items.") % {"n": created})
        post_import.send(sender=None, model=self.model)
        return HttpResponseRedirect(
            reverse("admin:catalog_uploaditem_changelist", current_app=self.admin_site.name)
        )
