"""CSV/XLSX import (read safely, preview, all-or-nothing) and export (Excel-friendly, escaped)."""

import csv
import io
import os
import time
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.exporting import export_batch, import_template
from catalog.importing import (
    ImportFileError,
    ImportInvalid,
    apply_import,
    parse_upload_bytes,
    preview_import,
)
from catalog.models import UploadItem
from catalog.resources import COLUMN_NAMES
from tests.factories import ShopFactory, UploadBatchFactory, UploadItemFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADERS = list(COLUMN_NAMES.values())


def row(**cells) -> dict:
    base = {
        "title": "2026新款纯棉短袖T恤",
        "category_id": "1031910",
        "price": "25.00",
        "price_ranges": "",
        "stock": "200",
        "unit": "件",
        "min_order_quantity": "2",
        "images": "img/ibank/2026/001/1.jpg",
        "attributes": "材质(287)=棉",
        "skus": "颜色(3216):白色=25.00@100\n颜色(3216):黑色=25.00@100",
        "cargo_number": "",
        "description": "宽松版型",
    }
    return {**base, **cells}


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for cells in rows:
        writer.writerow(list(cells.values()))
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for cells in rows:
        sheet.append(list(cells.values()))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data: bytes, name="items.csv"):
    return SimpleUploadedFile(name, data)


@pytest.mark.parametrize(
    "make_file",
    [
        lambda rows: csv_bytes(rows),  # UTF-8 with BOM, as Excel saves "CSV UTF-8"
        lambda rows: csv_bytes(rows, encoding="utf-8"),
        lambda rows: csv_bytes(rows, encoding="gbk"),  # as Chinese Excel saves plain "CSV"
        lambda rows: xlsx_bytes(rows),
    ],
    ids=["csv-utf8-bom", "csv-utf8", "csv-gbk", "xlsx"],
)
def test_import_reads_csv_in_any_chinese_encoding_and_xlsx(make_file):
    batch = UploadBatchFactory()
    rows = [row(cargo_number="TS-1"), row(title="第二件商品", price="9.9", cargo_number="")]

    created = apply_import(batch, parse_upload_bytes(make_file(rows)))

    assert created == 2
    first, second = batch.items.order_by("position")
    assert first.title == "2026新款纯棉短袖T恤" and first.cargo_number == "TS-1"
    assert first.skus[1]["attributes"] == [
        {"attributeID": 3216, "attributeName": "颜色", "attributeValue": "黑色"}
    ]
    assert (first.price, first.stock, first.min_order_quantity) == (Decimal("25.00"), 200, 2)
    assert second.title == "第二件商品" and second.price == Decimal("9.90")
    assert second.cargo_number.startswith("ERP")  # generated for the empty cell
    assert {first.source, second.source} == {UploadItem.Source.IMPORT}
    batch.refresh_from_db()
    assert batch.items_total == 2 and batch.items_invalid == 0


