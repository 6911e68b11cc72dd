"""One operator's working day, in Chinese, in a real browser against the live server, the
sandbox gateway and a real RQ worker: a new batch, an item made in the structured editor (its
SKU grid grown without losing a typed price, a save failed on purpose and fixed), an XLSX with
good and bad rows imported, the batch published with one item rejected in 1688's audit, that
item corrected and resubmitted until published, a live price change on a published offer, a
supplier's offer watched.

Every page is read as it loads (and again when htmx swaps a part of it), and every "are you
sure?" question too: a Chinese page may show no English word, raw status or code — the day's
product data aside (titles, 货号, shop and supplier names, 1688's own words). Any console error,
uncaught page error or server error fails the day as well; the problems are listed at the end,
each with the page it was on.
"""

import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest

from catalog.models import Product, SyncRun, UploadBatch, UploadItem, WatchedOffer
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import make_client
from catalog.sourcing import services as sourcing
from sync.catalog_sync import start_run, sync_shop
from tests.browser.steps import (
    READ_TEXT,
    TEE,
    add_values,
    confirm_and_click,
    confirm_import,
    fill_required_attributes,
    log_in,
    pick_category,
    picture_file,
    preview_import,
    preview_live_price_change,
    search_and_watch,
    shooter,
    sku_rows,
    submit_batch,
    watch_for_errors,
)
from tests.conftest import run_worker
from tests.erp1688.test_language import CJK, english_words, product_data, without_data
from tests.factories import UserFactory
from tests.publishing.test_import_export import row, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OPERATOR = "小王"  # a Chinese name: an ASCII one would be removed from the text as data
SUPPLIER = "b2b-2209610001"
# Words a Chinese page may show beyond test_language's CODES (SKU, XLSX, erp1688 ...): none.
ALLOWED: set[str] = set()
day_shot = shooter("day-")
# Read in the page itself, as each page loads and after each htmx swap, sent to the test.
READ_ON_LOAD = f"""(() => {{
  const read = {READ_TEXT};
  const send = (whole) => window.erpPageText(location.href, read(), whole);
  window.addEventListener('load', () => send(true));
  document.addEventListener('htmx:afterSettle', () => send(false));
}})()"""
# The editor's form as typed (what the server gives back must be the same); a SKU row's
# combination is compared as data, not as the spacing of its JSON.
FORM_STATE = """() => Array.from(new FormData(document.querySelector('#item-editor')))
  .filter(([name, value]) => typeof value === 'string' && name !== 'csrfmiddlewaretoken')
  .map(([name, value]) => name.endsWith('-combo') ? [name, JSON.stringify(JSON.parse(value))]
                                                  : [name, value])
  .map(([name, value]) => `${name}=${value}`).sort()"""


def foreign_words(text: str, data: list[str]) -> list[str]:
    """English words and raw codes in a Chinese page's text, its product data left out."""
    return [w for w in english_words(without_data(text, data)) if w not in ALLOWED]


class Day:
    """What the operator read and what went wrong, page by page."""

    def __init__(self, page):
        self.page = page
        self.problems = watch_for_errors(page)
        self.read = []  # (where, text, a whole page?) in the order read
        self.checked = 0
        self.seen = set()
        self.data = set()  # product data met so far: a title changed later is still data
        page.expose_binding(
            "erpPageText", lambda source, url, text, whole: self.read.append((url, text, whole))
        )
        page.add_init_script(READ_ON_LOAD)
        # Only noted: the steps answer the questions (a dialog nobody answers would hang).
        page.on(
            "dialog",
            lambda dialog: self.read.append((f"{page.url} (its question)", dialog.message, False)),
        )

    def add_data(self, *values: str) -> None:
        """1688's or a supplier's words the day met: data, not the app's labels."""
        self.data.update(v for v in values if v)

    def check(self, shot: str = "") -> None:
        """Judge what was read since the last check, the page as it is now included."""
        page = self.page
        self.read.append((page.url, page.evaluate(READ_TEXT), True))
        self.data.update(product_data())
        data = sorted(self.data, key=len, reverse=True)
        for where, text, whole in self.read[self.checked :]:
            if (where, text) in self.seen:
                continue
            self.seen.add((where, text))
            if words := foreign_words(text, data):
                self.problems.append(f"English on {where}: {', '.join(words)}")
            if whole and not CJK.search(without_data(text, data)):
                self.problems.append(f"no Chinese on {where}")
        self.checked = len(self.read)
        if shot:
            day_shot(page, shot)

    def assert_clean(self) -> None:
        self.check()
        assert not self.problems, "the day's problems:\n" + "\n".join(self.problems)

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        # A step that failed early (a wait that timed out after a server error, say) is
        # reported with what had gone wrong until then.
        if error is not None and self.problems:
            error.add_note("the day's problems so far:\n" + "\n".join(self.problems))


def nav(page, href: str) -> None:
    """Open a page by the header's menu."""
    page.locator(f"header nav a[href='{href}']").click()
    page.wait_for_url(lambda url: urlsplit(url).path == href)


def item_row(page, title: str):
    return page.locator("main table tbody tr", has_text=title)


