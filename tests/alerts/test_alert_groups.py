"""Alerts at volume: a rule's alerts about one offer in a day are one inbox row (expand to
each), marked read together or chosen in bulk; a rule or one offer of it snoozed keeps its new
alerts read and unmailed; a rule may mail a daily digest instead of one mail per alert. Raised
by the real sync against the sandbox."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from catalog.alerts import emails
from catalog.alerts.rules import create_rule
from catalog.models import Alert, AlertGroup, AlertSnooze, Product
from tests.alerts.test_alerts import a_sku, seeded_and_synced, set_stock, sync
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mirrored(sandbox, connected_shop, settings):
    return seeded_and_synced(sandbox, connected_shop, settings, count=4, seed=5)


def move_price(sandbox, product: Product, factor: str) -> None:
    product.refresh_from_db()
    tiers = [
        {"startQuantity": t["start_quantity"],
         "price": str((Decimal(t["price"]) * Decimal(factor)).quantize(Decimal("0.01")))}
        for t in product.price_ranges
    ]  # fmt: skip
    sandbox.control("offers/update", {"product_id": product.offer_id, "price_ranges": tiers})


def inbox_rows(client) -> dict[int, str]:
    html = client.get(reverse("catalog:alert_inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rows = re.findall(r'<tr class="(unread)?" data-group="(\d+)">(.*?)</tr>', html, re.S)
    return {int(pk): ("unread " if unread else "") + body for unread, pk, body in rows}


def test_five_price_moves_of_one_offer_are_one_row_marked_read_together(sandbox, mirrored, client):
    owner = UserFactory(username="ops", roles=["operator"])
    rule = create_rule(user=owner, kind="price_change", threshold=Decimal(1))
    products = list(Product.objects.filter(shop=mirrored).exclude(price_ranges=[]).order_by("id"))
    busy, quiet = products[0], products[1]
    for factor in ("1.10", "1.20", "0.90", "1.15", "1.05"):
        move_price(sandbox, busy, factor)
        sync(mirrored)
    move_price(sandbox, quiet, "1.50")
    sync(mirrored)

    assert Alert.objects.filter(rule=rule).count() == 6
    groups = {g.subject_key: g for g in AlertGroup.objects.filter(rule=rule)}
    assert set(groups) == {f"p{busy.pk}", f"p{quiet.pk}"}
    assert groups[f"p{busy.pk}"].alert_count == 5 and groups[f"p{quiet.pk}"].alert_count == 1
    assert Alert.objects.filter(group=groups[f"p{busy.pk}"]).count() == 5
    assert len(mail.outbox) == 6  # the rule mails at once, one per alert

    client.force_login(owner)
    rows = inbox_rows(client)
    assert set(rows) == {g.pk for g in groups.values()}  # two rows, not six
    busy_row = rows[groups[f"p{busy.pk}"].pk]
    assert busy_row.startswith("unread") and "5 alerts" in busy_row
    assert busy_row.count("<li") == 5 and busy.subject in busy_row

    # The busy offer's row chosen and marked read: its five alerts are read, the other is not.
    client.post(reverse("catalog:alert_mark_read"), {"group": [groups[f"p{busy.pk}"].pk]})
    assert not Alert.objects.filter(group=groups[f"p{busy.pk}"], read_at__isnull=True).exists()
    assert Alert.objects.filter(group=groups[f"p{quiet.pk}"], read_at__isnull=True).count() == 1
    rows = inbox_rows(client)
    assert not rows[groups[f"p{busy.pk}"].pk].startswith("unread")
    assert rows[groups[f"p{quiet.pk}"].pk].startswith("unread")
    # Marking its one alert read by itself reads its group too.
    alert = Alert.objects.get(group=groups[f"p{quiet.pk}"])
    client.post(reverse("catalog:alert_mark_read"), {"alert": [alert.pk]})
    assert AlertGroup.objects.get(pk=groups[f"p{quiet.pk}"].pk).read_at is not None


def test_an_offer_snoozed_stays_quiet_and_the_rules_other_offers_do_not(sandbox, mirrored, client):
    owner = UserFactory(username="ops", roles=["operator"])
    rule = create_rule(user=owner, kind="stock_below", threshold=Decimal(10))
    sku = a_sku(mirrored)
    other = (
        type(sku).objects.filter(product__shop=mirrored, stock__isnull=False)
        .exclude(product=sku.product).order_by("id").first()
    )  # fmt: skip
    set_stock(sandbox, sku, 3)
    sync(mirrored)
    first = Alert.objects.get(rule=rule)
    assert len(mail.outbox) == 1

    client.force_login(owner)
    answer = client.post(
        reverse("catalog:alert_snooze", args=[first.group_id]), {"hours": "24", "what": "subject"}
    )
    assert answer.status_code == 302
    snooze = AlertSnooze.objects.get(rule=rule)
    assert snooze.subject_key == f"p{sku.product_id}"
    assert snooze.until > timezone.now() + timedelta(hours=23)
    first.refresh_from_db()
    assert first.read_at is not None  # snoozing reads the row

    set_stock(sandbox, sku, 50)  # recovered, then a new dip while snoozed
    sync(mirrored)
    set_stock(sandbox, sku, 2)
    set_stock(sandbox, other, 1)  # another offer of the same rule is not snoozed
    sync(mirrored)
    quiet = Alert.objects.get(rule=rule, product=sku.product, resolved_at__isnull=True)
    assert quiet.snoozed and quiet.read_at is not None and quiet.mail == Alert.Mail.NONE
    loud = Alert.objects.get(rule=rule, product=other.product)
    assert not loud.snoozed and loud.read_at is None
    assert [m.body.count(other.product.subject) > 0 for m in mail.outbox[1:]] == [True]

    # The whole rule snoozed for a week: the other offer's next dip is quiet too.
    client.post(
        reverse("catalog:alert_snooze", args=[loud.group_id]), {"hours": "168", "what": "rule"}
    )
    assert AlertSnooze.objects.filter(rule=rule, subject_key="").exists()
    set_stock(sandbox, other, 40)
    sync(mirrored)
    set_stock(sandbox, other, 0)
    sync(mirrored)
    latest = Alert.objects.filter(rule=rule, product=other.product).latest("id")
    assert latest.pk != loud.pk and latest.snoozed and latest.read_at is not None
    assert len(mail.outbox) == 2


def test_snoozing_refuses_what_the_inbox_does_not_offer_and_anothers_row(sandbox, mirrored, client):
    owner = UserFactory(username="ops", roles=["operator"])
    other = UserFactory(username="other", roles=["operator"])
    create_rule(user=owner, kind="stock_below", threshold=Decimal(10))
    theirs = create_rule(user=other, kind="stock_below", threshold=Decimal(10))
    set_stock(sandbox, a_sku(mirrored), 3)
    sync(mirrored)
    mine = AlertGroup.objects.get(owner=owner)
    client.force_login(owner)
    url = reverse("catalog:alert_snooze", args=[mine.pk])
    for hours in ("5", "", "abc", "-24"):
        page = client.post(url, {"hours": hours}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
        assert "Snooze for a day or a week." in page.content.decode(), hours
    assert not AlertSnooze.objects.exists()
    foreign = AlertGroup.objects.filter(rule=theirs).first()
    refused = client.post(reverse("catalog:alert_snooze", args=[foreign.pk]), {"hours": "24"})
    assert refused.status_code == 404
    assert client.post(reverse("catalog:alert_mark_read"), {"group": ["x"]}).status_code == 302
    assert Alert.objects.filter(owner=owner, read_at__isnull=True).exists()  # nothing read


def test_a_digest_rule_mails_once_a_day_with_every_alert(sandbox, mirrored, client, settings):
    owner = UserFactory(username="ops", roles=["operator"])
    client.force_login(owner)
    answer = client.post(
        reverse("catalog:alert_rules"),
        {"kind": "price_change", "threshold": "1", "mail": "digest"},
    )
    assert answer.status_code == 302
    products = list(Product.objects.filter(shop=mirrored).exclude(price_ranges=[]).order_by("id"))
    for product in products[:3]:
        move_price(sandbox, product, "1.25")
    sync(mirrored)
    raised = Alert.objects.filter(owner=owner)
    assert raised.count() == 3 and set(raised.values_list("mail", flat=True)) == {"digest"}
    assert mail.outbox == []  # nothing at once

    assert emails.send_digests() == 1
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == [owner.email] and "3" in digest.subject
    for product in products[:3]:
        assert product.subject in digest.body
    assert not raised.filter(emailed_at__isnull=True).exists()
    assert emails.send_digests() == 0  # each alert is in one digest only
    rules_page = client.get(reverse("catalog:alert_rules"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Daily digest" in rules_page.content.decode()
