"""An operator watches a supplier's offer from a search result in a real browser, stages
another result into a batch, finds the watched offer on the watch list with its freshness,
opens its page (supplier, market figures) and reads it again after the supplier changed its
price — against the live server and the sandbox gateway."""

from decimal import Decimal

import pytest

from catalog.models import PriceStockChange, UploadItem, WatchedOffer
from catalog.sourcing import services as sourcing
from tests.browser.steps import log_in, search_and_watch, shooter
from tests.factories import UploadBatchFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUPPLIER = "b2b-2209610001"


shot = shooter()


def test_watch_a_search_result_stage_another_and_read_it_again(
    page, live_server, sandbox, connected_shop
):
    sandbox.new_seller(SUPPLIER, "温州鞋业")
    sandbox.control("seed", {"member_id": SUPPLIER, "count": 40, "seed": 4})
    UserFactory(username="buyer", roles=["operator"])
    batch = UploadBatchFactory(shop=connected_shop, name="选品 watch")

    log_in(page, live_server, "buyer", "/catalog/sourcing/")
    watched_id = search_and_watch(page, "女")
    others = page.locator(f"tr.sourcing-result:not([data-offer='{watched_id}'])")
    staged_id = int(others.first.get_attribute("data-offer"))
    shot(page, "watch-1-watched")
    watched = WatchedOffer.objects.get()
    assert watched.offer_id == watched_id and watched.followed

    page.locator(f"tr.sourcing-result[data-offer='{staged_id}'] select[name=batch]").select_option(
        str(batch.pk)
    )
    page.locator(f"tr.sourcing-result[data-offer='{staged_id}'] .stage-form button").click()
    page.wait_for_selector(".messages li.success")
    assert UploadItem.objects.get(batch=batch).source_offer_id == staged_id

    page.locator("header nav a[href='/catalog/watch/']").click()
    page.wait_for_url("**/catalog/watch/")
    row = page.locator(f"tr.watched-offer[data-offer='{watched_id}']")
    assert "温州鞋业" in row.inner_text()
    shot(page, "watch-2-list")
    row.locator("a").first.click()
    page.wait_for_selector("#supplier")
    assert SUPPLIER in page.locator("#supplier").inner_text()

    detail = sourcing.read_supplier_offer(watched_id)
    if detail.price_ranges:
        sandbox.control("offers/update", {"product_id": watched_id, "tier_delta": "2.00"})
    else:
        sku = detail.skus[0]
        price = str(sku.price + Decimal("2.00"))
        sandbox.control(
            "offers/update", {"product_id": watched_id, "sku_prices": {str(sku.sku_id): price}}
        )
    page.locator("form[action$='/read/'] button").click()
    page.wait_for_selector(".messages li.success")
    shot(page, "watch-3-read-again")
    assert PriceStockChange.objects.filter(watched_offer=watched).exists()
    assert page.locator("table.changes tbody tr").count() >= 1
