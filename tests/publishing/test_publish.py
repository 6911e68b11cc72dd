"""Publishing what the real 1688 accepts, against the sandbox over real HTTP with a
real RQ worker on real Redis: the category's attribute schema at validation, pictures into the
photobank before the add, both publish APIs, exactly one offer whatever the answer, audit."""

import io

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from PIL import Image

from catalog.models import PhotobankPicture, ShopPublishing, UploadBatch, UploadItem
from catalog.publishing import services
from catalog.publishing.batch_validation import validate_batch
from catalog.publishing.categories import attributes_for, search
from catalog.publishing.upload.publishing import stage_picture
from erp1688.messages import render
from open1688.types import INPUT_DATE, INPUT_NUMBER, INPUT_TEXT
from sync.catalog_sync import sync_shop
from tests.conftest import run_worker
from tests.factories import UploadBatchFactory, UploadItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

TEE = 1031910  # 女式T恤, a leaf of 女装
NEW_ADD = "alibaba.new.product.add"
LEGACY_ADD = "alibaba.product.add"
PHOTO_ADD = "alibaba.photobank.photo.add"


@pytest.fixture(autouse=True)
def quick(settings, sandbox):
    settings.UPLOAD_UNKNOWN_GRACE_SECONDS = 1.5
    settings.UPLOAD_RECONCILE_LOOKS = 2
    settings.UPLOAD_INLINE_WAIT_SECONDS = 10
    settings.OPEN1688_LATE_APPLY_GRACE_SECONDS = 0.0
    sandbox.control("switches", {"audit_seconds": 0, "audit_reject_share": 0})
    yield
    sandbox.control("switches", {"audit_seconds": 3})
    sandbox.control("switches", {"app_key": settings.OPEN1688_APP_KEY, "denied_apis": []})


def picture(mode: str = "RGB", kind: str = "PNG", size=(64, 64), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    if mode == "RGBA":
        color = (*color[:3], 90)  # half transparent: 1688 refuses it as it is
    Image.new(mode, size, color).save(out, kind)
    return out.getvalue()


def filled_attributes(schema, **chosen: str) -> list[dict]:
    """Every always-required attribute with a fitting value (chosen ones by name)."""
    rows = []
    for attribute in schema.attributes:
        if attribute.is_sku_attribute or attribute.attr_id == 1398:
            continue
        if attribute.name in chosen:
            rows.append({"attributeID": attribute.attr_id, "value": chosen[attribute.name]})
        elif attribute.required:
            if attribute.input_type == INPUT_NUMBER:
                value = "1"
            elif attribute.input_type == INPUT_DATE:
                value = "2026-06-01"
            elif attribute.input_type == INPUT_TEXT or not attribute.values:
                value = "测试"
            else:
                value = attribute.values[0].name
            rows.append({"attributeID": attribute.attr_id, "value": value})
    return rows


def staged_item(shop, schema, batch=None, **fields) -> UploadItem:
    batch = batch or UploadBatchFactory(shop=shop)
    is_import = next(a for a in schema.attributes if a.attr_id == 1141)
    no = next(v.name for v in is_import.values if v.name == "否")
    values = {
        "category_id": TEE,
        "title": "夏季纯棉短袖T恤",
        "attributes": filled_attributes(schema, 是否进口=no),
        "images": [stage_picture(picture())],
    }
    values.update(fields)
    return UploadItemFactory(batch=batch, **values)


def offers_of(sandbox, shop, cargo: str) -> list[dict]:
    return sandbox.get("offers", member_id=shop.member_id, cargo_number=cargo)["offers"]


def submit(batch: UploadBatch) -> UploadBatch:
    services.submit_batch(user=None, batch=batch)
    run_worker("upload")
    batch.refresh_from_db()
    return batch


def test_required_and_cascading_attributes_refused_at_validation_by_name(connected_shop):
    schema = attributes_for(connected_shop, TEE)  # read from 1688 once, cached
    assert attributes_for(connected_shop, TEE).attributes == schema.attributes
    batch = UploadBatchFactory(shop=connected_shop)
    rows = [a for a in filled_attributes(schema, 是否进口="是") if a["attributeID"] != 2176]
    item = UploadItemFactory(batch=batch, category_id=TEE, attributes=rows)

    validate_batch(batch)
    item.refresh_from_db()
    with translation.override("en"):
        messages = " | ".join(render(m) for m in item.validation_errors["attributes"])
    assert "品牌 is required" in messages  # always required, named
    assert "原产国/地区 is required when 是否进口 = 是" in messages  # the cascade, named

    UploadItem.objects.filter(pk=item.pk).update(
        attributes=[*rows, {"attributeID": 2176, "value": schema.attribute(2176).values[0].name},
                    {"attributeID": 8243, "value": schema.attribute(8243).values[0].name
                     if schema.attribute(8243).values else "日本"}]
    )  # fmt: skip
    validate_batch(batch)
    item.refresh_from_db()
    assert "attributes" not in item.validation_errors


def test_title_counts_chinese_characters_twice(connected_shop):
    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema, title="纯" * 31)  # 62 > 60, but 31 characters
    validate_batch(item.batch)
    item.refresh_from_db()
    with translation.override("en"):
        message = render(item.validation_errors["title"][0])
    assert "counts 62 towards 1688's limit of 60" in message


