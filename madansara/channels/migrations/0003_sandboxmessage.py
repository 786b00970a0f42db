from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0002_ratelimitbucket"),
    ]

    operations = [
        migrations.CreateModel(
            name="SandboxMessage",
            fields=[],
            options={
                "verbose_name": "sandbox outbox message",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("channels.message",),
        ),
    ]
