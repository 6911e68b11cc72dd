"""Staff's whole path, through the real views, worker, sandbox and sync: import → submit → 1688
→ mirror. Nothing is mocked."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product, SyncRun, UploadBatch, UploadItem
from sync.jobs import enqueue_sync
from tests.conftest import run_worker
from tests.publishing.test_import_export import csv_bytes, row

pytestmark = pytest.mark.django_db(transaction=True)


ADDS = {"alibaba.product.add", "alibaba.new.product.add"}  # the legacy and schema-driven adds


@pytest.fixture(autouse=True)
def instant_audit(sandbox):
    """New offers are decided at once (`published`) instead of `auditing` for 3 s
    (docs/sandbox-control.md, "Publishing")."""
    sandbox.control("switches", {"audit_seconds": 0, "audit_reject_share": 0})
    yield
    sandbox.control("switches", {"audit_seconds": 3})


def offers_with_cargo(sandbox, shop, cargo):
    return sandbox.get("offers", member_id=shop.member_id, cargo_number=cargo)["offers"]


def test_imported_batch_is_uploaded_and_then_mirrored(sandbox, connected_shop, staff_client):
    created = staff_client.post(
        reverse("catalog:batch_create"), {"shop": connected_shop.pk, "name": "双十二上新"}
    )
    batch = UploadBatch.objects.get(name="双十二上新")
    assert created.status_code == 302

    rows = [row(title=f"2026新款纯棉短袖T恤 {n}号", cargo_number=f"E2E-{n}") for n in range(3)]
    rows.append(row(title="", cargo_number="E2E-BAD"))  # invalid: given back, never imported
    preview = staff_client.post(
        reverse("catalog:batch_import", args=[batch.pk]),
        {"file": SimpleUploadedFile("items.csv", csv_bytes(rows))},
    )
    assert preview.context["preview"].invalid_count == 1 and preview.context["preview"].rejects_name
    assert not batch.items.exists()  # nothing before the confirm
    token = preview.context["confirm_form"].initial["token"]
    staff_client.post(reverse("catalog:batch_import_confirm", args=[batch.pk]), {"token": token})
    assert batch.items.count() == 3

    page = staff_client.post(reverse("catalog:batch_submit", args=[batch.pk]), follow=True)
    assert page.status_code == 200
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.SUBMITTED and batch.job_id

    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE and batch.items_succeeded == 3
    items = list(batch.items.order_by("position"))
    for item in items:
        assert item.status == UploadItem.Status.PUBLISHED
        assert [
            o["productID"] for o in offers_with_cargo(sandbox, connected_shop, item.cargo_number)
        ] == [item.remote_offer_id]
    detail = staff_client.get(reverse("catalog:batch_detail", args=[batch.pk]))
    assert str(items[0].remote_offer_id) in detail.content.decode()

    # A retry with nothing failed is refused with a readable message, and sends nothing.
    sandbox.reset_stats()
    page = staff_client.post(reverse("catalog:batch_retry", args=[batch.pk]), follow=True)
    assert page.status_code == 200 and not set(sandbox.calls()) & ADDS

    # The next sync mirrors the new offers, linked by offer id and cargo number.
    run = enqueue_sync(connected_shop)
    run_worker("sync")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    for item in items:
        product = Product.objects.get(shop=connected_shop, offer_id=item.remote_offer_id)
        assert product.cargo_number == item.cargo_number and product.subject == item.title


def test_admin_submit_action_uploads_through_the_worker(sandbox, connected_shop, admin_client):
    from tests.factories import UploadBatchFactory, UploadItemFactory

    batch = UploadBatchFactory(shop=connected_shop)
    good = UploadItemFactory(batch=batch)
    bad = UploadItemFactory(batch=batch, title="")
    changelist = reverse("admin:catalog_uploadbatch_changelist")
    admin_client.post(changelist, {"action": "submit_batches", "_selected_action": [batch.pk]})
    run_worker("upload")
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.status == UploadItem.Status.PUBLISHED and good.remote_offer_id
    assert bad.status == UploadItem.Status.PENDING and "title" in bad.validation_errors
    assert len(offers_with_cargo(sandbox, connected_shop, bad.cargo_number)) == 0


def test_staff_copy_offers_by_pasting_links(sandbox, connected_shop, staff_client):
    from tests.factories import UploadBatchFactory

    source = sandbox.new_seller("b2b-2209400001", "源头工厂")  # noqa: F841 - another seller
    ids = sandbox.control("seed", {"member_id": "b2b-2209400001", "count": 2, "seed": 5})[
        "product_ids"
    ]
    batch = UploadBatchFactory(shop=connected_shop)
    url = reverse("catalog:batch_copy", args=[batch.pk])
    assert staff_client.get(url).status_code == 200
    pasted = f"https://detail.1688.com/offer/{ids[0]}.html?spm=x\n{ids[1]}\nnot-an-offer\n1"
    page = staff_client.post(url, {"offer_refs": pasted})
    html = page.content.decode()
    assert page.status_code == 200
    assert "not-an-offer" in html  # reported, not silently skipped
    assert set(batch.items.values_list("source_offer_id", flat=True)) == set(ids)
    assert batch.items.filter(source=UploadItem.Source.COPY).count() == 2
    # Pasting the same links again stages nothing twice.
    staff_client.post(url, {"offer_refs": pasted})
    assert batch.items.count() == 2
