"""The chat widget's endpoints as a visitor's browser uses them: a conversation enters the unified
inbox like any channel, the agent's reply comes back on the long-poll, bad input is refused with a
clear 4xx, and a token opens one conversation only."""

import json

import pytest
from django.core import signing
from django.test import Client

from inbox.models import Conversation, DraftStatus, ReplyDraft
from inbox.services.drafts import draft_send
from madansara.channels.models import ChatThread, ChatThreadStatus, InboundMessage, Message
from madansara.roles import sync_roles
from website.chat import TOKEN_SALT
from website.models import ChatWidget, Site, WebsiteVisitor

ORIGIN = "https://shop.example.com"
# Committed for real: the inbox and the live events act after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def widget(site):
    return ChatWidget.objects.create(site=site, prechat_fields=[], languages=["en", "fr"])


@pytest.fixture
def browser():
    return Client(HTTP_ORIGIN=ORIGIN)


def call(client, path, body, **extra):
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(f"/chat/{path}", raw, content_type="text/plain", **extra)


def start(client, site, **fields):
    response = call(client, "start", {"site": site.public_key, "visitor": "aid-1", **fields})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def agent(django_user_model):
    sync_roles()
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="agent", password="pw-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="Agent"))
    return user


def test_config_follows_the_site_settings_and_the_visitors_language(browser, site, widget):
    widget.translations = {"fr": {"greeting": "Bonjour ! Comment pouvons-nous aider ?"}}
    widget.primary_colour = "#112233"
    widget.save()

    response = browser.get(f"/chat/config?site={site.public_key}&lang=fr-FR")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()
    assert body["language"] == "fr" and body["greeting"].startswith("Bonjour")
    assert body["colour"] == "#112233" and body["online"] is True


def test_a_visitor_message_enters_the_inbox_and_the_reply_comes_back_on_the_poll(browser, site, widget, agent):
    # Given a visitor who started a chat
    started = start(browser, site, name="Ana")

    # When they write
    sent = call(browser, "messages", {"token": started["token"], "text": "Do you ship to Canada?", "client_id": "c1"})

    # Then the message is an inbound message of the chat channel, in a conversation with a draft
    assert sent.status_code == 201
    inbound = InboundMessage.objects.get(channel="chat")
    assert inbound.text == "Do you ship to Canada?" and inbound.thread_id == started["thread"]
    conversation = Conversation.objects.get(channel="chat")
    assert conversation.participant == started["thread"]
    draft = ReplyDraft.objects.get(conversation=conversation, status=DraftStatus.PENDING)

    # When the agent approves the draft
    draft_send(draft=draft, actor=agent, text="Yes, we ship to Canada.")

    # Then the visitor's poll returns the reply (its own message first)
    polled = call(browser, "poll", {"token": started["token"], "after": started["cursor"], "wait": 0}).json()
    kinds = [(e["kind"], e["data"]["from"], e["data"]["text"]) for e in polled["events"]]
    assert kinds == [("message", "visitor", "Do you ship to Canada?"), ("message", "agent", "Yes, we ship to Canada.")]
    assert polled["cursor"] == polled["events"][-1]["id"]
    assert Message.objects.get(channel="chat").status == "sent"

    # And a later page redraws the conversation from its token
    resumed = call(browser, "resume", {"token": started["token"]}).json()
    assert [m["text"] for m in resumed["messages"]] == ["Do you ship to Canada?", "Yes, we ship to Canada."]


def test_the_chat_is_tied_to_the_identified_tracker_visitor_only(browser, site, widget):
    from madansara.contacts.models import Contact

    contact = Contact.objects.create(name="Ana")
    WebsiteVisitor.objects.create(
        site=site,
        anonymous_id="aid-1",
        contact=contact,
        first_seen_at="2026-12-01T00:00Z",
        last_seen_at="2026-12-01T00:00Z",
    )
    started = start(browser, site, email="someone-else@example.com")

    call(browser, "messages", {"token": started["token"], "text": "Hi", "client_id": "c1"})

    assert InboundMessage.objects.get(channel="chat").contact == contact
    assert Conversation.objects.get(channel="chat").contact == contact
    # what the visitor typed is kept for replies, it does not create or attach a contact
    assert ChatThread.objects.get().email == "someone-else@example.com"
    assert not Contact.objects.filter(identities__value="someone-else@example.com").exists()


