"""The staff change log: filters by shop, product, SKU, field, direction and size, dates;
keyset pages; CSV/XLSX export of the filtered rows; refusal without the view permission."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from catalog.models import PriceStockChange
from tests.factories import PriceStockChangeFactory, ProductFactory, SkuFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = reverse("catalog:change_list")


def ids(response) -> list[int]:
    return [change.pk for group in response.context["groups"] for change, _label in group.rows]


def change(sku, field="price", old="10.00", new="11.00", days_ago=0):
    moment = timezone.now() - timedelta(days=days_ago)
    return PriceStockChangeFactory(
        sku=sku,
        field=field,
        old_value=Decimal(old),
        new_value=Decimal(new),
        observed_at=moment,
        remote_modified_at=moment,
    )


@pytest.fixture
def log():
    shirt = SkuFactory(product=ProductFactory(subject="纯棉T恤", offer_id=600000000111))
    cup = SkuFactory(product=ProductFactory(subject="保温杯", offer_id=600000000222))
    return {
        "shirt_up": change(shirt, old="10.00", new="12.00", days_ago=1),  # +20 %
        "shirt_down": change(shirt, old="10.00", new="9.50", days_ago=2),  # -5 %
        "shirt_stock": change(shirt, field="stock", old="100", new="3", days_ago=3),
        "cup_up": change(cup, old="20.00", new="21.00", days_ago=10),  # +5 %
        "cup_stock": change(cup, field="stock", old="5", new="50", days_ago=40),
        "shirt": shirt,
        "cup": cup,
    }


def test_rows_newest_first_with_values(log_reader, log):
    response = log_reader.get(LIST)
    assert response.status_code == 200
    assert ids(response) == [
        log[k].pk for k in ("shirt_up", "shirt_down", "shirt_stock", "cup_up", "cup_stock")
    ]
    html = response.content.decode()
    assert "纯棉T恤" in html and "¥12.00" in html and "+2.00" in html and "-97" in html


def test_filters(log_reader, log):
    def only(params):
        return ids(log_reader.get(LIST, params))

    cup = log["cup"].product
    assert only({"shop": cup.shop_id}) == [log["cup_up"].pk, log["cup_stock"].pk]
    assert only({"product": cup.offer_id}) == [log["cup_up"].pk, log["cup_stock"].pk]
    assert only({"sku": log["shirt"].sku_id, "field": "stock"}) == [log["shirt_stock"].pk]
    assert only({"field": "price", "direction": "down"}) == [log["shirt_down"].pk]
    assert only({"field": "price", "direction": "up", "percent": "10"}) == [log["shirt_up"].pk]
    assert only({"field": "price", "percent": "5"}) == [
        log[k].pk for k in ("shirt_up", "shirt_down", "cup_up")
    ]
    assert only({"stock_below": "10"}) == [log["shirt_stock"].pk]
    today = timezone.localdate()
    assert only({"date_from": str(today - timedelta(days=5))}) == [
        log[k].pk for k in ("shirt_up", "shirt_down", "shirt_stock")
    ]
    assert only({"date_to": str(today - timedelta(days=5))}) == [
        log["cup_up"].pk, log["cup_stock"].pk
    ]  # fmt: skip


def test_keyset_pages_reach_every_row_once(log_reader):
    sku = SkuFactory()
    made = [change(sku, old=str(n), new=str(n + 1), days_ago=n) for n in range(1, 206)]
    # Rows observed at the same moment are told apart by id.
    PriceStockChange.objects.filter(pk__in=[c.pk for c in made[:30]]).update(
        observed_at=made[0].observed_at
    )
    seen, params = [], {"field": "price"}
    while True:
        with CaptureQueriesContext(connection) as queries:
            response = log_reader.get(LIST, params)
        assert not any(q["sql"].upper().startswith("SELECT COUNT(") for q in queries)
        seen += ids(response)
        cursor = response.context["next_cursor"]
        if not cursor:
            break
        params = {"field": "price", "after": cursor}
    assert sorted(seen) == sorted(c.pk for c in made) and len(seen) == len(set(seen))


def test_bad_input_is_a_form_error_or_ignored(log_reader, log):
    for params in (
        {"percent": "x"},
        {"product": "9" * 30},
        {"sku": "-1"},
        {"date_from": "2026-13-40"},
        {"date_from": "0001-01-01"},
        {"after": "garbage"},
        {"after": "2026-01-01T00:00:00_99999999999999999999999"},
        {"field": "colour"},
    ):
        assert log_reader.get(LIST, params).status_code == 200, params


def test_export_csv_and_xlsx_hold_the_filtered_rows(log_reader, log):
    url = reverse("catalog:change_export", args=["csv"])
    response = log_reader.get(url, {"field": "stock"})
    assert response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 3  # header + the two stock changes
    assert {row[2] for row in rows[1:]} == {"600000000111", "600000000222"}
    assert rows[1][7:9] == ["100", "3"]

    url = reverse("catalog:change_export", args=["xlsx"])
    response = log_reader.get(url, {"product": log["cup"].product.offer_id})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 3 and values[1][3] == "保温杯"


def test_refused_without_the_view_permission(client, log):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(LIST).status_code == 403
    assert client.get(reverse("catalog:change_export", args=["csv"])).status_code == 403
