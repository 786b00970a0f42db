"""The contact models moved from outreach to madansara.contacts with their tables: only the
migration state's foreign keys change, the database is untouched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0001_initial'),
        ('social', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='funnelrun',
                    name='contact',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='social_funnel_runs', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='socialadvocate',
                    name='contact',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='social_advocate', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='socialcomment',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='social_comments', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='socialengagement',
                    name='contact',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='social_engagements', to='contacts.contact'),
                ),
            ],
            database_operations=[],
        ),
    ]