def test_category_search_is_cached(connected_shop, sandbox):
    sandbox.reset_stats()
    found = search(connected_shop, "T恤")
    assert TEE in {node.category_id for node in found}
    again = search(connected_shop, "T恤")
    assert {n.category_id for n in again} == {n.category_id for n in found}
    assert sandbox.calls().get("alibaba.category.searchByKeyword") == 1


def test_pictures_land_in_the_photobank_before_the_schema_driven_add(connected_shop, sandbox):
    schema = attributes_for(connected_shop, TEE)
    transparent = stage_picture(picture("RGBA"))  # flattened to JPEG before the upload
    webp = stage_picture(picture(kind="WEBP", color=(10, 200, 10)))  # converted to JPEG
    first = staged_item(connected_shop, schema, images=[transparent, webp])
    UploadItemFactory(  # the same two pictures: not uploaded a second time
        batch=first.batch,
        category_id=TEE,
        title="夏季纯棉短袖T恤 二",
        attributes=first.attributes,
        images=[webp, transparent],
    )
    sandbox.reset_stats()

    batch = submit(first.batch)

    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    calls = sandbox.calls()
    assert calls[PHOTO_ADD] == 2 and calls[NEW_ADD] == 2 and LEGACY_ADD not in calls
    paths = set(PhotobankPicture.objects.filter(shop=connected_shop).values_list("path", flat=True))
    assert len(paths) == 2 and all(p.startswith("img/ibank/") for p in paths)
    for item in batch.items.all():
        assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
        assert item.publish_api == ShopPublishing.Api.SCHEMA
        assert set(item.picture_paths) == paths
        (offer,) = offers_of(sandbox, connected_shop, item.cargo_number)
        assert offer["productID"] == item.remote_offer_id
    publishing = ShopPublishing.objects.get(shop=connected_shop)
    assert publishing.freight_template_id and publishing.send_address_id and publishing.album_id


@pytest.mark.parametrize("kind", ["slow", "drop_after_apply", "apply_late"])
def test_an_add_without_answer_ends_with_exactly_one_offer(connected_shop, sandbox, kind):
    settings.OPEN1688_READ_TIMEOUT = 0.5
    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema)
    sandbox.fault(NEW_ADD, kind, delay=1.0)  # slow: 1 s past the 0.5 s read timeout
    sandbox.reset_stats()

    batch = submit(item.batch)

    item.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert sandbox.calls()[NEW_ADD] == 1  # never sent again: the late offer was adopted
    (offer,) = offers_of(sandbox, connected_shop, item.cargo_number)
    assert item.status == UploadItem.Status.PUBLISHED
    assert item.remote_offer_id == offer["productID"] and item.attempts == 1


