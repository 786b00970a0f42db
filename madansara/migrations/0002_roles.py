"""Creates the role groups. Their permissions are granted by madansara.roles.sync_roles after
every migrate (so permissions of models added later are granted too)."""

from django.db import migrations

ROLES = ("Admin", "Marketer", "Agent", "Analyst")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("madansara", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, remove_roles)]
