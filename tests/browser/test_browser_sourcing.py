"""An operator sources on 1688 in a real browser: searches by keyword with buyer filters, pages
on, stages a result into a draft batch, then searches by an uploaded picture — against the
live server and the sandbox gateway. (Watching a result comes with the watchlist.)"""

import io

import pytest
import requests
from PIL import Image

from catalog.models import UploadItem
from catalog.sourcing import services as sourcing
from tests.browser.steps import shooter
from tests.factories import UploadBatchFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUPPLIER = "b2b-2209600001"


shot = shooter()


def test_search_by_keyword_and_picture_then_stage_into_a_batch(
    page, live_server, sandbox, connected_shop, tmp_path
):
    sandbox.new_seller(SUPPLIER, "源头工厂")
    sandbox.control("seed", {"member_id": SUPPLIER, "count": 150, "seed": 8})
    UserFactory(username="buyer", roles=["operator"])
    batch = UploadBatchFactory(shop=connected_shop, name="选品 12月")

    page.goto(f"{live_server.url}/admin/login/?next=/catalog/products/")
    page.fill("input[name=username]", "buyer")
    page.fill("input[name=password]", "correct horse battery")
    page.click("input[type=submit]")
    page.locator("header nav a[href='/catalog/sourcing/']").click()
    page.wait_for_url("**/catalog/sourcing/")

    page.fill("#keyword-search input[name=keyword]", "女")
    page.fill("#keyword-search input[name=price_max]", "60")
    page.select_option("#keyword-search select[name=sort]", "price:asc")
    page.locator("#keyword-search button[type=submit]").click()
    page.wait_for_selector("tr.sourcing-result")
    shot(page, "sourcing-1-results")
    rows = page.locator("tr.sourcing-result")
    assert rows.count() == 20  # a full page, and a next one
    page.locator("a[rel=next]").click()
    page.wait_for_url("**page=2**")
    page.wait_for_selector("tr.sourcing-result")

    first = page.locator("tr.sourcing-result").first
    offer_id = int(first.get_attribute("data-offer"))
    first.locator("select[name=batch]").select_option(str(batch.pk))
    first.locator(".stage-form button").click()
    page.wait_for_selector(".messages li.success")
    shot(page, "sourcing-2-staged")
    assert "page=2" in page.url  # back on the page it was staged from
    item = UploadItem.objects.get(batch=batch)
    assert item.source_offer_id == offer_id and item.source == UploadItem.Source.COPY

    # By picture: a recompressed copy of that offer's picture finds it first.
    detail = sourcing.read_supplier_offer(offer_id)
    picture = Image.open(io.BytesIO(requests.get(detail.images[0], timeout=10).content))
    path = tmp_path / "photo.png"
    picture.resize((300, 260)).save(path, format="PNG")
    page.locator("a[href='/catalog/sourcing/image/']").first.click()
    page.set_input_files("#image-upload-search input[type=file]", str(path))
    page.locator("#image-upload-search button[type=submit]").click()
    page.wait_for_url("**image_id=**")
    page.wait_for_selector("tr.sourcing-result")
    shot(page, "sourcing-3-by-picture")
    assert int(page.locator("tr.sourcing-result").first.get_attribute("data-offer")) == offer_id