def test_unknown_outcome_waits_its_grace_in_a_later_job(connected_shop, sandbox, settings):
    settings.UPLOAD_UNKNOWN_GRACE_SECONDS = 60  # longer than a run waits: the job re-queues
    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema)
    sandbox.fault(NEW_ADD, "drop_after_apply")

    batch = submit(item.batch)

    item.refresh_from_db()
    assert item.status == UploadItem.Status.UNKNOWN and item.next_check_at
    assert batch.status == UploadBatch.Status.SUBMITTED and "checked again at" in batch.last_error
    import django_rq

    assert django_rq.get_queue("upload").scheduled_job_registry.count == 1


def test_acl_refusal_switches_the_shop_to_the_legacy_add(connected_shop, sandbox):
    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema)
    sandbox.control("switches", {"app_key": settings.OPEN1688_APP_KEY, "denied_apis": [NEW_ADD]})
    sandbox.reset_stats()

    batch = submit(item.batch)

    item.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert item.status == UploadItem.Status.PUBLISHED and item.publish_api == "legacy"
    publishing = ShopPublishing.objects.get(shop=connected_shop)
    assert publishing.api_in_use == ShopPublishing.Api.LEGACY
    assert "APIACLDecline" in publishing.api_note
    (offer,) = offers_of(sandbox, connected_shop, item.cargo_number)  # found by 货号 1398
    assert offer["productID"] == item.remote_offer_id


def test_rejected_in_audit_shows_the_reason(connected_shop, sandbox, client, staff_user):
    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema, title="高仿纯棉短袖T恤")

    batch = submit(item.batch)

    item.refresh_from_db()
    assert item.status == UploadItem.Status.REJECTED and item.remote_offer_id
    assert "高仿" in item.remote_error_message
    assert batch.status == UploadBatch.Status.PARTLY_FAILED and batch.items_rejected == 1
    client.force_login(staff_user)
    page = client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    assert "高仿" in page and item.get_status_display() in page


def test_audit_decided_later_is_picked_up_by_the_sync(connected_shop, sandbox):
    sandbox.control("switches", {"audit_seconds": 1})
    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema)

    batch = submit(item.batch)
    item.refresh_from_db()
    assert item.status == UploadItem.Status.AUDITING and batch.items_auditing == 1
    assert batch.status == UploadBatch.Status.DONE  # nothing left to send

    import time

    time.sleep(1.2)
    from sync.catalog_sync import start_run

    # The audit settles when the gateway next answers (its modify stamp is then newer than the
    # window of the sync that made it settle): the next scheduled sync sees it.
    for _run in range(2):
        sync_shop(start_run(connected_shop))
    item.refresh_from_db()
    assert item.status == UploadItem.Status.PUBLISHED


def test_audit_states_are_read_twenty_offers_a_call(connected_shop, sandbox):
    from django.utils import timezone

    from catalog.publishing.upload.audits import audit_check_job
    from tests.sandbox.publishing_kit import eventually

    sandbox.control("switches", {"audit_seconds": 1})
    schema = attributes_for(connected_shop, TEE)
    batch = UploadBatchFactory(shop=connected_shop)
    items = [staged_item(connected_shop, schema, batch, cargo_number=f"AUD-{n}") for n in range(20)]
    items.append(staged_item(connected_shop, schema, batch, title="高仿纯棉短袖T恤"))
    submit(batch)
    assert batch.items.filter(status=UploadItem.Status.AUDITING).count() == 21

    def settled():  # the sandbox decides once the audit time has passed
        offers = sandbox.get("offers", member_id=connected_shop.member_id)["offers"]
        return all(o["status"] not in ("auditing", "new") for o in offers)

    assert eventually(settled, True)
    batch.items.update(next_check_at=timezone.now())  # every check due now
    sandbox.reset_stats()
    audit_check_job(batch.pk)

    calls = sandbox.calls()
    # 21 offers: two list calls by productIds, one detail for the rejection's reason.
    assert calls.get("alibaba.product.list.get") == 2 and calls.get("alibaba.product.get") == 1
    assert batch.items.filter(status=UploadItem.Status.PUBLISHED).count() == 20
    rejected = batch.items.get(status=UploadItem.Status.REJECTED)
    assert "高仿" in rejected.title and "高仿" in rejected.remote_error_message


