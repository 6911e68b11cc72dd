"""PostgreSQL: a trigram (pg_trgm GIN) index on the category name 1688 sent with each offer, for
the product list's category filter (`raw->>'categoryName'` icontains). Skipped where pg_trgm is
not available (migration 0009 creates the extension when it may)."""

from django.db import migrations

INDEX = "product_category_name_trgm"


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "catalog_product" '
            'USING gin ((UPPER(("raw" ->> \'categoryName\'))) gin_trgm_ops)'
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_search_indexes"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
