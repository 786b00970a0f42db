"""The contact models moved from outreach to madansara.contacts with their tables: only the
migration state's foreign keys change, the database is untouched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0005_lean_event_indexes'),
        ('contacts', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='inboundmessage',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='inbound_messages', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='inboundmessage',
                    name='identity',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contacts.contactidentity'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='contact',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='contacts.contact'),
                ),
            ],
            database_operations=[],
        ),
    ]