@pytest.mark.system
def test_a_sigkilled_upload_worker_is_resumed_by_a_fresh_worker(
    connected_shop, sandbox, redis_conn, settings
):
    """A real `rqworker` process dies (SIGKILL) while 1688 works on an add; the minute job
    (resume_stalled_uploads) queues the batch again and a fresh worker ends it: one offer per
    item, the killed add adopted, well within two minutes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from catalog.publishing.upload import lock_key
    from catalog.publishing.upload.queue import resume_stalled_uploads
    from tests.child_processes import ROOT, child_env, wait_for

    settings.UPLOAD_UNKNOWN_GRACE_SECONDS = 0.5
    schema = attributes_for(connected_shop, TEE)
    batch = UploadBatchFactory(shop=connected_shop)
    items = [
        staged_item(connected_shop, schema, batch=batch, title=f"纯棉T恤{n}") for n in range(3)
    ]
    sandbox.fault(NEW_ADD, "slow", delay=2.0)  # the offer is created 2 s after the call
    sandbox.reset_stats()
    services.submit_batch(user=None, batch=batch)
    child = subprocess.Popen(  # noqa: S603
        # SimpleWorker: the job runs in the worker process itself (a forked work-horse calls
        # setsid and would outlive a kill of the worker's process group).
        [
            sys.executable,
            "manage.py",
            "rqworker",
            "upload",
            "--burst",
            "--worker-class",
            "sync.worker_class.SimpleWorker",
        ],  # fmt: skip
        cwd=ROOT,
        env={**child_env(sandbox), "ERP_DATA_DIR": str(settings.DATA_DIR)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the worker and its work-horse
    )
    try:
        wait_for(lambda: sandbox.calls().get(NEW_ADD) or child.poll() is not None, 60, "add")
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        os.killpg(child.pid, signal.SIGKILL)  # the worker and the work-horse running the job
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
    killed_at = time.monotonic()
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.RUNNING  # as the dead run left it
    wait_for(lambda: not redis_conn.exists(lock_key(batch.pk)), 10, "the dead run's lock")

    assert resume_stalled_uploads() == [batch.pk]  # what the minute job does
    run_worker("upload")

    batch.refresh_from_db()
    took = time.monotonic() - killed_at
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert took < 120
    assert sandbox.calls()[NEW_ADD] == 3  # the killed add was looked for, not sent again
    for item in items:
        item.refresh_from_db()
        (offer,) = offers_of(sandbox, connected_shop, item.cargo_number)
        assert item.status == UploadItem.Status.PUBLISHED
        assert item.remote_offer_id == offer["productID"]


def test_item_form_with_category_attributes_sku_grid_and_uploaded_pictures(
    connected_shop, sandbox, client, staff_user
):
    """The staff pages over HTTP: search a category, open its panel, build the SKU grid, post
    the item with two picture files; the item is staged as the job needs it and publishes."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff_user)
    batch = UploadBatchFactory(shop=connected_shop)
    found = client.get(reverse("catalog:category_search", args=[batch.pk]), {"q": "女式T恤"})
    assert found.status_code == 200 and str(TEE) in found.content.decode()
    panel = client.get(reverse("catalog:category_panel", args=[batch.pk]), {"category_id": TEE})
    html = panel.content.decode()
    assert 'name="attr-2176"' in html and "品牌" in html and 'name="dim-3216"' in html
    grid = client.get(
        reverse("catalog:sku_grid", args=[batch.pk]),
        {"category_id": TEE, "dim-3216": "白色, 黑色", "dim-450": "M"},
    ).content.decode()
    assert grid.count("-combo") == 2 and "白色 / M" in grid

    schema = attributes_for(connected_shop, TEE)
    post = {
        "structured": "1",
        "title": "纯棉短袖T恤 网格",
        "category_id": TEE,
        "price": "19.90",
        "unit": "件",
        "min_order_quantity": 1,
        "images": "",
        "price_ranges": "",
        "attributes": "",
        "skus": "",
        "description": "",
        "cargo_number": "",
        "stock": "",
    }
    for row in filled_attributes(schema, 是否进口="否"):
        post[f"attr-{row['attributeID']}"] = row["value"]
    post.update(
        {
            "sku-0-combo": '[[3216, "白色"], [450, "M"]]',
            "sku-0-price": "19.90",
            "sku-0-stock": "10",
            "sku-0-cargo": "TEE-W-M",
            "sku-1-combo": '[[3216, "黑色"], [450, "M"]]',
            "sku-1-price": "21.00",
            "sku-1-stock": "5",
            "sku-1-cargo": "TEE-B-M",
            "picture_files": [
                SimpleUploadedFile("a.png", picture("RGBA"), "image/png"),
                SimpleUploadedFile("b.jpg", picture(kind="JPEG"), "image/jpeg"),
            ],
        }
    )
    answer = client.post(reverse("catalog:item_create", args=[batch.pk]), post)
    assert answer.status_code == 302, answer.content.decode()[-3000:]
    item = batch.items.get()
    assert len(item.images) == 2 and all(i.startswith("staged:") for i in item.images)
    assert [s["cargo_number"] for s in item.skus] == ["TEE-W-M", "TEE-B-M"]
    assert {a["attributeID"] for a in item.attributes} >= {2176, 1141}

    edit = client.get(reverse("catalog:item_edit", args=[batch.pk, item.pk])).content.decode()
    assert 'value="TEE-B-M"' in edit and "黑色 / M" in edit  # the panel is in the page, filled
    panel_url = reverse("catalog:category_panel", args=[batch.pk])
    panel = client.get(panel_url, {"category_id": TEE, "item": item.pk}).content.decode()
    assert 'value="TEE-B-M"' in panel and "黑色 / M" in panel

    preflight = client.post(reverse("catalog:batch_preflight", args=[batch.pk]))
    assert preflight.status_code == 200
    with translation.override("en"):
        preflight = client.post(reverse("catalog:batch_preflight", args=[batch.pk]))
    assert preflight.status_code == 200

    batch = submit(batch)
    item.refresh_from_db()
    assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
    (offer,) = offers_of(sandbox, connected_shop, item.cargo_number)
    assert offer["productID"] == item.remote_offer_id


