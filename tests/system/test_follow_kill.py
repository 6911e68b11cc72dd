"""A follow rule's change whose work-horse is SIGKILLed mid-apply: the supplier's rise is
followed by a real `manage.py rqworker` process, its write to 1688 is held by the sandbox long
enough to kill the horse while it waits (1688 applies it all the same). The change is failed
visibly, its line settled by the read-back, and following again writes nothing twice: the
target is absolute and 1688 already has it."""

from decimal import Decimal

import pytest

from catalog.follow import engine
from catalog.models.live_edits import LiveEdit
from sync.jobs import enqueue_due_syncs_job
from tests.child_processes import wait_for
from tests.follow import conftest as follow
from tests.follow.conftest import CENT, own_prices, prices_factor, supplier_moves
from tests.system.test_kills import fresh_worker, kill_horse_at

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]
EDIT = "alibaba.product.edit"
people, world = follow.people, follow.world  # the follow tests' fixtures


def test_a_follow_change_whose_horse_is_killed_is_never_written_twice(
    sandbox, world, scoreboard, settings
):
    settings.LOCK_TTL_SECONDS = 2
    sandbox.reset_stats()
    sandbox.fault(EDIT, "slow", times=1, delay=3.0)
    scoreboard.fault()
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))  # due at once
    kill_horse_at(sandbox, ["default"], EDIT, 1, "the follow change's write")
    scoreboard.kill()

    wanted = {
        own.sku_id: ((supplier.price * Decimal("1.10")).quantize(CENT) * Decimal("1.2")).quantize(
            CENT
        )
        for own, supplier in world["pairs"]
    }

    def landed() -> bool:
        prices = own_prices(world)
        return all(prices[sku] == price for sku, price in wanted.items())

    wait_for(landed, 30, "the held write to land on 1688")
    enqueue_due_syncs_job()  # the minute job: the dead job failed, its sent line read back
    change = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert change.status in (LiveEdit.Status.FAILED, LiveEdit.Status.DONE), change.status

    # Following again (another read, the engine due at once) sends nothing more.
    supplier_moves(sandbox, world)
    engine.schedule(world["supplier"].offer_id, delay=0)
    fresh_worker(sandbox, ["default"])
    assert sandbox.calls().get(EDIT, 0) == 1
    assert landed()
