"""Steps the browser tests share: logging in, filling the item editor."""

from catalog.publishing.categories import attributes_for
from open1688.types import INPUT_DATE, INPUT_MULTI, INPUT_NUMBER

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's


def log_in(page, live_server, username: str, next_path: str) -> None:
    """Log in through the login page, on to `next_path` (waited for)."""
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_path}")


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
