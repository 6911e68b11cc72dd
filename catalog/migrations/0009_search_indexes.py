"""Search indexes for the staff product list: SKU cargo numbers everywhere, and on PostgreSQL
trigram (pg_trgm GIN) indexes on the expressions Django's icontains compiles to
(UPPER(col::text) LIKE UPPER(...)), so title and 货号 search stay fast at 100k+ products.

Where the pg_trgm extension cannot be created (no privilege), the trigram indexes are skipped and
search still works, by scanning.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = [
    ("product_subject_trgm", "catalog_product", "subject"),
    ("product_cargo_trgm", "catalog_product", "cargo_number"),
    ("sku_cargo_trgm", "catalog_sku", "cargo_number"),
]


def create_trigram_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                cursor.execute("SAVEPOINT erp_trgm")
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute("RELEASE SAVEPOINT erp_trgm")
            except Exception:  # no privilege to create extensions: search scans instead
                cursor.execute("ROLLBACK TO SAVEPOINT erp_trgm")
                return
        for name, table, column in TRIGRAM_INDEXES:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _table, _column in TRIGRAM_INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_workspace_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="sku",
            index=models.Index(fields=["cargo_number", "product"], name="sku_cargo_product"),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
