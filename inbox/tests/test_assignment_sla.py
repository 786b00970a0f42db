"""Round-robin assignment within capacity, SLA due times, breaches, snoozing."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from inbox.models import Agent, BusinessHours, Conversation, SLAEvent, SLAPolicy, Team
from inbox.selectors import reply_report, sla_counts
from inbox.services.conversations import conversation_ingest, conversation_status_set, conversations_reopen_snoozed
from inbox.services.sla import sla_record_breaches

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(django_user_model):
    team = Team.objects.create(name="Support")
    for name, capacity, available in [("a1", 2, True), ("a2", 1, True), ("a3", 5, False)]:
        user = django_user_model.objects.create_user(username=name)
        Agent.objects.create(user=user, team=team, capacity=capacity, is_available=available)
    return team


def ingest(make_inbound, i, **kw):
    return conversation_ingest(inbound=make_inbound(sender=f"c{i}@example.com", subject=f"s{i}", **kw), classify=False)


def test_round_robin_respects_capacity_and_availability(team, make_inbound):
    conversations = [ingest(make_inbound, i) for i in range(4)]
    assignees = [c.assignee.username if c.assignee else None for c in conversations]
    # a3 is unavailable; a1 holds 2, a2 holds 1; the fourth waits in the unassigned queue
    assert assignees == ["a1", "a2", "a1", None]
    assert Conversation.objects.filter(assignee__isnull=True, team=team).count() == 1


def test_resolving_frees_capacity(team, make_inbound):
    first = ingest(make_inbound, 0)
    for i in range(1, 3):
        ingest(make_inbound, i)
    conversation_status_set(conversation=first, status="resolved", actor=None)
    assert ingest(make_inbound, 9).assignee.username == "a1"


def test_first_response_due_counts_business_hours(team, make_inbound):
    team.business_hours = BusinessHours.objects.create(
        name="weekdays", timezone="UTC", schedule={str(d): [["09:00", "17:00"]] for d in range(5)}
    )
    team.save()
    SLAPolicy.objects.create(
        name="default", first_response_minutes=60, next_response_minutes=120, resolution_minutes=600
    )
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    conversation = ingest(make_inbound, 1, received_at=saturday)
    assert conversation.first_response_due == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_breaches_are_recorded_once_and_counted(make_inbound):
    SLAPolicy.objects.create(name="default", first_response_minutes=120)
    late = ingest(make_inbound, 1, received_at=timezone.now() - timedelta(hours=3))
    soon = ingest(make_inbound, 2, received_at=timezone.now() - timedelta(minutes=100))
    ingest(make_inbound, 3)
    assert sla_counts() == {"at_risk": 1, "breached": 1}
    assert sla_record_breaches() == 1
    assert sla_record_breaches() == 0
    late.refresh_from_db()
    assert late.sla_breached and SLAEvent.objects.get().kind == "first_response"
    assert not Conversation.objects.get(pk=soon.pk).sla_breached


def test_snoozed_conversation_reopens_when_its_time_comes(make_inbound):
    conversation = ingest(make_inbound, 1)
    conversation_status_set(
        conversation=conversation, status="snoozed", actor=None, snoozed_until=timezone.now() + timedelta(hours=1)
    )
    assert conversations_reopen_snoozed() == 0
    assert conversations_reopen_snoozed(now=timezone.now() + timedelta(hours=2)) == 1
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.snoozed_until is None


def test_reply_report_separates_human_and_auto(make_inbound):
    from inbox.models import ReplyDraft

    conversation = ingest(make_inbound, 1)
    inbound = conversation.entries.get().inbound
    ReplyDraft.objects.create(conversation=conversation, inbound=inbound, source="local", text="a", status="auto_sent")
    ReplyDraft.objects.create(conversation=conversation, inbound=inbound, source="local", text="b", status="sent")
    ReplyDraft.objects.create(conversation=conversation, inbound=inbound, source="local", text="c", status="sent")
    report = reply_report()
    assert (report["human_sent"], report["auto_sent"]) == (2, 1)


def test_replies_are_measured_against_first_then_next_response(make_inbound, user_in_role):
    from inbox.models import ReplyDraft
    from inbox.services.drafts import draft_send

    SLAPolicy.objects.create(name="default", first_response_minutes=60, next_response_minutes=30)
    first = make_inbound(subject="Hi", text="question one")
    conversation = conversation_ingest(inbound=first, classify=False)
    draft = ReplyDraft.objects.create(conversation=conversation, inbound=first, source="local", text="answer one")
    draft_send(draft=draft, actor=user_in_role("Agent"))
    second = make_inbound(subject="Re: Hi", recipient=conversation.reply_address, text="question two")
    conversation_ingest(inbound=second, classify=False)
    conversation.refresh_from_db()
    assert conversation.awaiting_reply and conversation.next_response_due is not None
    assert conversation.response_due == conversation.next_response_due
    event = SLAEvent.objects.get()
    assert (event.kind, event.met, event.auto) == ("first_response", True, False)
