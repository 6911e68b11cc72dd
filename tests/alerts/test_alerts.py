"""Alerts: rules fire as the real sync writes change rows, once per product and
state, by email once per alert; the inbox and its unread count."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from catalog.alerts import engine as alerts
from catalog.alerts.rendering import message
from catalog.alerts.rules import create_rule
from catalog.models import Alert, AlertRule, Product, Shop, Sku, SyncRun
from sync.catalog_sync import start_run, sync_shop
from sync.jobs import enqueue_sync
from tests.conftest import run_worker
from tests.factories import ShopFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def sync(shop) -> SyncRun:
    run = enqueue_sync(shop)
    run_worker("sync")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def seeded_and_synced(sandbox, shop, settings, *, count: int, seed: int):
    """`count` offers seeded on the sandbox for `shop`, mirrored by a real sync (no overlap:
    the next sync reads only what moved since)."""
    settings.SYNC_OVERLAP_SECONDS = 0
    sandbox.control("seed", {"member_id": shop.member_id, "count": count, "seed": seed})
    sync(shop)
    return shop


@pytest.fixture
def mirrored(sandbox, connected_shop, settings):
    return seeded_and_synced(sandbox, connected_shop, settings, count=6, seed=5)


def a_sku(shop) -> Sku:
    return Sku.objects.filter(product__shop=shop, stock__isnull=False).order_by("id").first()


def set_stock(sandbox, sku: Sku, stock: int) -> None:
    sandbox.control(
        "offers/update", {"product_id": sku.product.offer_id, "sku_stock": {sku.sku_id: stock}}
    )


def test_stock_below_fires_once_per_state_and_again_after_recovery(sandbox, mirrored):
    owner = UserFactory(username="ops", roles=["operator"])
    rule = create_rule(user=owner, kind="stock_below", threshold=Decimal(10))
    sku = a_sku(mirrored)

    set_stock(sandbox, sku, 3)
    sync(mirrored)
    set_stock(sandbox, sku, 2)  # still low: the same state, no second alert
    sync(mirrored)
    opened = Alert.objects.filter(rule=rule)
    assert opened.count() == 1
    alert = opened.get()
    assert alert.state_key == f"stock_below:{sku.product_id}:{sku.sku_id}"
    assert alert.resolved_at is None and alert.product_id == sku.product_id
    with translation.override("en"):  # the stock as the alert was raised
        assert message(alert) == f"{sku.product.subject} ({sku}): stock 3 is below 10."
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    assert sku.product.subject in mail.outbox[0].body

    set_stock(sandbox, sku, 50)  # recovered: the alert ends
    sync(mirrored)
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    set_stock(sandbox, sku, 1)  # a new dip is a new alert
    sync(mirrored)
    assert Alert.objects.filter(rule=rule).count() == 2
    assert Alert.objects.filter(rule=rule, resolved_at__isnull=True).count() == 1
    assert len(mail.outbox) == 2


def test_price_change_rule_one_alert_per_product_change_not_per_sku(sandbox, mirrored):
    owner = UserFactory(username="ops", roles=["operator"])
    big = create_rule(user=owner, kind="price_change", threshold=Decimal(10))
    small = create_rule(user=owner, kind="price_change", threshold=Decimal(90))
    product = max(Product.objects.filter(shop=mirrored), key=lambda p: len(p.price_ranges))
    tiers = product.price_ranges
    assert len(tiers) >= 2
    sandbox.control(
        "offers/update",
        {
            "product_id": product.offer_id,
            "price_ranges": [
                {"startQuantity": t["start_quantity"],
                 "price": str((Decimal(t["price"]) * Decimal("1.5")).quantize(Decimal("0.01")))}
                for t in tiers
            ],
        },
    )  # fmt: skip
    run = sync(mirrored)
    assert run.changes_written >= len(tiers)
    alert = Alert.objects.get(rule=big)
    assert alert.product_id == product.pk
    assert "50" in alert.params["percent"]
    assert not Alert.objects.filter(rule=small).exists()  # 50 % is under 90 %
    sync(mirrored)  # re-reading the same change raises nothing
    assert Alert.objects.filter(rule=big).count() == 1
    assert len(mail.outbox) == 1


def test_a_synced_batch_with_changes_reads_its_rules_once(sandbox, mirrored):
    owner = UserFactory(username="ops", roles=["operator"])
    rule = create_rule(user=owner, kind="price_change", threshold=Decimal(1))
    sku = Sku.objects.filter(product__shop=mirrored, price__isnull=False).order_by("id").first()
    sandbox.control(
        "offers/update",
        {"product_id": sku.product.offer_id, "sku_prices": {sku.sku_id: str(sku.price * 2)}},
    )
    with CaptureQueriesContext(connection) as queries:
        run = sync_shop(start_run(mirrored))  # in this process, so its queries are seen
    assert run.changes_written >= 1 and Alert.objects.filter(rule=rule).count() == 1
    reads = [q["sql"] for q in queries if 'FROM "catalog_alertrule"' in q["sql"]]
    change_rules = [sql for sql in reads if "price_change" in sql]
    assert len(change_rules) == 1, change_rules  # one page, one batch: one read


def test_rules_are_scoped_to_their_shop_and_product(sandbox, mirrored):
    owner = UserFactory(username="ops", roles=["operator"])
    other_shop = ShopFactory()
    elsewhere = create_rule(user=owner, kind="stock_below", threshold=Decimal(10), shop=other_shop)
    sku = a_sku(mirrored)
    other_product = Product.objects.filter(shop=mirrored).exclude(pk=sku.product_id).first()
    not_this = create_rule(
        user=owner, kind="stock_below", threshold=Decimal(10), product=other_product
    )
    this = create_rule(user=owner, kind="stock_below", threshold=Decimal(10), product=sku.product)
    set_stock(sandbox, sku, 0)
    sync(mirrored)
    assert not Alert.objects.filter(rule__in=[elsewhere, not_this]).exists()
    assert Alert.objects.filter(rule=this).count() == 1


def test_delisted_and_sku_gone(sandbox, mirrored):
    owner = UserFactory(username="ops", roles=["operator"])
    delisted = create_rule(user=owner, kind="delisted", email=False)
    report = sandbox.control("mutate", {"member_id": mirrored.member_id, "delist": 1, "seed": 9})
    sync(mirrored)
    gone = Product.objects.get(shop=mirrored, offer_id=report["delisted"][0])
    alert = Alert.objects.get(rule=delisted)
    assert alert.product_id == gone.pk and "1688" in message(alert)
    assert mail.outbox == []  # this rule says no email

    sku_rule = create_rule(user=owner, kind="sku_gone")
    sku = Sku.objects.filter(product__shop=mirrored, product__delisted_at__isnull=True).first()
    # The SKU vanishes from the mirror's point of view: a sync that no longer sees it drops it.
    Sku.objects.filter(pk=sku.pk).update(sku_id=sku.sku_id + 10**9)
    sandbox.control("offers/update", {"product_id": sku.product.offer_id, "status": "published"})
    sync(mirrored)
    alert = Alert.objects.get(rule=sku_rule)
    assert alert.state_key.startswith(f"sku_gone:{sku.product_id}:")


def test_sync_failing_then_recovered_and_authorisation_expiring(sandbox, mirrored):
    owner = UserFactory(username="ops", roles=["manager"])
    failing = create_rule(user=owner, kind="sync_failing")
    expiring = create_rule(user=owner, kind="auth_expiring", threshold=Decimal(30))
    sandbox.fault("alibaba.product.list.get", "http500", times=10)
    run = enqueue_sync(mirrored)
    run_worker("sync")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.error_kind == "platform"
    alert = Alert.objects.get(rule=failing)
    assert "1688" in message(alert)
    sandbox.control("faults", method="DELETE")
    sync(mirrored)
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert not Alert.objects.filter(rule=expiring).exists()  # 180 days left

    Shop.objects.filter(pk=mirrored.pk).update(
        refresh_token_expires_at=timezone.now() + timedelta(days=3)
    )
    sync(mirrored)
    sync(mirrored)
    assert Alert.objects.filter(rule=expiring, resolved_at__isnull=True).count() == 1


def test_an_alert_failure_never_breaks_the_sync(sandbox, mirrored, monkeypatch):
    owner = UserFactory(username="ops", roles=["operator"])
    create_rule(user=owner, kind="stock_below", threshold=Decimal(10))
    sku = a_sku(mirrored)

    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(alerts, "_change_params", broken)
    set_stock(sandbox, sku, 0)
    sync(mirrored)  # succeeded (asserted in sync); the change row is written
    sku.refresh_from_db()
    assert sku.stock == 0
    assert not Alert.objects.exists()


def test_inbox_unread_count_mark_read_and_only_ones_own(client, db):
    owner = UserFactory(username="ops", roles=["viewer"])
    other = UserFactory(username="other", roles=["viewer"])
    shop = ShopFactory(name="义乌店")
    create_rule(user=owner, kind="sync_failing")
    theirs = create_rule(user=other, kind="sync_failing")
    for _twice in range(2):
        run = SyncRunFactory(shop=shop, status="failed", error="QuotaError: 429 frequency limit")
        alerts.on_run_finished(run=run)
    assert Alert.objects.count() == 2
    client.force_login(owner)
    page = client.get(reverse("catalog:alert_inbox")).content.decode()
    assert 'id="nav-alerts"' in page
    assert '<span class="badge failed">1</span>' in page
    assert "义乌店" in page
    client.post(reverse("catalog:alert_mark_read"))
    page = client.get(reverse("catalog:alert_inbox")).content.decode()
    assert '<span class="badge failed">' not in page.split('id="nav-alerts"')[1].split("</a>")[0]
    assert Alert.objects.get(rule=theirs).read_at is None  # someone else's stays unread
    # another's rule cannot be deleted through the page
    answer = client.post(reverse("catalog:alert_rule_delete", args=[theirs.pk]))
    assert answer.status_code == 404 and AlertRule.objects.filter(pk=theirs.pk).exists()


def test_rule_form_refuses_bad_input_in_plain_words(client, db):
    client.force_login(UserFactory(username="ops", roles=["viewer"]))
    url = reverse("catalog:alert_rules")
    for data in (
        {"kind": "stock_below"},
        {"kind": "stock_below", "threshold": "-1"},
        {"kind": "price_change", "threshold": "abc"},
        {"kind": "nonsense", "threshold": "1"},
        {"kind": "stock_below", "threshold": "5", "offer_id": "99999999"},
        {"kind": "stock_below", "threshold": "5", "offer_id": "9" * 30},
    ):
        answer = client.post(url, data)
        assert answer.status_code == 200, data
        assert 'class="errorlist' in answer.content.decode(), data
    assert not AlertRule.objects.exists()
    answer = client.post(url, {"kind": "stock_below", "threshold": "5", "email": "on"})
    assert answer.status_code == 302
    assert AlertRule.objects.get().threshold == 5


def test_hourly_authorisation_check_opens_one_alert_per_shop(db):
    owner = UserFactory(username="ops", roles=["manager"])
    create_rule(user=owner, kind="auth_expiring", threshold=Decimal(7))
    soon = ShopFactory(refresh_token_expires_at=timezone.now() + timedelta(days=2))
    ShopFactory()  # 180 days left
    lapsed = ShopFactory(status=Shop.Status.NEEDS_REAUTH)
    assert alerts.check_authorisations_job() == 2
    assert alerts.check_authorisations_job() == 0  # the same states: no new alert
    assert set(Alert.objects.values_list("shop_id", flat=True)) == {soon.pk, lapsed.pk}
    Shop.objects.filter(pk=lapsed.pk).update(status=Shop.Status.ACTIVE)
    alerts.check_authorisations_job()
    assert Alert.objects.get(shop=lapsed).resolved_at is not None


def test_a_run_whose_job_died_is_a_worker_failure_and_raises_sync_failing(redis_conn):
    from sync.scheduling import fail_dead_runs

    owner = UserFactory(username="ops", roles=["manager"])
    rule = create_rule(user=owner, kind="sync_failing")
    run = SyncRunFactory(status=SyncRun.Status.QUEUED, job_id="a-job-redis-lost")
    assert [r.pk for r in fail_dead_runs()] == [run.pk]
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and run.error_kind == SyncRun.ErrorKind.WORKER
    alert = Alert.objects.get(rule=rule)
    with translation.override("en"):
        assert "Worker stopped" in message(alert)
    assert fail_dead_runs() == [] and Alert.objects.count() == 1
