"""The product list's category filter (catalog.mirror.selectors.filter_category): an index on
the category id (a name from the category tree stands for ids), and on PostgreSQL a trigram
(pg_trgm GIN) index on the name a detail answer nests under productInfo, the shape the sync
stores. Skipped where pg_trgm is not available (migration 0009 creates it when it may)."""

from django.db import migrations, models

INDEX = "product_info_category_trgm"


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
        # The expression Django's icontains compiles raw__productInfo__categoryName to.
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "catalog_product" USING gin '
            "((UPPER((\"raw\" #>> '{productInfo,categoryName}')::text)) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0018_live_edit_owner_and_unknown_lines"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["category_id"], name="product_category"),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
