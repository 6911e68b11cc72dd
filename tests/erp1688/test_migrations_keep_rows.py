"""A database made before the one-room-per-domain layout, with rows in the tables a running shop
fills, goes through every migration added since and keeps every row and every value: the layout
moved code, never a table. The rows are written with the historical models of the schema as it
was (migration 0021), compared column by column after migrating to the newest one, and the
new figures the migrations fill from old rows (a product's lowest price and SKU count, alert
groups) are checked too."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# It takes the schema back to 0021 and forward again (about 15 s): out of the edit loop.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.system]

BEFORE = [("catalog", "0021_two_character_search_bigrams")]


def _populate(apps) -> None:
    user = apps.get_model("auth", "User").objects.create(username="layout-operator")
    model = lambda name: apps.get_model("catalog", name)  # noqa: E731
    now = timezone.now()
    shop = model("Shop").objects.create(member_id="b2b-layout", name="布局前的店")
    product = model("Product").objects.create(
        shop=shop,
        offer_id=720000000001,
        subject="纯棉T恤",
        price_ranges=[
            {"start_quantity": 1, "price": "24.90"},
            {"start_quantity": 50, "price": "21.50"},
        ],
    )
    plain = model("Product").objects.create(shop=shop, offer_id=720000000002, subject="帆布包")
    for n, price in enumerate(("19.90", "18.80")):
        model("Sku").objects.create(
            product=plain, sku_id=900 + n, price=Decimal(price), stock=10 + n, attributes=[]
        )
    model("PriceStockChange").objects.create(
        shop=shop, product=product, field="stock", old_stock=500, new_stock=483,
        remote_modified_at=now,
    )  # fmt: skip
    batch = model("UploadBatch").objects.create(shop=shop, name="老批次", created_by=user)
    model("UploadItem").objects.create(
        batch=batch, title="老商品", stock=5, cargo_number="HH-OLD-1", status="valid"
    )
    edit = model("LiveEdit").objects.create(kind="price", status="draft", created_by=user)
    model("LiveEditLine").objects.create(
        operation=edit, product=product, field="price", status="planned",
        before="24.90", after="23.90",
    )  # fmt: skip
    watched = model("WatchedOffer").objects.create(offer_id=610000000001, added_by=user)
    rule = model("AlertRule").objects.create(owner=user, kind="price_change", threshold=5)
    for hours in (3, 2):
        model("Alert").objects.create(
            rule=rule, owner=user, watched_offer=watched, state_key=f"price:{hours}",
            created_at=now - timedelta(hours=hours),
        )  # fmt: skip


def _snapshot() -> dict[str, list[tuple]]:
    """Every catalog table's rows, by primary key, in the columns the old schema has."""
    rows = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if not table.startswith("catalog_"):
                continue
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {names} FROM {connection.ops.quote_name(table)} ORDER BY 1")  # noqa: S608
            rows[table] = (columns, cursor.fetchall())
    return rows


def _same_columns(before, after) -> dict[str, list[tuple]]:
    kept = {}
    for table, (old_columns, _) in before.items():
        new_columns, new_rows = after[table]
        index = [new_columns.index(c) for c in old_columns]
        kept[table] = [tuple(row[i] for i in index) for row in new_rows]
    return kept


def test_a_database_made_before_the_layout_keeps_every_row_through_the_new_migrations():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    _populate(executor.loader.project_state(BEFORE).apps)
    before = _snapshot()
    assert sum(len(rows) for _, rows in before.values()) >= 12  # the rows really are there

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    after = _snapshot()

    assert set(before) <= set(after)  # no table went away
    assert _same_columns(before, after) == {table: rows for table, (_, rows) in before.items()}

    from catalog.models import Alert, Product

    products = {p.offer_id: p for p in Product.objects.all()}
    assert products[720000000001].sort_price == Decimal("21.50")  # the lowest tier
    assert (products[720000000002].sort_price, products[720000000002].sort_sku_count) == (
        Decimal("18.80"),
        2,
    )
    alerts = list(Alert.objects.select_related("group"))
    assert len(alerts) == 2 and all(a.group is not None for a in alerts)
