"""Staff stage a batch from an XLSX file, review the preview, submit it and watch it finish —
in a real browser against the live server, the sandbox gateway and a real RQ worker."""

import pytest

from catalog.models import UploadBatch, UploadItem
from tests.browser.steps import confirm_import, preview_import, shooter, submit_batch
from tests.conftest import run_worker
from tests.factories import UserFactory
from tests.publishing.test_import_export import row, xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


shot = shooter()


def test_import_preview_submit_and_progress(
    page, live_server, sandbox, connected_shop, tmp_path, instant_audit
):
    UserFactory(username="ops", is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/?next=/catalog/batches/new/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "correct horse battery")
    page.click("input[type=submit]")

    page.select_option("select[name=shop]", str(connected_shop.pk))
    page.fill("input[name=name]", "双十二 T恤 上新")
    page.locator("main form button[type=submit]").click()
    batch = UploadBatch.objects.get(name="双十二 T恤 上新")
    page.wait_for_url(f"**/catalog/batches/{batch.pk}/")

    rows = [row(title=f"2026新款纯棉短袖T恤 {n}号") for n in range(4)] + [row(price="-3")]
    upload = tmp_path / "上新.xlsx"
    upload.write_bytes(xlsx_bytes(rows))
    page.goto(f"{live_server.url}/catalog/batches/{batch.pk}/import/")
    preview_import(page, upload)
    shot(page, "1-preview-with-error")
    assert "价格必须大于 0" in page.content()  # the bad row's reason, in place
    assert not batch.items.exists()  # nothing is saved before the confirmation
    assert page.locator("#import-rejects a").count() == 1  # the bad row, as a file to fix
    # The good rows are imported; the bad one is left out (and offered back as a file to fix).
    confirm_import(page, batch.pk)
    assert batch.items.count() == 4

    submit_batch(page)  # "submit 4 items?" confirmed
    shot(page, "2-submitted")
    assert page.locator("#batch-progress[hx-get]").count() == 1  # polling while it runs
    run_worker("upload")
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE
    assert batch.items.filter(status=UploadItem.Status.PUBLISHED).count() == 4
    offer_ids = list(batch.items.values_list("remote_offer_id", flat=True))
    # No reload by hand: the poll sees the finished batch and the page refreshes itself.
    page.wait_for_selector(f"text={offer_ids[0]}", timeout=10_000)
    shot(page, "3-done")
    assert page.locator("#batch-progress[hx-get]").count() == 0
    for offer_id in offer_ids:
        assert str(offer_id) in page.content()
