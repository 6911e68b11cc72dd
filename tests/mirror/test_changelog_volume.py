"""The change log at volume, with rows the real sync wrote from the sandbox: one offer's moves
seen in one sync are one row to expand, the rows are found by the offer's title, id or 货号
(the product list's search), and each move shows its percent and the offer's picture."""

import pytest
from django.urls import reverse

from catalog.models import PriceStockChange, Product, Sku
from tests.alerts.test_alerts import seeded_and_synced, sync

pytestmark = pytest.mark.django_db(transaction=True)
LIST = reverse("catalog:change_list")


@pytest.fixture
def synced(sandbox, connected_shop, settings):
    return seeded_and_synced(sandbox, connected_shop, settings, count=4, seed=7)


def groups_on(client, params=None) -> list[list[int]]:
    answer = client.get(LIST, params or {}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    return [[change.pk for change, _label in group.rows] for group in answer.context["groups"]]


def test_an_offers_stock_moves_in_one_sync_are_one_row_to_expand(sandbox, synced, log_reader):
    product = (
        Product.objects.filter(shop=synced).order_by("id")
        .filter(pk__in=Sku.objects.filter(stock__gt=0).values("product")).first()
    )  # fmt: skip
    skus = list(product.skus.filter(stock__gt=0).order_by("id")[:3])
    assert len(skus) >= 2
    moved = {sku.sku_id: sku.stock // 2 for sku in skus}
    sandbox.control("offers/update", {"product_id": product.offer_id, "sku_stock": moved})
    other = Product.objects.filter(shop=synced).exclude(pk=product.pk).order_by("id").first()
    sandbox.control("offers/update", {"product_id": other.offer_id, "status": "published"})
    sync(synced)

    rows = PriceStockChange.objects.filter(product=product, field="stock")
    assert rows.count() == len(skus)
    groups = groups_on(log_reader)
    assert sorted(groups[0]) == sorted(rows.values_list("pk", flat=True))  # one group, newest
    html = log_reader.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    head = f'<tbody class="change-group" data-rows="{len(skus)}">'
    body = html.split(head)[1].split('<tbody class="change-group"')[0]
    assert f"{len(skus)} moves in one read" in body and body.count("change-percent") == len(skus)
    assert "-50.0%" in html or "-49." in html or "-50." in html  # stock halved: its percent
    assert 'class="thumb small"' in html  # the offer's picture


def test_rows_are_found_by_title_and_by_cargo_number(sandbox, synced, log_reader):
    with_cargo = Product.objects.filter(shop=synced).exclude(cargo_number="").order_by("id")
    first = with_cargo.first()  # the seed gives most offers a 货号
    second = Product.objects.filter(shop=synced).exclude(pk=first.pk).order_by("id").first()
    products = [first, second]
    for product in products:
        sku = product.skus.order_by("id").first()
        sandbox.control(
            "offers/update", {"product_id": product.offer_id, "sku_stock": {sku.sku_id: 1}}
        )
    sync(synced)
    of_first = sorted(PriceStockChange.objects.filter(product=first).values_list("pk", flat=True))
    assert of_first

    def found(text):
        return sorted(pk for group in groups_on(log_reader, {"q": text}) for pk in group)

    assert found(first.subject) == of_first
    assert found(first.cargo_number) == of_first
    assert found(first.cargo_number.lower()) == of_first  # as typed, in any case
    assert found(str(first.offer_id)) == of_first
    assert found("没有这个商品的标题") == []
    assert set(found(second.subject)).isdisjoint(of_first)
