"""Learning from reviewers: what they change in AI drafts becomes guidance for the next draft."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bestpractices import services
from bestpractices.models import DraftEditPattern
from bestpractices.reviewers import Draft, edit_patterns, language_of

LONG = "Thank you so much for reaching out to us! We are absolutely delighted to help you with your question about pricing today."
SHORT = "Thanks for asking. Our plans start at 10 USD a month."


def test_language_of_common_replies():
    assert language_of("Thank you for your message, we will get back to you") == "en"
    assert language_of("Gracias por su mensaje, le respondemos en un momento con los precios") == "es"
    assert language_of("ok") is None


def test_reviewers_who_shorten_drafts_teach_a_length_and_the_phrases_they_cut():
    drafts = [Draft(drafted=LONG, sent=SHORT, edited=True, rejected=False) for _ in range(8)]
    found = edit_patterns(drafts, language="en")
    assert found["edited"] == 8 and found["length_ratio"] == pytest.approx(len(SHORT) / len(LONG))
    assert found["suggested_max_length"] == int(len(SHORT) * 1.1)
    assert found["removed_phrases"] and all(phrase in LONG.lower() for phrase in found["removed_phrases"])
    assert any("shorten" in note for note in found["notes"])
    assert any("calmer tone" in note for note in found["notes"])


def test_drafts_in_the_wrong_language_are_counted_and_noted():
    english = "Thank you for your message, we will get back to you with the details"
    drafts = [Draft(drafted=english, sent="", edited=False, rejected=True, reason="wrong language") for _ in range(6)]
    found = edit_patterns(drafts, language="es")
    assert found["wrong_language"] == 6 and found["rejected"] == 6
    assert any("customer's language (es)" in note for note in found["notes"])
    assert any("wrong language" in note for note in found["notes"])


def test_too_few_drafts_teach_nothing():
    found = edit_patterns([Draft(drafted=LONG, sent=SHORT, edited=True, rejected=False)] * 2, language="en")
    assert found["notes"] == []


@pytest.mark.django_db
def test_decided_drafts_in_the_database_become_patterns_per_intent_channel_and_language(django_user_model):
    from inbox.models import AIClassification, Conversation, DraftStatus, ReplyDraft
    from madansara.channels.models import InboundMessage
    from madansara.tests.factories import make_contact

    contact = make_contact(name="Ana")
    conversation = Conversation.objects.create(contact=contact, channel="email")
    now = timezone.now()
    for i in range(6):
        inbound = InboundMessage.objects.create(
            channel="email", contact=contact, sender="a@x.io", external_id=f"m{i}", text="?"
        )
        AIClassification.objects.create(inbound=inbound, intent="pricing", language="en", engine="local")
        ReplyDraft.objects.create(
            conversation=conversation, inbound=inbound, source="llm", text=LONG, sent_text=SHORT, edited=True,
            intent="pricing", status=DraftStatus.SENT, decided_at=now - timedelta(days=1),
        )  # fmt: skip
    (pattern,) = services.draft_edits_learn()
    assert (pattern.intent, pattern.channel, pattern.language, pattern.drafts) == ("pricing", "email", "en", 6)
    assert pattern.suggested_max_length == int(len(SHORT) * 1.1)
    assert DraftEditPattern.objects.count() == 1
