"""Full-text search index on PostgreSQL (SQLite searches with LIKE instead)."""

from django.db import migrations

INDEX = "inbox_conv_search_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON inbox_conversation USING gin (to_tsvector('simple', search_text))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_seed_intents")]
    operations = [migrations.RunPython(create_index, drop_index)]
