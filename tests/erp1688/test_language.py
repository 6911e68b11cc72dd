"""Language done right: every staff page speaks one language.

Every page a staff member opens (each GET URL of the staff site and the admin changelists, with
sample data on them) is rendered in Chinese and in English, and its visible text — tags, scripts
and styles removed, then every piece of product data (shop names, titles, SKU values, cargo
numbers, user names: data, not labels) — is scanned for the other language: a Chinese page may
show no English word but a few codes everyone uses (SKU, CSV, API ...), an English page no
Chinese character. Stored messages (validation errors) are shown in the reader's language, and
the admin's column headings and filter titles are translated.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from catalog.models import (
    AttributeSchemaCache,
    CategoryNode,
    PriceStockChange,
    Product,
    Shop,
    Sku,
    SyncRun,
    UploadBatch,
    UploadItem,
)
from catalog.models.live_edits import LiveEdit
from catalog.publishing.batch_validation import validate_batch
from erp1688.refusal_codes import RefusalCode
from open1688.answers import parse_category_attributes
from tests.factories import (
    PriceStockChangeFactory,
    ProductFactory,
    ShopFactory,
    SkuFactory,
    SyncRunFactory,
    UploadBatchFactory,
    UploadItemFactory,
    UserFactory,
)
from tests.staff.test_permission_matrix import TABLE, url_of

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*[A-Za-z0-9]")
# Words a Chinese page may show: codes and names everyone in the trade reads as they are.
CODES = {
    "SKU", "SKUs", "ID", "IDs", "CSV", "XLSX", "Excel", "API", "APIs", "OAuth", "RQ", "erp1688",
    "http", "https", "img", "ibank", "jpg", "png", "PostgreSQL", "Redis", "English",
    "ECharts", "MOQ", "QPS", "KB", "MB", "GIF", "JPEG", "PNG", "WebP", "UTF-8", "UTF-16", "GBK",
}  # fmt: skip
# Pages that are files or fragments (exports, progress fragments polled by htmx) are not pages.
SKIPPED_ARGS = {"csv", "batch_csv", "unknown", "picture"}  # picture: a staged JPEG


class _VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, templates, comments or visually hidden parts
    (screen-reader captions of Django's admin), not the language switch (each language names
    itself there), and not a superuser's closed technical toggle."""

    HIDDEN = {"script", "style", "template", "title"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.stack = [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attributes = dict(attrs)
        hidden = (
            tag in self.HIDDEN
            or "hidden" in attributes
            or "visually-hidden" in (attributes.get("class") or "").split()
            or (tag == "select" and attributes.get("name") == "language")
            # A superuser's closed "details" toggle: the technical text, API names and codes.
            or (tag == "details" and "technical" in (attributes.get("class") or "").split())
        )
        self.stack.append((tag, hidden or bool(self.stack and self.stack[-1][1])))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not (self.stack and self.stack[-1][1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


def sample_world() -> dict:
    """A shop with products, SKUs, price and stock changes, a failed and a finished sync, a batch
    with a valid, an invalid and a failed item, a live edit."""
    shop = ShopFactory(name="义乌小商品示范店")
    product = ProductFactory(shop=shop, subject="2026夏季新款纯棉短袖T恤女宽松韩版")
    sku = SkuFactory(product=product)
    now = timezone.now()
    for days, field in [(3, "price"), (2, "stock"), (1, "price")]:
        PriceStockChangeFactory(sku=sku, field=field, observed_at=now - timedelta(days=days))
    SyncRunFactory(shop=shop, status=SyncRun.Status.FAILED, error="AuthError: 401")
    SyncRunFactory(shop=shop, status=SyncRun.Status.SUCCEEDED, finished_at=now)
    batch = UploadBatchFactory(shop=shop, name="夏季新品第一批")
    item = UploadItemFactory(batch=batch, cargo_number="TS-2026-1")
    UploadItemFactory(batch=batch, cargo_number="TS-2026-2", title="", price=None)  # invalid
    UploadItemFactory(batch=batch, cargo_number="TS-2026-3", status=UploadItem.Status.FAILED)
    validate_batch(batch)
    live = LiveEdit.objects.create(kind=LiveEdit.Kind.STOCK)
    return {"shop": shop, "product": product, "batch": batch, "item": item, "live": live}


def raise_alerts(user) -> int:
    """Alerts in `user`'s inbox: the sample's price changes, and its failed sync."""
    from catalog.alerts import engine as alerts
    from catalog.alerts.rules import create_rule

    create_rule(user=user, kind="price_change", threshold=1)
    create_rule(user=user, kind="sync_failing")
    raised = alerts.on_changes(changes=list(PriceStockChange.objects.all()))
    for run in SyncRun.objects.filter(status=SyncRun.Status.FAILED):
        raised += alerts.on_run_finished(run=run)
    return len(raised)


def product_data() -> list[str]:
    """Every piece of data a page may show as it is, longest first."""
    data = []
    for shop in Shop.objects.all():
        data += [shop.name, shop.member_id, shop.login_id]
    for product in Product.objects.all():
        data += [product.subject, product.unit, product.cargo_number or "", str(product)]
    for sku in Sku.objects.all():
        data += [str(sku), sku.cargo_number or ""]
        data += [str(a.get("attributeValue", "")) for a in sku.attributes or []]
        data += [str(a.get("attributeName", "")) for a in sku.attributes or []]
    for batch in UploadBatch.objects.all():
        data += [batch.name, str(batch)]
    for item in UploadItem.objects.all():
        data += [item.title, item.cargo_number, item.unit, str(item)]
        data += [str(a.get("value", "")) for a in item.attributes or []]
    # A leaf's attribute schema (names, values, units) and category names are 1688's data.
    for row in AttributeSchemaCache.objects.all():
        schema = parse_category_attributes(row.answer, row.category_id)
        for attribute in schema.attributes:
            words = [attribute.name, *(v.name for v in attribute.values), *attribute.units]
            data += [w for w in words if not w.isascii() or len(w) > 3]  # not sizes: S, XL
    for node in CategoryNode.objects.all():
        data += [node.name, node.path, *node.path.split(" > ")]
    names = list(get_user_model().objects.values_list("username", flat=True))
    data += names + [name.upper() for name in names]  # the admin's header shows it in capitals
    data += list(get_user_model().objects.values_list("email", flat=True))
    data += list(Group.objects.values_list("name", flat=True))  # the roles' group names
    data += ["AuthError: 401"]
    # The format examples of the help texts are 1688 data (attribute names and values).
    data += ["颜色", "材质", "棉", "白色", "尺码", "黑色"]
    # One ASCII letter ("M", a size) is left: removing it would cut words in two.
    return sorted({d for d in data if len(d) > 1 or not d.isascii()}, key=len, reverse=True)


def page_urls(objects: dict) -> list[str]:
    urls = []
    for row in TABLE:
        name, method, args_key = row[0], row[1], row[2]
        if method != "get" or args_key in SKIPPED_ARGS or name == "django_rq:home":
            continue
        url = url_of(name, args_key, objects)
        if url not in urls:
            urls.append(url)
    return urls


def without_data(text: str, data: list[str]) -> str:
    for value in data:
        text = text.replace(value, " ")
    return text


def english_words(text: str) -> list[str]:
    return sorted({w for w in ENGLISH_WORD.findall(text) if w not in CODES})


@pytest.fixture
def boss(client):
    user = UserFactory(username="boss", is_superuser=True)
    client.force_login(user)
    return user


def render_page(client, url: str, language: str) -> str:
    client.cookies["django_language"] = language
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language, follow=True)  # bulk → the list
    assert response.status_code in (200, 400), (url, response.status_code)
    return response.content.decode()


@pytest.mark.matrix
def test_every_staff_page_speaks_one_language(client, boss, redis_conn):
    objects = sample_world()
    assert raise_alerts(boss) >= 2  # the inbox and the dashboard show alerts
    urls = page_urls(objects)  # before the data: a row may add the account it changes
    data = product_data()
    assert len(urls) >= 30, urls  # the walk reaches the pages, not a handful of them
    mixed = {}
    for url in urls:
        chinese = without_data(visible_text(render_page(client, url, "zh-hans")), data)
        english = without_data(visible_text(render_page(client, url, "en")), data)
        problems = {
            "English on the Chinese page": english_words(chinese),
            "Chinese on the English page": sorted(set(CJK.findall(english))),
        }
        if any(problems.values()):
            mixed[url] = {k: v for k, v in problems.items() if v}
        if chinese.strip():
            assert CJK.search(chinese), url  # the Chinese page is Chinese at all
    assert mixed == {}


def test_stored_validation_messages_follow_the_reader(client, boss):
    batch = UploadBatchFactory(name="批次")
    item = UploadItemFactory(batch=batch, title="", cargo_number="TS-9")
    validate_batch(batch)  # in no particular language (a job)
    for url in [
        reverse("catalog:batch_detail", args=[batch.pk]),
        reverse("admin:catalog_uploaditem_change", args=[item.pk]),  # not as JSON
    ]:
        assert "标题必填" in render_page(client, url, "zh-hans"), url
        english = render_page(client, url, "en")
        assert "Title is required" in english and "标题必填" not in english, url
        assert "msgid" not in english, url


def test_admin_changelists_have_translated_headings_and_filters(client, boss):
    sample_world()
    names = [
        "admin:catalog_shop_changelist",
        "admin:catalog_product_changelist",
        "admin:catalog_pricestockchange_changelist",
        "admin:catalog_syncrun_changelist",
        "admin:catalog_uploadbatch_changelist",
        "admin:catalog_uploaditem_changelist",
    ]
    for name in names:
        html = render_page(client, reverse(name), "zh-hans")
        table = re.search(r'<table id="result_list".*?</thead>', html, flags=re.S)
        assert table, name
        headings = [
            visible_text(h).strip()
            for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table.group(), flags=re.S)
        ]
        filters = re.findall(r"<summary>\s*(.*?)\s*</summary>", html, flags=re.S)
        filters += re.findall(r"<h3>\s*(.*?)\s*</h3>", html, flags=re.S)
        shown = [h for h in headings + filters if h]
        assert shown, name
        untranslated = [h for h in shown if not CJK.search(h) and english_words(h)]
        assert untranslated == [], (name, untranslated)
        assert not re.search(r"以 [A-Za-z]", " ".join(filters)), (name, filters)  # "以 status"


def test_the_admins_select_boxes_speak_chinese(client, boss):
    """The admin's JavaScript catalogue (its select boxes: a user's groups and permissions)
    carries every string of the boxes in Chinese, Django's and the project's; staff only."""
    import json

    url = reverse("admin:jsi18n")

    def catalogue(language: str) -> dict:
        body = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        found = re.search(r"const newcatalog = (\{.*?\});", body, re.S)
        return json.loads(found.group(1)) if found else {}  # English: no catalogue at all

    chinese = catalogue("zh-hans")
    choose = 'Choose %s by selecting them and then select the "Choose" arrow button.'
    assert chinese[choose] == "选中要添加的%s，然后点击“选择”箭头按钮。"
    assert (
        chinese["Remove all %s"] == "删除全部%s" and chinese["(click to clear)"] == "（点击清除）"
    )
    assert chinese["Choose all"] == "全选"  # Django's own, kept
    assert choose not in catalogue("en")
    client.logout()
    assert client.get(url).status_code == 302  # to the login page, as the admin's


def test_permission_names_follow_the_reader(db):
    """The admin lists a user's and a role's permissions by str(): in Chinese every part of it
    is Chinese (Django stores the names in English when the migrations run)."""
    from django.contrib.auth.models import Permission
    from django.utils import translation

    view = Permission.objects.get(codename="view_product", content_type__app_label="catalog")
    watch = Permission.objects.get(codename="watch_offer")
    with translation.override("zh-hans"):
        shown = [str(view), str(watch)]
        every = [str(p) for p in Permission.objects.filter(content_type__app_label="catalog")]
    assert shown[0].endswith("| 可以查看商品") and "Can" not in shown[0]
    assert not re.search(r"[A-Za-z]{3,}", shown[1]), shown[1]
    assert not [text for text in every if re.search(r"\bCan\b", text)]
    with translation.override("en"):
        assert str(view).endswith("| Can view product")


def test_money_durations_and_dates_are_formatted_per_locale(client, boss):
    from django.utils import translation

    from catalog.templatetags.erp_format import duration, yuan

    assert yuan("12.5") == "¥12.50" and yuan(None) == "—"
    with translation.override("zh-hans"):
        assert duration(timedelta(seconds=65.031594)) == "1 分 5 秒"
    with translation.override("en"):
        assert duration(timedelta(seconds=65.031594)) == "1 min 5 s"
    run = SyncRunFactory(
        shop=ShopFactory(),
        status=SyncRun.Status.SUCCEEDED,
        started_at=timezone.now() - timedelta(seconds=65),
        finished_at=timezone.now(),
    )
    html = render_page(client, reverse("catalog:shop_detail", args=[run.shop.pk]), "zh-hans")
    assert "0:01:05" not in html


def test_stored_upload_reasons_follow_the_reader(client, boss):
    """A batch's stop reason is written by a job and read later in each reader's language."""
    from types import SimpleNamespace

    from sync.jobs import mark_upload_job_failed

    batch = UploadBatchFactory(name="批次", status=UploadBatch.Status.RUNNING, job_id="job-1")
    mark_upload_job_failed(
        SimpleNamespace(id="job-1"), None, RuntimeError, RuntimeError("boom"), None
    )
    batch.refresh_from_db()
    assert batch.last_error.startswith('{"msgid":"The upload job failed: %(error)s"')
    url = reverse("catalog:batch_detail", args=[batch.pk])
    assert "上传任务失败：RuntimeError: boom" in render_page(client, url, "zh-hans")
    english = render_page(client, url, "en")
    assert "The upload job failed: RuntimeError: boom" in english and "上传任务失败" not in english


def test_the_catalogue_check_finds_untranslated_fuzzy_and_chinese_ids():
    """scripts/check_messages.py (run by .ci/run) on a small catalogue with one of each fault."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "check_messages.py"
    spec = importlib.util.spec_from_file_location("check_messages", path)
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    po = """msgid ""
msgstr "Language: zh_Hans\\n"

#: a.py:1
msgid "Shop"
msgstr "店铺"

#: a.py:2
msgid "Stock"
msgstr ""

#: a.py:3
#, fuzzy
#| msgid "Prices"
msgid "Price"
msgstr "价格"

#: a.py:4
msgid "标题 / Title"
msgstr "标题"

#: a.py:5
msgid "Cargo number"
msgstr "Cargo number"

#: a.py:6
msgid "SKU"
msgstr "SKU"

#: a.py:7
msgid "%(n)d item"
msgid_plural "%(n)d items"
msgstr[0] "%(n)d 个商品"
"""
    found = check.problems(check.parse_po(po))
    assert [line.split(":")[0] for line in found] == [
        "untranslated",
        "fuzzy (check the Chinese, then drop the fuzzy flag)",
        "Chinese in a message id (write the id in English)",
        "translated to itself (a label left in English?)",
    ]
    assert "'Stock'" in found[0] and "'Price'" in found[1] and "a.py:5" in found[3]


def test_an_invalid_item_is_refused_with_readable_messages():
    """save_item validates again under the batch lock; its refusal reads in the language."""
    from django.utils import translation

    from catalog.publishing import services
    from erp1688.refusals import Refused

    batch = UploadBatchFactory(name="批次")
    item = UploadItemFactory.build(batch=batch, title="", cargo_number="TS-10")
    with translation.override("zh-hans"), pytest.raises(Refused) as refusal:
        services.save_item(user=None, item=item)
    assert refusal.value.code == RefusalCode.ITEM_INVALID and "标题必填" in refusal.value.message
    with translation.override("en"), pytest.raises(Refused) as refusal:
        services.save_item(user=None, item=item)
    assert "Title is required" in refusal.value.message