def test_shop_publishing_settings_in_the_admin(connected_shop, sandbox, admin_client):
    """The admin reads the shop's choices from 1688; staff pick the defaults among them."""
    publishing = ShopPublishing.objects.create(shop=connected_shop)
    url = reverse("admin:catalog_shoppublishing_changelist")
    answer = admin_client.post(
        url, {"action": "read_from_1688", "_selected_action": [publishing.pk]}
    )
    assert answer.status_code == 302
    publishing.refresh_from_db()
    names = [t["name"] for t in publishing.freight_templates]
    assert "江浙沪包邮" in names and len(publishing.send_addresses) == 2
    chosen = next(t["id"] for t in publishing.freight_templates if t["name"] == "江浙沪包邮")
    change = reverse("admin:catalog_shoppublishing_change", args=[publishing.pk])
    page = admin_client.get(change).content.decode()
    assert "江浙沪包邮" in page
    answer = admin_client.post(
        change,
        {
            "api_choice": "auto",
            "album_id": str(publishing.album_id),
            "freight_template_id": str(chosen),
            "send_address_id": str(publishing.send_address_id),
        },
    )
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    publishing.refresh_from_db()
    assert publishing.freight_template_id == chosen


def test_shop_page_says_which_publish_api_is_in_use(connected_shop, client, staff_user):
    ShopPublishing.objects.create(
        shop=connected_shop, api_in_use="legacy", api_note="gw.APIACLDecline: not allowed"
    )
    client.force_login(staff_user)
    page = client.get(reverse("catalog:shop_detail", args=[connected_shop.pk]))
    html = page.content.decode()
    assert "product.add" in html and "new.product.add" not in html  # the legacy add, not the
    assert "gw.APIACLDecline" in html  # schema-driven one, and why


