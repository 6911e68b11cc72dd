"""A staff member connects a 1688 shop through the OAuth pages, in a real browser."""

import pytest

from catalog.models import Shop
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, next_path="/"):
    UserFactory(username="ops", is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "correct horse battery")
    page.click("input[type=submit]")


def test_staff_connects_a_shop_through_the_authorize_page(page, live_server, sandbox):
    sandbox.control(
        "sellers", {"member_id": "b2b-2209300001", "login_id": "hz-bags", "name": "杭州箱包工厂"}
    )
    log_in(page, live_server, "/admin/catalog/shop/")
    page.get_by_role("button", name="连接 1688 店铺（OAuth 授权）").click()

    # The sandbox's authorize page: pick the seller and authorise.
    page.wait_for_url(f"{sandbox.url}/oauth/authorize*")
    page.locator("li", has_text="杭州箱包工厂").get_by_role("button").click()

    page.wait_for_url(f"{live_server.url}/admin/catalog/shop/*/change/")
    assert "已连接" in page.locator(".messagelist").inner_text()
    shop = Shop.objects.get(member_id="b2b-2209300001")
    assert shop.status == Shop.Status.ACTIVE and shop.access_token and shop.refresh_token


def test_callback_with_a_forged_state_is_refused(page, live_server, sandbox):
    log_in(page, live_server, "/admin/")
    page.goto(f"{live_server.url}/shops/oauth/callback/?code=stolen&state=forged")
    # A state this session never issued says nothing of where the flow began: the staff
    # shop list, with the refusal.
    assert page.url.rstrip("/").endswith("/catalog/shops")
    assert "与当前会话不匹配" in page.locator("ul.messages").inner_text()
    assert not Shop.objects.exists()
