"""Live-edit drafts belong to their author (catalog/live_edits/ownership.py), and every line
of a live edit ends in a true state (catalog/live_edits/settle.py), over the real sandbox:
- another operator may look at a draft but not apply, check or discard it (a translated
  sentence naming the owner); a manager takes it over (who and when recorded), then it is the
  manager's;
- a write that lands after the grace period is reported "applied late" (and logged), not "1688
  did not take the change"; a timed-out write that never lands fails after the confirm window;
- a work-horse SIGKILLed mid-apply leaves no line planned: never sent → failed; in flight →
  unknown, then settled by the read-back after the grace period.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from catalog.live_edits.ownership import take_over_live_edit
from catalog.live_edits.planning import plan_live_edit
from catalog.live_edits.run import run_live_edit
from catalog.live_edits.services import apply_live_edit, check_live_edit, discard_live_edit
from catalog.live_edits.settle import settle_unknown_lines
from catalog.models import PriceStockChange, Product, Sku, SyncRun
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import make_client
from erp1688.messages import render
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from sync.catalog_sync import start_run, sync_shop
from sync.jobs import enqueue_due_syncs_job
from tests.child_processes import ROOT, child_env, horse_of, wait_for
from tests.conftest import run_worker
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
Line = LiveEditLine.Status
STOCK = "alibaba.product.modifyStock"
GRACE = 1.0


@pytest.fixture
def catalog(sandbox, connected_shop):
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 8, "seed": 29})
    run = sync_shop(start_run(connected_shop, kind=SyncRun.Kind.FULL))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return connected_shop


@pytest.fixture
def people(db):
    return {
        "author": UserFactory(username="xiaowang", roles=["operator"], is_staff=True),
        "other": UserFactory(username="xiaoli", roles=["operator"], is_staff=True),
        "manager": UserFactory(username="zhuguan", roles=["manager"], is_staff=True),
    }


def stock_skus(shop, n: int) -> list[Sku]:
    skus = Sku.objects.filter(
        product__shop=shop, product__status="published", stock__isnull=False
    ).order_by("product__offer_id", "sku_id")
    return list(skus[:n])


def remote_stock(shop, sku: Sku) -> int:
    with make_client() as client:
        detail = client.get_product(shop.access_token, sku.product.offer_id)
    return {s.sku_id: s.amount_on_sale for s in detail.skus}[sku.sku_id]


def draft(user, sku: Sku, amount: int = 4) -> LiveEdit:
    return plan_live_edit(
        user=user,
        product_ids=[sku.product_id],
        kind="stock",
        stock_mode="adjust",
        stock=amount,
        sku_ids=[sku.pk],
    )


# --- drafts belong to their author ------------------------------------------------------------


def test_another_operator_may_look_but_not_apply_check_or_discard(catalog, people, client):
    (sku,) = stock_skus(catalog, 1)
    operation = draft(people["author"], sku)
    for service in (apply_live_edit, check_live_edit, discard_live_edit):
        with pytest.raises(Refused) as refused:
            service(user=people["other"], operation=operation)
        assert refused.value.code == RefusalCode.NOT_YOUR_DRAFT
        with translation.override("en"):  # the sentence is put together when shown
            assert "belongs to xiaowang" in refused.value.message
        with translation.override("zh-hans"):
            assert "这份草稿属于xiaowang" in refused.value.message
    operation.refresh_from_db()
    assert operation.status == LiveEdit.Status.DRAFT

    client.force_login(people["other"])
    url = reverse("catalog:live_detail", args=[operation.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200 and "This draft belongs to xiaowang" in html
    assert 'id="live-apply"' not in html and 'id="live-take-over"' not in html
    answer = client.post(
        reverse("catalog:live_apply", args=[operation.pk]), HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert answer.status_code == 200 and "only they can apply" in answer.content.decode()
    answer = client.post(reverse("catalog:live_take_over", args=[operation.pk]))
    assert answer.status_code == 403  # an operator cannot take a draft over
    operation.refresh_from_db()
    assert (operation.status, operation.taken_over_by) == (LiveEdit.Status.DRAFT, None)


def test_a_manager_takes_a_draft_over_and_it_is_then_the_managers(catalog, people, client):
    (sku,) = stock_skus(catalog, 1)
    operation = draft(people["author"], sku)
    client.force_login(people["manager"])
    url = reverse("catalog:live_detail", args=[operation.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "接手这份草稿" in page and 'id="live-apply"' not in page
    before = timezone.now()
    answer = client.post(reverse("catalog:live_take_over", args=[operation.pk]), follow=True)
    assert answer.status_code == 200
    operation.refresh_from_db()
    assert operation.taken_over_by == people["manager"] and operation.taken_over_at >= before
    assert operation.created_by == people["author"]  # the author stays recorded
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="live-apply"' in page and "Taken over" in page

    with pytest.raises(Refused) as refused:
        discard_live_edit(user=people["author"], operation=operation)
    with translation.override("en"):
        assert "belongs to zhuguan" in refused.value.message  # no longer the author's
    with pytest.raises(Refused) as refused:
        take_over_live_edit(user=people["manager"], operation=operation)
    assert refused.value.code == RefusalCode.ALREADY_YOURS

    apply_live_edit(user=people["manager"], operation=operation)
    run_worker("default")
    operation.refresh_from_db()
    assert operation.status == LiveEdit.Status.DONE and operation.applied_by == people["manager"]
    assert remote_stock(catalog, sku) == sku.stock + 4
    with pytest.raises(Refused) as refused:  # applied: nothing to take over any more
        take_over_live_edit(user=people["manager"], operation=operation)
    assert refused.value.code == RefusalCode.NOT_A_DRAFT


# --- a write that lands late ------------------------------------------------------------------


@pytest.fixture
def fast_grace(settings):
    settings.OPEN1688_LATE_APPLY_GRACE_SECONDS = GRACE
    settings.LIVE_EDIT_CONFIRM_SECONDS = 6.0
    return settings


def test_a_write_that_lands_after_the_grace_period_is_reported_applied_late(
    sandbox, catalog, people, fast_grace, scoreboard, client
):
    (sku,) = stock_skus(catalog, 1)
    operation = draft(people["author"], sku, amount=6)
    target = sku.stock + 6
    sandbox.fault(STOCK, "apply_late", delay=GRACE + 2.0)  # lands well after the grace
    scoreboard.fault()
    sandbox.reset_stats()
    apply_live_edit(user=people["author"], operation=operation)
    with translation.override("en"):
        run_live_edit(operation.pk)
    operation.refresh_from_db()
    (line,) = operation.lines.all()
    assert line.status == Line.UNKNOWN and line.sent_at is not None  # not "did not take"
    assert operation.status == LiveEdit.Status.CONFIRMING
    with translation.override("en"):
        assert "checked again" in render(line.reason)

    wait_for(lambda: remote_stock(catalog, sku) == target, 15, "the late apply")
    with translation.override("en"):
        assert settle_unknown_lines() == 1
    line.refresh_from_db()
    operation.refresh_from_db()
    assert line.status == Line.APPLIED and operation.status == LiveEdit.Status.DONE
    with translation.override("en"):
        assert render(line.reason).startswith("Applied late")
    row = PriceStockChange.objects.get(live_edit=operation)
    assert (row.old_stock, row.new_stock) == (sku.stock, target)
    sku.refresh_from_db()
    assert sku.stock == target and sandbox.calls()[STOCK] == 1  # mirrored, never resent
    client.force_login(people["author"])
    page = client.get(
        reverse("catalog:live_detail", args=[operation.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert page.status_code == 200 and "延迟生效" in page.content.decode()


def test_a_timed_out_write_that_never_lands_fails_after_the_confirm_window(
    sandbox, catalog, people, fast_grace, scoreboard
):
    (sku,) = stock_skus(catalog, 1)
    operation = draft(people["author"], sku)
    sandbox.fault(STOCK, "isp_timeout")  # answered 504, not applied
    scoreboard.fault()
    apply_live_edit(user=people["author"], operation=operation)
    run_live_edit(operation.pk)
    (line,) = operation.lines.all()
    assert line.status == Line.UNKNOWN
    settle_unknown_lines()  # within the confirm window: still unknown, read again later
    line.refresh_from_db()
    assert line.status == Line.UNKNOWN
    LiveEditLine.objects.filter(pk=line.pk).update(sent_at=timezone.now() - timedelta(seconds=10))
    assert settle_unknown_lines() == 1
    line.refresh_from_db()
    operation.refresh_from_db()
    with translation.override("en"):
        assert line.status == Line.FAILED and "did not take" in render(line.reason)
    assert operation.status == LiveEdit.Status.FAILED
    assert remote_stock(catalog, sku) == sku.stock
    assert not PriceStockChange.objects.filter(live_edit=operation).exists()


# --- a work-horse killed mid-apply ------------------------------------------------------------


def test_a_killed_live_edit_leaves_no_line_planned_and_settles_the_sent_ones(
    sandbox, catalog, people, fast_grace, scoreboard
):
    settings = fast_grace
    settings.LOCK_TTL_SECONDS = 2
    products = list(
        Product.objects.filter(shop=catalog, status="published", skus__isnull=False)
        .distinct()
        .order_by("offer_id")[:4]
    )
    assert len(products) >= 3
    operation = plan_live_edit(
        user=people["author"],
        product_ids=[p.pk for p in products],
        kind="stock",
        stock_mode="adjust",
        stock=5,
    )
    planned = {
        (line.product.offer_id, line.remote_sku_id): int(line.after)
        for line in operation.lines.select_related("product")
    }
    # The first offer's call goes through; the second's is held 3 s, and the horse is killed
    # while it waits (1688 applies it all the same); the others are never sent.
    sandbox.fault(STOCK, "slow", times=1, delay=0.0)
    sandbox.fault(STOCK, "slow", times=1, delay=3.0)
    scoreboard.fault()
    apply_live_edit(user=people["author"], operation=operation)
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", "default", "--burst"],
        cwd=ROOT,
        env={**child_env(sandbox), "OPEN1688_LATE_APPLY_GRACE_SECONDS": str(GRACE)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(
            lambda: sandbox.calls().get(STOCK, 0) >= 2 or child.poll() is not None,
            60,
            "the second offer's stock call",
        )
        assert child.poll() is None, child.stderr.read().decode()[-3000:]
        os.kill(horse_of(child.pid), signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
    scoreboard.kill()
    time.sleep(3.5)  # the held call lands on 1688

    with translation.override("en"):
        enqueue_due_syncs_job()  # fails the dead job, then settles what was sent
    operation.refresh_from_db()
    assert operation.status == LiveEdit.Status.FAILED and operation.last_error
    lines = list(operation.lines.select_related("product"))
    assert not [line for line in lines if line.status == Line.PLANNED]
    assert not [line for line in lines if line.status == Line.UNKNOWN]  # settled
    with translation.override("en"):
        never_sent = [line for line in lines if "Not sent" in render(line.reason)]
    assert never_sent and all(line.status == Line.FAILED for line in never_sent)
    with make_client() as api:
        remote = {
            (d.product_id, s.sku_id): s.amount_on_sale
            for d in [api.get_product(catalog.access_token, p.offer_id) for p in products]
            for s in d.skus
        }
    moved = 0
    for line in lines:
        key = (line.product.offer_id, line.remote_sku_id)
        if line.status == Line.APPLIED:  # applied means on 1688, and logged
            assert remote[key] == planned[key]
            assert PriceStockChange.objects.filter(live_edit=operation, sku=line.sku_id).exists()
            moved += 1
        else:  # failed means not on 1688: never doubled either
            assert remote[key] == int(line.before), (key, line.status, render(line.reason))
    assert 0 < moved < len(lines)
    # the held offer's lines: sent, in flight when killed, confirmed by the read-back
    second = products[1].offer_id
    assert {line.status for line in lines if line.product.offer_id == second} == {Line.APPLIED}
