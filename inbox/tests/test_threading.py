"""Every inbound message lands in exactly one conversation."""

import pytest

from inbox.models import Conversation, ConversationStatus
from inbox.services.conversations import conversation_ingest, message_id_header
from madansara.channels.services import message_create

pytestmark = pytest.mark.django_db


def ingest(inbound):
    return conversation_ingest(inbound=inbound, classify=False)


def test_reply_to_our_email_joins_the_conversation(make_inbound):
    # Given a conversation to which we replied with our Message-ID
    first = ingest(
        make_inbound(subject="Lamps", text="Do you ship to Canada?", headers={"message_id": "<c1@mail.example>"})
    )
    ours = message_create(channel="email", to="ana@example.com", source="inbox", text="Yes we do")
    ours.headers = {"Message-ID": message_id_header(ours.id)}
    ours.save()
    first.entries.create(direction="out", outbound=ours)
    # When the customer answers it, with our id in In-Reply-To and the history in References
    reply = make_inbound(
        subject="Re: Lamps",
        text="Great, how much?\n\nOn Mon, we wrote:\n> Yes we do",
        headers={
            "message_id": "<c2@mail.example>",
            "in_reply_to": message_id_header(ours.id),
            "references": f"<c1@mail.example> {message_id_header(ours.id)}",
        },
    )
    # Then it lands in the same conversation
    assert ingest(reply) == first
    assert first.entries.count() == 3


def test_reply_with_only_references_still_threads(make_inbound):
    first = ingest(make_inbound(subject="Order"))
    ours = message_create(channel="email", to="ana@example.com", source="inbox", text="ok")
    first.entries.create(direction="out", outbound=ours)
    reply = make_inbound(subject="Re: Order", headers={"references": [f"<{ours.id}@reply.madansara.local>"]})
    assert ingest(reply) == first


def test_forwarded_mail_without_our_headers_starts_a_new_conversation(make_inbound):
    first = ingest(make_inbound(subject="Order"))
    forwarded = make_inbound(subject="Fwd: Order", text="---------- Forwarded message ---------\nFrom: Paul")
    assert ingest(forwarded) != first


def test_new_subject_from_the_same_contact_is_a_new_conversation(make_inbound):
    first = ingest(make_inbound(subject="Order 1"))
    assert ingest(make_inbound(subject="Something else")) != first
    assert Conversation.objects.filter(contact=first.contact).count() == 2


def test_reply_token_address_threads_mail_that_lost_its_headers(make_inbound):
    first = ingest(make_inbound(subject="Order"))
    again = make_inbound(subject="my answer", recipient=first.reply_address)
    assert ingest(again) == first


def test_answer_to_a_campaign_message_links_back_to_it(make_inbound):
    campaign_message = message_create(channel="email", to="ana@example.com", source="campaign", subject="Sale!")
    inbound = make_inbound(subject="Re: Sale!", headers={"in_reply_to": message_id_header(campaign_message.id)})
    conversation = ingest(inbound)
    assert conversation.campaign_message == campaign_message


def test_dm_threads_by_channel_thread_then_contact(make_inbound):
    first = ingest(make_inbound(channel="instagram", sender="ana.p", text="hi", thread_id="t-1"))
    assert ingest(make_inbound(channel="instagram", sender="ana.p", text="price?", thread_id="t-1")) == first
    sms = ingest(make_inbound(channel="sms", sender="+50937000001", text="hello"))
    assert ingest(make_inbound(channel="sms", sender="+50937000001", text="again")) == sms
    assert sms != first


def test_new_message_reopens_a_resolved_conversation(make_inbound):
    conversation = ingest(make_inbound(channel="whatsapp", sender="+50937000002"))
    Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.RESOLVED)
    again = ingest(make_inbound(channel="whatsapp", sender="+50937000002", text="one more thing"))
    again.refresh_from_db()
    assert again == conversation and again.status == ConversationStatus.OPEN and again.awaiting_reply


def test_ingesting_twice_is_idempotent(make_inbound):
    inbound = make_inbound(subject="Hello")
    assert ingest(inbound) == ingest(inbound)
    assert Conversation.objects.count() == 1


def test_channel_signal_routes_messages_but_not_comments(make_inbound):
    from madansara.channels.signals import inbound_received

    message = make_inbound(channel="facebook", sender="100200", text="hi")
    comment = make_inbound(channel="facebook", sender="100201", text="nice post", kind="comment")
    inbound_received.send(sender=None, inbound=message)
    inbound_received.send(sender=None, inbound=comment)
    assert Conversation.objects.filter(participant="100200").exists()
    assert not Conversation.objects.filter(participant="100201").exists()
