"""An operator prepares an item in the editor, in Chinese, in a real browser against the live
server and the sandbox: picks the category by name, fills the SKU grid, grows and reorders it
(nothing typed is lost, even typed at once after the grid changed), drops pictures and picks the
main one, fails a save (every value comes back as typed, the error beside its field), fixes it
and saves. Any console error or server error fails the test."""

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.steps import (
    TEE,
    add_values,
    fill_required_attributes,
    log_in,
    picture_file,
    shooter,
    sku_rows,
    watch_for_errors,
)
from tests.factories import UploadBatchFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


shot = shooter("editor-")


def chip(page, attr_id: int, value: str):
    return page.locator(f".dim[data-dim='{attr_id}'] li.chip", has_text=value)


def test_grow_the_grid_fail_a_save_fix_it_saved(
    page, live_server, sandbox, connected_shop, tmp_path
):
    problems = watch_for_errors(page)
    UserFactory(username="ops", is_superuser=True)
    batch = UploadBatchFactory(shop=connected_shop, name="春季 T恤")
    new_item = f"/catalog/batches/{batch.pk}/items/new/"
    log_in(page, live_server, "ops", new_item)

    # The category by name: no number anywhere on the page.
    page.fill("#category-q", "女式T恤")
    page.locator(f"button.category-choice[data-category='{TEE}']").click()
    page.wait_for_selector("select[name=attr-2176]")
    assert "女式T恤" in page.inner_text("#category-path")
    assert str(TEE) not in page.inner_text("main")
    fill_required_attributes(page, connected_shop, TEE)

    # Six rows, six prices typed.
    add_values(page, 3216, "白色, 黑色")
    add_values(page, 450, "S, M, L", press_enter=False)
    assert page.locator("#sku-grid tr[data-pairs]").count() == 6
    typed = {}
    for n in range(6):
        page.fill(f"input[name=sku-{n}-price]", f"{20 + n}.90")
        page.fill(f"input[name=sku-{n}-stock]", str(10 + n))
        label = page.locator("#sku-grid tr[data-pairs]").nth(n).locator("td").nth(1).inner_text()
        typed[label.strip()] = [f"{20 + n}.90", str(10 + n), ""]
    assert sku_rows(page) == typed

    # Grow (红色), reorder (黑色 first, L first), remove and add back: nothing typed is lost.
    add_values(page, 3216, "红色")
    rows = sku_rows(page)
    assert len(rows) == 9 and sku_rows(page, typed_only=True) == typed
    chip(page, 3216, "白色").locator(".chip-later").click()
    chip(page, 450, "L").locator(".chip-earlier").click()
    chip(page, 450, "L").locator(".chip-earlier").click()
    rows = sku_rows(page)
    assert list(rows)[0] == "黑色 / L"
    assert sku_rows(page, typed_only=True) == typed
    chip(page, 450, "M").locator(".chip-remove").click()
    assert len(sku_rows(page)) == 6
    add_values(page, 450, "M")
    assert sku_rows(page, typed_only=True) == typed
    # Typed at once after the grid changed (no refresh to race with).
    add_values(page, 3216, "蓝色")
    blue = page.locator("#sku-grid tr[data-pairs]", has_text="蓝色 / L")
    blue.locator("input[name$='-price']").fill("30.00")
    blue.locator("input[name$='-stock']").fill("7")
    typed["蓝色 / L"] = ["30.00", "7", ""]
    assert sku_rows(page, typed_only=True) == typed
    shot(page, "1-grid")

    # A price tier row and two pictures dropped at once; the second is made the main one.
    page.fill("#id_price", "")
    page.fill("input[name=tier-0-qty]", "1")
    page.fill("input[name=tier-0-price]", "abc")  # a mistake, shown back beside its row
    page.click(".tier-add")
    page.fill("input[name=tier-1-qty]", "50")
    page.fill("input[name=tier-1-price]", "18.50")
    page.set_input_files(
        "#picture-files",
        [
            picture_file(tmp_path, "front.png", (200, 40, 40)),
            picture_file(tmp_path, "back.png", (40, 40, 200)),
        ],
    )
    page.wait_for_function("document.querySelectorAll('#picture-list li.picture').length == 2")
    pictures = page.eval_on_selector_all(
        "#picture-list input[name=picture]", "l => l.map(i => i.value)"
    )
    page.locator("#picture-list li.picture").nth(1).locator("input[name=picture_main]").check()
    assert page.eval_on_selector_all(
        "#picture-list input[name=picture]", "l => l.map(i => i.value)"
    ) == [pictures[1], pictures[0]]
    loaded = "document.querySelectorAll('#picture-list img.thumb[src]').length"
    assert page.evaluate(loaded) == 2
    thumbs = "#picture-list img.thumb"
    page.wait_for_function(
        f"Array.from(document.querySelectorAll('{thumbs}')).every(i => i.naturalWidth > 0)"
    )

    # Fail a save: no title, a tier price that is not a number.
    page.locator("#item-editor button[type=submit]").click()
    page.wait_for_selector("#editor-errors")
    assert "标题必填" in page.inner_text("#item-editor")
    assert "价格不是数字：abc" in page.inner_text("#tier-rows tr.bad")
    assert sku_rows(page, typed_only=True) == typed
    assert list(sku_rows(page))[0] == "黑色 / L"
    assert page.eval_on_selector_all(
        "#picture-list input[name=picture]", "l => l.map(i => i.value)"
    ) == [pictures[1], pictures[0]]
    assert page.is_checked("#picture-list li.picture:first-child input[name=picture_main]")
    assert page.input_value("select[name=attr-1141]") == "否"
    assert page.input_value("input[name=tier-1-price]") == "18.50"
    shot(page, "2-failed")

    # Fixed, the tiers meet the SKUs' own prices: 1688 takes one of them, so the editor asks.
    page.fill("#id_title", "春季纯棉短袖T恤")
    page.fill("input[name=tier-0-price]", "19.90")
    page.locator("#item-editor button[type=submit]").click()
    page.wait_for_selector("#editor-errors")
    assert "每个规格都按阶梯价销售" in page.inner_text("#tiers")
    assert sku_rows(page, typed_only=True) == typed
    # Each SKU at its own price: the tier rows emptied, one price for the offer.
    for n in range(2):
        page.fill(f"input[name=tier-{n}-qty]", "")
        page.fill(f"input[name=tier-{n}-price]", "")
    page.fill("#id_price", "20.90")
    # Saved at once after dropping one more picture: the save waits for its upload.
    side = picture_file(tmp_path, "side.png", (40, 200, 40))
    page.set_input_files("#picture-files", [side])
    page.locator("#item-editor button[type=submit]").click()
    page.wait_for_url(f"**/catalog/batches/{batch.pk}/")
    item = batch.items.get()
    saved = {
        " / ".join(a["attributeValue"] for a in sku["attributes"]): [
            sku["price"],
            str(sku["stock"]),
            "",
        ]
        for sku in item.skus
    }
    assert saved == typed
    side_ref = "staged:" + hashlib.sha256(Path(side).read_bytes()).hexdigest()
    assert item.images == [pictures[1], pictures[0], side_ref]
    assert item.price_ranges == [] and item.price == Decimal("20.90")
    thumb = page.locator("img.thumb.small").first
    thumb.wait_for()
    page.wait_for_function("document.querySelector('img.thumb.small').naturalWidth > 0")
    shot(page, "3-saved")
    assert problems == []
