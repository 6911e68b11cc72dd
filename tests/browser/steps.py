"""Steps the browser tests share: logging in, watching for errors, reading a page's text,
filling the item editor, importing a file, submitting a batch, a live price change, watching a
supplier's offer."""

import io
import os
import re
from urllib.parse import urlsplit

from PIL import Image

from catalog.publishing.categories import attributes_for
from open1688.types import INPUT_DATE, INPUT_MULTI, INPUT_NUMBER

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
TEE = 1031910  # 女式T恤: the category the editor's tests fill
SHOTS = os.environ.get("ERP_SCREENSHOTS")  # a folder: save what the staff member saw
# What a reader sees: the language switch (each language names itself there) and the
# screen-reader-only captions are left out — hidden for the reading only, so the page (its
# visually hidden file input, say) keeps working afterwards.
READ_TEXT = """() => {
  const left = Array.from(document.querySelectorAll('select[name=language], .visually-hidden'));
  const before = left.map(e => e.style.getPropertyValue('display'));
  left.forEach(e => e.style.setProperty('display', 'none', 'important'));
  const text = document.body.innerText;
  left.forEach((e, n) => e.style.setProperty('display', before[n]));
  return text;
}"""
# The SKU grid as {row label: [price, stock, SKU cargo number]}.
SKU_ROWS = """() => Object.fromEntries(
  Array.from(document.querySelectorAll('#sku-grid tr[data-pairs]')).map(tr => [
    tr.cells[1].textContent.trim(),
    ['price', 'stock', 'cargo'].map(k => tr.querySelector(`input[name$='-${k}']`).value),
  ]))"""


def log_in(page, live_server, username: str, next_path: str) -> None:
    """Log in through the login page, on to `next_path` (waited for)."""
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path == urlsplit(next_path).path)


def watch_for_errors(page) -> list[str]:
    """The console errors, uncaught page errors and server errors (5xx) the page meets from now
    on, each a line naming where (the list fills as they happen)."""
    problems = []

    def console(message):
        if message.type == "error":
            problems.append(f"console error on {page.url}: {message.text}")

    def response(answer):
        if answer.status >= 500:
            problems.append(f"{answer.status} from {answer.request.method} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error on {page.url}: {error}"))
    page.on("response", response)
    return problems


def picture_file(tmp_path, name: str, color, mode="RGB", kind="PNG", size=(160, 120)) -> str:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, kind)
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return str(path)


def pick_category(page, name: str, category_id: int) -> None:
    """Search the editor's categories by name and pick one; its attributes panel loads."""
    page.fill("#category-q", name)
    page.locator(f"button.category-choice[data-category='{category_id}']").click()
    page.wait_for_selector("#attributes")


def fill_required_attributes(page, shop, category_id: int) -> None:
    """Every required attribute of the category that is not a sale attribute (nor 货号 1398)
    given a fitting value through its own input: 是否进口 (1141) 否, the first choice of a
    list, 1 for a number, a date, or 测试."""
    schema = attributes_for(shop, category_id)  # cached by the editor: no call to 1688
    for attribute in schema.attributes:
        if attribute.is_sku_attribute or attribute.attr_id == 1398 or not attribute.required:
            continue
        selector = f"[name=attr-{attribute.attr_id}]"
        if attribute.attr_id == 1141:
            page.select_option(selector, label="否")
        elif attribute.values and attribute.input_type != INPUT_MULTI:
            page.select_option(selector, label=attribute.values[0].name)
        elif attribute.values:
            page.select_option(selector, [attribute.values[0].name])
        elif attribute.input_type == INPUT_NUMBER:
            page.fill(selector, "1")
        elif attribute.input_type == INPUT_DATE:
            page.fill(selector, "2026-06-01")
        else:
            page.fill(selector, "测试")


def add_values(page, attr_id: int, text: str, *, press_enter=True) -> None:
    """Values typed into a SKU dimension of the editor, added by Enter or by its button."""
    page.fill(f"#dim-{attr_id}", text)
    if press_enter:
        page.press(f"#dim-{attr_id}", "Enter")
    else:
        page.locator(f".dim[data-dim='{attr_id}'] .dim-add-button").click()


def sku_rows(page, *, typed_only=False) -> dict:
    rows = page.evaluate(SKU_ROWS)
    return {k: v for k, v in rows.items() if any(v)} if typed_only else rows


def preview_import(page, path) -> None:
    """Upload a file on the batch's import page (open); its preview is shown (nothing saved
    yet)."""
    page.set_input_files("input[type=file]", str(path))
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_selector("#import-rejects a, form[action$='/import/confirm/']")


def confirm_import(page, batch_pk: int) -> None:
    """Import the preview's valid rows; back on the batch."""
    page.locator("form[action$='/import/confirm/'] button").click()
    page.wait_for_url(f"**/catalog/batches/{batch_pk}/")


def confirm_and_click(page, selector: str) -> None:
    """Click a button whose form asks "are you sure?" first: yes, and the page it leads to is
    loaded."""
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator(selector).click()


def submit_batch(page) -> None:
    """Submit the batch on its page; the page shows it in the upload job's hands."""
    confirm_and_click(page, "form[action$='/submit/'] button")


def preview_live_price_change(page, products, percent: str) -> None:
    """On the product list (open), select `products`, ask for their prices `percent` % changed
    and see the preview."""
    for product in products:
        page.check(f"input[name=select][value='{product.pk}']")
    page.click("#live-edit-selected")
    page.wait_for_url("**/catalog/live/new/")
    for product in products:
        assert str(product.offer_id) in page.locator("#live-offers").inner_text()
    page.check("input[name=kind][value=price]")
    page.fill("input[name=percent]", percent)
    page.click("#live-preview")
    page.wait_for_url(re.compile(r"/catalog/live/\d+/$"))
    page.wait_for_selector("#live-apply")


def search_and_watch(page, keyword: str) -> int:
    """Search suppliers' offers by keyword on the sourcing page and watch the first result;
    back on the results with a success message. The watched offer's id."""
    page.fill("#keyword-search input[name=keyword]", keyword)
    page.locator("#keyword-search button[type=submit]").click()
    page.wait_for_selector("tr.sourcing-result")
    first = page.locator("tr.sourcing-result").first
    offer_id = int(first.get_attribute("data-offer"))
    first.locator(".watch-form button").click()
    page.wait_for_selector(".messages li.success")
    assert "keyword=" in page.url  # back on the results
    return offer_id


def shooter(prefix: str = ""):
    """`shot(page, name)`: the page as the staff member saw it, saved as <prefix><name>.png
    when ERP_SCREENSHOTS names a folder (nothing otherwise)."""

    def shot(page, name: str) -> None:
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"{prefix}{name}.png"), full_page=True)

    return shot