def test_batch_overrides_the_shops_freight_template_and_address(
    connected_shop, sandbox, client, staff_user
):
    from catalog.publishing.upload.publishing import freight_and_address, publishing_for
    from catalog.shops.clients import make_client

    with make_client() as api:
        publishing = publishing_for(connected_shop, client=api)
    other = next(t["id"] for t in publishing.freight_templates if not t["default"])
    batch = UploadBatchFactory(shop=connected_shop)
    client.force_login(staff_user)
    page = client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    assert 'name="freight_template_id"' in page
    url = reverse("catalog:batch_publishing", args=[batch.pk])
    client.post(url, {"freight_template_id": str(other), "send_address_id": ""})
    batch.refresh_from_db()
    assert freight_and_address(batch, publishing) == (other, publishing.send_address_id)

    client.post(url, {"freight_template_id": "999999", "send_address_id": "x"})  # refused
    batch.refresh_from_db()
    assert batch.freight_template_id == other and batch.send_address_id is None


def test_category_tree_read_on_demand_then_searched_locally(connected_shop, sandbox, admin_client):
    import time

    publishing = ShopPublishing.objects.create(shop=connected_shop)
    sandbox.reset_stats()
    started = time.monotonic()
    answer = admin_client.post(
        reverse("admin:catalog_shoppublishing_changelist"),
        {"action": "read_category_tree", "_selected_action": [publishing.pk]},
    )
    took = time.monotonic() - started
    assert answer.status_code == 302
    calls = sandbox.calls()["alibaba.category.get"]
    from catalog.models import CategoryNode

    nodes = CategoryNode.objects.filter(shop=connected_shop)
    assert nodes.filter(is_leaf=True).count() == 272 and calls == nodes.count() + 1
    assert nodes.get(category_id=TEE).path.endswith("> 女式T恤")
    print(f"category tree: {nodes.count()} categories, {calls} calls, {took:.2f} s")
    sandbox.reset_stats()
    assert TEE in {n.category_id for n in search(connected_shop, "T恤")}
    assert "alibaba.category.searchByKeyword" not in sandbox.calls()  # answered from the cache


def test_import_template_for_a_category_round_trips(connected_shop, sandbox, client, staff_user):
    """The template of a category carries its required attributes and SKU dimensions in the
    text format; imported back as it is, the row passes validation against the schema."""
    import tablib

    from catalog.publishing import textformats
    from catalog.publishing.resources import COLUMN_NAMES

    attributes_for(connected_shop, TEE)
    batch = UploadBatchFactory(shop=connected_shop)
    client.force_login(staff_user)
    answer = client.get(
        reverse("catalog:import_template", args=["csv"]), {"batch": batch.pk, "category": TEE}
    )
    text = b"".join(answer.streaming_content).decode("utf-8-sig")
    assert "品牌(2176)=" in text and "颜色(3216):" in text and str(TEE) in text
    data = tablib.Dataset().load(text, format="csv")
    (row,) = data.dict
    item = staged_item(
        connected_shop,
        attributes_for(connected_shop, TEE),
        batch=batch,
        attributes=textformats.parse_attributes(row[COLUMN_NAMES["attributes"]]),
        skus=textformats.parse_skus(row[COLUMN_NAMES["skus"]]),
        stock=200,
    )
    validate_batch(batch)
    item.refresh_from_db()
    assert item.validation_errors == {}


