"""Alerts, shops page and dashboard in a real browser: set an alert, mutate the
sandbox, sync, see the alert (nav count, inbox, email); the shop's health in plain words; the
import preview's errors visible at 1400 px."""

import os
from pathlib import Path

import pytest
from django.core import mail

from catalog.models import Alert, Sku, UploadBatch
from sync.jobs import enqueue_sync
from tests.browser.steps import log_in
from tests.conftest import run_worker
from tests.factories import UserFactory
from tests.publishing.test_import_export import row, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(
    os.environ.get("ERP_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "data" / "screenshots"
)


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"alerts-{name}.png"), full_page=True)


def log_in_as_ops(page, live_server, next_path):
    UserFactory(username="ops", is_superuser=True, email="ops@example.com")
    log_in(page, live_server, "ops", next_path)


def test_set_an_alert_mutate_the_sandbox_sync_and_see_it(
    page, live_server, sandbox, connected_shop
):
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 5, "seed": 3})
    enqueue_sync(connected_shop)
    run_worker("sync")
    sku = Sku.objects.filter(product__shop=connected_shop, stock__gt=10).order_by("id").first()

    log_in_as_ops(page, live_server, "/catalog/alerts/rules/")
    page.select_option("select[name=kind]", "stock_below")
    page.fill("input[name=threshold]", "10")
    page.locator("form.alert-rule button[type=submit]").click()
    page.wait_for_url("**/catalog/alerts/rules/")
    assert "库存低于 N" in page.locator("main table").inner_text()
    shot(page, "1-rule")

    sandbox.control(
        "offers/update", {"product_id": sku.product.offer_id, "sku_stock": {sku.sku_id: 2}}
    )
    page.goto(f"{live_server.url}/catalog/shops/")
    assert "下次同步" in page.content()
    page.get_by_role("button", name="立即同步").click()
    page.wait_for_url(f"**/catalog/shops/{connected_shop.pk}/")
    run_worker("sync")  # the worker takes the queued sync

    page.goto(f"{live_server.url}/")
    assert page.locator("#nav-alerts .badge").inner_text() == "1"
    assert sku.product.subject in page.locator("#dashboard-alerts").inner_text()
    shot(page, "2-dashboard")
    page.locator("#nav-alerts").click()
    page.wait_for_url("**/catalog/alerts/")
    text = page.locator("table.alerts").inner_text()
    assert "库存 2 低于 10" in text and sku.product.subject in text
    shot(page, "3-inbox")
    assert Alert.objects.count() == 1
    assert len(mail.outbox) == 1 and sku.product.subject in mail.outbox[0].body

    page.get_by_role("button", name="全部标为已读").click()
    page.wait_for_url("**/catalog/alerts/")
    assert page.locator("#nav-alerts .badge").count() == 0


def test_shop_page_says_why_the_last_sync_failed(page, live_server, sandbox, connected_shop):
    sandbox.fault("alibaba.product.list.get", "acl_decline", times=5)
    enqueue_sync(connected_shop)
    run_worker("sync")
    log_in_as_ops(page, live_server, f"/catalog/shops/{connected_shop.pk}/")
    card = page.locator(f"section[data-shop='{connected_shop.pk}']").inner_text()
    assert "1688 拒绝了该店铺的授权" in card and "怎么处理" in card
    assert "alibaba.product.list.get" in card  # the API 1688 refused this app
    assert "授权到期" in card and "还剩" in card
    shot(page, "4-shop-failed")


def test_import_preview_errors_are_on_screen_at_1400_px(
    browser, live_server, connected_shop, tmp_path
):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        batch = UploadBatch.objects.create(shop=connected_shop, name="宽表预览")
        log_in_as_ops(page, live_server, f"/catalog/batches/{batch.pk}/import/")
        upload = tmp_path / "wide.xlsx"
        upload.write_bytes(xlsx_bytes([row(title="纯棉T恤"), row(price="-3")]))
        page.set_input_files("input[type=file]", str(upload))
        page.locator("form[enctype] button[type=submit]").click()
        cell = page.locator("tr.invalid td.row-errors").first
        cell.wait_for()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1400, box
        assert "价格必须大于 0" in cell.inner_text()
        shot(page, "5-import-preview-1400")
    finally:
        context.close()
