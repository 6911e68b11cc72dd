"""Staging a batch upload: the validation rules, the batch counters and the staff pages."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from catalog.models import UploadBatch, UploadItem
from catalog.publishing import textformats
from catalog.publishing.batch_validation import (
    refresh_batch_counts,
    validate_batch,
    validate_items,
)
from catalog.publishing.validation import validate_item
from erp1688.messages import render_errors
from tests.factories import ProductFactory, ShopFactory, UploadBatchFactory, UploadItemFactory
from tests.publishing.page_form import form_data

pytestmark = pytest.mark.django_db

SKU_WHITE_M = {
    "attributes": [
        {"attributeID": 3216, "attributeName": "颜色", "attributeValue": "白色"},
        {"attributeID": 450, "attributeName": "尺码", "attributeValue": "M"},
    ],
    "price": "19.90",
    "stock": 10,
}


def errors_of(**changes) -> dict[str, list[str]]:
    item = UploadItemFactory.build(cargo_number="TS-001", **changes)
    return render_errors(validate_item(item))  # stored as message ids, read in the language


def test_a_complete_item_is_valid():
    assert errors_of() == {}
    ranges = [{"start_quantity": 1, "price": "9.90"}, {"start_quantity": 50, "price": "8.5"}]
    # Priced by the tiers: a SKU's price may only repeat the first tier's.
    tiered_sku = {**SKU_WHITE_M, "price": "9.9"}
    assert errors_of(price=None, price_ranges=ranges, skus=[tiered_sku]) == {}


def test_tiers_and_skus_of_their_own_prices_are_refused_not_one_dropped():
    ranges = [{"start_quantity": 1, "price": "9.90"}, {"start_quantity": 50, "price": "8.5"}]
    with translation.override("en"):
        errors = errors_of(price=None, price_ranges=ranges, skus=[SKU_WHITE_M])
    assert errors == {
        "price_ranges": [
            "With price tiers every SKU sells at the tier prices: give each SKU the first "
            "tier's price (9.90), or remove the tiers to sell each SKU at its own price"
        ]
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "Title is required"),
        ({"title": "长" * 129}, "title", "Title is at most 128 characters (now 129)"),
        ({"title": "T恤\x07"}, "title", "control characters"),
        ({"category_id": None}, "category_id", "Category ID is required"),
        ({"category_id": -5}, "category_id", "Category ID must be a positive integer"),
        ({"price": None}, "price", "Enter a price or price ranges"),
        ({"price": Decimal("0")}, "price", "Price must be greater than 0"),
        ({"price": Decimal("9.999")}, "price", "Price has at most 2 decimals"),
        (
            {"price_ranges": [{"start_quantity": 1, "price": "9.90"}]},
            "price_ranges",
            "Enter either a price or price ranges, not both",
        ),
        (
            {
                "price": None,
                "price_ranges": [
                    {"start_quantity": 10, "price": "9.90"},
                    {"start_quantity": 10, "price": "8.90"},
                ],
            },
            "price_ranges",
            "Start quantities of price ranges must increase",
        ),
        (
            {"price": None, "price_ranges": [{"start_quantity": 0, "price": "9.90"}]},
            "price_ranges",
            "Range 1: start quantity must be a whole number ≥ 1",
        ),
        (
            {"price": None, "price_ranges": [{"start_quantity": 1, "price": "-1"}]},
            "price_ranges",
            "Range 1 price must be greater than 0",
        ),
        ({"stock": None}, "stock", "Stock is required"),
        ({"stock": -1}, "stock", "Stock must be a whole number ≥ 0"),
        ({"unit": ""}, "unit", "Unit is required"),
        ({"min_order_quantity": 0}, "min_order_quantity", "MOQ must be a whole number ≥ 1"),
        ({"images": []}, "images", "At least one image is required"),
        ({"images": ["https://x.example/a.jpg"] * 11}, "images", "At most 10 images (now 11)"),
        ({"images": ["ftp://x.example/a.jpg"]}, "images", "Image 1 is not an http(s) URL"),
        ({"images": ["img/ibank/../etc/passwd"]}, "images", "Image 1 is not an http(s) URL"),
        ({"attributes": [{"value": "棉"}]}, "attributes", "Attribute 1 has no valid attribute ID"),
        (
            {"attributes": [{"attributeID": 287, "value": " "}]},
            "attributes",
            "Attribute 1 has an empty value",
        ),
        ({"skus": [SKU_WHITE_M, SKU_WHITE_M]}, "skus", "SKU 2 repeats another SKU's combination"),
        ({"skus": [{**SKU_WHITE_M, "price": "0"}]}, "skus", "SKU 1 price must be greater than 0"),
        ({"skus": [{**SKU_WHITE_M, "stock": -3}]}, "skus", "SKU 1: stock must be a whole number"),
        ({"skus": [{**SKU_WHITE_M, "attributes": []}]}, "skus", "SKU 1 has no attributes"),
        (
            {"skus": [SKU_WHITE_M, {**SKU_WHITE_M, "attributes": SKU_WHITE_M["attributes"][:1]}]},
            "skus",
            "Every SKU must use the same attributes",
        ),
        ({"skus": "not a list"}, "skus", "SKUs are malformed"),
        ({"cargo_number": ""}, "cargo_number", "Cargo number is required"),
        ({"cargo_number": "TS 001"}, "cargo_number", "may contain only letters, digits, - and _"),
        ({"cargo_number": "A" * 65}, "cargo_number", "at most 64 characters"),
        ({"description": "x" * 50_001}, "description", "at most 50,000 characters (now 50001)"),
    ],
)
def test_each_rule_names_its_field(changes, field, message):
    changes.setdefault("cargo_number", "TS-001")
    with translation.override("en"):
        errors = render_errors(validate_item(UploadItemFactory.build(**changes)))
    assert field in errors, errors
    assert any(message in text for text in errors[field]), errors[field]


def test_rule_messages_are_shown_in_the_readers_language():
    item = UploadItemFactory.build(title=" ", price=Decimal("0"), cargo_number="TS-001")
    with translation.override("en"):
        stored = validate_item(item)  # the language at validation time does not matter
    with translation.override("zh-hans"):
        assert render_errors(stored) == {"title": ["标题必填"], "price": ["价格必须大于 0"]}
    with translation.override("en"):
        errors = render_errors(stored)
    assert errors == {"title": ["Title is required"], "price": ["Price must be greater than 0"]}


def test_cargo_numbers_must_be_unique_within_the_shop():
    batch = UploadBatchFactory()
    UploadItemFactory(batch=batch, cargo_number="SAME-1")
    other_batch = UploadBatchFactory(shop=batch.shop, name="上周的批次")
    UploadItemFactory(batch=other_batch, cargo_number="SAME-2")
    ProductFactory(shop=batch.shop, cargo_number="LIVE-1", offer_id=612345678901)
    ProductFactory(cargo_number="OTHER-SHOP")  # another shop may use any number

    items = [
        UploadItemFactory.build(batch=batch, cargo_number=cargo)
        for cargo in ("SAME-1", "SAME-2", "LIVE-1", "OTHER-SHOP", "TWICE", "TWICE")
    ]
    with translation.override("en"):
        results = [render_errors(e).get("cargo_number", []) for e in validate_items(items)]
    assert "another item of this batch" in results[0][0]
    assert "上周的批次" in results[1][0]
    assert "offer 612345678901" in results[2][0]
    assert results[3] == []
    assert "appears more than once" in results[4][0] and results[4] == results[5]


def test_validate_batch_stores_errors_and_counts_in_a_few_queries(django_assert_max_num_queries):
    batch = UploadBatchFactory()
    UploadItemFactory.create_batch(30, batch=batch)
    broken = UploadItemFactory.create_batch(5, batch=batch, title="")
    uploaded = UploadItemFactory(batch=batch, stock=None, status=UploadItem.Status.PUBLISHED)

    with django_assert_max_num_queries(12):
        invalid = validate_batch(batch)

    assert invalid == 5
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.VALIDATED
    assert (batch.items_total, batch.items_invalid, batch.items_pending) == (36, 5, 35)
    assert batch.items_succeeded == 1
    broken[0].refresh_from_db()
    # Stored as the English message id, shown in the reader's language.
    assert broken[0].validation_errors == {"title": [{"msgid": "Title is required"}]}
    with translation.override("zh-hans"):
        assert render_errors(broken[0].validation_errors) == {"title": ["标题必填"]}
    with translation.override("en"):
        assert render_errors(broken[0].validation_errors) == {"title": ["Title is required"]}
    uploaded.refresh_from_db()
    assert uploaded.validation_errors == {}  # uploaded items are history, not re-judged


def test_refresh_batch_counts_follows_item_statuses():
    batch = UploadBatchFactory(status=UploadBatch.Status.RUNNING)
    status = UploadItem.Status
    for value, count in [
        (status.PENDING, 3),
        (status.PUBLISHED, 4),
        (status.FAILED, 2),
        (status.UNKNOWN, 1),
        (status.AUDITING, 2),
        (status.REJECTED, 1),
    ]:
        UploadItemFactory.create_batch(count, batch=batch, status=value)
    UploadItemFactory(batch=batch, validation_errors={"title": ["x"]})

    refresh_batch_counts(batch)

    batch.refresh_from_db()
    assert batch.items_total == 14
    assert (batch.items_pending, batch.items_succeeded, batch.items_failed) == (4, 4, 2)
    assert (batch.items_unknown, batch.items_invalid) == (1, 1)
    assert (batch.items_auditing, batch.items_rejected) == (2, 1)
    assert batch.status == UploadBatch.Status.RUNNING  # counters only


@pytest.mark.parametrize(
    ("parse", "render", "text"),
    [
        (textformats.parse_price_ranges, textformats.format_price_ranges, "1:9.90;50:8.50"),
        (textformats.parse_attributes, textformats.format_attributes, "颜色(3216)=白色;287=棉"),
        (
            textformats.parse_skus,
            textformats.format_skus,
            "颜色(3216):白色,尺码(450):M=19.90@100#TS-W-M\n颜色(3216):黑色,尺码(450):M=19.90@0",
        ),
        (
            textformats.parse_images,
            textformats.format_images,
            "https://a.example/1.jpg\nimg/ibank/2.jpg",
        ),
    ],
)
def test_readable_formats_round_trip(parse, render, text):
    assert render(parse(text)) == text
    assert parse(render(parse(text))) == parse(text)


def test_readable_formats_accept_chinese_punctuation_and_explain_mistakes():
    assert textformats.parse_price_ranges("1：9.9；50：8.5") == [
        {"start_quantity": 1, "price": "9.9"},
        {"start_quantity": 50, "price": "8.5"},
    ]
    assert textformats.parse_skus("颜色（3216）：白色，尺码（450）：M=19.9@5")[0]["attributes"][
        1
    ] == {
        "attributeID": 450,
        "attributeName": "尺码",
        "attributeValue": "M",
    }
    with translation.override("en"):
        with pytest.raises(ValueError, match="needs its ID, e.g. 颜色"):
            textformats.parse_attributes("颜色=白色")
        with pytest.raises(ValueError, match="should look like"):
            textformats.parse_skus("颜色(3216):白色 19.9")
        with pytest.raises(ValueError, match="Price is not a number"):
            textformats.parse_price_ranges("1:abc")
    with translation.override("zh-hans"), pytest.raises(ValueError, match="价格不是数字"):
        textformats.parse_price_ranges("1:abc")


# --- staff pages --------------------------------------------------------------------------


def test_batch_pages_are_staff_only(client):
    batch = UploadBatchFactory()
    for url in [
        reverse("catalog:batch_list"),
        reverse("catalog:batch_detail", args=[batch.pk]),
        reverse("catalog:batch_import", args=[batch.pk]),
    ]:
        assert client.get(url).status_code == 302


def test_staff_create_a_batch_and_see_it_listed(staff_client):
    shop = ShopFactory(name="永康五金旗舰店")
    page = staff_client.post(
        reverse("catalog:batch_create"), {"shop": shop.pk, "name": "十一月新品"}, follow=True
    )
    batch = UploadBatch.objects.get(name="十一月新品")
    assert batch.created_by.username == "staff"
    assert page.redirect_chain[-1][0] == reverse("catalog:batch_detail", args=[batch.pk])
    listing = staff_client.get(reverse("catalog:batch_list")).content.decode()
    assert "十一月新品" in listing and "永康五金旗舰店" in listing


def test_add_an_item_through_the_form_in_the_readable_formats(staff_client):
    batch = UploadBatchFactory()
    url = reverse("catalog:item_create", args=[batch.pk])
    assert staff_client.get(url).status_code == 200
    answer = staff_client.post(
        url,
        {
            "title": "纯棉短袖T恤",
            "category_id": "1031910",
            "price": "",
            "price_ranges": "2:25.00;50:22.50",
            "stock": "300",
            "unit": "件",
            "min_order_quantity": "2",
            "images": "https://cbu01.alicdn.com/img/ibank/1.jpg\nimg/ibank/2.jpg",
            # 女式T恤's required attributes, named or by ID alone.
            "attributes": "品牌(2176)=无品牌;是否进口(1141)=否;面料(287)=纯棉;122216347=夏季",
            "skus": "颜色(3216):白色=25.00@100\n颜色(3216):黑色=25.00@200",
            "cargo_number": "",
            "description": "宽松版型",
        },
    )
    assert answer.status_code == 302, answer.context["form"].errors
    item = batch.items.get()
    assert item.price_ranges == [
        {"start_quantity": 2, "price": "25.00"},
        {"start_quantity": 50, "price": "22.50"},
    ]
    assert item.attributes == [
        {"attributeID": 2176, "attributeName": "品牌", "value": "无品牌"},
        {"attributeID": 1141, "attributeName": "是否进口", "value": "否"},
        {"attributeID": 287, "attributeName": "面料", "value": "纯棉"},
        {"attributeID": 122216347, "value": "夏季"},
    ]
    assert item.skus[1]["attributes"][0]["attributeValue"] == "黑色"
    assert item.cargo_number.startswith("ERP")  # left empty: generated
    assert (item.source, item.position, item.validation_errors) == ("form", 1, {})
    batch.refresh_from_db()
    assert batch.items_total == 1 and batch.items_invalid == 0


def test_the_item_form_shows_each_error_on_its_field_and_saves_nothing(staff_client):
    batch = UploadBatchFactory()
    UploadItemFactory(batch=batch, cargo_number="TAKEN-1")
    answer = staff_client.post(
        reverse("catalog:item_create", args=[batch.pk]),
        {
            "title": "",
            "category_id": "1031910",
            "price": "abc",
            "price_ranges": "",
            "stock": "10",
            "unit": "件",
            "min_order_quantity": "1",
            "images": "",
            "attributes": "颜色=白色",
            "skus": "",
            "cargo_number": "TAKEN-1",
            "description": "",
        },
    )
    assert answer.status_code == 200
    form = answer.context["form"]
    assert form.errors["title"] == ["标题必填"]
    assert "price" in form.errors  # Django's own "enter a number", reported once
    assert "需写明属性ID" in form.errors["attributes"][0]
    assert "至少需要 1 张图片" in form.errors["images"][0]
    assert "已被本批次的其他商品使用" in form.errors["cargo_number"][0]
    assert batch.items.count() == 1


def test_editing_keeps_fields_staff_did_not_touch_whole(staff_client):
    attributes = [{**a, "skuImageUrl": "img/ibank/s.jpg"} for a in SKU_WHITE_M["attributes"]]
    sku = {**SKU_WHITE_M, "attributes": attributes}
    item = UploadItemFactory(skus=[sku], cargo_number="KEEP-1")
    url = reverse("catalog:item_edit", args=[item.batch_id, item.pk])
    data = form_data(staff_client.get(url).content.decode())  # what the page shows
    data["title"] = ["改过的标题"]
    assert staff_client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert item.title == "改过的标题"
    assert item.skus == [sku]  # the SKU image survives an edit that did not touch SKUs


def test_uploaded_items_cannot_be_edited_and_unknown_ids_are_404(staff_client):
    item = UploadItemFactory(status=UploadItem.Status.PUBLISHED)
    answer = staff_client.get(
        reverse("catalog:item_edit", args=[item.batch_id, item.pk]), follow=True
    )
    assert "只能修改待上传、上传失败或审核未通过的商品" in answer.content.decode()
    assert staff_client.get(reverse("catalog:batch_detail", args=[999999])).status_code == 404
    other = UploadBatchFactory()
    assert (
        staff_client.get(reverse("catalog:item_edit", args=[other.pk, item.pk])).status_code == 404
    )
    assert (
        staff_client.get(reverse("catalog:batch_validate", args=[item.batch_id])).status_code == 405
    )


def test_a_batch_being_uploaded_is_not_changed(staff_client):
    batch = UploadBatchFactory(status=UploadBatch.Status.RUNNING)
    answer = staff_client.get(reverse("catalog:item_create", args=[batch.pk]), follow=True)
    assert "这个批次" in answer.content.decode() and "现在不能修改" in answer.content.decode()
    progress = reverse("catalog:batch_progress", args=[batch.pk])
    page = staff_client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    assert f'hx-get="{progress}"' in page  # the counters poll while the job runs
    assert "HX-Refresh" not in staff_client.get(progress).headers
    batch.status = UploadBatch.Status.DONE
    batch.save()
    assert staff_client.get(progress).headers["HX-Refresh"] == "true"  # finished: reload once


def test_detail_page_shows_errors_counts_and_filters(staff_client):
    batch = UploadBatchFactory()
    UploadItemFactory(batch=batch, title="好商品")
    UploadItemFactory(batch=batch, title="坏商品", stock=None)
    answer = staff_client.post(reverse("catalog:batch_validate", args=[batch.pk]), follow=True)
    page = answer.content.decode()
    assert "1 个商品有错误" in page
    assert "库存必填" in page
    only_errors = staff_client.get(
        reverse("catalog:batch_detail", args=[batch.pk]), {"show": "invalid", "page": "x"}
    ).content.decode()
    assert "坏商品" in only_errors and "好商品" not in only_errors
