"""Classification → draft → review / auto-send, with the local classifier (no API key)."""

import pytest
from django.core.management import call_command

from inbox.classifier import classify_local
from inbox.models import AIClassification, AutoSendPolicy, AutoSendSettings, DraftStatus, ReplyDraft, ResponseTemplate
from inbox.services.conversations import conversation_ingest
from inbox.services.drafts import auto_send_refusal
from madansara.contacts.models import ContactConsent
from madansara.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(inbound, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversation_ingest(inbound=inbound)
    return AIClassification.objects.get(inbound=inbound)


def test_local_classifier_is_deterministic_and_strips_quoted_history():
    text = "How much is the premium plan?\n\nOn Mon, 3 Nov 2026, Madan Sara wrote:\n> STOP to unsubscribe"
    assert classify_local(text) == classify_local(text)
    assert classify_local(text).intent == "pricing"


def test_inbound_message_gets_classified_and_a_pending_draft(make_inbound, django_capture_on_commit_callbacks):
    ResponseTemplate.objects.create(
        name="price", intent="pricing", body="Hi {{ contact.first_name }}, our prices: {{ snippet }}"
    )
    from inbox.models import KnowledgeSnippet

    KnowledgeSnippet.objects.create(title="Prices", body="Premium is $20/month.", keywords="premium,price")
    classification = run(make_inbound(text="How much does the premium plan cost?"), django_capture_on_commit_callbacks)
    assert classification.intent == "pricing" and classification.engine == "local"
    draft = ReplyDraft.objects.get(inbound=classification.inbound)
    assert draft.status == DraftStatus.PENDING
    assert draft.text == "Hi Ana, our prices: Premium is $20/month."
    assert draft.subject.startswith("Re: ") or draft.subject == "Re: your message"


def test_unsubscribe_request_updates_consent_and_needs_no_draft(make_inbound, django_capture_on_commit_callbacks):
    inbound = make_inbound(channel="sms", sender="+50937000003", text="STOP sending me these messages")
    classification = run(inbound, django_capture_on_commit_callbacks)
    assert classification.intent == "unsubscribe_request"
    consent = ContactConsent.objects.get(contact=inbound.contact, channel="sms")
    assert consent.status == "unsubscribed"
    assert not ReplyDraft.objects.filter(inbound=inbound).exists()


@pytest.mark.parametrize(
    ("channel", "sender", "text"),
    [
        ("whatsapp", "+50937000011", "Pa voye m anyen ankò"),
        ("sms", "+50937000012", "ARRET"),
        ("sms", "+18095550013", "BAJA"),
        (
            "email",
            "luc@example.com",
            "Bonjour,\n\nmerci de me retirer de votre liste.\n\nLuc\n\nLe lun. 3 nov. 2026 à 09:12, "
            "Madan Sara <hello@madansara.example> a écrit :\n> Nouveautés",
        ),
    ],
)
def test_opt_outs_in_every_language_update_consent(
    make_inbound, django_capture_on_commit_callbacks, channel, sender, text
):
    inbound = make_inbound(channel=channel, sender=sender, text=text)
    classification = run(inbound, django_capture_on_commit_callbacks)
    assert classification.intent == "unsubscribe_request"
    assert ContactConsent.objects.get(contact=inbound.contact, channel=channel).status == "unsubscribed"
    assert not ReplyDraft.objects.filter(inbound=inbound).exists()


def test_legal_threat_is_flagged_urgent_and_never_auto_sent(make_inbound, auto_on, django_capture_on_commit_callbacks):
    # Given a returning contact and a policy that would auto-send complaints' neighbours
    AutoSendPolicy.objects.create(intent="support_issue", channel="", min_confidence=0.0)
    conversation_ingest(inbound=make_inbound(subject="earlier"), classify=False)
    inbound = make_inbound(subject="new", text="I want a refund NOW or I will dispute the charge and call my lawyer")
    classification = run(inbound, django_capture_on_commit_callbacks)
    assert (classification.intent, classification.sentiment_label) == ("complaint", "negative")
    assert classification.legal_risk and classification.urgency == "high"
    assert ReplyDraft.objects.get(inbound=inbound).status == DraftStatus.PENDING


@pytest.fixture
def auto_on(db):
    AutoSendSettings.objects.create(enabled=True, negative_sentiment_threshold=-0.3, minimum_confidence=0.5)
    AutoSendPolicy.objects.create(intent="question", channel="", min_confidence=0.6)


def _draft(make_inbound, *, channel="email", sender="ana@example.com", first=False, **cls):
    inbound = make_inbound(channel=channel, sender=sender, text="q")
    conversation = conversation_ingest(inbound=inbound, classify=False)
    conversation.is_first_for_contact = first
    defaults = {"intent": "question", "confidence": 0.95, "sentiment_score": 0.1, "engine": "local"} | cls
    classification = AIClassification.objects.create(inbound=inbound, **defaults)
    draft = ReplyDraft.objects.create(
        conversation=conversation, inbound=inbound, source="local", text="hi", intent=defaults["intent"]
    )
    return draft, classification


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"intent": "complaint"}, "never auto-send complaint"),
        ({"intent": "unsubscribe_request"}, "never auto-send unsubscribe_request"),
        ({"legal_risk": True}, "legal wording"),
        ({"sentiment_score": -0.6}, "negative sentiment"),
        ({"sentiment_label": "negative", "sentiment_score": -0.1}, "negative sentiment"),
        ({"confidence": 0.55}, "low confidence"),
        ({"intent": "pricing"}, "no auto-send rule for this intent and channel"),
        ({"status": "needs_human"}, "classification needs a human"),
    ],
)
def test_auto_send_policy_matrix(make_inbound, auto_on, changes, reason):
    draft, classification = _draft(make_inbound, **changes)
    assert auto_send_refusal(draft=draft, classification=classification) == reason


def test_auto_send_never_for_first_conversation_linkedin_or_with_the_kill_switch(make_inbound, auto_on):
    draft, classification = _draft(make_inbound, first=True)
    assert auto_send_refusal(draft=draft, classification=classification) == "contact's first conversation"
    draft, classification = _draft(make_inbound, channel="linkedin", sender="urn-li-1")
    assert auto_send_refusal(draft=draft, classification=classification) == "LinkedIn replies need human approval"
    AutoSendSettings.objects.update(enabled=False)
    draft, classification = _draft(make_inbound, sender="other@example.com")
    assert auto_send_refusal(draft=draft, classification=classification) == "kill switch off"


def test_allowed_reply_is_auto_sent_marked_and_audited(make_inbound, auto_on, django_capture_on_commit_callbacks):
    # Given a returning contact (second conversation) asking a question
    conversation_ingest(inbound=make_inbound(subject="earlier"), classify=False)
    inbound = make_inbound(subject="new", text="Do you ship to Canada?")
    run(inbound, django_capture_on_commit_callbacks)
    draft = ReplyDraft.objects.get(inbound=inbound)
    assert draft.status == DraftStatus.AUTO_SENT
    assert draft.message.status == "sent" and not draft.message.human_approved
    assert draft.message.inbox_entry.auto_sent
    assert AuditEvent.objects.filter(action="inbox.draft.auto_send", target_id=str(draft.pk)).exists()


def test_evaluate_classifier_rejects_a_missing_file():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No such file"):
        call_command("evaluate_classifier", "/nonexistent.jsonl")
