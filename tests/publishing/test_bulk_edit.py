"""Bulk edit of staged items: exact Decimal price math, and uploaded items are never touched."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import UploadBatch, UploadItem
from catalog.publishing.bulk_edit import new_price
from catalog.publishing.services import bulk_edit_items
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused
from tests.factories import UploadBatchFactory, UploadItemFactory, UserFactory, cache_schema

DRESS = 1031918  # 连衣裙

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("price", "changes", "expected"),
    [
        ("19.90", {"multiply": "1.15"}, "22.89"),  # 22.885: half up, not to even (22.88)
        ("19.90", {"multiply": "1.15", "round_to": "0.1"}, "22.90"),
        ("19.90", {"multiply": "1.15", "round_to": "1"}, "23.00"),
        ("22.50", {"round_to": "1"}, "23.00"),
        ("10.00", {"multiply": "1.1", "add": "-0.05"}, "10.95"),
        ("0.10", {"multiply": "3"}, "0.30"),  # 0.1 × 3 is exactly 0.3 in Decimal
        ("9.99", {"add": "0.005"}, "10.00"),
    ],
)
def test_price_formula_is_exact_and_rounds_half_up(price, changes, expected):
    changes = {k: Decimal(v) for k, v in changes.items()}
    assert new_price(Decimal(price), **changes) == Decimal(expected)
    assert str(new_price(Decimal(price), **changes)) == expected


def test_bulk_edit_reprices_item_ranges_and_skus_and_revalidates():
    batch = UploadBatchFactory()
    plain = UploadItemFactory(batch=batch, price=Decimal("19.90"))
    tiered = UploadItemFactory(
        batch=batch,
        price=None,
        price_ranges=[
            {"start_quantity": 1, "price": "10.00"},
            {"start_quantity": 50, "price": "9"},
        ],
        skus=[
            {
                "attributes": [{"attributeID": 3216, "attributeValue": "白色"}],
                "price": "10.00",  # priced by the tiers: the first tier's price
                "stock": 4,
                "skuImageUrl": "img/ibank/keep.jpg",
            }
        ],
    )

    changed = bulk_edit_items(
        user=None,
        items=batch.items.all(),
        multiply=Decimal("1.15"),
        add=Decimal("1"),
        round_to=Decimal("0.1"),
    )

    assert changed == 2
    plain.refresh_from_db()
    tiered.refresh_from_db()
    assert plain.price == Decimal("23.90")  # 19.90 × 1.15 + 1 = 23.885 → 23.9
    assert tiered.price_ranges == [
        {"start_quantity": 1, "price": "12.50"},
        {"start_quantity": 50, "price": "11.40"},  # 9 × 1.15 + 1 = 11.35 → 11.4
    ]
    assert tiered.skus[0]["price"] == "12.50"  # with the first tier
    assert tiered.skus[0]["skuImageUrl"] == "img/ibank/keep.jpg"
    assert plain.validation_errors == {} and tiered.validation_errors == {}


def test_bulk_edit_leaves_uploaded_items_and_running_batches_alone():
    batch = UploadBatchFactory()
    pending = UploadItemFactory(batch=batch)
    failed = UploadItemFactory(batch=batch, status=UploadItem.Status.FAILED)
    untouchable = [
        UploadItemFactory(batch=batch, status=status, remote_offer_id=600000000001 + n)
        for n, status in enumerate(
            [UploadItem.Status.PUBLISHED, UploadItem.Status.UPLOADING, UploadItem.Status.UNKNOWN]
        )
    ]
    running = UploadItemFactory(batch=UploadBatchFactory(status=UploadBatch.Status.RUNNING))
    before = {
        item.pk: (item.title, item.stock, item.updated_at) for item in [*untouchable, running]
    }

    changed = bulk_edit_items(
        user=None, items=UploadItem.objects.all(), stock=7, prefix="【新品】", suffix=" 包邮"
    )

    assert changed == 2
    for item in (pending, failed):
        item.refresh_from_db()
        assert item.title.startswith("【新品】") and item.title.endswith(" 包邮")
        assert item.stock == 7
    for item in [*untouchable, running]:
        item.refresh_from_db()
        assert (item.title, item.stock, item.updated_at) == before[item.pk]


def test_bulk_edit_that_would_break_a_rule_changes_nothing():
    batch = UploadBatchFactory()
    cheap = UploadItemFactory(batch=batch, price=Decimal("1.00"), cargo_number="CHEAP-1")
    UploadItemFactory(batch=batch, price=Decimal("50.00"))

    with pytest.raises(Refused) as refused:
        bulk_edit_items(user=None, items=batch.items.all(), add=Decimal("-2"))

    assert refused.value.code == RefusalCode.BULK_EDIT_WOULD_INVALIDATE
    assert "CHEAP-1: " in refused.value.message
    assert sorted(batch.items.values_list("price", flat=True)) == [
        Decimal("1.00"),
        Decimal("50.00"),
    ]
    with pytest.raises(Refused) as refused:
        bulk_edit_items(user=None, items=batch.items.all(), suffix="长" * 128)
    assert refused.value.code == RefusalCode.BULK_EDIT_WOULD_INVALIDATE
    cheap.refresh_from_db()
    assert cheap.price == Decimal("1.00") and len(cheap.title) < 128


def test_bulk_edit_sets_category_and_sku_stock():
    item = UploadItemFactory(
        skus=[
            {"attributes": [{"attributeID": 3216, "attributeValue": v}], "price": "5", "stock": 1}
            for v in ("红", "蓝")
        ]
    )
    # 连衣裙, another 女装 leaf with the T-shirt's required attributes; its schema is known
    # (cached as after a read from 1688).
    cache_schema(item.batch.shop_id, DRESS)
    assert (
        bulk_edit_items(user=None, items=UploadItem.objects.all(), category_id=DRESS, stock=0) == 1
    )
    item.refresh_from_db()
    assert item.category_id == DRESS
    assert item.stock == 0 and [sku["stock"] for sku in item.skus] == [0, 0]


def test_staff_bulk_edit_page_flow(staff_client):
    batch = UploadBatchFactory()
    first, second = UploadItemFactory.create_batch(2, batch=batch, price=Decimal("10.00"))
    url = reverse("catalog:batch_bulk_edit", args=[batch.pk])

    page = staff_client.post(
        url, {"items": [first.pk], "multiply": "1.5", "round_to": "1"}, follow=True
    )
    assert "已修改 1 个商品" in page.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.price, second.price) == (Decimal("15.00"), Decimal("10.00"))

    nothing = staff_client.post(url, {"items": [first.pk]}, follow=True).content.decode()
    assert "请至少填写一项修改" in nothing
    unselected = staff_client.post(url, {"stock": "5"}, follow=True).content.decode()
    assert "请先勾选商品" in unselected
    bad = staff_client.post(
        url, {"items": [first.pk], "multiply": "-1", "round_to": "0.5"}, follow=True
    ).content.decode()
    assert "价格乘以" in bad and "再取整到" in bad
    foreign = UploadItemFactory()
    staff_client.post(url, {"items": [foreign.pk], "stock": "1"})
    foreign.refresh_from_db()
    assert foreign.stock == 200  # an item of another batch is not selectable here


def test_bulk_edit_refuses_bad_rounding_and_users_without_the_change_permission():
    item = UploadItemFactory(price=Decimal("10.00"))
    with pytest.raises(Refused) as refused:
        bulk_edit_items(user=None, items=UploadItem.objects.all(), round_to=Decimal("0.5"))
    assert refused.value.code == RefusalCode.BULK_EDIT_BAD_ROUNDING
    viewer = UserFactory(username="viewer", roles=["viewer"])
    with pytest.raises(PermissionRefused) as refused:
        bulk_edit_items(user=viewer, items=UploadItem.objects.all(), stock=1)
    assert refused.value.code == RefusalCode.PERMISSION_DENIED
    operator = UserFactory(username="operator", roles=["operator"])
    assert bulk_edit_items(user=operator, items=UploadItem.objects.all(), stock=1) == 1
    item.refresh_from_db()
    assert item.stock == 1
