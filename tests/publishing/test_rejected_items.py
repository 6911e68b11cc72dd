"""Items rejected in 1688's audit: the reason beside them, corrected and resubmitted as an edit of
the rejected offer (never a second offer under the same 货号), or removed; counted on the
dashboard and the batch list. Against the sandbox over HTTP with a real RQ worker."""

import pytest
from django.urls import reverse

from catalog.models import UploadBatch, UploadItem
from catalog.publishing import services as catalog_services
from catalog.publishing.categories import attributes_for
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from tests.conftest import run_worker
from tests.publishing.test_publish import TEE, offers_of, staged_item, submit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def audit_at_once(settings, sandbox):
    settings.UPLOAD_UNKNOWN_GRACE_SECONDS = 1.5
    settings.UPLOAD_RECONCILE_LOOKS = 2
    settings.UPLOAD_INLINE_WAIT_SECONDS = 10
    sandbox.control("switches", {"audit_seconds": 0, "audit_reject_share": 0})
    yield
    sandbox.control("switches", {"audit_seconds": 3})


def rejected_item(shop) -> UploadItem:
    item = staged_item(shop, attributes_for(shop, TEE), title="高仿纯棉短袖T恤")
    submit(item.batch)
    item.refresh_from_db()
    assert item.status == UploadItem.Status.REJECTED and item.remote_offer_id
    return item


def page(client, url: str, language: str = "zh-hans") -> str:
    client.cookies["django_language"] = language
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_dashboard_and_batch_list_count_rejected_items(connected_shop, staff_client):
    item = rejected_item(connected_shop)
    home = page(staff_client, reverse("home"))
    listing = page(staff_client, reverse("catalog:batch_list"))
    assert "1 个商品未通过 1688 审核" in home and "0 个商品失败" not in home
    assert "审核未通过" in listing and 'class="badge rejected">1<' in listing
    home = page(staff_client, reverse("home"), "en")
    assert "1 item rejected in 1688's audit" in home
    detail = page(staff_client, reverse("catalog:batch_detail", args=[item.batch_id]))
    assert "高仿" in detail  # the reason beside the item
    assert reverse("catalog:batch_resubmit", args=[item.batch_id]) in detail
    assert reverse("catalog:item_edit", args=[item.batch_id, item.pk]) in detail


def test_a_corrected_rejected_item_is_resubmitted_as_an_edit_of_its_offer(
    connected_shop, sandbox, staff_client, staff_user
):
    item = rejected_item(connected_shop)
    offer_id = item.remote_offer_id
    edit = staff_client.get(reverse("catalog:item_edit", args=[item.batch_id, item.pk]))
    assert edit.status_code == 200

    item.title = "纯棉短袖T恤 夏季"
    catalog_services.save_item(user=staff_user, item=item)
    answer = staff_client.post(reverse("catalog:batch_resubmit", args=[item.batch_id]))
    assert answer.status_code == 302
    run_worker("upload")

    item.refresh_from_db()
    assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
    assert item.remote_offer_id == offer_id and not item.remote_error_message
    (offer,) = offers_of(sandbox, connected_shop, item.cargo_number)  # still exactly one
    assert offer["productID"] == offer_id
    batch = UploadBatch.objects.get(pk=item.batch_id)
    assert batch.items_rejected == 0 and batch.status == UploadBatch.Status.DONE


def test_resubmitted_unchanged_it_is_rejected_again_with_the_reason(connected_shop, sandbox):
    from catalog.publishing import services

    item = rejected_item(connected_shop)
    services.resubmit_rejected(user=None, batch=item.batch)
    run_worker("upload")
    item.refresh_from_db()
    assert item.status == UploadItem.Status.REJECTED and "高仿" in item.remote_error_message
    assert len(offers_of(sandbox, connected_shop, item.cargo_number)) == 1
    with pytest.raises(Refused) as refused:  # nothing else rejected in the batch: refused
        item.batch.items.update(status=UploadItem.Status.PUBLISHED)
        services.resubmit_rejected(user=None, batch=item.batch)
    assert refused.value.code == RefusalCode.BATCH_NOTHING_TO_RESUBMIT


def test_the_cargo_number_of_a_rejected_item_stays(connected_shop, staff_user):
    item = rejected_item(connected_shop)
    item.cargo_number = "ANOTHER-CARGO"
    with pytest.raises(Refused) as refused:
        catalog_services.save_item(user=staff_user, item=item)
    assert refused.value.code == RefusalCode.ITEM_CARGO_LOCKED


def test_a_rejected_item_can_be_removed_and_its_offer_stays_on_1688(
    connected_shop, sandbox, staff_client
):
    item = rejected_item(connected_shop)
    answer = staff_client.post(
        reverse("catalog:item_delete", args=[item.batch_id, item.pk]), follow=True
    )
    assert "已从批次移除" in answer.content.decode()
    assert not UploadItem.objects.filter(pk=item.pk).exists()
    assert UploadBatch.objects.get(pk=item.batch_id).items_rejected == 0
    assert len(offers_of(sandbox, connected_shop, item.cargo_number)) == 1


def test_a_viewer_cannot_resubmit(connected_shop, client):
    from tests.factories import UserFactory

    item = rejected_item(connected_shop)
    client.force_login(UserFactory(roles=["viewer"]))
    detail = page(client, reverse("catalog:batch_detail", args=[item.batch_id]))
    assert reverse("catalog:batch_resubmit", args=[item.batch_id]) not in detail
    answer = client.post(reverse("catalog:batch_resubmit", args=[item.batch_id]))
    assert answer.status_code == 403
    item.refresh_from_db()
    assert item.status == UploadItem.Status.REJECTED


def test_an_offer_id_gone_from_1688_is_looked_for_by_cargo_number_before_any_add(
    connected_shop, sandbox
):
    from catalog.publishing import services

    item = rejected_item(connected_shop)
    offer_id = item.remote_offer_id
    UploadItem.objects.filter(pk=item.pk).update(remote_offer_id=990000000001)  # unknown id
    services.resubmit_rejected(user=None, batch=item.batch)
    run_worker("upload")
    item.refresh_from_db()
    # Found again by its 货号, rejected as it was: adopted, no second offer.
    assert item.remote_offer_id == offer_id and item.status == UploadItem.Status.REJECTED
    assert len(offers_of(sandbox, connected_shop, item.cargo_number)) == 1


def test_a_rejected_item_can_be_bulk_edited_with_the_pending_ones(connected_shop, staff_client):
    item = rejected_item(connected_shop)
    answer = staff_client.post(
        reverse("catalog:batch_bulk_edit", args=[item.batch_id]),
        {"items": [item.pk], "stock": "7"},
    )
    assert answer.status_code == 302
    item.refresh_from_db()
    assert item.stock == 7 and item.status == UploadItem.Status.REJECTED
