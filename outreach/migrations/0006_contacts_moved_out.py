"""The contact models left outreach for madansara.contacts (see contacts 0001): removed from the
state only, after every app's foreign keys were pointed at contacts; tables and rows stay."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('abtesting', '0002_contact_moved_to_contacts'),
        ('channels', '0006_contact_moved_to_contacts'),
        ('contacts', '0001_initial'),
        ('conversion', '0003_contact_moved_to_contacts'),
        ('inbox', '0006_contact_moved_to_contacts'),
        ('outreach', '0005_directsend'),
        ('social', '0002_contact_moved_to_contacts'),
        ('website', '0005_contact_moved_to_contacts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='consentevent',
                    name='contact',
                ),
                migrations.RemoveIndex(
                    model_name='contact',
                    name='contact_stage',
                ),
                migrations.RemoveIndex(
                    model_name='contact',
                    name='contact_merged_into',
                ),
                migrations.AlterField(
                    model_name='outboxmessage',
                    name='contact',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='outbox', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='directsend',
                    name='contact',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='direct_sends', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='contactengagement',
                    name='contact',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='engagement', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='campaignenrollment',
                    name='contact',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='enrollments', to='contacts.contact'),
                ),
                migrations.RemoveIndex(
                    model_name='contactconsent',
                    name='outreach_co_channel_86a456_idx',
                ),
                migrations.RemoveConstraint(
                    model_name='contactconsent',
                    name='consent_unique_per_channel',
                ),
                migrations.RemoveIndex(
                    model_name='contactidentity',
                    name='outreach_co_contact_8f5aed_idx',
                ),
                migrations.RemoveConstraint(
                    model_name='contactidentity',
                    name='identity_unique_per_channel',
                ),
                migrations.AlterField(
                    model_name='segment',
                    name='contacts',
                    field=models.ManyToManyField(blank=True, related_name='static_segments', to='contacts.contact'),
                ),
                migrations.DeleteModel(
                    name='ConsentEvent',
                ),
                migrations.RemoveField(
                    model_name='contact',
                    name='merged_into',
                ),
                migrations.RemoveField(
                    model_name='contact',
                    name='tags',
                ),
                migrations.RemoveField(
                    model_name='contactconsent',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='contactidentity',
                    name='contact',
                ),
                migrations.DeleteModel(
                    name='Tag',
                ),
                migrations.DeleteModel(
                    name='ContactConsent',
                ),
                migrations.DeleteModel(
                    name='Contact',
                ),
                migrations.DeleteModel(
                    name='ContactIdentity',
                ),
            ],
            database_operations=[],
        ),
    ]
