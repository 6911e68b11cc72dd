"""Staff add an item by picking its category, filling the category's attributes and the SKU
grid and dropping two pictures, submit the batch and watch it reach "published" — in a real
browser against the live server, the sandbox gateway (strict schema-driven add, pictures must
be in the photobank) and a real RQ worker."""

import pytest

from catalog.models import UploadBatch, UploadItem
from tests.browser.steps import (
    TEE,
    fill_required_attributes,
    log_in,
    pick_category,
    picture_file,
    shooter,
    submit_batch,
)
from tests.conftest import run_worker
from tests.factories import UploadBatchFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


shot = shooter("publish-")


def test_pick_category_fill_attributes_and_sku_grid_upload_pictures_publish(
    page, live_server, sandbox, connected_shop, tmp_path
):
    sandbox.control("switches", {"audit_seconds": 0})
    UserFactory(username="ops", is_superuser=True)
    batch = UploadBatchFactory(shop=connected_shop, name="春季 T恤")
    log_in(page, live_server, "ops", f"/catalog/batches/{batch.pk}/items/new/")

    pick_category(page, "女式T恤", TEE)
    assert page.locator("select[name=attr-2176]").count() == 1  # 品牌, a dropdown of the category
    assert page.input_value("#id_category_id") == str(TEE)
    shot(page, "1-category")

    fill_required_attributes(page, connected_shop, TEE)

    page.fill("#dim-3216", "白色, 黑色")
    page.press("#dim-3216", "Enter")  # the values become the dimension's, the grid grows
    page.fill("#dim-450", "M, L")
    page.press("#dim-450", "Enter")
    page.wait_for_selector("input[name=sku-3-price]")  # 2 × 2 rows
    for n, (price, stock) in enumerate([("19.90", 10), ("19.90", 8), ("21.00", 5), ("21.00", 3)]):
        page.fill(f"input[name=sku-{n}-price]", price)
        page.fill(f"input[name=sku-{n}-stock]", str(stock))
        page.fill(f"input[name=sku-{n}-cargo]", f"TEE-{n}")
    page.fill("#id_title", "春季纯棉短袖T恤")
    page.fill("#id_price", "19.90")
    page.set_input_files(
        "#picture-files",
        [
            picture_file(tmp_path, "front.png", (200, 40, 40, 120), mode="RGBA"),
            picture_file(tmp_path, "back.jpg", (40, 40, 200), kind="JPEG"),
        ],
    )
    shot(page, "2-filled")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"**/catalog/batches/{batch.pk}/")
    item = batch.items.get()
    assert len(item.images) == 2 and len(item.skus) == 4

    submit_batch(page)
    run_worker("upload")
    batch.refresh_from_db()
    item.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
    assert all(path.startswith("img/ibank/") for path in item.picture_paths)
    page.wait_for_selector(f"text={item.remote_offer_id}", timeout=10_000)
    shot(page, "3-published")
    assert item.get_status_display() in page.content()
