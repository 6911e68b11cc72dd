"""Staff select live offers in the product list, raise their prices 5 %, check the preview,
apply it and see the change-log rows the ERP wrote for them — in a real browser against the
live server, the sandbox gateway and a real RQ worker."""

from decimal import Decimal

import pytest

from catalog.models import ChangeSource, PriceStockChange, Product, SyncRun
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import make_client
from sync.catalog_sync import start_run, sync_shop
from tests.browser.steps import log_in, preview_live_price_change, shooter
from tests.conftest import run_worker
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


shot = shooter("live-")


def test_raise_prices_5_percent_preview_apply_and_see_the_change_log(
    page, live_server, sandbox, connected_shop
):
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 12, "seed": 5})
    run = sync_shop(start_run(connected_shop, kind=SyncRun.Kind.FULL))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    chosen = list(
        Product.objects.filter(shop=connected_shop, status="published").order_by("offer_id")[:2]
    )
    UserFactory(username="ops", is_superuser=True)
    log_in(page, live_server, "ops", "/catalog/products/")
    preview_live_price_change(page, chosen, "5")
    operation = LiveEdit.objects.get()
    lines = list(operation.lines.all())
    assert lines and all(
        Decimal(line.after) == (Decimal(line.before) * Decimal("1.05")).quantize(Decimal("0.01"))
        for line in lines
    )
    table = page.locator("#live-lines").inner_text()
    for line in lines:
        assert line.before in table and line.after in table
    shot(page, "1-preview")
    assert not PriceStockChange.objects.exists()  # a preview sends nothing

    page.once("dialog", lambda dialog: dialog.accept())  # "send these changes to 1688?"
    page.click("#live-apply")
    page.wait_for_load_state()
    assert page.locator("#live-result[hx-get]").count() == 1  # polling while the job works
    run_worker("default")
    # No reload by hand: the poll swaps in the result with the change-log rows.
    page.wait_for_selector("#live-changes", timeout=10_000)
    shot(page, "2-applied")
    operation.refresh_from_db()
    assert operation.status == LiveEdit.Status.DONE
    assert set(operation.lines.values_list("status", flat=True)) == {LiveEditLine.Status.APPLIED}
    rows = page.locator("#live-changes tbody tr")
    assert rows.count() == len(lines)
    assert set(page.locator("#live-changes td.made-by").all_inner_texts()) == {"ops"}
    assert PriceStockChange.objects.filter(
        live_edit=operation, source=ChangeSource.ERP, made_by__username="ops"
    ).count() == len(lines)
    page.click("#live-undo")  # the undo button came with the swapped-in result
    page.wait_for_selector("#live-apply")  # the undo is a draft with its own preview
    undo = LiveEdit.objects.get(undo_of=operation)
    assert page.url.endswith(f"/catalog/live/{undo.pk}/")
    assert undo.status == LiveEdit.Status.DRAFT
    assert page.locator("#live-lines tbody tr").count() == len(lines)
    shot(page, "3-undo-preview")
    with make_client() as client:
        for product in chosen:
            detail = client.get_product(connected_shop.access_token, product.offer_id)
            prices = [s.price for s in detail.skus if s.price is not None]
            prices += [t.price for t in detail.price_ranges]
            planned = [Decimal(ln.after) for ln in lines if ln.product_id == product.pk]
            assert set(planned) <= set(prices)
