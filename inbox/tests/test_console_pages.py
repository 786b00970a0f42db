"""The console's pages as people use them: local drafts built from the team's knowledge in the
contact's language, the conversation page with its reply box, and each role's home."""

import pytest
from django.contrib.auth import get_user_model

from inbox.models import AIClassification, DraftStatus, KnowledgeSnippet, ReplyDraft, ResponseTemplate
from inbox.services.assignment import conversation_assign
from inbox.services.conversations import conversation_ingest
from inbox.services.drafts import compose_reply, conversation_version_token, draft_regenerate

pytestmark = pytest.mark.django_db


@pytest.fixture
def knowledge():
    KnowledgeSnippet.objects.create(
        title="Refunds", language="en", keywords="refund, charged twice", body="We refund double charges in 3 days."
    )
    KnowledgeSnippet.objects.create(
        title="Remboursements", language="fr", keywords="rembourse, deux fois", body="Nous remboursons sous 3 jours."
    )
    KnowledgeSnippet.objects.create(title="Hours", language="en", keywords="open, hours", body="Open 8 to 18.")


def classified(make_inbound, text, *, language="en", intent="support_issue", sender="ana@example.com"):
    inbound = make_inbound(text=text, sender=sender)
    conversation = conversation_ingest(inbound=inbound, classify=False)
    classification = AIClassification.objects.create(
        inbound=inbound, intent=intent, confidence=0.9, language=language, engine="local"
    )
    return conversation, inbound, classification


def test_a_draft_without_a_key_is_built_from_the_matching_knowledge(settings, make_inbound, knowledge):
    settings.ANTHROPIC_API_KEY = ""
    conversation, inbound, classification = classified(make_inbound, "I was charged twice, I want a refund")

    composed = compose_reply(conversation=conversation, inbound=inbound, classification=classification)

    assert composed.source == "local" and composed.language == "en"
    assert "We refund double charges in 3 days." in composed.text and "Open 8 to 18" not in composed.text
    assert composed.text.startswith("Hello Ana,")
    assert [s.title for s in composed.snippets] == ["Refunds"]


def test_a_french_message_gets_a_french_draft_from_french_knowledge(settings, make_inbound, knowledge):
    settings.ANTHROPIC_API_KEY = ""
    conversation, inbound, classification = classified(
        make_inbound, "Vous m'avez prélevé deux fois, remboursez-moi", language="fr"
    )

    composed = compose_reply(conversation=conversation, inbound=inbound, classification=classification)

    assert composed.language == "fr" and composed.text.startswith("Bonjour Ana,")
    assert "Nous remboursons sous 3 jours." in composed.text and "We refund" not in composed.text


def test_a_template_in_the_contacts_language_wins_and_is_filled(settings, make_inbound, knowledge):
    settings.ANTHROPIC_API_KEY = ""
    ResponseTemplate.objects.create(name="en", intent="support_issue", language="en", body="EN {{ snippet }}")
    ResponseTemplate.objects.create(
        name="fr", intent="support_issue", language="fr", body="Bonjour {{ contact.first_name }}, {{ snippet }}"
    )
    conversation, inbound, classification = classified(make_inbound, "remboursez deux fois", language="fr")

    composed = compose_reply(conversation=conversation, inbound=inbound, classification=classification)

    assert composed.source == "template" and composed.text == "Bonjour Ana, Nous remboursons sous 3 jours."


def test_regenerate_with_an_instruction_supersedes_the_draft(settings, make_inbound, knowledge, user_in_role):
    settings.ANTHROPIC_API_KEY = ""
    conversation, inbound, classification = classified(make_inbound, "charged twice, refund please")
    draft = ReplyDraft.objects.create(conversation=conversation, inbound=inbound, source="local", text="Hi")

    new = draft_regenerate(draft=draft, actor=user_in_role("Agent"), instruction="answer in French")

    draft.refresh_from_db()
    assert draft.status == DraftStatus.SUPERSEDED and new.status == DraftStatus.PENDING
    assert new.language == "fr" and new.instruction == "answer in French"
    with pytest.raises(PermissionError):
        draft_regenerate(draft=new, actor=user_in_role("Analyst"), instruction="shorter")


