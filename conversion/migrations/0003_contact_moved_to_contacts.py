"""The contact models moved from outreach to madansara.contacts with their tables: only the
migration state's foreign keys change, the database is untouched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0001_initial'),
        ('conversion', '0002_default_conversion_types'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='conversionevent',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='conversions', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='customertouchpoint',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='touchpoints', to='contacts.contact'),
                ),
            ],
            database_operations=[],
        ),
    ]
