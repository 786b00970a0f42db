"""The contact models, moved here from outreach with their tables (kept under their old names,
see Meta.db_table): the state is created, the database is untouched. Tables come from
outreach's migrations 0001-0004 on a fresh database."""

import django.db.models.deletion
import django.utils.timezone
import madansara.contacts.models
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('outreach', '0005_directsend'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Tag',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                    ],
                    options={
                        'db_table': 'outreach_tag',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Contact',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('external_id', models.CharField(blank=True, help_text="Your system's id for this person", max_length=255, null=True, unique=True)),
                        ('name', models.CharField(blank=True, max_length=255)),
                        ('timezone', models.CharField(default='UTC', max_length=64, validators=[madansara.contacts.models.validate_timezone])),
                        ('locale', models.CharField(blank=True, default='en', max_length=35)),
                        ('lifecycle_stage', models.CharField(choices=[('lead', 'Lead'), ('prospect', 'Prospect'), ('customer', 'Customer'), ('churned', 'Churned')], default='lead', max_length=16)),
                        ('attributes', models.JSONField(blank=True, default=dict)),
                        ('engagement_score', models.FloatField(db_index=True, default=0.0)),
                        ('erased_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('merged_into', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='merged_from', to='contacts.contact')),
                        ('tags', models.ManyToManyField(blank=True, related_name='contacts', to='contacts.tag')),
                    ],
                    options={
                        'db_table': 'outreach_contact',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ConsentEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'SMS'), ('whatsapp', 'WhatsApp'), ('instagram', 'Instagram'), ('facebook', 'Facebook Messenger'), ('linkedin', 'LinkedIn'), ('x', 'X (Twitter)')], max_length=16)),
                        ('status', models.CharField(choices=[('opted_in', 'Opted in'), ('unknown', 'Unknown'), ('unsubscribed', 'Unsubscribed')], max_length=16)),
                        ('source', models.CharField(blank=True, max_length=100)),
                        ('note', models.CharField(blank=True, max_length=255)),
                        ('occurred_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='consent_events', to='contacts.contact')),
                    ],
                    options={
                        'db_table': 'outreach_consentevent',
                        'ordering': ['-occurred_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ContactConsent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'SMS'), ('whatsapp', 'WhatsApp'), ('instagram', 'Instagram'), ('facebook', 'Facebook Messenger'), ('linkedin', 'LinkedIn'), ('x', 'X (Twitter)')], max_length=16)),
                        ('status', models.CharField(choices=[('opted_in', 'Opted in'), ('unknown', 'Unknown'), ('unsubscribed', 'Unsubscribed')], default='unknown', max_length=16)),
                        ('source', models.CharField(blank=True, help_text='e.g. import, form, sms:STOP, sendgrid:bounce', max_length=100)),
                        ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('contact', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='consents', to='contacts.contact')),
                    ],
                    options={
                        'db_table': 'outreach_contactconsent',
                        'indexes': [models.Index(fields=['channel', 'status'], name='outreach_co_channel_86a456_idx')],
                        'constraints': [models.UniqueConstraint(fields=('contact', 'channel'), name='consent_unique_per_channel')],
                    },
                ),
                migrations.CreateModel(
                    name='ContactIdentity',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('email', 'Email'), ('sms', 'SMS'), ('whatsapp', 'WhatsApp'), ('instagram', 'Instagram'), ('facebook', 'Facebook Messenger'), ('linkedin', 'LinkedIn'), ('x', 'X (Twitter)')], max_length=16)),
                        ('value', models.CharField(help_text='Normalised: lower-case email, E.164 phone, handle', max_length=255)),
                        ('is_valid', models.BooleanField(default=True, help_text='False once a provider said it is unreachable')),
                        ('invalid_reason', models.CharField(blank=True, max_length=255)),
                        ('last_inbound_at', models.DateTimeField(blank=True, help_text='Last message from the contact here (messaging windows)', null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('contact', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='identities', to='contacts.contact')),
                    ],
                    options={
                        'verbose_name_plural': 'contact identities',
                        'db_table': 'outreach_contactidentity',
                        'indexes': [models.Index(fields=['contact', 'channel'], name='outreach_co_contact_8f5aed_idx')],
                        'constraints': [models.UniqueConstraint(fields=('channel', 'value'), name='identity_unique_per_channel')],
                    },
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(fields=['lifecycle_stage'], name='contact_stage'),
                ),
                migrations.AddIndex(
                    model_name='contact',
                    index=models.Index(condition=models.Q(('merged_into__isnull', False)), fields=['merged_into'], name='contact_merged_into'),
                ),
            ],
            database_operations=[],
        ),
    ]