def test_a_reply_to_an_away_visitor_goes_to_the_email_they_left(browser, site, widget, agent):
    widget.business_hours = {"0": [], "1": [], "2": [], "3": [], "4": [], "5": [], "6": []}
    widget.save()
    assert browser.get(f"/chat/config?site={site.public_key}").json()["online"] is False
    started = start(browser, site)
    call(browser, "messages", {"token": started["token"], "text": "Are you open on Sunday?", "client_id": "c1"})
    assert call(browser, "email", {"token": started["token"], "email": "Ana@Example.com"}).status_code == 200
    ChatThread.objects.update(last_seen_at=None)  # the page was closed

    draft = ReplyDraft.objects.get(status=DraftStatus.PENDING)
    draft_send(draft=draft, actor=agent, text="We are open from 10:00 on Sunday.")

    emailed = Message.objects.get(channel="email")
    assert emailed.to == "ana@example.com" and emailed.status == "sent"
    assert emailed.text.startswith("We are open from 10:00 on Sunday.")
    assert emailed.context["chat_thread"] == started["thread"]


def test_an_open_page_gets_the_reply_in_the_chat_only(browser, site, widget, agent):
    started = start(browser, site, email="ana@example.com")
    call(browser, "messages", {"token": started["token"], "text": "Hello?", "client_id": "c1"})
    call(browser, "poll", {"token": started["token"], "after": started["cursor"], "wait": 0})  # the page polls

    draft_send(draft=ReplyDraft.objects.get(status=DraftStatus.PENDING), actor=agent, text="Hello Ana!")

    assert not Message.objects.filter(channel="email").exists()


def test_csat_after_the_chat_ends(browser, site, widget):
    started = start(browser, site)
    token = started["token"]
    call(browser, "messages", {"token": token, "text": "Thanks, bye", "client_id": "c1"})
    assert call(browser, "csat", {"token": token, "score": 5}).status_code == 409  # still open

    assert call(browser, "close", {"token": token}).json() == {"status": "closed"}
    events = call(browser, "poll", {"token": token, "after": started["cursor"], "wait": 0}).json()["events"]
    assert events[-1]["kind"] == "closed"
    assert call(browser, "csat", {"token": token, "score": 4, "comment": "<b>quick</b> answer"}).status_code == 200

    thread = ChatThread.objects.get()
    assert (thread.status, thread.csat_score, thread.csat_comment) == (ChatThreadStatus.CLOSED, 4, "quick answer")


def test_resolving_the_conversation_in_the_inbox_asks_the_visitor_for_a_rating(browser, site, widget, agent):
    from inbox.services.conversations import conversation_status_set

    started = start(browser, site)
    call(browser, "messages", {"token": started["token"], "text": "ok", "client_id": "c1"})

    conversation_status_set(conversation=Conversation.objects.get(), status="resolved", actor=agent)

    events = call(browser, "poll", {"token": started["token"], "after": started["cursor"], "wait": 0}).json()["events"]
    assert events[-1]["kind"] == "closed" and events[-1]["data"] == {"csat": True}


def test_markup_is_removed_from_messages(browser, site, widget):
    started = start(browser, site)

    response = call(
        browser,
        "messages",
        {"token": started["token"], "text": "<script>alert(1)</script><b>Hi</b> 1 < 2 & 3", "client_id": "x"},
    )

    assert response.status_code == 201
    assert InboundMessage.objects.get().text == "Hi 1 < 2 & 3"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_payload"),
        ({"text": "hi", "client_id": "c"}, 400, "missing_field"),
        ({"token": 12, "text": "hi", "client_id": "c"}, 400, "invalid_field"),
        ({"token": "forged", "text": "hi", "client_id": "c"}, 403, "invalid_token"),
    ],
)
def test_malformed_requests_are_refused_with_a_clear_4xx(browser, site, widget, body, status, code):
    response = call(browser, "messages", body)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_oversized_and_empty_messages_are_refused(browser, site, widget, settings):
    token = start(browser, site)["token"]

    too_long = call(
        browser, "messages", {"token": token, "text": "x" * (settings.CHAT_MAX_MESSAGE_CHARS + 1), "client_id": "c"}
    )
    too_big = call(browser, "messages", {"token": token, "text": "x" * 9000, "client_id": "c"})
    only_markup = call(browser, "messages", {"token": token, "text": "<img src=x onerror=alert(1)>", "client_id": "c"})

    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "too_long"
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    assert only_markup.status_code == 422 and only_markup.json()["error"]["code"] == "empty_message"
    assert not InboundMessage.objects.exists()


