"""A covering index for funnels on PostgreSQL: per event name, rows in person and time order.

The key expression is the person key of `website.funnels` (contact id * 2, else an odd 63-bit
hash of the visitor id), so a funnel reads its step events with index-only scans merged in
(person, time) order instead of scanning and sorting the whole table.
"""

from django.db import migrations

# Must stay textually equal to website.funnels.PERSON_KEY (the planner matches expressions).
PERSON_KEY = "CASE WHEN contact_id IS NOT NULL THEN contact_id * 2 ELSE hashtextextended(visitor_id, 0) | 1 END"
FUNNEL_INDEX = "website_event_funnel"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {FUNNEL_INDEX} ON website_event"
            f" (site_id, name, ({PERSON_KEY}), occurred_at, id) INCLUDE (visitor_id, contact_id)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {FUNNEL_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("website", "0002_tracking")]

    operations = [migrations.RunPython(create_index, drop_index)]
