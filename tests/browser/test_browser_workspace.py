"""Staff workspace in a real browser: product list → filter → product page whose ECharts chart
has drawn its points → change log filtered → exported (a real download)."""

import csv
import io
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser.steps import log_in
from tests.factories import PriceStockChangeFactory, ProductFactory, SkuFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(
    os.environ.get("ERP_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "data" / "screenshots"
)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"workspace-{name}.png"), full_page=True)


@pytest.fixture
def catalog_data():
    cup = ProductFactory(
        subject="304不锈钢保温杯 500ml 大容量",
        amount_on_sale=320,
        price_ranges=[
            {"start_quantity": 2, "price": "25.00"},
            {"start_quantity": 50, "price": "21.50"},
        ],
        attributes=[{"attributeID": 287, "attributeName": "材质", "value": "304不锈钢"}],
    )  # fmt: skip
    red = SkuFactory(
        product=cup,
        attributes=[{"attributeID": 3216, "attributeValue": "红色"}],
        price=None,
        stock=120,
    )
    blue = SkuFactory(
        product=cup,
        attributes=[{"attributeID": 3216, "attributeValue": "蓝色"}],
        price=None,
        stock=200,
    )
    start = timezone.now() - timedelta(days=6)
    for day in range(5):
        moment = start + timedelta(days=day)
        PriceStockChangeFactory(
            sku=red, field="stock", old_value=Decimal(200 - 20 * day),
            new_value=Decimal(180 - 20 * day), observed_at=moment, remote_modified_at=moment,
        )  # fmt: skip
        PriceStockChangeFactory(
            sku=blue, field="price", old_value=Decimal("25.00") - day,
            new_value=Decimal("24.00") - day, observed_at=moment, remote_modified_at=moment,
        )  # fmt: skip
    for n in range(12):
        ProductFactory(subject=f"纯棉短袖T恤 {n}号", amount_on_sale=50 + n)
    return cup


def test_products_filter_product_chart_and_change_log_export(
    page, live_server, catalog_data, settings, tmp_path
):
    settings.OPEN1688_IMAGE_BASE = live_server.url + "/static/"  # no request leaves the machine
    UserFactory(username="ops", is_superuser=True)
    log_in(page, live_server, "ops", "/catalog/products/")
    assert page.locator("table.products tbody tr").count() == 13
    shot(page, "1-products")

    page.fill("input[name=q]", "保温杯")
    page.locator("#product-filters button[type=submit]").click()
    page.wait_for_url("**/catalog/products/?*q=*")
    rows = page.locator("table.products tbody tr")
    assert rows.count() == 1
    assert "¥21.50–25.00" in rows.first.inner_text()
    shot(page, "2-filtered")

    rows.first.locator("td a").first.click()
    page.wait_for_url(f"**/catalog/products/{catalog_data.pk}/")
    page.wait_for_selector("#price-chart canvas")
    page.wait_for_selector("#stock-chart canvas")
    points = page.wait_for_function(
        """() => {
          const drawn = id => {
            const chart = echarts.getInstanceByDom(document.getElementById(id));
            const series = chart && chart.getOption().series;
            return series && series.length ? series.map(s => s.data.length) : null;
          };
          const price = drawn("price-chart"), stock = drawn("stock-chart");
          return price && stock ? {price, stock} : null;
        }"""
    ).json_value()
    assert points == {"price": [7], "stock": [7]}  # start + 5 changes + now, per SKU
    assert "304不锈钢" in page.locator("main").inner_text()  # attributes as a table
    shot(page, "3-product-chart")

    page.goto(f"{live_server.url}/catalog/changes/")
    page.select_option("select[name=field]", "stock")
    page.locator("#change-filters button[type=submit]").click()
    page.wait_for_url("**/catalog/changes/?*field=stock*")
    assert page.locator("table.changes tbody tr").count() == 5
    shot(page, "4-change-log")
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 6 and {row[2] for row in rows[1:]} == {str(catalog_data.offer_id)}