def test_a_stolen_token_cannot_read_another_conversation(browser, site, widget, agent):
    # Given two visitors, each with a conversation and an agent reply
    mine = start(browser, site)
    theirs = start(Client(HTTP_ORIGIN=ORIGIN), site)
    for started in (mine, theirs):
        call(
            browser, "messages", {"token": started["token"], "text": f"secret of {started['thread']}", "client_id": "c"}
        )

    # When an attacker holding my token re-points it at their thread (payload edited, signature kept)
    parts = mine["token"].split(":")  # payload:timestamp:signature
    parts[0] = signing.b64_encode(json.dumps({"k": theirs["thread"], "s": site.pk}).encode()).decode()
    tampered = ":".join(parts)
    forged = signing.dumps({"k": theirs["thread"], "s": site.pk}, salt="another.salt")

    # Then every endpoint refuses it, and my own token only ever shows my conversation
    for token in (tampered, forged):
        for path in ("resume", "poll", "messages", "close"):
            response = call(browser, path, {"token": token, "text": "x", "client_id": "c", "wait": 0})
            assert response.status_code == 403, (path, response.content)
    history = call(browser, "resume", {"token": mine["token"]}).json()["messages"]
    assert [m["text"] for m in history] == [f"secret of {mine['thread']}"]
    events = call(browser, "poll", {"token": mine["token"], "after": 0, "wait": 0}).json()["events"]
    assert all(event["topic"] == f"chat:{mine['thread']}" for event in events)


def test_a_token_is_refused_from_another_sites_origin(site, widget):
    other = Site.objects.create(name="Other", domain="evil.example", allowed_origins=["https://evil.example"])
    ChatWidget.objects.create(site=other)
    token = start(Client(HTTP_ORIGIN=ORIGIN), site)["token"]

    response = call(Client(HTTP_ORIGIN="https://evil.example"), "resume", {"token": token})

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response or response["Access-Control-Allow-Origin"] != ORIGIN


def test_origins_the_site_did_not_register_are_refused(site, widget):
    evil = Client(HTTP_ORIGIN="https://evil.example")

    assert evil.get(f"/chat/config?site={site.public_key}").status_code == 403
    response = call(evil, "start", {"site": site.public_key})
    assert response.status_code == 403 and response.json()["error"]["code"] == "origin_not_allowed"
    assert not ChatThread.objects.exists()


def test_token_signed_for_the_thread_and_site(site, widget, browser):
    started = start(browser, site)
    data = signing.loads(started["token"], salt=TOKEN_SALT)
    assert data == {"k": started["thread"], "s": site.pk}


def test_messages_are_rate_limited_per_visitor_and_per_site(browser, site, widget, settings):
    settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = 3
    settings.CHAT_MESSAGES_PER_SITE_PER_MINUTE = 5
    first = start(browser, site)["token"]
    second = start(Client(HTTP_ORIGIN=ORIGIN), site)["token"]

    codes = [
        call(browser, "messages", {"token": first, "text": "hi", "client_id": f"a{i}"}).status_code for i in range(4)
    ]
    other = [
        call(browser, "messages", {"token": second, "text": "hi", "client_id": f"b{i}"}).status_code for i in range(3)
    ]

    assert codes == [201, 201, 201, 429]
    assert other == [201, 201, 429]  # the site's 5 per minute are used up
    assert InboundMessage.objects.count() == 5


