"""The message state machine: each transition leaves one named status, so two workers never both
move the same message, and provider events never move a message backwards."""

import pytest
from django.utils import timezone

from madansara.channels import states
from madansara.channels.models import MessageEventKind, MessageStatus

pytestmark = pytest.mark.django_db


def test_only_one_worker_claims_a_queued_message(make_message):
    message = make_message()
    assert states.claim(message_id=message.pk) is True
    assert states.claim(message_id=message.pk) is False
    message.refresh_from_db()
    assert (message.status, message.attempts_count) == (MessageStatus.SENDING, 1)


def test_a_sent_message_is_never_requeued_failed_or_given_up(make_message):
    message = make_message()
    states.claim(message_id=message.pk)
    now = timezone.now()
    assert states.mark_sent(message_id=message.pk, provider="sandbox", provider_message_id="p1", cost=None,
                            currency="USD", at=now)  # fmt: skip
    assert not states.requeue(message_id=message.pk)
    assert not states.mark_failed(message_id=message.pk, provider="sandbox", code="x", reason="late", at=now)
    assert not states.give_up(message_id=message.pk, code="retries_exhausted", reason="", at=now)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@pytest.mark.parametrize(
    ("current", "kind", "target"),
    [
        (MessageStatus.SENT, MessageEventKind.DELIVERED, MessageStatus.DELIVERED),
        (MessageStatus.OPENED, MessageEventKind.DELIVERED, None),  # a late event never moves back
        (MessageStatus.CLICKED, MessageEventKind.BOUNCED, MessageStatus.FAILED),  # failure always wins
        (MessageStatus.FAILED, MessageEventKind.OPENED, None),
        (MessageStatus.SENT, MessageEventKind.DEFERRED, None),  # not a status change
    ],
)
def test_provider_events_move_a_message_forward_only(current, kind, target):
    assert states.event_target(current=current, kind=kind) == target


def test_the_sql_fragments_take_the_choices_values():
    assert states.SQL_VALUES == {"status_queued": "queued", "status_sending": "sending", "status_sent": "sent"}
    assert "'" not in states.SQL_MARK_SENT + states.SQL_CLAIM_NEXT


def test_a_late_answer_never_puts_a_message_another_worker_sent_back_in_the_queue(make_message):
    from madansara.channels.base import ProviderError
    from madansara.channels.providers.sandbox import SandboxProvider
    from madansara.channels.services import message_send, record_attempt

    message = make_message()
    provider = SandboxProvider("email")
    # given worker A claimed the message and is still waiting on the provider when its lease runs out,
    assert states.claim(message_id=message.pk)
    # so the dispatcher that re-claims it finds it in flight, requeues it and sends it
    assert states.requeue(message_id=message.pk)
    assert message_send(message=message, provider=provider).outcome == "success"
    # when A's provider call finally ends in a timeout (transient)
    timeout = ProviderError("Timeout", permanent=False, code="timeout")
    record_attempt(message=message, provider=provider, result=None, error=timeout, latency_ms=10_000)
    # then the message stays sent: nothing will send it a third time
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
