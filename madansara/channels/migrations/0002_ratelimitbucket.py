from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateLimitBucket",
            fields=[
                ("key", models.CharField(max_length=200, primary_key=True, serialize=False)),
                ("tokens", models.FloatField()),
                ("updated", models.FloatField(help_text="Epoch seconds of the last refill")),
                ("blocked_until", models.FloatField(default=0.0, help_text="Epoch seconds; set from Retry-After")),
            ],
        ),
    ]