def test_the_same_client_message_is_recorded_once(browser, site, widget):
    token = start(browser, site)["token"]

    first = call(browser, "messages", {"token": token, "text": "hello", "client_id": "retry-me"})
    again = call(browser, "messages", {"token": token, "text": "hello", "client_id": "retry-me"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert InboundMessage.objects.count() == 1


def test_prechat_fields_are_required_when_configured(browser, site, widget):
    widget.prechat_fields = ["name", "email"]
    widget.save()

    missing = call(browser, "start", {"site": site.public_key, "name": "Ana"})
    bad = call(browser, "start", {"site": site.public_key, "name": "Ana", "email": "not-an-email"})

    assert missing.status_code == 400 and "email" in missing.json()["error"]["message"]
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_email"
    assert start(browser, site, name="Ana", email="ana@example.com")["token"]


def test_erasing_the_contact_blanks_what_the_visitor_typed_into_the_widget(browser, site, widget):
    from madansara.contacts.models import Contact
    from madansara.contacts.services import contact_erase

    contact = Contact.objects.create(name="Ana")
    WebsiteVisitor.objects.create(
        site=site,
        anonymous_id="aid-1",
        contact=contact,
        first_seen_at="2026-12-01T00:00Z",
        last_seen_at="2026-12-01T00:00Z",
    )
    started = start(browser, site, name="Ana Pierre", email="ana@example.com")
    call(browser, "messages", {"token": started["token"], "text": "My address is 3 rue X", "client_id": "c1"})
    call(browser, "close", {"token": started["token"]})
    call(browser, "csat", {"token": started["token"], "score": 2, "comment": "Call me on 555-0101"})

    contact_erase(contact=contact)

    thread = ChatThread.objects.get()
    assert (thread.name, thread.email, thread.prechat, thread.csat_comment, thread.visitor_id) == ("", "", {}, "", "")
    assert thread.csat_score == 2  # the rating is not personal: it stays for the statistics
    assert InboundMessage.objects.get().text == ""


def test_an_anonymous_visitors_chat_is_a_touchpoint_credited_once_they_identify_and_convert(browser, site, widget):
    """Issue #21: the chat's messages are touchpoints for attribution also before the site identifies
    the visitor (funnel events come from the widget: test_chat_browser); erasing the contact then
    still leaves nothing of them."""
    from datetime import timedelta

    from django.utils import timezone

    from conversion.models import AttributionCredit, ConversionType, CustomerTouchpoint
    from conversion.services import conversion_record, touchpoint_record
    from madansara.contacts.models import Contact
    from madansara.contacts.services import contact_erase
    from madansara.tests.test_erasure import dump_rows
    from website.services import visitor_identify

    # given a visitor the site has not identified, who came from a search engine, then chats
    touchpoint_record(
        visitor_id="aid-1",
        channel="organic_search",
        kind="session",
        occurred_at=timezone.now() - timedelta(minutes=3),
        source="website_session",
        source_key=f"{site.pk}:sess-1",
    )
    started = start(browser, site, name="Zéphyrine Quasimodo")
    words = "is the pumpkincarburetor plan cheaper yearly?"
    sent = call(browser, "messages", {"token": started["token"], "text": words, "client_id": "c1"})
    assert sent.status_code == 201
    inbound = InboundMessage.objects.get(channel="chat")
    assert inbound.contact is None
    # then the message is the tracker visitor's chat touchpoint
    touch = CustomerTouchpoint.objects.get(channel="chat")
    assert (touch.visitor_id, touch.contact_id, touch.kind) == ("aid-1", None, "replied")
    # when the site identifies the visitor (signed), and the contact then buys
    contact_id = visitor_identify(
        site_id=site.pk, visitor_id="aid-1", identifier="zephyrine@example.org", traits={}, at=timezone.now()
    )
    inbound.refresh_from_db()
    touch.refresh_from_db()
    assert inbound.contact_id == contact_id and touch.contact_id == contact_id
    assert Conversation.objects.get(channel="chat").contact_id == contact_id
    ConversionType.objects.get_or_create(code="purchase", defaults={"name": "Purchase"})
    conversion, _ = conversion_record(
        external_id="order-77", type="purchase", value="120.00", contact_id=contact_id, occurred_at=timezone.now()
    )

    # then the attribution report credits the chat, the last touch before the purchase
    credits = {(c.model, c.channel): c.conversions for c in AttributionCredit.objects.filter(conversion=conversion)}
    assert credits[("last_touch", "chat")] == 1.0 and credits[("first_touch", "organic_search")] == 1.0
    assert credits[("linear", "chat")] == credits[("linear", "organic_search")] == 0.5
    assert ("last_touch", "organic_search") not in credits

    # and erasing the contact leaves nothing the visitor typed or was called in any table
    contact_erase(contact=Contact.objects.get(pk=contact_id))
    forms = {"pumpkincarburetor", "zéphyrine", "quasimodo", "zephyrine@example.org"}
    assert [(label, form) for label, text in dump_rows() for form in forms if form in text] == []
