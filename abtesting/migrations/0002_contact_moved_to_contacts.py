"""The contact models moved from outreach to madansara.contacts with their tables: only the
migration state's foreign keys change, the database is untouched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('abtesting', '0001_initial'),
        ('contacts', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='abtest',
                    name='segment',
                    field=models.ForeignKey(blank=True, help_text='Only contacts with this tag take part', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ab_tests', to='contacts.tag'),
                ),
                migrations.AlterField(
                    model_name='abtestexposure',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='ab_exposures', to='contacts.contact'),
                ),
            ],
            database_operations=[],
        ),
    ]
