from django.db import migrations

SEED = [
    ("question", "Question", True, True),
    ("purchase_intent", "Purchase intent", True, False),
    ("pricing", "Pricing", True, False),
    ("meeting_request", "Meeting request", True, False),
    ("support_issue", "Support issue", True, False),
    ("complaint", "Complaint", True, False),
    ("unsubscribe_request", "Unsubscribe request", False, False),
    ("out_of_office", "Out of office", False, False),
    ("spam", "Spam", False, False),
    ("positive_feedback", "Positive feedback", True, True),
    ("other", "Other", True, False),
]


def seed(apps, schema_editor):
    Intent = apps.get_model("inbox", "Intent")
    for code, label, needs_reply, low_risk in SEED:
        Intent.objects.get_or_create(code=code, defaults={"label": label, "needs_reply": needs_reply, "low_risk": low_risk})


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
