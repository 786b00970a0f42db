"""The contact models moved from outreach to madansara.contacts with their tables: only the
migration state's foreign keys change, the database is untouched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0001_initial'),
        ('website', '0004_identity_verification'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='websitesession',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='website_sessions', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='websitevisitor',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='website_visitors', to='contacts.contact'),
                ),
            ],
            database_operations=[],
        ),
    ]
