from django.db import migrations

DEFAULT_TYPES = [
    ("signup", "Signup", 30),
    ("demo_booked", "Demo booked", 30),
    ("purchase", "Purchase", 30),
]


def create_types(apps, schema_editor):
    ConversionType = apps.get_model("conversion", "ConversionType")
    for code, name, lookback in DEFAULT_TYPES:
        ConversionType.objects.get_or_create(code=code, defaults={"name": name, "lookback_days": lookback})


class Migration(migrations.Migration):
    dependencies = [("conversion", "0001_initial")]

    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
