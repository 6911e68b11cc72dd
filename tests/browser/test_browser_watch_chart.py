"""A watched offer's page draws its price/stock history with the product page's chart code
(templates/common/_history_chart.html, static/history_chart.js) and the market figures beside
it, in a real browser against the live server and the sandbox gateway."""

import pytest

from catalog.models import Channel, WatchedOffer
from catalog.watch import services as watch
from tests.browser.steps import shooter
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUPPLIER = "b2b-2209620001"

DRAWN = """() => {
  const drawn = id => {
    const node = document.getElementById(id);
    const chart = node && echarts.getInstanceByDom(node);
    const series = chart && chart.getOption().series;
    return series && series.length ? series.map(s => s.data.length) : null;
  };
  const price = drawn("price-chart"), stock = drawn("stock-chart");
  const market = [1, 2].map(i => drawn("market-chart-" + i));
  return price && stock && market.every(m => m) ? {price, stock, market} : null;
}"""


def test_watched_offer_page_draws_history_and_market_charts(
    page, live_server, sandbox, connected_shop
):
    sandbox.new_seller(SUPPLIER, "台州塑料厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 10, "seed": 12})["product_ids"]
    offer_id, skus = next(
        (i, d.skus)
        for i, d in ((i, watch.sourcing.read_supplier_offer(i)) for i in ids)
        if d.status == "published" and d.skus and all(s.price is not None for s in d.skus)
    )
    watch.watch_offers(user=None, refs=str(offer_id))
    sku = skus[0]
    sandbox.control(
        "offers/update",
        {"product_id": offer_id, "sku_prices": {str(sku.sku_id): str(sku.price + 3)},
         "sku_stock": {str(sku.sku_id): 4}},
    )  # fmt: skip
    assert watch.reread(offer_id, channel=Channel.MANUAL).changes == 2
    watched = WatchedOffer.objects.get(offer_id=offer_id)
    UserFactory(username="buyer", roles=["viewer"])

    page.goto(f"{live_server.url}/admin/login/?next=/catalog/watch/{watched.pk}/")
    page.fill("input[name=username]", "buyer")
    page.fill("input[name=password]", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_selector("#price-chart canvas")
    drawn = page.wait_for_function(DRAWN).json_value()
    assert drawn["price"] == [3] and drawn["stock"] == [3]  # old value, new value, now
    assert drawn["market"] == [[90], [30]]  # daily sales (90 days), median price (30)
    shooter("watch-")(page, "4-charts")
