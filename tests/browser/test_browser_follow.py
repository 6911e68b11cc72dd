"""A manager makes an own offer follow its supplier in a real browser: links it by pasting the
supplier offer's link on the coverage page, maps its SKUs, sets the shop's rule after a dry run
that shows the offer's new prices, then the supplier raises its prices on the sandbox, 1688's
push reaches the live server, real workers follow it by the rule — and the history's undo puts
the prices back. Against the live server, the sandbox gateway and real RQ workers."""

import re
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from catalog.models import FollowRule, PushMessage, SkuLink, SourceLink
from catalog.models.live_edits import LiveEdit
from tests.browser.steps import log_in, shooter
from tests.conftest import run_worker
from tests.factories import UserFactory
from tests.follow.conftest import CENT, put_in_step, remote

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


shot = shooter("follow-")


def wait_for(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.fixture
def in_step(sandbox, connected_shop, settings):
    """The follow tests' own offer in step with its supplier, not linked yet."""
    return put_in_step(sandbox, connected_shop, settings)


def own_prices(shop, offer_id) -> dict[int, Decimal]:
    return {s.sku_id: s.price for s in remote(shop, offer_id).skus}


def test_link_map_rule_dry_run_supplier_move_applied_and_undo(
    page, live_server, sandbox, in_step, settings
):
    shop, own, supplier, pairs = (in_step[k] for k in ("shop", "own", "supplier", "pairs"))
    before = own_prices(shop, own.offer_id)
    UserFactory(username="zhuguan", roles=["manager"])
    log_in(page, live_server, "zhuguan", "/catalog/follow/")

    # Link: paste the supplier offer's link in the offer's row of the unlinked list.
    row = page.locator(f"#unlinked tr[data-product='{own.pk}']")
    row.locator("input[name=ref]").fill(f"https://detail.1688.com/offer/{supplier.offer_id}.html")
    shot(page, "1-coverage")
    row.locator("button").click()
    page.wait_for_url(f"**/catalog/follow/offers/{own.pk}/")
    assert str(supplier.offer_id) in page.locator("#supplier-offer").inner_text()
    link = SourceLink.objects.get(product=own)
    assert link.supplier_offer_id == supplier.offer_id and link.watch_error == ""

    # Map the SKUs: each own SKU to its supplier SKU, any other own SKU to none.
    for sku in own.skus.all():
        page.select_option(f"select[name=sku_{sku.pk}]", "")
    for own_sku, supplier_sku in pairs:
        page.select_option(f"select[name=sku_{own_sku.pk}]", str(supplier_sku.sku_id))
    shot(page, "2-mapping")
    page.click("#save-mapping")
    page.wait_for_selector(".messages li.success")
    assert dict(SkuLink.objects.filter(link=link).values_list("sku_id", "supplier_sku_id")) == {
        o.pk: s.sku_id for o, s in pairs
    }

    # The rule: a 25 % margin, tried in the dry run first, then saved.
    page.goto(f"{live_server.url}{reverse('catalog:follow_rule', args=[shop.pk])}")
    assert page.locator("#rule-unsaved").count() == 1
    page.fill("input[name=margin_percent]", "25")
    page.click("#rule-dry-run")
    page.wait_for_selector("#dry-run-rows")
    dry = page.locator(f"#dry-run-rows tr[data-product='{own.pk}']").inner_text()
    for _own_sku, supplier_sku in pairs:
        planned = (supplier_sku.price * Decimal("1.25")).quantize(CENT, rounding=ROUND_HALF_UP)
        assert f"¥{planned}" in dry
    shot(page, "3-dry-run")
    assert not FollowRule.objects.exists()  # a dry run saves nothing
    page.click("#rule-save")
    page.wait_for_selector(".messages li.success")
    assert FollowRule.objects.get(shop=shop, product=None).margin_percent == Decimal("25")

    # The supplier raises its prices 10 %; 1688 pushes the move to the live server.
    sandbox.control(
        "push",
        {"app_key": settings.OPEN1688_APP_KEY, "url": live_server.url + reverse("push_1688")},
    )
    sandbox.control("offers/move", {"product_id": supplier.offer_id, "price_factor": "1.10"})
    wait_for(lambda: PushMessage.objects.exists())

    def followed():
        run_worker("default")
        change = LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW).first()
        return change if change and change.status == LiveEdit.Status.DONE else None

    change = wait_for(followed, seconds=40)
    moved = {o.sku_id: (s.price * Decimal("1.10")).quantize(CENT, rounding=ROUND_HALF_UP)
             for o, s in pairs}  # fmt: skip
    after = own_prices(shop, own.offer_id)
    for sku_id, cost in moved.items():
        assert after[sku_id] == (cost * Decimal("1.25")).quantize(CENT, rounding=ROUND_HALF_UP)

    # Applied: the history says so, with the reason; undo it.
    page.click("#follow-nav a[href$='/catalog/follow/history/']")
    page.wait_for_selector(f"#follow-history tr[data-change='{change.pk}']")
    history_row = page.locator(f"#follow-history tr[data-change='{change.pk}']")
    assert str(supplier.offer_id) in history_row.inner_text()
    assert history_row.locator(".badge.done").count() == 1
    shot(page, "4-applied")
    history_row.locator(".follow-undo").click()
    page.wait_for_selector("#live-apply")
    undo = LiveEdit.objects.get(undo_of=change)
    assert re.search(rf"/catalog/live/{undo.pk}/$", page.url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#live-apply")
    page.wait_for_load_state()
    run_worker("default")
    page.wait_for_selector("#live-changes", timeout=15_000)
    shot(page, "5-undone")
    undo.refresh_from_db()
    assert undo.status == LiveEdit.Status.DONE
    restored = own_prices(shop, own.offer_id)
    assert {k: restored[k] for k in moved} == {k: before[k] for k in moved}
