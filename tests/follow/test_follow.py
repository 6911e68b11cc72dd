"""Following suppliers: an own offer linked to a supplier offer follows its moves by rule,
through the live-edit machinery. Everything against the sandbox over HTTP, with real Redis and
real RQ workers: the supplier moves on the sandbox, the watch reads it, the engine's job plans
and the live-edit job writes the own offer, read back from 1688."""

import time
from decimal import Decimal

import django_rq
import pytest

from catalog.follow import engine, rules, selectors, services
from catalog.live_edits.services import apply_live_edit, plan_undo
from catalog.models.live_edits import LiveEdit, LiveEditLine
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused
from tests.conftest import run_worker
from tests.follow import conftest
from tests.follow.conftest import (  # noqa: F401 (CENT: for the modules importing it from here)
    CENT,
    own_prices,
    own_stock,
    prices_factor,
    remote,
    run_worker_with_scheduler,
    supplier_moves,
    writes,
)

pytestmark = pytest.mark.django_db(transaction=True)


def __getattr__(name):
    """The fixtures moved to tests/follow/conftest.py (pytest finds them there); a module that
    still imports `people` or `world` from here gets them."""
    if name in ("people", "world"):
        return getattr(conftest, name)
    raise AttributeError(name)


def test_a_supplier_price_rise_of_ten_percent_is_followed_in_one_write(sandbox, world):
    sandbox.reset_stats()
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))
    run_worker()
    change = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert change.kind == LiveEdit.Kind.PRICE and change.status == LiveEdit.Status.DONE
    assert change.source_link == world["link"] and change.follow_rule is not None
    reason = str(change.reason)
    assert str(world["supplier"].offer_id) in reason and "→" in reason
    assert writes(sandbox) == 1  # one write for the whole offer
    prices = own_prices(world)
    for own, supplier in world["pairs"]:
        moved = (supplier.price * Decimal("1.10")).quantize(CENT)
        assert prices[own.sku_id] == (moved * Decimal("1.2")).quantize(CENT)

    # Read again with nothing moved: nothing more is written.
    sandbox.reset_stats()
    supplier_moves(sandbox, world)
    engine.schedule(world["supplier"].offer_id, delay=0)
    run_worker()
    assert writes(sandbox) == 0
    assert LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW).count() == 1


def test_a_ninety_percent_drop_waits_for_approval_and_a_viewer_cannot_approve(sandbox, world):
    before = own_prices(world)
    sandbox.reset_stats()
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "0.10"))
    run_worker()
    change = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert change.status == LiveEdit.Status.AWAITING and change.hold == LiveEdit.Hold.APPROVAL
    assert "%" in str(change.hold_reason)
    assert writes(sandbox) == 0 and own_prices(world) == before
    assert list(selectors.awaiting()) == [change]

    with pytest.raises(PermissionRefused):
        services.approve_change(user=world["viewer"], operation=change)
    with pytest.raises(Refused) as refused:
        apply_live_edit(user=world["operator"], operation=change)  # not a draft: not this way
    assert refused.value.code == RefusalCode.NOT_A_DRAFT
    services.approve_change(user=world["operator"], operation=change)
    run_worker()
    change.refresh_from_db()
    assert change.status == LiveEdit.Status.DONE and change.decided_by == world["operator"]
    assert change.applied_by == world["operator"]
    with pytest.raises(Refused) as again:
        services.reject_change(user=world["operator"], operation=change)
    assert again.value.code == RefusalCode.FOLLOW_NOT_AWAITING
    prices = own_prices(world)
    for own, supplier in world["pairs"]:
        low = (supplier.price * Decimal("0.10")).quantize(CENT)
        assert prices[own.sku_id] == (low * Decimal("1.2")).quantize(CENT)


def test_sold_out_sets_stock_zero_then_delist_and_relist_by_rule(sandbox, world):
    zero = {str(s.sku_id): 0 for _o, s in world["pairs"]}
    supplier_moves(sandbox, world, sku_stock=zero)
    run_worker()
    change = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert change.kind == LiveEdit.Kind.STOCK and change.status == LiveEdit.Status.DONE
    stock = own_stock(world)
    assert all(stock[o.sku_id] == 0 for o, _s in world["pairs"])

    # Back in stock; the rule now delists on sold out.
    back = {str(s.sku_id): 30 for _o, s in world["pairs"]}
    supplier_moves(sandbox, world, sku_stock=back)
    run_worker()
    assert all(own_stock(world)[o.sku_id] == 30 for o, _s in world["pairs"])
    rules.set_rule(user=world["manager"], shop=world["shop"], sold_out="delist", stock_buffer=5)
    supplier_moves(sandbox, world, sku_stock=zero)
    run_worker()
    delist = LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW).first()
    assert delist.kind == LiveEdit.Kind.DELIST and delist.status == LiveEdit.Status.DONE
    assert remote(world["shop"], world["own"].offer_id).status == "outdated"
    world["link"].refresh_from_db()
    assert world["link"].delisted_by_rule

    supplier_moves(sandbox, world, sku_stock=back)
    run_worker()
    relist = LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW, kind=LiveEdit.Kind.RELIST)
    assert relist.get().status == LiveEdit.Status.DONE
    assert remote(world["shop"], world["own"].offer_id).status == "published"
    assert engine.relists_today(world["shop"]) == 1
    # The stock followed too, less the buffer.
    assert all(own_stock(world)[o.sku_id] == 25 for o, _s in world["pairs"])


