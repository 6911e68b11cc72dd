"""Following suppliers: links made when a copied offer is published, the supplier's listing
moves (delisted, back on sale, gone) and the guards that make changes wait (a shop whose
authorisation is about to expire). Against the sandbox over HTTP, with real Redis and workers;
the supplier moves through the sandbox's control call (POST /_sandbox/offers/move)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.follow import engine, rules, selectors, services
from catalog.models import LinkOrigin, Product, Shop, SourceLink, UploadItem, WatchedOffer
from catalog.models.live_edits import LiveEdit
from catalog.publishing import services as publishing
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from sync.jobs import enqueue_sync
from tests.conftest import run_worker
from tests.factories import UploadBatchFactory
from tests.follow.conftest import SUPPLIER, remote

pytestmark = pytest.mark.django_db(transaction=True)


def move(sandbox, world, **what):
    """The supplier's offer moves on the sandbox; the watch reads it (as its push asks)."""
    sandbox.control("offers/move", {"product_id": world["supplier"].offer_id, **what})
    engine_reread(world["supplier"].offer_id)


def engine_reread(offer_id):
    from catalog.models import Channel
    from catalog.watch import services as watch

    watch.reread(offer_id, channel=Channel.PUSH_HTTP, fresh=True)


def follow_changes():
    return LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW).order_by("pk")


def test_a_delisted_supplier_delists_the_own_offer_and_its_return_relists_it(sandbox, world):
    move(sandbox, world, listing="delist")
    run_worker()
    delist = follow_changes().get()
    assert delist.kind == LiveEdit.Kind.DELIST and delist.status == LiveEdit.Status.DONE
    assert remote(world["shop"], world["own"].offer_id).status == "outdated"
    assert "delisted" in str(delist.reason) or "下架" in str(delist.reason)

    move(sandbox, world, listing="relist")
    run_worker()
    relist = follow_changes().last()
    assert relist.kind == LiveEdit.Kind.RELIST and relist.status == LiveEdit.Status.DONE
    assert remote(world["shop"], world["own"].offer_id).status == "published"


def test_a_gone_supplier_sets_the_stock_to_zero_when_the_rule_says_so(sandbox, world):
    rules.set_rule(user=world["manager"], shop=world["shop"], gone="zero")
    move(sandbox, world, listing="gone")
    run_worker()
    change = follow_changes().get()
    assert change.kind == LiveEdit.Kind.STOCK and change.status == LiveEdit.Status.DONE
    stock = {s.sku_id: s.amount_on_sale for s in remote(world["shop"], world["own"].offer_id).skus}
    assert all(stock[own.sku_id] == 0 for own, _s in world["pairs"])
    assert world["supplier"].offer_id in selectors.gone_offers()
    assert remote(world["shop"], world["own"].offer_id).status == "published"


def test_nothing_is_applied_while_the_authorisation_expires_and_approval_waits_too(sandbox, world):
    Shop.objects.filter(pk=world["shop"].pk).update(
        refresh_token_expires_at=timezone.now() + timedelta(hours=2)
    )
    shop = Shop.objects.get(pk=world["shop"].pk)
    assert "expires" in selectors.follow_blocked_reason(shop)["msgid"]
    sandbox.reset_stats()
    move(sandbox, world, price_factor="1.10")
    run_worker()
    waiting = follow_changes().get()
    assert waiting.status == LiveEdit.Status.AWAITING and waiting.hold == LiveEdit.Hold.BLOCKED
    assert "expires" in waiting.hold_reason["msgid"]
    with pytest.raises(Refused) as refused:
        services.approve_change(user=world["operator"], operation=waiting)
    assert refused.value.code == RefusalCode.FOLLOW_SHOP_BLOCKED
    assert engine.release_waiting() == 0  # still blocked: it keeps waiting
    Shop.objects.filter(pk=shop.pk).update(
        refresh_token_expires_at=timezone.now() + timedelta(days=300)
    )
    assert engine.release_waiting() == 1
    run_worker()
    assert follow_changes().last().status == LiveEdit.Status.DONE


def test_a_published_copy_carries_its_link_watched_and_mapped(sandbox, connected_shop, people):
    sandbox.control("switches", {"audit_seconds": 0, "audit_reject_share": 0})
    sandbox.new_seller(SUPPLIER, "义乌源头工厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 6, "seed": 7})["product_ids"]
    batch = UploadBatchFactory(shop=connected_shop)
    copied = publishing.copy_offers(user=people["operator"], batch=batch, offer_refs=" ".join(
        map(str, ids)))  # fmt: skip
    valid = [item for item in copied.created if not item.validation_errors]
    assert valid, [item.validation_errors for item in copied.created]
    UploadItem.objects.filter(batch=batch).exclude(pk__in=[i.pk for i in valid]).delete()
    publishing.submit_batch(user=people["operator"], batch=batch)
    run_worker("upload")
    published = list(batch.items.filter(status=UploadItem.Status.PUBLISHED))
    assert published
    enqueue_sync(connected_shop)
    run_worker("sync")
    sandbox.control("switches", {"audit_seconds": 3})

    made = services.link_published_copies()
    assert made == len(published)
    assert services.link_published_copies() == 0  # each copy once
    for item in published:
        link = SourceLink.objects.get(product__offer_id=item.remote_offer_id)
        assert link.origin == LinkOrigin.COPIED and link.supplier_offer_id == item.source_offer_id
        assert link.upload_item == item
        assert WatchedOffer.objects.get(offer_id=item.source_offer_id).active
        product = Product.objects.get(pk=link.product_id)
        if product.skus.exists():
            # The copy kept the supplier's sale attributes: every SKU maps to its source SKU.
            assert link.sku_links.count() == product.skus.count()
    # Unlinked by hand, a copy is not linked again by the minute job.
    first = SourceLink.objects.first()
    services.unlink_offer(user=people["operator"], link=first)
    assert services.link_published_copies() == 0


def test_linking_by_hand_refuses_what_is_not_one_offer(sandbox, world):
    with pytest.raises(Refused) as refused:
        services.link_offer(user=world["operator"], product=world["own"], ref="hello 12")
    assert refused.value.code == RefusalCode.FOLLOW_BAD_REF
    with pytest.raises(Refused) as itself:
        services.link_offer(
            user=world["operator"], product=world["own"], ref=str(world["own"].offer_id)
        )
    assert itself.value.code == RefusalCode.FOLLOW_BAD_REF
    with pytest.raises(Refused) as bad_sku:
        services.map_skus(user=world["operator"], link=world["link"], mapping={"1": "2"})
    assert bad_sku.value.code == RefusalCode.FOLLOW_BAD_SKU