@pytest.mark.parametrize("value", ["²", "１２", "9" * 40, "-1", "x", ""])
def test_odd_ids_on_the_publishing_pages_are_no_server_error(
    connected_shop, client, staff_user, value
):
    client.force_login(staff_user)
    batch = UploadBatchFactory(shop=connected_shop)
    pages = [
        (reverse("catalog:category_panel", args=[batch.pk]), {"category_id": value, "item": value}),
        (reverse("catalog:sku_grid", args=[batch.pk]), {"category_id": value, "dim-3216": value}),
        (reverse("catalog:import_template", args=["csv"]), {"batch": value, "category": value}),
    ]
    for url, params in pages:
        assert client.get(url, params).status_code == 200, url
    answer = client.post(
        reverse("catalog:batch_publishing", args=[batch.pk]),
        {"freight_template_id": value, "send_address_id": value},
    )
    assert answer.status_code == 302


def test_unknown_outcome_while_1688_cannot_be_asked_is_never_resent(connected_shop, sandbox):
    """The add's answer is lost and every look fails too: the item stays unknown (never sent
    again), the run ends in bounded time and the job is queued for a later look."""
    import time

    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema)
    settings.OPEN1688_MAX_RETRIES = 0
    settings.UPLOAD_UNKNOWN_GRACE_SECONDS = 0.3
    sandbox.fault(NEW_ADD, "drop_after_apply")
    sandbox.fault("alibaba.product.list.get", "http500", times=1000)
    sandbox.reset_stats()
    started = time.monotonic()

    batch = submit(item.batch)

    item.refresh_from_db()
    assert time.monotonic() - started < 60
    assert sandbox.calls()[NEW_ADD] == 1
    assert item.status == UploadItem.Status.UNKNOWN and item.next_check_at
    assert batch.status == UploadBatch.Status.SUBMITTED
    sandbox.control("faults", method="DELETE")


def test_a_picture_over_2_mb_is_recompressed_before_the_photobank(connected_shop, sandbox):
    """1688 refuses pictures over 2 MB: a 3 MB noisy PNG goes in as a JPEG under the limit."""
    import os

    from catalog.publishing.upload.publishing import PHOTO_MAX_BYTES, acceptable_picture

    noisy = Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    big = out.getvalue()
    assert len(big) > PHOTO_MAX_BYTES
    fixed, extension = acceptable_picture(big)
    assert extension == "jpg" and len(fixed) <= PHOTO_MAX_BYTES

    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema, images=[stage_picture(big)])
    batch = submit(item.batch)
    item.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert item.status == UploadItem.Status.PUBLISHED and item.picture_paths[0].startswith("img/")


def test_category_panel_reads_the_schema_again_on_demand(
    connected_shop, sandbox, client, staff_user
):
    client.force_login(staff_user)
    batch = UploadBatchFactory(shop=connected_shop)
    url = reverse("catalog:category_panel", args=[batch.pk])
    client.get(url, {"category_id": TEE})
    sandbox.reset_stats()
    client.get(url, {"category_id": TEE})
    assert "alibaba.category.attribute.get" not in sandbox.calls()  # cached
    client.get(url, {"category_id": TEE, "refresh": "1"})
    assert sandbox.calls()["alibaba.category.attribute.get"] == 1