def test_the_conversation_page_is_a_thread_with_a_reply_box(client, make_inbound, user_in_role):
    conversation, inbound, _ = classified(make_inbound, "Where is my parcel?")
    client.force_login(user_in_role("Agent"))
    url = f"/admin/inbox/conversation/{conversation.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Where is my parcel?" in html and 'id="reply-text"' in html and 'name="_snooze"' in html
    assert "reply_token" not in html  # not the model form

    version = conversation_version_token(type(conversation).objects.get(pk=conversation.pk))
    response = client.post(url, {"_reply": "1", "text": "It left today.", "version": version, "snooze_hours": 4})

    assert response.status_code == 302
    sent = ReplyDraft.objects.get(conversation=conversation)
    assert sent.status == DraftStatus.SENT and sent.sent_text == "It left today."


def test_the_conversation_page_refuses_a_reply_from_a_stale_page(client, make_inbound, user_in_role):
    conversation, _, _ = classified(make_inbound, "Where is my parcel?")
    stale = conversation_version_token(type(conversation).objects.get(pk=conversation.pk))
    other = user_in_role("Agent")
    conversation_assign(conversation=conversation, assignee=other, actor=other)  # another agent takes it
    client.force_login(user_in_role("Agent"))

    response = client.post(
        f"/admin/inbox/conversation/{conversation.pk}/change/",
        {"_reply": "1", "text": "It left today.", "version": stale, "snooze_hours": 4},
    )

    assert response.status_code == 200 and "Nothing was sent" in response.content.decode()
    assert not ReplyDraft.objects.filter(status=DraftStatus.SENT).exists()


def test_an_analyst_cannot_act_on_the_conversation_page(client, make_inbound, user_in_role):
    conversation, _, _ = classified(make_inbound, "Where is my parcel?")
    client.force_login(user_in_role("Analyst"))
    url = f"/admin/inbox/conversation/{conversation.pk}/change/"
    assert client.get(url).status_code == 200
    for button in ("_reply", "_resolve", "_assign", "_note", "_snooze"):
        response = client.post(url, {button: "1", "text": "x", "note": "x", "snooze_hours": 4})
        assert response.status_code == 403, button
    conversation.refresh_from_db()
    assert conversation.status == "open" and not conversation.notes.exists()


@pytest.mark.parametrize(
    ("role", "cards"),
    [
        ("Agent", ["My queue", "SLA breaches", "Oldest waiting"]),
        ("Marketer", ["Running campaigns", "Experiments waiting for a decision", "Best channels"]),
        ("Analyst", ["Funnel", "Attribution (linear, last 30 days)", "Return on spend (last 30 days)"]),
    ],
)
def test_each_role_has_a_home_with_its_cards(client, user_in_role, role, cards):
    client.force_login(user_in_role(role))
    page = client.get("/admin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{role} home" in html and "Django administration" not in html
    for title in cards:
        assert f"<h2>{title}</h2>" in html
    assert 'class="help empty-chart"' in html or "<svg" in html or "why" in html


def test_contacts_are_found_by_part_of_a_name_address_or_number(client, make_inbound, user_in_role):
    make_inbound(text="hi", sender="ana.pierre@example.com")
    make_inbound(text="hi", channel="sms", sender="+50937001234")
    client.force_login(user_in_role("Agent"))
    for term in ("Pierre", "ana.pie", "7001234"):
        html = client.get("/admin/contacts/contact/", {"q": term}).content.decode()
        assert "Ana Pierre" in html, term
    listing = client.get("/admin/contacts/contact/").content.decode()
    assert "ana.pierre@example.com" in listing and "+50937001234" in listing
    assert get_user_model().objects.filter(username__startswith="agent").exists()
