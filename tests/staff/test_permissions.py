"""Roles and permissions, checked where the write happens (the services), seen from every door:
staff pages, admin actions and forms, the RQ dashboard. A refusal is the styled page (403,
templates/refusal.html) in the user's language, and nothing changes: batch status, item rows,
queue lengths, shop state."""

from decimal import Decimal

import django_rq
import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import PriceStockChange, Shop, SyncRun, UploadBatch, UploadItem
from catalog.publishing.services import (
    create_batch,
    delete_item,
    save_item,
    submit_batch,
    validate_batch,
)
from catalog.shops import services as shop_services
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused
from erp1688.roles import ROLES, sync_role_permissions
from tests.factories import (
    PriceStockChangeFactory,
    ShopFactory,
    SyncRunFactory,
    UploadBatchFactory,
    UploadItemFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
# Enqueueing waits for the transaction's commit (django-rq), so tests that queue jobs commit.
committing = pytest.mark.django_db(transaction=True)

GOOD_ITEM = {
    "title": "夏季新款纯棉T恤",
    "category_id": "1031910",
    "price": "25.00",
    "price_ranges": "",
    "stock": "100",
    "unit": "件",
    "min_order_quantity": "1",
    "images": "img/ibank/2026/001/002/1_1.jpg",
    # 女式T恤's required attributes (品牌, 是否进口, 面料, 适用季节).
    "attributes": "品牌(2176)=无品牌;是否进口(1141)=否;面料(287)=纯棉;适用季节(122216347)=夏季",
    "skus": "",
    "cargo_number": "PERM-NEW-1",
    "description": "",
}


def login(client, role: str | None, **extra):
    user = UserFactory(username=f"u-{role or 'clerk'}", roles=[role] if role else [], **extra)
    client.force_login(user)
    return user


@pytest.fixture
def world(redis_conn):
    """A connected shop, a draft batch with a pending and a failed item."""
    shop = ShopFactory()
    batch = UploadBatchFactory(shop=shop)
    pending = UploadItemFactory(batch=batch, cargo_number="PERM-1")
    failed = UploadItemFactory(batch=batch, cargo_number="PERM-2", status=UploadItem.Status.FAILED)
    return {"shop": shop, "batch": batch, "pending": pending, "failed": failed}


def snapshot(world) -> dict:
    """Everything a refused write must leave as it was."""
    shop = Shop.objects.get(pk=world["shop"].pk)
    return {
        "batches": list(UploadBatch.objects.order_by("pk").values_list("pk", "name", "status")),
        "items": list(
            UploadItem.objects.order_by("pk").values_list(
                "pk", "title", "price", "stock", "status", "validation_errors", "updated_at"
            )
        ),
        "queues": {name: django_rq.get_queue(name).count for name in ("sync", "upload")},
        "scheduled": django_rq.get_queue("upload").scheduled_job_registry.count,
        "runs": SyncRun.objects.count(),
        "shops": Shop.objects.count(),
        "shop": (shop.status, shop.access_token, shop.sync_enabled, shop.name),
    }


def write_requests(world) -> list[tuple[str, str, dict]]:
    """(name, url, POST data) of every write URL of the staff pages."""
    batch, pending = world["batch"], world["pending"]
    return [
        ("batch_create", reverse("catalog:batch_create"), {"shop": world["shop"].pk, "name": "X"}),
        ("batch_validate", reverse("catalog:batch_validate", args=[batch.pk]), {}),
        ("batch_submit", reverse("catalog:batch_submit", args=[batch.pk]), {}),
        ("batch_retry", reverse("catalog:batch_retry", args=[batch.pk]), {}),
        ("batch_copy", reverse("catalog:batch_copy", args=[batch.pk]), {"offer_refs": "1"}),
        (
            "batch_bulk_edit",
            reverse("catalog:batch_bulk_edit", args=[batch.pk]),
            {"items": [pending.pk], "stock": "1"},
        ),
        ("item_create", reverse("catalog:item_create", args=[batch.pk]), GOOD_ITEM),
        (
            "item_edit",
            reverse("catalog:item_edit", args=[batch.pk, pending.pk]),
            {**GOOD_ITEM, "cargo_number": pending.cargo_number, "title": "改"},
        ),
        ("item_delete", reverse("catalog:item_delete", args=[batch.pk, pending.pk]), {}),
        (
            "batch_import",
            reverse("catalog:batch_import", args=[batch.pk]),
            {"file": SimpleUploadedFile("items.csv", "标题 Title,价格 Price\n新T恤,25\n".encode())},
        ),
        (
            "batch_import_confirm",
            reverse("catalog:batch_import_confirm", args=[batch.pk]),
            {"token": "x"},
        ),
        ("connect", reverse("sync:connect"), {}),
    ]


def assert_refused(response):
    assert response.status_code == 403
    assert "refusal.html" in [t.name for t in response.templates]
    assert 'class="card warning refusal"' in response.content.decode()


# --- staff pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "viewer"])
def test_every_write_url_refuses_a_user_without_the_permission(client, world, role):
    login(client, role)
    before = snapshot(world)
    for name, url, data in write_requests(world):
        response = client.post(url, data)
        assert response.status_code == 403, name
        assert "refusal.html" in [t.name for t in response.templates], name
    # The OAuth answer is a GET.
    assert_refused(client.get(reverse("sync:oauth_callback"), {"code": "c", "state": "s"}))
    assert snapshot(world) == before


def test_the_refusal_page_is_in_the_users_language(client, world):
    login(client, "viewer")
    url = reverse("catalog:batch_submit", args=[world["batch"].pk])
    chinese = client.post(url)
    assert_refused(chinese)
    assert "无权操作" in chinese.content.decode()
    english = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert_refused(english)
    assert "Not allowed" in english.content.decode()
    assert "You do not have permission" in english.content.decode()


def test_a_user_without_view_permissions_gets_the_refusal_page_for_pages_too(client, world):
    login(client, None)
    for url in (
        reverse("catalog:batch_list"),
        reverse("catalog:batch_detail", args=[world["batch"].pk]),
        reverse("admin:catalog_uploadbatch_changelist"),
    ):
        assert_refused(client.get(url))


def test_a_viewer_sees_every_page_and_no_write_button(client, world):
    change = PriceStockChangeFactory(shop=world["shop"])
    SyncRunFactory(shop=world["shop"])
    login(client, "viewer")
    batch = world["batch"]
    before = snapshot(world)
    pages = [
        reverse("home"),
        reverse("catalog:batch_list"),
        reverse("catalog:batch_detail", args=[batch.pk]),
        reverse("catalog:batch_progress", args=[batch.pk]),
        reverse("catalog:batch_export", args=[batch.pk, "csv"]),
        reverse("catalog:product_list"),
        reverse("catalog:product_detail", args=[change.product.pk]),
        reverse("catalog:change_list"),
        reverse("admin:index"),
    ]
    for model in ("shop", "product", "syncrun", "pricestockchange", "uploadbatch", "uploaditem"):
        pages.append(reverse(f"admin:catalog_{model}_changelist"))
    pages.append(reverse("admin:catalog_uploadbatch_change", args=[batch.pk]))
    pages.append(reverse("admin:catalog_shop_change", args=[world["shop"].pk]))
    for url in pages:
        assert client.get(url).status_code == 200, url
    detail = client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    for write in ("batch_submit", "batch_validate", "item_create", "batch_bulk_edit"):
        assert reverse(f"catalog:{write}", args=[batch.pk]) not in detail, write
    nav = client.get(reverse("home")).content.decode()
    assert reverse("catalog:batch_list") in nav and reverse("django_rq:home") not in nav
    assert snapshot(world) == before


def test_navigation_and_dashboard_show_only_what_the_user_may_open(client, world):
    SyncRunFactory(shop=world["shop"])
    login(client, None)
    home = client.get(reverse("home")).content.decode()
    for url in (reverse("catalog:batch_list"), reverse("catalog:product_list")):
        assert url not in home
    assert world["shop"].name not in home  # the shops and runs tables are not shown
    client.force_login(UserFactory(username="v2", roles=["viewer"]))
    assert world["shop"].name in client.get(reverse("home")).content.decode()


@committing
def test_an_operator_stages_and_submits_but_cannot_connect_sync_or_resync(client, world):
    operator = login(client, "operator")
    create = client.post(
        reverse("catalog:batch_create"), {"shop": world["shop"].pk, "name": "运营的批次"}
    )
    batch = UploadBatch.objects.get(name="运营的批次")
    assert create.status_code == 302 and batch.created_by == operator
    added = client.post(reverse("catalog:item_create", args=[batch.pk]), GOOD_ITEM)
    assert added.status_code == 302 and batch.items.count() == 1
    client.post(reverse("catalog:batch_submit", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.SUBMITTED
    assert django_rq.get_queue("upload").count == 1

    before = snapshot(world)
    assert_refused(client.post(reverse("sync:connect")))
    changelist = reverse("admin:catalog_shop_changelist")
    for action in ("sync_now", "full_resync"):
        response = client.post(
            changelist, {"action": action, "_selected_action": [world["shop"].pk]}
        )
        assert_refused(response)
    assert snapshot(world) == before
    with pytest.raises(PermissionRefused) as refused:
        shop_services.request_sync(user=operator, shop=world["shop"])
    assert refused.value.code == RefusalCode.PERMISSION_DENIED


@committing
def test_a_manager_syncs_and_resyncs_but_only_an_active_shop(client, world):
    manager = login(client, "manager")
    run = shop_services.request_sync(user=manager, shop=world["shop"], full=True)
    assert run.kind == SyncRun.Kind.FULL and django_rq.get_queue("sync").count == 1
    world["shop"].status = Shop.Status.NEEDS_REAUTH
    with pytest.raises(Refused) as refused:
        shop_services.request_sync(user=manager, shop=world["shop"])
    assert refused.value.code == RefusalCode.SHOP_NOT_SYNCABLE
    assert SyncRun.objects.count() == 1


# --- the services themselves -----------------------------------------------------------------


def test_services_check_the_acting_user_and_let_the_system_through(world):
    viewer = UserFactory(username="v", roles=["viewer"])
    batch, pending = world["batch"], world["pending"]
    calls = [
        lambda user: create_batch(user=user, shop=world["shop"], name="x"),
        lambda user: validate_batch(user=user, batch=batch),
        lambda user: delete_item(user=user, item=pending),
        lambda user: submit_batch(user=user, batch=batch),
        lambda user: shop_services.request_sync(user=user, shop=world["shop"]),
    ]
    for call in calls:
        with pytest.raises(PermissionRefused) as refused:
            call(viewer)
        assert refused.value.code == RefusalCode.PERMISSION_DENIED
    inactive = UserFactory(username="gone", roles=["manager"], is_active=False)
    with pytest.raises(PermissionRefused):
        create_batch(user=inactive, shop=world["shop"], name="x")
    assert UploadBatch.objects.count() == 1 and batch.items.count() == 2
    assert validate_batch(user=None, batch=batch) == 0  # the system (a job, a command)


def test_an_item_of_a_batch_being_uploaded_cannot_be_changed_through_any_service(world):
    batch, pending = world["batch"], world["pending"]
    UploadBatch.objects.filter(pk=batch.pk).update(status=UploadBatch.Status.RUNNING)
    pending.title = "改"
    for call in (
        lambda: save_item(user=None, item=pending),
        lambda: delete_item(user=None, item=pending),
        lambda: validate_batch(user=None, batch=batch),
        lambda: save_item(user=None, item=UploadItem(batch=batch, title="新")),
    ):
        with pytest.raises(Refused) as refused:
            call()
        assert refused.value.code == RefusalCode.BATCH_LOCKED
    UploadBatch.objects.filter(pk=batch.pk).update(status=UploadBatch.Status.DONE)
    sent = UploadItemFactory(batch=batch, status=UploadItem.Status.PUBLISHED)
    with pytest.raises(Refused) as refused:
        delete_item(user=None, item=sent)
    assert refused.value.code == RefusalCode.ITEM_NOT_EDITABLE
    assert batch.items.count() == 3 and UploadItem.objects.get(pk=pending.pk).title != "改"


# --- admin ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "model", "action"),
    [
        (None, "shop", "sync_now"),
        ("viewer", "shop", "sync_now"),
        ("viewer", "shop", "full_resync"),
        ("operator", "shop", "full_resync"),
        ("viewer", "uploadbatch", "validate_batches"),
        ("viewer", "uploadbatch", "submit_batches"),
        ("viewer", "uploaditem", "delete_selected"),
        ("operator", "syncrun", "delete_selected"),
        ("manager", "pricestockchange", "delete_selected"),
    ],
)
def test_admin_actions_refuse_users_without_their_permission(client, world, role, model, action):
    run = SyncRunFactory(shop=world["shop"])
    change = PriceStockChangeFactory(shop=world["shop"])
    login(client, role)
    before = snapshot(world)
    selected = {
        "shop": world["shop"].pk,
        "uploadbatch": world["batch"].pk,
        "uploaditem": world["pending"].pk,
        "syncrun": run.pk,
        "pricestockchange": change.pk,
    }[model]
    response = client.post(
        reverse(f"admin:catalog_{model}_changelist"),
        {"action": action, "_selected_action": [selected], "post": "yes"},
    )
    assert_refused(response)
    assert snapshot(world) == before
    assert SyncRun.objects.filter(pk=run.pk).exists()
    assert PriceStockChange.objects.filter(pk=change.pk).exists()


def test_admin_actions_declare_their_permissions():
    from django.contrib import admin

    from catalog.models import UploadBatch as Batch

    shop_admin, batch_admin = admin.site._registry[Shop], admin.site._registry[Batch]
    assert shop_admin.sync_now.allowed_permissions == ["sync"]
    assert shop_admin.full_resync.allowed_permissions == ["resync"]
    assert batch_admin.submit_batches.allowed_permissions == ["submit"]
    assert batch_admin.validate_batches.allowed_permissions == ["change"]


def test_admin_cannot_edit_an_item_of_a_running_batch(admin_client, world):
    batch, pending = world["batch"], world["pending"]
    UploadBatch.objects.filter(pk=batch.pk).update(status=UploadBatch.Status.RUNNING)
    url = reverse("admin:catalog_uploaditem_change", args=[pending.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and 'name="title"' not in page.content.decode()  # read-only
    data = {**GOOD_ITEM, "cargo_number": pending.cargo_number, "title": "改"}
    assert_refused(admin_client.post(url, data))
    delete = reverse("admin:catalog_uploaditem_delete", args=[pending.pk])
    assert_refused(admin_client.post(delete, {"post": "yes"}))
    pending.refresh_from_db()
    assert pending.title != "改" and UploadItem.objects.filter(pk=pending.pk).exists()


def test_admin_item_edits_go_through_the_staging_service(admin_client, world):
    pending = world["pending"]
    url = reverse("admin:catalog_uploaditem_change", args=[pending.pk])
    data = {**GOOD_ITEM, "cargo_number": pending.cargo_number, "price": "30.00"}
    assert admin_client.post(url, data).status_code == 302
    pending.refresh_from_db()
    assert pending.price == Decimal("30.00") and pending.validation_errors == {}
    # Succeeded items are shown, not edited.
    sent = UploadItemFactory(batch=world["batch"], status=UploadItem.Status.PUBLISHED)
    sent_url = reverse("admin:catalog_uploaditem_change", args=[sent.pk])
    assert_refused(admin_client.post(sent_url, {**GOOD_ITEM, "cargo_number": sent.cargo_number}))


def test_admin_bulk_delete_of_items_is_all_or_nothing_through_the_staging_lock(admin_client, world):
    sent = UploadItemFactory(batch=world["batch"], status=UploadItem.Status.PUBLISHED)
    selected = [world["pending"].pk, world["failed"].pk, sent.pk]
    response = admin_client.post(
        reverse("admin:catalog_uploaditem_changelist"),
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    assert_refused(response)
    assert UploadItem.objects.filter(pk__in=selected).count() == 3
    response = admin_client.post(
        reverse("admin:catalog_uploaditem_changelist"),
        {"action": "delete_selected", "_selected_action": selected[:2], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(UploadItem.objects.values_list("pk", flat=True)) == [sent.pk]
    world["batch"].refresh_from_db()
    assert world["batch"].items_total == 1


def test_admin_batch_status_and_mirror_are_read_only(admin_client, world):
    batch = world["batch"]
    url = reverse("admin:catalog_uploadbatch_change", args=[batch.pk])
    data = {"name": "改名", "status": "done", "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"}
    response = admin_client.post(url, data)
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.name, batch.status) == ("改名", UploadBatch.Status.DRAFT)
    shop = world["shop"]
    shop_url = reverse("admin:catalog_shop_change", args=[shop.pk])
    admin_client.post(
        shop_url, {"name": "新名", "sync_enabled": "", "member_id": "b2b-x", "status": "disabled"}
    )
    shop.refresh_from_db()
    assert shop.name == "新名" and not shop.sync_enabled  # staff's own fields
    assert shop.member_id != "b2b-x" and shop.status == Shop.Status.ACTIVE


def test_sync_runs_and_change_rows_are_append_only_except_for_superusers(
    client, admin_client, world
):
    run = SyncRunFactory(shop=world["shop"])
    change = PriceStockChangeFactory(shop=world["shop"])
    login(client, "manager")
    for model, obj in (("syncrun", run), ("pricestockchange", change)):
        assert_refused(client.post(reverse(f"admin:catalog_{model}_delete", args=[obj.pk])))
        assert_refused(client.post(reverse(f"admin:catalog_{model}_add"), {}))
        page = client.get(reverse(f"admin:catalog_{model}_change", args=[obj.pk]))
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert SyncRun.objects.filter(pk=run.pk).exists()
    assert PriceStockChange.objects.filter(pk=change.pk).exists()
    # A superuser may delete (e.g. rows of a shop removed for good).
    delete = reverse("admin:catalog_syncrun_delete", args=[run.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not SyncRun.objects.filter(pk=run.pk).exists()


def test_a_manager_changes_groups_of_users_but_cannot_grant_superuser(client):
    login(client, "manager")
    clerk = UserFactory(username="clerk")
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    operator = Group.objects.get(name="operator")
    data = {
        "username": "clerk",
        "is_active": "on",
        "groups": [operator.pk],
        "is_superuser": "on",
        "user_permissions": [Permission.objects.get(codename="connect_shop").pk],
    }
    assert client.post(url, data).status_code == 302
    clerk.refresh_from_db()
    assert list(clerk.groups.values_list("name", flat=True)) == ["operator"]
    assert not clerk.is_superuser and not clerk.user_permissions.exists()
    boss = UserFactory(username="boss", is_superuser=True)
    assert_refused(client.post(reverse("admin:auth_user_change", args=[boss.pk]), data))
    password = reverse("admin:auth_user_password_change", args=[clerk.pk])
    assert_refused(client.get(password))


# --- the RQ dashboard ------------------------------------------------------------------------


@committing
def test_the_rq_dashboard_is_for_superusers_only(client, admin_client, redis_conn):
    django_rq.get_queue("upload").enqueue("sync.jobs.upload_batch_job", 1)
    home = reverse("django_rq:home")
    empty = reverse("django_rq:clear", args=[0])
    anonymous = client.get(home)
    assert anonymous.status_code == 302 and reverse("admin:login") in anonymous["Location"]
    login(client, "manager")
    assert_refused(client.get(home))
    assert_refused(client.post(empty, {"post": "yes"}))
    assert_refused(client.get(reverse("django_rq:home_json")))
    assert django_rq.get_queue("upload").count == 1
    assert admin_client.get(home).status_code == 200


# --- roles ---------------------------------------------------------------------------------


def test_role_groups_follow_roles_after_migrate():
    for role, permissions in ROLES.items():
        group = Group.objects.get(name=role)
        have = {
            f"{app}.{code}"
            for app, code in group.permissions.values_list("content_type__app_label", "codename")
        }
        assert have == set(permissions), role
    viewer = Group.objects.get(name="viewer")
    viewer.permissions.add(Permission.objects.get(codename="submit_uploadbatch"))
    sync_role_permissions()  # what the post_migrate handler runs
    assert not viewer.permissions.filter(codename="submit_uploadbatch").exists()


def test_a_batch_added_in_the_admin_goes_through_the_service(client, world):
    operator = login(client, "operator")
    data = {
        "name": " 后台批次 ",
        "shop": world["shop"].pk,
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
    }
    response = client.post(reverse("admin:catalog_uploadbatch_add"), data)
    assert response.status_code == 302
    batch = UploadBatch.objects.get(name="后台批次")  # stripped by the service
    assert batch.created_by == operator and batch.status == UploadBatch.Status.DRAFT
    login(client, "viewer")
    assert_refused(client.post(reverse("admin:catalog_uploadbatch_add"), data))
    assert UploadBatch.objects.filter(name__contains="后台批次").count() == 1


def test_the_upload_command_acts_as_the_system_or_as_a_named_user(world):
    from django.core.management import CommandError, call_command

    UserFactory(username="looker", roles=["viewer"])
    with pytest.raises(CommandError, match="permission_denied: "):
        call_command("upload_batch", str(world["batch"].pk), "--as", "looker")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("upload_batch", str(world["batch"].pk), "--as", "nobody")
    world["batch"].refresh_from_db()
    assert world["batch"].status == UploadBatch.Status.DRAFT