def test_a_copied_offers_pictures_are_put_into_this_shops_photobank(
    connected_shop, sandbox, settings
):
    """Another seller's photobank path (a copied offer) is refused by the schema-driven add:
    the picture is fetched from the image host and uploaded to this shop's photobank."""
    settings.OPEN1688_IMAGE_BASE = sandbox.url + "/"  # the sandbox serves /img/ pictures
    schema = attributes_for(connected_shop, TEE)
    foreign = "img/ibank/2026/001/002/1_1.jpg"
    item = staged_item(connected_shop, schema, images=[foreign], source=UploadItem.Source.COPY)
    sandbox.reset_stats()

    batch = submit(item.batch)

    item.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
    assert sandbox.calls()[PHOTO_ADD] == 1 and item.picture_paths[0] != foreign


def test_a_custom_value_marked_is_custom_passes_validation_and_the_add(connected_shop, sandbox):
    schema = attributes_for(connected_shop, TEE)
    rows = [a for a in filled_attributes(schema, 是否进口="否") if a["attributeID"] != 287]
    item = staged_item(
        connected_shop, schema, attributes=[*rows, {"attributeID": 287, "value": "真丝混纺"}]
    )
    validate_batch(item.batch)
    item.refresh_from_db()
    with translation.override("en"):
        assert "真丝混纺 is not one of its values" in render(
            item.validation_errors["attributes"][0]
        )

    custom = {"attributeID": 287, "value": "真丝混纺", "isCustom": True}
    UploadItem.objects.filter(pk=item.pk).update(attributes=[*rows, custom])
    validate_batch(item.batch)
    item.refresh_from_db()
    assert item.validation_errors == {}
    submit(item.batch)
    item.refresh_from_db()
    assert item.status in (UploadItem.Status.AUDITING, UploadItem.Status.PUBLISHED), (
        item.remote_error_message
    )
    assert len(offers_of(sandbox, connected_shop, item.cargo_number)) == 1
    # The schema-driven add carries the mark too: {"value": -1, "text": …, "custom": true}.
    assert item.publish_api == ShopPublishing.Api.SCHEMA


def test_a_sellers_existing_offers_copy_valid_and_publish_once(connected_shop, sandbox):
    """Offers another seller has on 1688 (seeded: several leaves, materials of the seller's own)
    copy into items valid against their leaves' schemas, and each publishes once under the
    item's own 货号."""
    seeded = sandbox.control("seed", {"member_id": "b2b-2209000078", "count": 16, "seed": 11})
    ids = [
        offer["productID"] for offer in sandbox.get("offers", member_id="b2b-2209000078")["offers"]
    ]
    assert len(ids) == 16, seeded
    batch = UploadBatchFactory(shop=connected_shop)
    result = services.copy_offers(user=None, batch=batch, offer_refs=" ".join(map(str, ids)))
    assert [item.source_offer_id for item in result.created] == ids, result.errors
    for item in batch.items.all():
        assert item.validation_errors == {}, (item.category_id, item.validation_errors)
    # What makes these offers hard is there: a seller's own value (kept, marked isCustom).
    assert any(a.get("isCustom") for item in batch.items.all() for a in item.attributes)

    submit(batch)
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    for item in batch.items.all():
        assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
        assert len(offers_of(sandbox, connected_shop, item.cargo_number)) == 1


def test_a_picture_that_cannot_be_read_fails_the_item_in_the_readers_language(
    connected_shop, sandbox
):
    schema = attributes_for(connected_shop, TEE)
    item = staged_item(connected_shop, schema, images=[f"{sandbox.url}/no-such-picture"])
    submit(item.batch)
    item.refresh_from_db()
    assert item.status == UploadItem.Status.FAILED and item.remote_error_code == "picture"
    assert sandbox.calls().get(NEW_ADD) is None and sandbox.calls().get(LEGACY_ADD) is None
    with translation.override("en"):
        assert render(item.remote_error_message).startswith("picture 1: could not download")
    with translation.override("zh-hans"):
        assert render(item.remote_error_message).startswith("第 1 张图片：无法下载")
