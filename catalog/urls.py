from django.urls import path, register_converter

from catalog.alerts import views as alert_views
from catalog.follow.views import changes as follow_changes
from catalog.follow.views import links as follow_links
from catalog.follow.views import margins as follow_margins
from catalog.follow.views import rule_editor as follow_rules
from catalog.live_edits import views as live_views
from catalog.mirror.views import changelog as changelog_views
from catalog.mirror.views import products as product_views
from catalog.publishing.views import batches as batch_views
from catalog.publishing.views import editor as editor_views
from catalog.publishing.views import imports as import_views
from catalog.shops.views import shops as shop_views
from catalog.sourcing.views import image_batch as image_batch_views
from catalog.sourcing.views import search as sourcing_views
from catalog.staff import views as user_views
from catalog.watch.views import supplier_store as supplier_store_views
from catalog.watch.views import watchlist as watch_views


class FormatConverter:
    regex = "csv|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "fmt")

app_name = "catalog"
urlpatterns = [
    path("products/", product_views.product_list, name="product_list"),
    path("products/export.<fmt:fmt>", product_views.product_export, name="product_export"),
    path("products/<int:pk>/", product_views.product_detail, name="product_detail"),
    path("products/bulk/", product_views.product_bulk, name="product_bulk"),
    path("changes/", changelog_views.change_list, name="change_list"),
    path("changes/export.<fmt:fmt>", changelog_views.change_export, name="change_export"),
    path("live/", live_views.live_list, name="live_list"),
    path("live/new/", live_views.live_new, name="live_new"),
    path("products/<int:pk>/title/", live_views.product_retitle, name="product_retitle"),
    path("live/<int:pk>/", live_views.live_detail, name="live_detail"),
    path("live/<int:pk>/progress/", live_views.live_progress, name="live_progress"),
    path("live/<int:pk>/apply/", live_views.live_apply, name="live_apply"),
    path("live/<int:pk>/check/", live_views.live_check, name="live_check"),
    path("live/<int:pk>/discard/", live_views.live_discard, name="live_discard"),
    path("live/<int:pk>/undo/", live_views.live_undo, name="live_undo"),
    path("live/<int:pk>/take-over/", live_views.live_take_over, name="live_take_over"),
    path("batches/", batch_views.batch_list, name="batch_list"),
    path("batches/new/", batch_views.batch_create, name="batch_create"),
    path("batches/<int:pk>/", batch_views.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/progress/", batch_views.batch_progress, name="batch_progress"),
    path("batches/<int:pk>/validate/", batch_views.batch_validate, name="batch_validate"),
    path("batches/<int:pk>/submit/", batch_views.batch_submit, name="batch_submit"),
    path("batches/<int:pk>/retry/", batch_views.batch_retry, name="batch_retry"),
    path("batches/<int:pk>/resubmit/", batch_views.batch_resubmit, name="batch_resubmit"),
    path("batches/<int:pk>/import/", import_views.batch_import, name="batch_import"),
    path(
        "batches/<int:pk>/import/rows-with-errors/<str:token>.xlsx",
        import_views.batch_import_rejects,
        name="batch_import_rejects",
    ),
    path(
        "batches/<int:pk>/import/confirm/",
        import_views.batch_import_confirm,
        name="batch_import_confirm",
    ),
    path("batches/<int:pk>/export.<fmt:fmt>", batch_views.batch_export, name="batch_export"),
    path("batches/<int:pk>/copy/", batch_views.batch_copy, name="batch_copy"),
    path("batches/<int:pk>/bulk-edit/", batch_views.batch_bulk_edit, name="batch_bulk_edit"),
    path("batches/<int:pk>/categories/", editor_views.category_search, name="category_search"),
    path("batches/<int:pk>/category/", editor_views.category_panel, name="category_panel"),
    path("batches/<int:pk>/sku-grid/", editor_views.sku_grid, name="sku_grid"),
    path("batches/<int:pk>/pictures/", editor_views.item_pictures, name="item_pictures"),
    path("batches/pictures/<str:name>.jpg", editor_views.staged_picture, name="staged_picture"),
    path("batches/<int:pk>/preflight/", batch_views.batch_preflight, name="batch_preflight"),
    path("batches/<int:pk>/publishing/", batch_views.batch_publishing, name="batch_publishing"),
    path("batches/<int:pk>/items/new/", editor_views.item_create, name="item_create"),
    path("batches/<int:pk>/items/<int:item_pk>/", editor_views.item_edit, name="item_edit"),
    path(
        "batches/<int:pk>/items/<int:item_pk>/delete/",
        batch_views.item_delete,
        name="item_delete",
    ),
    path("import-template.<fmt:fmt>", import_views.template_download, name="import_template"),
    path("sourcing/", sourcing_views.sourcing_search, name="sourcing_search"),
    path("sourcing/image/", sourcing_views.sourcing_image, name="sourcing_image"),
    path("sourcing/stage/", sourcing_views.sourcing_stage, name="sourcing_stage"),
    path("sourcing/supplier/", supplier_store_views.supplier_store, name="supplier_store"),
    path("sourcing/images/", image_batch_views.sourcing_images, name="sourcing_images"),
    # Shop health, dashboard jobs and alerts
    path("users/", user_views.user_list, name="user_list"),
    path("users/new/", user_views.user_add, name="user_add"),
    path("users/<int:pk>/", user_views.user_edit, name="user_edit"),
    path("users/<int:pk>/password/", user_views.user_password, name="user_password"),
    path("shops/", shop_views.shop_list, name="shop_list"),
    path("shops/<int:pk>/", shop_views.shop_detail, name="shop_detail"),
    path("shops/<int:pk>/sync/", shop_views.shop_sync, name="shop_sync"),
    path("dashboard/jobs/", shop_views.dashboard_jobs, name="dashboard_jobs"),
    path("alerts/", alert_views.alert_inbox, name="alert_inbox"),
    path("alerts/read/", alert_views.alert_mark_read, name="alert_mark_read"),
    path("alerts/groups/<int:pk>/snooze/", alert_views.alert_snooze, name="alert_snooze"),
    path("alerts/rules/", alert_views.alert_rules, name="alert_rules"),
    path("alerts/rules/<int:pk>/delete/", alert_views.alert_rule_delete, name="alert_rule_delete"),
    path("watch/", watch_views.watch_list, name="watch_list"),
    path("watch/add/", watch_views.watch_add, name="watch_add"),
    path("watch/<int:pk>/", watch_views.watch_detail, name="watch_detail"),
    path("watch/<int:pk>/remove/", watch_views.watch_remove, name="watch_remove"),
    path("watch/<int:pk>/read/", watch_views.watch_reread, name="watch_reread"),
    # Following suppliers: links, SKU mapping, rules with their dry run, margins, approvals
    path("follow/", follow_links.follow_coverage, name="follow_coverage"),
    path("follow/offers/<int:pk>/", follow_links.follow_offer, name="follow_offer"),
    path("follow/offers/<int:pk>/link/", follow_links.follow_link, name="follow_link"),
    path("follow/offers/<int:pk>/unlink/", follow_links.follow_unlink, name="follow_unlink"),
    path("follow/offers/<int:pk>/rule/", follow_rules.follow_offer_rule, name="follow_offer_rule"),
    path(
        "follow/offers/<int:pk>/rule/dry-run/",
        follow_rules.follow_offer_dry_run,
        name="follow_offer_dry_run",
    ),
    path(
        "follow/offers/<int:pk>/rule/delete/",
        follow_rules.follow_offer_rule_delete,
        name="follow_offer_rule_delete",
    ),
    path("follow/shops/<int:pk>/rule/", follow_rules.follow_rule, name="follow_rule"),
    path("follow/shops/<int:pk>/dry-run/", follow_rules.follow_dry_run, name="follow_dry_run"),
    path("follow/shops/<int:pk>/pause/", follow_rules.follow_pause, name="follow_pause"),
    path("follow/shops/<int:pk>/follow-now/", follow_rules.follow_now, name="follow_now"),
    path("follow/margins/", follow_margins.follow_margins, name="follow_margins"),
    path("follow/inbox/", follow_changes.follow_inbox, name="follow_inbox"),
    path("follow/inbox/<int:pk>/approve/", follow_changes.follow_approve, name="follow_approve"),
    path("follow/inbox/<int:pk>/reject/", follow_changes.follow_reject, name="follow_reject"),
    path("follow/history/", follow_changes.follow_history, name="follow_history"),
]
