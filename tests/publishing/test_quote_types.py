"""How an item is priced on 1688 (docs/protocol.md, quoteType): by its quantity tiers, every SKU
selling at them, or each SKU at its own price, never one of them dropped on the way. Published
by a real worker through the sandbox over HTTP, then read back from 1688."""

from decimal import Decimal

import pytest

from catalog.models import UploadBatch, UploadItem
from catalog.publishing.batch_validation import validate_batch
from catalog.publishing.categories import attributes_for
from catalog.shops.clients import make_client
from tests.factories import UploadBatchFactory
from tests.publishing.test_publish import quick, staged_item, submit  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

TIERS = [{"start_quantity": 1, "price": "29.90"}, {"start_quantity": 50, "price": "26.50"}]


def sku(colour: str, price, stock: int) -> dict:
    return {
        "attributes": [{"attributeID": 3216, "attributeName": "颜色", "attributeValue": colour}],
        "price": price,
        "stock": stock,
    }


def published(shop, item: UploadItem):
    batch = submit(item.batch)
    item.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, (batch.last_error, item.remote_error_message)
    with make_client() as client:
        return client.get_product(shop.access_token, item.remote_offer_id)


def test_an_item_priced_by_tiers_keeps_its_tiers_on_1688(connected_shop):
    schema = attributes_for(connected_shop, 1031910)
    item = staged_item(
        connected_shop, schema, UploadBatchFactory(shop=connected_shop), cargo_number="Q-TIER",
        price=None, price_ranges=TIERS, stock=12,
        skus=[sku("白色", "29.90", 5), sku("黑色", "29.9", 7)],  # the first tier's price
    )  # fmt: skip
    validate_batch(item.batch)
    item.refresh_from_db()
    assert item.validation_errors == {}

    offer = published(connected_shop, item)
    assert [(t.start_quantity, t.price) for t in offer.price_ranges] == [
        (1, Decimal("29.90")),
        (50, Decimal("26.50")),
    ]
    assert offer.quote_type != 1
    assert sorted(s.amount_on_sale for s in offer.skus) == [5, 7]


def test_an_item_priced_per_sku_keeps_each_skus_price_on_1688(connected_shop):
    schema = attributes_for(connected_shop, 1031910)
    item = staged_item(
        connected_shop, schema, UploadBatchFactory(shop=connected_shop), cargo_number="Q-SKU",
        price=Decimal("19.90"), price_ranges=[], stock=12,
        skus=[sku("白色", "19.90", 5), sku("黑色", "23.50", 7)],
    )  # fmt: skip
    offer = published(connected_shop, item)
    assert offer.quote_type == 1
    assert sorted(s.price for s in offer.skus) == [Decimal("19.90"), Decimal("23.50")]


def test_tiers_with_skus_of_other_prices_wait_for_the_operator(connected_shop):
    schema = attributes_for(connected_shop, 1031910)
    item = staged_item(
        connected_shop, schema, UploadBatchFactory(shop=connected_shop), cargo_number="Q-BOTH",
        price=None, price_ranges=TIERS, stock=12,
        skus=[sku("白色", "20.90", 5), sku("黑色", "21.90", 7)],
    )  # fmt: skip
    validate_batch(item.batch)
    item.refresh_from_db()
    assert list(item.validation_errors) == ["price_ranges"]
