"""The moved models' content types change app label (outreach -> contacts) in place, so their ids,
the permissions that point at them (and so every role's and user's grants) and the admin log
entries stay. Where a contacts content type already exists (created before this ran), it is
replaced by the outreach one, which carries the grants."""

from django.contrib.contenttypes.models import ContentType as CurrentContentType
from django.db import migrations

MODELS = ("tag", "contact", "contactidentity", "contactconsent", "consentevent")


def relabel(apps, schema_editor, source="outreach", target="contacts"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue
        ContentType.objects.using(db).filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])
    CurrentContentType.objects.clear_cache()  # the process-wide cache still maps the ids to outreach


def relabel_back(apps, schema_editor):
    relabel(apps, schema_editor, source="contacts", target="outreach")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(relabel, relabel_back)]