def test_twenty_pushes_in_a_burst_make_one_write_with_the_latest_value(sandbox, world, settings):
    settings.FOLLOW_COALESCE_SECONDS = 1
    sandbox.reset_stats()
    for step in range(1, 21):
        factor = str(Decimal("1") + Decimal(step) / 100)  # 1.01 … 1.20
        supplier_moves(sandbox, world, sku_prices=prices_factor(world, factor))
    assert django_rq.get_queue("default").scheduled_job_registry.count == 1
    time.sleep(1.2)
    run_worker_with_scheduler()
    run_worker()
    changes = LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW)
    assert changes.count() == 1 and changes.get().status == LiveEdit.Status.DONE
    assert writes(sandbox) == 1
    prices = own_prices(world)
    for own, supplier in world["pairs"]:
        latest = (supplier.price * Decimal("1.20")).quantize(CENT)
        assert prices[own.sku_id] == (latest * Decimal("1.2")).quantize(CENT)


def test_a_price_changed_on_1688_by_hand_is_not_overwritten_and_is_flagged(sandbox, world):
    own, change = conftest.changed_by_hand_then_followed(sandbox, world)
    conflict = change.lines.get(sku=own)
    assert conflict.status == LiveEditLine.Status.CONFLICT and conflict.found == "888.00"
    assert own_prices(world)[own.sku_id] == Decimal("888.00")
    assert list(selectors.with_conflicts()) == [change]


def test_undo_restores_what_a_rule_changed(sandbox, world):
    before = own_prices(world)
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))
    run_worker()
    change = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert own_prices(world) != before
    undo = plan_undo(user=world["operator"], operation=change)
    apply_live_edit(user=world["operator"], operation=undo)
    run_worker()
    undo.refresh_from_db()
    assert undo.status == LiveEdit.Status.DONE
    assert own_prices(world) == before


def test_a_paused_shop_waits_then_follows_when_unpaused(sandbox, world):
    rules.pause(user=world["manager"], shop=world["shop"])
    assert "paused" in selectors.follow_blocked_reason(world["shop"])["msgid"]
    sandbox.reset_stats()
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))
    run_worker()
    waiting = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert waiting.status == LiveEdit.Status.AWAITING and waiting.hold == LiveEdit.Hold.PAUSED
    assert writes(sandbox) == 0
    rules.pause(user=world["manager"], shop=world["shop"], paused=False)
    assert engine.release_waiting() == 1
    run_worker()
    waiting.refresh_from_db()
    assert waiting.status == LiveEdit.Status.DISCARDED
    done = LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW).first()
    assert done.status == LiveEdit.Status.DONE and writes(sandbox) == 1


def test_the_dry_run_and_margins_read_no_1688(sandbox, world):
    rule = selectors.shop_rule(world["shop"])
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))
    LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW).delete()  # as if not followed yet
    sandbox.reset_stats()
    rule.margin_percent = Decimal("50")
    dry = selectors.dry_run(rule)
    assert dry.offers == 1 and len(dry.rows) == 1
    row = dry.rows[0]
    assert row.product.pk == world["own"].pk and row.target.price_changes
    rows = selectors.margins(world["shop"])
    assert len(rows) >= len(world["pairs"]) and all(r.cost is not None for r in rows[:2])
    assert sandbox.calls() == {} or sum(sandbox.calls().values()) == 0


def test_only_managers_set_rules_and_only_operators_link(sandbox, world):
    with pytest.raises(PermissionRefused):
        rules.set_rule(user=world["operator"], shop=world["shop"], margin_percent="5")
    with pytest.raises(PermissionRefused):
        services.link_offer(user=world["viewer"], product=world["own"], ref="624378391372")
    with pytest.raises(Refused) as bad:
        rules.set_rule(user=world["manager"], shop=world["shop"], floor="10", ceiling="5")
    assert bad.value.code == RefusalCode.FOLLOW_BAD_RULE


def test_twenty_http_pushes_from_the_sandbox_make_one_write(sandbox, world, settings, live_server):
    """The real path: the sandbox moves the supplier 20 times and pushes what 1688 sends to
    the running app; each push queues a re-read, the re-reads' moves are coalesced."""
    from django.urls import reverse

    from catalog.models import PushMessage
    from tests.child_processes import wait_for

    settings.FOLLOW_COALESCE_SECONDS = 2
    sandbox.control(
        "push",
        {"app_key": settings.OPEN1688_APP_KEY, "url": live_server.url + reverse("push_1688")},
    )
    sandbox.reset_stats()
    offer_id = world["supplier"].offer_id
    for step in range(1, 21):
        factor = str(Decimal("1") + Decimal(step) / 100)  # 1.01 … 1.20
        sandbox.control(
            "offers/move", {"product_id": offer_id, "sku_prices": prices_factor(world, factor)}
        )
    wait_for(lambda: sandbox.get("push")["confirmed"] >= 20, 30, "the pushes")
    assert sum(offer_id in m.offer_ids for m in PushMessage.objects.all()) >= 20
    run_worker()  # the re-reads: the follow is due once, in FOLLOW_COALESCE_SECONDS
    assert django_rq.get_queue("default").scheduled_job_registry.count == 1
    time.sleep(2.2)
    run_worker_with_scheduler()
    run_worker()
    change = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert change.status == LiveEdit.Status.DONE and writes(sandbox) == 1
    prices = own_prices(world)
    for own, supplier in world["pairs"]:
        latest = (supplier.price * Decimal("1.20")).quantize(CENT)
        assert prices[own.sku_id] == (latest * Decimal("1.2")).quantize(CENT)