def test_import_accepts_chinese_only_or_english_only_headers_and_xlsx_numbers():
    headers = ["标题", "Category ID", "price", "库存", "Images"]
    rows = [{"t": "杯子", "c": 1031910, "p": 12.5, "s": 30, "i": "img/ibank/a.jpg"}]
    dataset = parse_upload_bytes(xlsx_bytes(rows, headers=headers))
    assert dataset.headers == [
        "标题 Title",
        "类目ID Category ID",
        "价格 Price",
        "库存 Stock",
        "图片 Images",
    ]
    assert dataset[0] == ("杯子", "1031910", "12.5", "30", "img/ibank/a.jpg")
    preview = preview_import(UploadBatchFactory(), dataset)
    assert preview.is_valid
    assert (preview.rows[0].item.unit, preview.rows[0].item.min_order_quantity) == ("件", 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件是空的"),
        (b"\xef\xbb\xbf", "文件是空的"),
        (csv_bytes([]), "文件只有表头，没有商品行"),
        (
            csv_bytes([{"a": "T恤", "b": "1"}], headers=["Name", "标题"]),
            "无法识别的列：Name",
        ),
        (
            csv_bytes([{"a": "T恤"}], headers=["标题 Title"]),
            "缺少这些列：类目ID Category ID, 库存 Stock, 图片 Images, 价格 Price / 阶梯价",
        ),
        (csv_bytes([row()], headers=HEADERS[:-1] + ["Title"]), "这些列出现了多次：标题 Title"),
        (b"PK\x03\x04" + os.urandom(2000), "无法打开这个 XLSX 文件"),
        (b"\xd0\xcf\x11\xe0" + bytes(100), "不支持旧版 .xls"),
        (os.urandom(100_000), "无法识别的文件"),
        ("标题,价格\n".encode("utf-16"), "无法识别的文件"),
        (
            csv_bytes([row()]) + b"a,b,c,d,e,f,g,h,i,j,k,l,m,extra\n",
            "这些行的单元格比表头多",
        ),
    ],
    ids=[
        "empty", "bom-only", "headers-only", "unknown-column", "missing-columns", "twice",
        "broken-xlsx", "old-xls", "garbage", "utf16", "overflowing-row",
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_imported_is_refused_with_a_clear_reason(data, message):
    with pytest.raises(ImportFileError) as refused:
        parse_upload_bytes(data)
    assert message in str(refused.value)


def test_ten_megabytes_of_garbage_are_refused_quickly_and_nothing_is_saved(staff_client):
    batch = UploadBatchFactory()
    garbage = os.urandom(10 * 1024 * 1024)
    started = time.monotonic()
    page = staff_client.post(
        reverse("catalog:batch_import", args=[batch.pk]), {"file": upload(garbage, "big.xlsx")}
    )
    assert time.monotonic() - started < 5
    assert page.status_code == 200
    assert "文件超过 5 MB" in page.content.decode()
    assert not UploadItem.objects.exists()


def test_more_than_five_thousand_rows_are_refused():
    text = "标题,类目ID,价格,库存,图片\n" + "T恤,1,1,1,img/ibank/a.jpg\n" * 5001
    with pytest.raises(ImportFileError, match="一次最多导入 5000 行"):
        parse_upload_bytes(text.encode())


def test_xlsx_formulas_are_refused_never_evaluated():
    book = openpyxl.Workbook()
    book.active.append(HEADERS)
    book.active.append(list(row().values()))
    book.active["A2"] = '=HYPERLINK("http://evil.example/","点我领红包")'
    book.active["C2"] = "=10*2"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportFileError) as refused:
        parse_upload_bytes(out.getvalue())
    assert "这些单元格是公式：A2, C2" in str(refused.value)


def test_duplicate_cargo_numbers_are_row_errors_and_nothing_is_saved():
    batch = UploadBatchFactory()
    UploadItemFactory(batch=batch, cargo_number="OLD-1")
    rows = [row(cargo_number="DUP-1"), row(cargo_number="DUP-1"), row(cargo_number="OLD-1")]
    dataset = parse_upload_bytes(csv_bytes(rows))

    with pytest.raises(ImportInvalid) as refused:
        apply_import(batch, dataset)

    preview = refused.value.preview
    assert [r.number for r in preview.rows if not r.is_valid] == [2, 3, 4]
    assert "appears more than once" in preview.rows[0].errors["cargo_number"][0]
    assert "another item of this batch" in preview.rows[2].errors["cargo_number"][0]
    assert batch.items.count() == 1


