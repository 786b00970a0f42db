"""Retiring CommentActionAttempt keeps every row: a database populated at the migrations before
the move keeps, once migrated forward, each comment attempt as a DeliveryAttempt naming its
comment (same outcome, errors, ids, latency and time), the message attempts untouched; migrated
back, the old rows come back as they were."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from madansara.channels.models import DeliveryAttempt
from social.models import SocialComment

BEFORE = [("channels", "0007_alter_inboundmessage_channel_alter_message_channel_and_more"), ("social", "0002_contact_moved_to_contacts")]  # fmt: skip
OLD_FIELDS = ("comment_id", "action", "outcome", "error_code", "error_message", "external_id", "latency_ms", "created_at")  # fmt: skip


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _seed(old):
    """Comments on two platforms with reply and hide attempts, and a message with its attempt."""
    Account, Comment = old.get_model("social", "SocialAccount"), old.get_model("social", "SocialComment")
    Attempt = old.get_model("social", "CommentActionAttempt")
    ig = Account.objects.create(platform="instagram", name="IG", external_id="ig-1")
    x = Account.objects.create(platform="x", name="X", external_id="x-1")
    asked = Comment.objects.create(account=ig, external_id="17890001", text="Do you ship?")
    spam = Comment.objects.create(account=x, external_id="1790002", text="buy followers")
    at = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    Attempt.objects.create(comment=asked, action="reply", outcome="transient", error_code="4",
                           error_message="Application request limit reached", latency_ms=120, created_at=at)  # fmt: skip
    Attempt.objects.create(comment=asked, action="reply", outcome="success", external_id="r-900", latency_ms=80,
                           created_at=at.replace(minute=45))  # fmt: skip
    Attempt.objects.create(comment=spam, action="hide", outcome="permanent", error_code="unsupported",
                           error_message="x cannot hide", created_at=at.replace(hour=10))  # fmt: skip
    message = old.get_model("channels", "Message").objects.create(channel="email", to="a@example.com")
    old.get_model("channels", "DeliveryAttempt").objects.create(
        message=message, provider="sendgrid", outcome="success", provider_message_id="sg-1", created_at=at
    )
    return {"asked": asked.pk, "spam": spam.pk, "message": message.pk}


def _old_rows(old):
    return sorted(old.get_model("social", "CommentActionAttempt").objects.values_list(*OLD_FIELDS))


@pytest.mark.django_db(transaction=True)
def test_comment_attempts_move_to_delivery_attempts_and_back_without_loss():
    leaves = _leaves()
    try:
        # given a database before the move, with comment attempts and a message attempt
        old = _migrate(BEFORE)
        seeded = _seed(old)
        before = _old_rows(old)
        message_attempt = list(old.get_model("channels", "DeliveryAttempt").objects.values())

        # when it is migrated forward
        _migrate(leaves)

        # then each comment attempt is a DeliveryAttempt naming its comment, nothing lost or changed
        moved = DeliveryAttempt.objects.exclude(message_id=seeded["message"])
        assert sorted(
            (a.target_id, a.operation, a.outcome, a.error_code, a.error_message, a.provider_message_id,
             a.latency_ms, a.created_at)
            for a in moved
        ) == sorted(
            (c, {"reply": "comment_reply", "hide": "comment_hide"}[action], *rest) for c, action, *rest in before
        )  # fmt: skip
        asked = SocialComment.objects.get(pk=seeded["asked"])
        assert [(a.provider, a.reference, a.outcome) for a in asked.attempts.order_by("created_at")] == [
            ("instagram", "17890001", "transient"),
            ("instagram", "17890001", "success"),
        ]
        spam = SocialComment.objects.get(pk=seeded["spam"])
        assert [(a.provider, a.operation, a.error_code) for a in spam.attempts.all()] == [
            ("x", "comment_hide", "unsupported")
        ]
        # and the message's attempt is as it was, a send
        kept = DeliveryAttempt.objects.get(message_id=seeded["message"])
        assert (kept.pk, kept.operation, kept.target_id) == (message_attempt[0]["id"], "send", None)

        # and migrated back, the old rows are rebuilt as they were
        old = _migrate(BEFORE)
        assert _old_rows(old) == before
        assert old.get_model("channels", "DeliveryAttempt").objects.count() == 1
    finally:
        _migrate(leaves)
