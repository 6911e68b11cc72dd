"""Watched suppliers' offers feed the same alerts and the same chart as own offers (
"every price, tier and stock move goes into the same change log ..., feeding the same alerts
and charts"). Against the sandbox over HTTP, with real Redis."""

import json
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from catalog.alerts.rendering import link, message
from catalog.alerts.rules import create_rule
from catalog.models import Alert, AlertRule, Channel, PriceStockChange, WatchedOffer
from catalog.watch import services as watch
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from tests.factories import UserFactory

SUPPLIER = "b2b-2209700001"
pytestmark = pytest.mark.django_db(transaction=True)  # emails go after the commit


@pytest.fixture
def offer(sandbox, connected_shop):
    """A watched supplier offer with at least two priced SKUs, and those SKUs."""
    sandbox.new_seller(SUPPLIER, "宁波五金厂")
    ids = sandbox.control("seed", {"member_id": SUPPLIER, "count": 10, "seed": 11})["product_ids"]
    for offer_id in ids:
        detail = watch.sourcing.read_supplier_offer(offer_id)
        usable = detail.status == "published" and len(detail.skus) >= 2
        if usable and all(s.price is not None and s.amount_on_sale for s in detail.skus):
            watch.watch_offers(user=None, refs=str(offer_id))
            return WatchedOffer.objects.get(offer_id=offer_id), detail.skus
    raise AssertionError("no offer with priced, stocked SKUs in the seed")


@pytest.fixture
def owner(db):
    return UserFactory(username="buyer", roles=["operator"], email="buyer@example.com")


def update(sandbox, watched, **changes):
    sandbox.control("offers/update", {"product_id": watched.offer_id, **changes})


def test_stock_below_on_a_watched_offer_fires_once_and_only_for_its_scope(sandbox, offer, owner):
    watched, skus = offer
    watching = create_rule(user=owner, kind="stock_below", threshold=Decimal(5), scope="watched")
    both = create_rule(user=owner, kind="stock_below", threshold=Decimal(5), scope="all")
    own_only = create_rule(user=owner, kind="stock_below", threshold=Decimal(5))
    sku = skus[0]
    update(sandbox, watched, sku_stock={str(sku.sku_id): 2})
    assert watch.reread(watched.offer_id, channel=Channel.POLL).changes == 1
    fired = Alert.objects.filter(watched_offer=watched)
    assert {a.rule_id for a in fired} == {watching.pk, both.pk}  # not the own-shop rule
    assert not Alert.objects.filter(rule=own_only).exists()
    alert = fired.get(rule=watching)
    assert alert.product_id is None and alert.shop_id is None
    text = message(alert)
    assert watched.subject in text and "2" in text and "5" in text
    assert link(alert) == reverse("catalog:watch_detail", args=[watched.pk])
    assert len(mail.outbox) == 2  # one email per new alert

    # Lower still, read again: the same low-stock state, no new alert, no new email.
    update(sandbox, watched, sku_stock={str(sku.sku_id): 1})
    assert watch.reread(watched.offer_id, channel=Channel.POLL).changes == 1
    assert Alert.objects.filter(rule=watching).count() == 1 and len(mail.outbox) == 2
    # Recovered: the alert ends; the next dip is a new one.
    update(sandbox, watched, sku_stock={str(sku.sku_id): 50})
    watch.reread(watched.offer_id, channel=Channel.POLL)
    assert Alert.objects.get(rule=watching).resolved_at is not None
    update(sandbox, watched, sku_stock={str(sku.sku_id): 0})
    watch.reread(watched.offer_id, channel=Channel.POLL)
    assert Alert.objects.filter(rule=watching).count() == 2


def test_price_change_on_a_watched_offer_is_one_alert_per_read(sandbox, offer, owner):
    watched, skus = offer
    rule = create_rule(user=owner, kind="price_change", threshold=Decimal(10), scope="watched")
    small = create_rule(user=owner, kind="price_change", threshold=Decimal(500), scope="watched")
    prices = {str(s.sku_id): str((s.price * 2).quantize(Decimal("0.01"))) for s in skus}
    update(sandbox, watched, sku_prices=prices)  # every SKU doubles: +100 %
    assert watch.reread(watched.offer_id, channel=Channel.MANUAL).changes >= len(skus)
    alert = Alert.objects.get(rule=rule)  # the SKUs of one read make one alert
    assert alert.watched_offer_id == watched.pk and alert.params["percent"] == "100.0"
    assert not Alert.objects.filter(rule=small).exists()
    # Read again with nothing moved: nothing more.
    assert watch.reread(watched.offer_id, channel=Channel.MANUAL).changes == 0
    assert Alert.objects.filter(rule=rule).count() == 1


def test_a_watched_scope_is_refused_where_watched_offers_cannot_feed_it(owner):
    with pytest.raises(Refused) as refused:
        create_rule(user=owner, kind="sync_failing", scope="watched")
    assert refused.value.code == RefusalCode.ALERT_SCOPE
    with pytest.raises(Refused):
        create_rule(user=owner, kind="stock_below", threshold=Decimal(1), scope="nope")


def test_rule_form_saves_the_scope_and_lists_it(client, owner):
    client.force_login(owner)
    url = reverse("catalog:alert_rules")
    answer = client.post(url, {"kind": "stock_below", "threshold": "3", "scope": "watched"})
    assert answer.status_code == 302
    rule = AlertRule.objects.get(owner=owner)
    assert rule.scope == AlertRule.Scope.WATCHED and rule.shop_id is None
    listed = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Watched suppliers&#x27; offers" in listed
    bad = client.post(url, {"kind": "stock_below", "threshold": "3", "scope": "elsewhere"})
    assert bad.status_code == 200 and bad.context["form"].errors["scope"]


def chart_data(html: str, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found, f"no {element_id} in the page"
    return json.loads(found.group(1))


def test_watched_offer_page_draws_its_history_with_the_product_pages_chart(
    client, sandbox, offer, owner
):
    watched, skus = offer
    update(sandbox, watched, sku_stock={str(skus[0].sku_id): 3})
    update(sandbox, watched, sku_prices={str(skus[1].sku_id): str(skus[1].price + 2)})
    watch.reread(watched.offer_id, channel=Channel.MANUAL)
    assert PriceStockChange.objects.filter(watched_offer=watched).count() == 2
    client.force_login(owner)
    html = client.get(reverse("catalog:watch_detail", args=[watched.pk])).content.decode()
    data = chart_data(html, "chart-data")
    (stock,) = data["stock"]
    (price,) = data["price"]
    assert [point[1] for point in stock["data"]][-2:] == [3, 3]  # the new value, held until now
    assert price["data"][0][1] == float(skus[1].price)  # the line starts at the old value
    assert price["data"][-1][1] == float(skus[1].price + 2)
    label = watched.snapshot["skus"][str(skus[0].sku_id)]["label"]
    assert stock["name"] == label  # named as the SKU is
    market = chart_data(html, "market-data")
    assert market and all(series["points"] for series in market)
    # The same partial (and script) as the product page: one chart code, not a copy.
    assert "history_chart" in html and "data-history-chart" in html
    assert html.count('id="price-chart"') == 1 and html.count('id="stock-chart"') == 1