def test_preview_reports_unreadable_cells_and_rules_per_row():
    rows = [
        row(),
        row(price="九块九", stock="-1", skus="颜色:白色=1@1"),
        {key: "" for key in row()},  # blank rows at the end are dropped, not in the middle
        row(cargo_number="LAST"),
        {key: "" for key in row()},
    ]
    preview = preview_import(UploadBatchFactory(), parse_upload_bytes(csv_bytes(rows)))
    good, bad, blank, _last = preview.rows
    assert good.is_valid and not bad.is_valid and not blank.is_valid
    assert bad.errors["price"] == ["价格不是数字：九块九 / Price is not a number: 九块九"]
    assert "Stock must be a whole number ≥ 0" in bad.errors["stock"][0]
    assert "needs its ID" in bad.errors["skus"][0]
    assert blank.errors == {"row": ["空行，请删除 / Empty row: delete it"]}
    assert (preview.valid_count, preview.invalid_count) == (2, 2)
    assert not UploadItem.objects.exists()


def test_staff_preview_then_confirm_imports_every_row_once(staff_client, settings):
    batch = UploadBatchFactory()
    url = reverse("catalog:batch_import", args=[batch.pk])
    assert staff_client.get(url).status_code == 200

    page = staff_client.post(url, {"file": upload(csv_bytes([row(), row(title="杯子")]))})

    assert page.status_code == 200
    assert page.context["preview"].valid_count == 2
    assert "杯子" in page.content.decode()
    assert not UploadItem.objects.exists()  # a preview writes nothing
    token = page.context["confirm_form"].initial["token"]
    shown_cargo = [r.item.cargo_number for r in page.context["preview"].rows]
    assert len(list((settings.DATA_DIR / "imports").glob("*.json"))) >= 1

    confirm = reverse("catalog:batch_import_confirm", args=[batch.pk])
    done = staff_client.post(confirm, {"token": token}, follow=True)

    assert "已导入 2 个商品。" in done.content.decode()
    assert list(batch.items.values_list("cargo_number", flat=True)) == shown_cargo
    again = staff_client.post(confirm, {"token": token}, follow=True)
    assert "这次预览已过期或已导入" in again.content.decode()
    assert batch.items.count() == 2
    forged = staff_client.post(confirm, {"token": token + "x"}, follow=True)
    assert "这次预览已过期或已导入" in forged.content.decode()


def test_staff_preview_with_errors_has_no_confirm_button(staff_client):
    batch = UploadBatchFactory()
    page = staff_client.post(
        reverse("catalog:batch_import", args=[batch.pk]),
        {"file": upload(xlsx_bytes([row(title=""), row()]), "items.xlsx")},
    )
    html = page.content.decode()
    assert page.context["confirm_form"] is None
    assert "标题必填 / Title is required" in html
    assert "所有行都有效后才能导入" in html


def test_staff_import_of_a_bad_file_shows_the_reason(staff_client):
    batch = UploadBatchFactory()
    page = staff_client.post(
        reverse("catalog:batch_import", args=[batch.pk]),
        {"file": upload(csv_bytes([row()], headers=["Foo"] + HEADERS[1:]))},
    )
    assert page.status_code == 200
    assert "无法识别的列：Foo" in page.content.decode()
    assert staff_client.post(reverse("catalog:batch_import", args=[batch.pk])).status_code == 200


def test_export_round_trip_in_both_formats():
    batch = UploadBatchFactory()
    UploadItemFactory(
        batch=batch,
        title="不锈钢保温杯",
        price=None,
        price_ranges=[
            {"start_quantity": 1, "price": "39.90"},
            {"start_quantity": 20, "price": "35"},
        ],
        images=["https://cbu01.alicdn.com/img/ibank/a.jpg", "img/ibank/b.jpg"],
        attributes=[{"attributeID": 287, "attributeName": "材质", "value": "不锈钢"}],
        skus=[
            {
                "attributes": [
                    {"attributeID": 3216, "attributeName": "颜色", "attributeValue": "银"}
                ],
                "price": "39.90",
                "stock": 5,
                "cargo_number": "CUP-S",
            }
        ],
        cargo_number="CUP-1",
        description="-18℃ 保冷\n+ 保温 12 小时",
    )
    fields = ["title", "price", "price_ranges", "stock", "unit", "min_order_quantity", "images",
              "attributes", "skus", "cargo_number", "description"]  # fmt: skip
    original = batch.items.values(*fields).get()
    for fmt in ("csv", "xlsx"):
        elsewhere = UploadBatchFactory(shop=ShopFactory())  # cargo numbers are unique per shop
        assert apply_import(elsewhere, parse_upload_bytes(export_batch(batch, fmt))) == 1
        assert elsewhere.items.values(*fields).get() == original


