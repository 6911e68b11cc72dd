"""An import keeps the good rows: the valid ones are imported, the bad ones come back as an XLSX
in the file's own layout with a reason column, which imports again once fixed; a file that is no
spreadsheet is named as what it is; the preview is readable. Through the staff pages."""

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.factories import UploadBatchFactory
from tests.publishing import test_import_export as base
from tests.publishing.test_import_export import TEE_ATTRIBUTES_TEXT, csv_bytes, row, upload

# The import tests' fixtures, used here by name.
importer, importer_client, storage = base.importer, base.importer_client, base.storage

pytestmark = pytest.mark.django_db

# The file's own layout: the columns in another order than the template's, English headers.
HEADERS = ["Title", "Stock", "Category ID", "Price", "Images", "Cargo number", "Attributes"]


def own_layout_csv(rows) -> bytes:
    lines = [",".join(HEADERS)]
    for cells in rows:
        lines.append(",".join([*cells, TEE_ATTRIBUTES_TEXT]))
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD = ["纯棉短袖T恤", "200", "1031910", "25.00", "img/ibank/2026/001/1.jpg", ""]


def post_file(client, batch, data: bytes, name="items.csv", language="zh-hans"):
    client.cookies["django_language"] = language
    return client.post(
        reverse("catalog:batch_import", args=[batch.pk]),
        {"file": upload(data, name)},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_two_good_rows_import_and_three_bad_come_back_to_fix(importer_client, storage):
    batch = UploadBatchFactory()
    rows = [
        GOOD,
        ["", "200", "1031910", "25.00", "img/ibank/2026/001/1.jpg", "BAD-1"],  # no title
        GOOD,
        ["短袖", "-5", "1031910", "25.00", "img/ibank/2026/001/1.jpg", "BAD-2"],  # stock
        ["短袖", "10", "1031910", "abc", "img/ibank/2026/001/1.jpg", "BAD-3"],  # price
    ]
    page = post_file(importer_client, batch, own_layout_csv(rows))
    html = page.content.decode()
    assert "3 行有错误，不会导入" in html and "导入 2 个有效商品" in html
    assert 'class="cell wide' in html and ">OK<" not in html  # a readable, translated preview

    rejects_url = reverse(
        "catalog:batch_import_rejects", args=[batch.pk, page.context["preview"].rejects_name]
    )
    assert rejects_url in html
    token = page.context["confirm_form"].initial["token"]
    done = importer_client.post(
        reverse("catalog:batch_import_confirm", args=[batch.pk]), {"token": token}
    )
    assert done.status_code == 302 and batch.items.count() == 2

    answer = importer_client.get(rejects_url)
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(answer.streaming_content))).active
    table = [[cell or "" for cell in line] for line in sheet.iter_rows(values_only=True)]
    assert table[0] == [*HEADERS, "错误原因 Reason"]  # the file's own headers, in its order
    assert [line[5] for line in table[1:]] == ["BAD-1", "BAD-2", "BAD-3"]
    assert all(line[7] for line in table[1:])  # a reason on every row
    assert "标题" in table[1][7] and "库存" in table[2][7] and "abc" in table[3][7]

    # Fixed in the file given back, imported again: the reason column is ignored.
    table[1][0], table[2][1], table[3][3] = "短袖 修好了", "5", "19.90"
    book = openpyxl.Workbook()
    for line in table:
        book.active.append(line)
    out = io.BytesIO()
    book.save(out)
    again = post_file(importer_client, batch, out.getvalue(), "fixed.xlsx")
    preview = again.context["preview"]
    assert preview.invalid_count == 0 and preview.valid_count == 3, [
        r.messages for r in preview.rows
    ]
    token = again.context["confirm_form"].initial["token"]
    importer_client.post(reverse("catalog:batch_import_confirm", args=[batch.pk]), {"token": token})
    assert batch.items.count() == 5


def test_another_users_rows_with_errors_are_not_given_out(importer_client, storage, client):
    from tests.factories import UserFactory

    batch = UploadBatchFactory()
    page = post_file(importer_client, batch, own_layout_csv([["", "1", "1031910", "1", "x", ""]]))
    name = page.context["preview"].rejects_name
    other = UserFactory(username="other", roles=["operator"])
    client.force_login(other)
    answer = client.get(reverse("catalog:batch_import_rejects", args=[batch.pk, name]))
    assert answer.status_code == 302  # back to the import page: "expired"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "这个文件是PDF 文档，不是表格"), ("en", "This file is a PDF document, not a")],
)
def test_a_pdf_is_named_as_such(importer_client, storage, language, expected):
    batch = UploadBatchFactory()
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    page = post_file(importer_client, batch, pdf, "items.pdf", language)
    html = page.content.decode()
    assert expected in html
    assert "%PDF" not in html and not batch.items.exists()


def test_a_picture_is_named_as_such(importer_client, storage):
    batch = UploadBatchFactory()
    page = post_file(importer_client, batch, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "items.png")
    assert "这个文件是图片（PNG）" in page.content.decode()


def test_all_rows_good_still_imports_all(importer_client, storage):
    batch = UploadBatchFactory()
    page = post_file(importer_client, batch, csv_bytes([row(), row()]))
    assert page.context["preview"].rejects_name == ""
    token = page.context["confirm_form"].initial["token"]
    importer_client.post(reverse("catalog:batch_import_confirm", args=[batch.pk]), {"token": token})
    assert batch.items.count() == 2
