"""Every CommentActionAttempt row becomes a DeliveryAttempt naming its comment (content types), the
one attempt record of the channel layer; the next migration drops the old table. Reversible: the
way back rebuilds the old rows from the moved ones."""

from django.db import migrations

BATCH = 1000
OPERATION = {"reply": "comment_reply", "hide": "comment_hide"}
ACTION = {operation: action for action, operation in OPERATION.items()}


def _comment_type(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label="social", model="socialcomment")[0]


def forward(apps, schema_editor):
    Old = apps.get_model("social", "CommentActionAttempt")
    DeliveryAttempt = apps.get_model("channels", "DeliveryAttempt")
    if not Old.objects.exists():
        return
    comment_type = _comment_type(apps)
    rows = Old.objects.select_related("comment__account").order_by("pk")
    batch = []
    for old in rows.iterator(chunk_size=BATCH):
        batch.append(
            DeliveryAttempt(
                operation=OPERATION.get(old.action, old.action),
                target_type=comment_type,
                target_id=old.comment_id,
                reference=old.comment.external_id,
                provider=old.comment.account.platform,
                outcome=old.outcome,
                error_code=old.error_code,
                error_message=old.error_message,
                latency_ms=old.latency_ms,
                provider_message_id=old.external_id,
                created_at=old.created_at,
            )
        )
        if len(batch) >= BATCH:
            DeliveryAttempt.objects.bulk_create(batch)
            batch = []
    DeliveryAttempt.objects.bulk_create(batch)
    Old.objects.all().delete()


def backward(apps, schema_editor):
    Old = apps.get_model("social", "CommentActionAttempt")
    DeliveryAttempt = apps.get_model("channels", "DeliveryAttempt")
    moved = DeliveryAttempt.objects.filter(target_type=_comment_type(apps), operation__in=list(ACTION))
    Old.objects.bulk_create(
        (
            Old(
                comment_id=attempt.target_id,
                action=ACTION[attempt.operation],
                outcome=attempt.outcome,
                error_code=attempt.error_code,
                error_message=attempt.error_message,
                external_id=attempt.provider_message_id,
                latency_ms=attempt.latency_ms,
                created_at=attempt.created_at,
            )
            for attempt in moved.order_by("pk").iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )
    moved.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('channels', '0008_attempt_operations'),
        ('social', '0002_contact_moved_to_contacts'),
    ]

    operations = [migrations.RunPython(forward, backward)]