def test_export_is_excel_friendly_and_escapes_formulas():
    batch = UploadBatchFactory()
    UploadItemFactory(batch=batch, title='=HYPERLINK("http://evil.example/","点我")', unit="@件")

    data = export_batch(batch, "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK(" in text and ",'@件," in text

    sheet = openpyxl.load_workbook(io.BytesIO(export_batch(batch, "xlsx"))).active
    title = sheet["A2"]
    assert title.data_type == "s" and title.value.startswith("'=HYPERLINK")
    assert sheet["A1"].value == "标题 Title"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_has_every_column_and_a_valid_example(fmt, staff_client):
    answer = staff_client.get(reverse("catalog:import_template", args=[fmt]))
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment")
    content = b"".join(answer.streaming_content)
    dataset = parse_upload_bytes(content)
    assert dataset.dict == parse_upload_bytes(import_template(fmt)).dict
    assert dataset.headers == HEADERS
    assert preview_import(UploadBatchFactory(), dataset).is_valid


def test_staff_export_download(staff_client):
    item = UploadItemFactory(title="导出测试")
    answer = staff_client.get(reverse("catalog:batch_export", args=[item.batch_id, "csv"]))
    assert answer["Content-Type"].startswith("text/csv")
    assert "导出测试" in b"".join(answer.streaming_content).decode("utf-8-sig")
    assert staff_client.get(f"/catalog/batches/{item.batch_id}/export.pdf").status_code == 404


# --- Django admin -------------------------------------------------------------------------


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(username="boss", is_superuser=True))
    return client


def test_admin_pages_load(admin_client_):
    item = UploadItemFactory()
    for url in [
        reverse("admin:catalog_uploadbatch_changelist"),
        reverse("admin:catalog_uploadbatch_change", args=[item.batch_id]),
        reverse("admin:catalog_uploaditem_changelist"),
        reverse("admin:catalog_uploaditem_change", args=[item.pk]),
        reverse("admin:catalog_uploaditem_import"),
        reverse("admin:catalog_uploaditem_export"),
    ]:
        assert admin_client_.get(url).status_code == 200, url


def test_admin_import_previews_with_the_same_rules_then_imports(admin_client_):
    batch = UploadBatchFactory()
    import_url = reverse("admin:catalog_uploaditem_import")
    bad = admin_client_.post(
        import_url,
        {"batch": batch.pk, "format": "0", "import_file": upload(csv_bytes([row(stock="")]))},
    )
    assert "库存必填 / Stock is required" in bad.content.decode()
    assert "confirm_form" not in bad.context or bad.context["confirm_form"] is None

    gbk_file = upload(csv_bytes([row(), row()], encoding="gbk"))
    good = admin_client_.post(
        import_url, {"batch": batch.pk, "format": "0", "import_file": gbk_file}
    )
    confirm = good.context["confirm_form"]
    assert not batch.items.exists()  # the dry run was rolled back
    admin_client_.post(
        reverse("admin:catalog_uploaditem_process_import"),
        {**confirm.initial, "batch": batch.pk},
    )
    assert batch.items.count() == 2
    batch.refresh_from_db()
    assert batch.items_total == 2


def test_admin_item_form_shows_field_errors(admin_client_):
    item = UploadItemFactory()
    url = reverse("admin:catalog_uploaditem_change", args=[item.pk])
    form = admin_client_.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    answer = admin_client_.post(url, {**data, "images": "ftp://nope"})
    assert "Image 1 is not an http(s) URL" in answer.content.decode()