def sku_label(sku: dict) -> str:
    return " / ".join(a["attributeValue"] for a in sku["attributes"])


def wait_until_finished(page) -> None:
    """The batch page polls while the upload job holds the batch, then reloads itself."""
    page.wait_for_selector("#batch-progress:not([hx-get])", timeout=10_000)


def test_an_operators_day_in_chinese(page, live_server, sandbox, connected_shop, tmp_path):
    sandbox.control("switches", {"audit_seconds": 0, "audit_reject_words": ["高仿"]})
    UserFactory(username=OPERATOR, roles=["operator"])
    with Day(page) as day:
        # 1. From the dashboard, a new batch, and an item made in the structured editor.
        log_in(page, live_server, OPERATOR, "/")
        day.check("0-dashboard")
        nav(page, "/catalog/batches/")
        page.locator("a[href='/catalog/batches/new/']").click()
        page.wait_for_url("**/catalog/batches/new/")
        day.check()
        page.select_option("select[name=shop]", str(connected_shop.pk))
        page.fill("input[name=name]", "周五上新")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/catalog/batches/\d+/$"))
        batch = UploadBatch.objects.get(name="周五上新")
        day.check("1-batch")
        page.locator(f"a[href='/catalog/batches/{batch.pk}/items/new/']").click()
        page.wait_for_url("**/items/new/")
        pick_category(page, "女式T恤", TEE)
        fill_required_attributes(page, connected_shop, TEE)
        page.fill("#id_title", "春季纯棉短袖T恤 多色")
        page.fill("#id_price", "20.90")  # each SKU at its own price (no tier rows)
        add_values(page, 3216, "白色, 黑色")
        add_values(page, 450, "S, M, L", press_enter=False)
        assert len(sku_rows(page)) == 6
        typed = {}
        for n, label in enumerate(sku_rows(page)):
            grid_row = page.locator("#sku-grid tr[data-pairs]", has_text=label)
            grid_row.locator("input[name$='-price']").fill(f"{20 + n}.90")
            grid_row.locator("input[name$='-stock']").fill(str(10 + n))
            typed[label] = [f"{20 + n}.90", str(10 + n), ""]
        front = picture_file(tmp_path, "front.png", (200, 40, 40))
        page.set_input_files("#picture-files", [front])
        page.wait_for_function(
            "Array.from(document.querySelectorAll('#picture-list img.thumb[src]'))"
            ".some(i => i.naturalWidth > 0)"
        )
        day.check("2-editor")

        # 2. The grid grows by a colour: every typed price stays with its row.
        add_values(page, 3216, "红色")
        assert len(sku_rows(page)) == 9
        assert sku_rows(page, typed_only=True) == typed

        # 3. A save failed on purpose (a negative SKU price): the error beside its row, every
        # typed value given back as typed; then fixed and saved.
        bad = page.locator("#sku-grid tr[data-pairs]", has_text="白色 / M")
        bad.locator("input[name$='-price']").fill("-5")
        before = page.evaluate(FORM_STATE)
        page.locator("#item-editor button[type=submit]").click()
        page.wait_for_selector("#editor-errors")
        day.check("3-failed")
        bad = page.locator("#sku-grid tr.bad")
        assert bad.count() == 1 and "白色 / M" in bad.inner_text()
        assert bad.locator(".row-error").inner_text() == "价格必须大于 0"
        assert page.evaluate(FORM_STATE) == before
        bad.locator("input[name$='-price']").fill(typed["白色 / M"][0])
        page.locator("#item-editor button[type=submit]").click()
        page.wait_for_url(f"**/catalog/batches/{batch.pk}/")
        day.check("4-saved")
        item = batch.items.get()
        assert {sku_label(sku): [sku["price"], str(sku["stock"]), ""] for sku in item.skus} == typed
        assert item.price == Decimal("20.90") and item.price_ranges == []
        assert item.images == ["staged:" + hashlib.sha256(Path(front).read_bytes()).hexdigest()]

        # 4. An XLSX with good and bad rows: the good ones imported, the bad ones offered back.
        good = [row(title=f"2026夏季冰丝T恤 {n}号") for n in range(2)]
        good.append(row(title="高仿纯棉短袖T恤 爆款"))  # 1688's audit refuses this title
        upload = tmp_path / "周五上新.xlsx"
        rows = [*good, row(title="价格写错的T恤", price="-3"), row(title="")]
        for n, cells in enumerate(rows):
            cells["cargo_number"] = f"FRI-{n}"
        upload.write_bytes(xlsx_bytes(rows))
        page.locator(f"a[href='/catalog/batches/{batch.pk}/import/']").click()
        page.wait_for_url("**/import/")
        preview_import(page, upload)
        day.add_data(*(cells["cargo_number"] for cells in rows))  # typed, not yet saved
        day.check("5-preview")
        assert "价格必须大于 0" in item_row(page, "价格写错的T恤").inner_text()
        assert page.locator("main table tbody tr.invalid").count() == 2
        with page.expect_download() as download:
            page.locator("#import-rejects a").click()
        rejects = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
        assert rejects.max_row == 3  # the header and the two bad rows, to fix
        confirm_import(page, batch.pk)
        day.check("6-imported")
        assert batch.items.count() == 4

        # 5. Submitted and published, but for one item 1688's audit rejects.
        submit_batch(page)
        assert page.locator("#batch-progress[hx-get]").count() == 1
        run_worker("upload")
        wait_until_finished(page)
        rejected = batch.items.get(status=UploadItem.Status.REJECTED)
        assert rejected.title.startswith("高仿") and rejected.remote_error_message
        assert batch.items.filter(status=UploadItem.Status.PUBLISHED).count() == 3
        day.add_data(rejected.remote_error_message)  # 1688's reason, quoted as it gave it
        day.check("7-rejected")
        shown = item_row(page, rejected.title).inner_text()
        assert "未通过 1688 审核" in shown and "标题含违禁词「高仿」" in shown  # beside it
        item_row(page, rejected.title).locator(f"a[href$='/items/{rejected.pk}/']").click()
        page.wait_for_url(f"**/items/{rejected.pk}/")
        page.wait_for_selector("#attributes")  # the structured panel, loaded
        day.check("8-edit-rejected")
        page.fill("#id_title", "纯棉短袖T恤 爆款")
        page.locator("#item-editor button[type=submit]").click()
        page.wait_for_url(f"**/catalog/batches/{batch.pk}/")
        day.check()
        confirm_and_click(page, "form[action$='/resubmit/'] button")
        run_worker("upload")
        wait_until_finished(page)
        day.check("9-resubmitted")
        rejected.refresh_from_db()
        assert rejected.status == UploadItem.Status.PUBLISHED, rejected.remote_error_message
        assert item_row(page, "纯棉短袖T恤 爆款").locator(".badge.published").count() == 1
        batch.refresh_from_db()
        assert batch.status == UploadBatch.Status.DONE and batch.items_rejected == 0

        # 6. A live price change on the offer made in the editor, once the mirror has it.
        run = sync_shop(start_run(connected_shop, kind=SyncRun.Kind.FULL))  # the scheduled sync
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        item.refresh_from_db()
        product = Product.objects.get(shop=connected_shop, offer_id=item.remote_offer_id)
        nav(page, "/catalog/products/")
        day.check("10-products")
        preview_live_price_change(page, [product], "5")
        day.check("11-live-preview")
        confirm_and_click(page, "#live-apply")
        run_worker("default")
        page.wait_for_selector("#live-changes", timeout=10_000)
        day.check("12-live-applied")
        operation = LiveEdit.objects.get()
        assert operation.status == LiveEdit.Status.DONE
        assert set(operation.lines.values_list("status", flat=True)) == {
            LiveEditLine.Status.APPLIED
        }
        with make_client() as client:
            offer = client.get_product(connected_shop.access_token, product.offer_id)
        prices = {s.price for s in offer.skus} | {t.price for t in offer.price_ranges}
        assert {Decimal(line.after) for line in operation.lines.all()} <= prices

        # 7. A supplier's offer found by keyword and watched.
        sandbox.new_seller(SUPPLIER, "温州鞋业")
        sandbox.control("seed", {"member_id": SUPPLIER, "count": 40, "seed": 4})
        day.add_data(
            SUPPLIER, *(o["subject"] for o in sandbox.get("offers", member_id=SUPPLIER)["offers"])
        )
        nav(page, "/catalog/sourcing/")
        day.check()
        watched_id = search_and_watch(page, "女")
        day.check("13-watched")
        nav(page, "/catalog/watch/")
        day.check("14-watch-list")
        watched = WatchedOffer.objects.get()
        assert watched.offer_id == watched_id
        page.locator(f"tr.watched-offer[data-offer='{watched_id}'] a").first.click()
        page.wait_for_selector("#supplier")
        assert SUPPLIER in page.locator("#supplier").inner_text()
        day.check("15-watched-offer")
        # The supplier raises a price; read again, the change is listed.
        detail = sourcing.read_supplier_offer(watched_id)
        if detail.price_ranges:
            sandbox.control("offers/update", {"product_id": watched_id, "tier_delta": "2.00"})
        else:
            sku = detail.skus[0]
            raised = {str(sku.sku_id): str(sku.price + Decimal("2.00"))}
            sandbox.control("offers/update", {"product_id": watched_id, "sku_prices": raised})
        page.locator("form[action$='/read/'] button").click()
        page.wait_for_selector(".messages li.success")
        assert page.locator("table.changes tbody tr").count() >= 1
        day.check("16-read-again")

        # The day's end: the dashboard again.
        nav(page, "/")
        day.check("17-dashboard")
        day.assert_clean()


def test_raw_statuses_api_names_and_exceptions_fail_the_day():
    """The day's judge: product data is left out, a raw status, an API or exception name is not."""
    text = "商品 FRI-2 高仿纯棉短袖T恤 published OK 审核中 auditing new.product.add SKU"
    data = ["高仿纯棉短袖T恤", "FRI-2"]
    assert foreign_words(text + " HTTPSConnectionPool", data) == [
        "HTTPSConnectionPool", "OK", "add", "auditing", "new", "product", "published",
    ]  # fmt: skip
