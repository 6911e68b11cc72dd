from django.urls import path, register_converter

from catalog import batch_views


class FormatConverter:
    regex = "csv|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "fmt")

app_name = "catalog"
urlpatterns = [
    path("batches/", batch_views.batch_list, name="batch_list"),
    path("batches/new/", batch_views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", batch_views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", batch_views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/validate/", batch_views.batch_validate, name="batch_validate"),
    path("batches/<int:pk>/submit/", batch_views.batch_submit, name="batch_submit"),
    path("batches/<int:pk>/retry/", batch_views.batch_retry, name="batch_retry"),
    path("batches/<int:pk>/import/", batch_views.batch_import, name="batch_import"),
    path(
        "batches/<int:pk>/import/confirm/",
        batch_views.batch_import_confirm,
        name="batch_import_confirm",
    ),
    path("batches/<int:pk>/export.<fmt:fmt>", batch_views.batch_export, name="batch_export"),
    path("batches/<int:pk>/copy/", batch_views.batch_copy, name="batch_copy"),
    path("batches/<int:pk>/bulk-edit/", batch_views.batch_bulk_edit, name="batch_bulk_edit"),
    path("batches/<int:pk>/items/new/", batch_views.item_create, name="item_create"),
    path("batches/<int:pk>/items/<int:item_pk>/", batch_views.item_edit, name="item_edit"),
    path("import-template.<fmt:fmt>", batch_views.template_download, name="import_template"),
]
