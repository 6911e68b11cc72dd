"""PostgreSQL: two-character search terms (纯棉, 短袖) from an index. A trigram index
(migration 0009) cannot serve a term shorter than three characters, so such a search read every
title and every SKU's 货号. Here an IMMUTABLE function lists a text's two-character pieces,
and GIN indexes on it answer `erp_bigrams(col) @> ARRAY[term]`, which for a two-character term
is exactly "contains" (catalog.mirror.selectors.search_products). Nothing on SQLite."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION erp_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(upper(value), i, 2)), '{}')
    FROM generate_series(1, char_length(value) - 1) AS i
$$
"""
INDEXES = [
    ("product_subject_bigrams", "catalog_product", "subject"),
    ("product_cargo_bigrams", "catalog_product", "cargo_number"),
    ("sku_cargo_bigrams", "catalog_sku", "cargo_number"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        for name, table, column in INDEXES:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
                f'USING gin (erp_bigrams("{column}"))'
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _table, _column in INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        cursor.execute("DROP FUNCTION IF EXISTS erp_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0020_sync_run_days_and_created_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
