"""Fixtures and helpers of the follow tests: a connected shop, a supplier seller on the sandbox,
an own offer linked to a supplier offer SKU by SKU under a 20 % rule."""

from decimal import Decimal

import django_rq
import pytest

from catalog.follow import rules, services
from catalog.models import Channel, Product, SyncRun
from catalog.models.live_edits import LiveEdit
from catalog.shops.clients import make_client
from catalog.watch import services as watch
from sync.catalog_sync import start_run, sync_shop
from sync.worker_class import SimpleWorker
from tests.conftest import run_worker
from tests.factories import UserFactory

SUPPLIER = "b2b-2209600001"
WRITES = ("alibaba.product.edit", "product.increment.editInfo", "alibaba.product.modifyStock",
          "alibaba.product.expire", "alibaba.product.republish")  # fmt: skip
CENT = Decimal("0.01")


def resync(shop):
    run = sync_shop(start_run(shop, kind=SyncRun.Kind.FULL))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error


def remote(shop, offer_id):
    with make_client() as client:
        return client.get_product(shop.access_token, offer_id)


def writes(sandbox) -> int:
    calls = sandbox.calls()
    return sum(calls.get(api, 0) for api in WRITES)


def run_worker_with_scheduler():
    """A real burst worker that first moves the due delayed jobs onto the queue."""
    connection = django_rq.get_connection("default")
    worker = SimpleWorker([django_rq.get_queue("default")], connection=connection)
    worker.work(burst=True, with_scheduler=True)


@pytest.fixture
def people(db):
    return {
        "operator": UserFactory(username="op", roles=["operator"]),
        "manager": UserFactory(username="boss", roles=["manager"]),
        "viewer": UserFactory(username="look", roles=["viewer"]),
    }


def put_in_step(sandbox, connected_shop, settings) -> dict:
    """A supplier offer with priced SKUs, and an own offer priced per SKU at 1.2 × the
    supplier's price with the supplier's stock: in step, not linked yet."""
    settings.FOLLOW_COALESCE_SECONDS = 0
    settings.WATCH_CACHE_SECONDS = 0
    sandbox.new_seller(SUPPLIER, "义乌源头工厂")
    supplier_ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 12, "seed": 7})[
        "product_ids"
    ]
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 20, "seed": 11})
    resync(connected_shop)
    supplier = next(
        (
            detail
            for detail in map(watch.sourcing.read_supplier_offer, supplier_ids)
            if detail.status == "published"
            and len(detail.skus) >= 2
            and all(s.price is not None and s.amount_on_sale for s in detail.skus)
        ),
        None,
    )
    assert supplier is not None, "no supplier offer with priced SKUs in the seed"
    own = next(
        p
        for p in Product.objects.filter(shop=connected_shop, status="published", quote_type=1)
        if p.skus.count() >= len(supplier.skus) and all(s.stock is not None for s in p.skus.all())
    )
    own_skus = list(own.skus.order_by("sku_id"))[: len(supplier.skus)]
    pairs = list(zip(own_skus, supplier.skus, strict=True))
    sandbox.control(
        "offers/update",
        {
            "product_id": own.offer_id,
            "sku_prices": {
                str(o.sku_id): str((s.price * Decimal("1.2")).quantize(CENT)) for o, s in pairs
            },
            "sku_stock": {str(o.sku_id): s.amount_on_sale for o, s in pairs},
        },
    )
    resync(connected_shop)
    own.refresh_from_db()
    return {"shop": connected_shop, "own": own, "supplier": supplier, "pairs": pairs}


@pytest.fixture
def world(sandbox, connected_shop, people, settings):
    """An offer in step with its supplier (`put_in_step`), linked SKU by SKU, with the shop's
    rule at a 20 % margin: nothing to do until the supplier moves."""
    in_step = put_in_step(sandbox, connected_shop, settings)
    own, supplier, pairs = in_step["own"], in_step["supplier"], in_step["pairs"]
    link = services.link_offer(
        user=people["operator"],
        product=own,
        ref=f"https://detail.1688.com/offer/{supplier.offer_id}.html",
    )
    assert link.watch_error == ""
    services.map_skus(
        user=people["operator"], link=link, mapping={o.pk: s.sku_id for o, s in pairs}
    )
    rules.set_rule(user=people["manager"], shop=in_step["shop"], margin_percent="20")
    own.refresh_from_db()
    return {**in_step, "link": link, **people}


def changed_by_hand_then_followed(sandbox, world):
    """The own offer's first mapped SKU repriced to 888.00 on 1688 by hand, then the supplier
    rises 10 % and the follow change runs: (that SKU, the follow change)."""
    own, _supplier = world["pairs"][0]
    sandbox.control(
        "offers/update",
        {"product_id": world["own"].offer_id, "sku_prices": {str(own.sku_id): "888.00"}},
    )
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))
    run_worker()
    return own, LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)


def supplier_moves(sandbox, world, **update):
    """The supplier's offer moves on the sandbox; the watch reads it (as a push would ask)."""
    sandbox.control("offers/update", {"product_id": world["supplier"].offer_id, **update})
    result = watch.reread(world["supplier"].offer_id, channel=Channel.PUSH_HTTP, fresh=True)
    assert not result.error, result.error
    return result


def own_prices(world) -> dict[int, Decimal]:
    detail = remote(world["shop"], world["own"].offer_id)
    return {s.sku_id: s.price for s in detail.skus}


def own_stock(world) -> dict[int, int]:
    detail = remote(world["shop"], world["own"].offer_id)
    return {s.sku_id: s.amount_on_sale for s in detail.skus}


def prices_factor(world, factor: str) -> dict:
    return {
        str(s.sku_id): str((s.price * Decimal(factor)).quantize(CENT)) for _o, s in world["pairs"]
    }
