"""The inbox listens to the channel layer's inbound hand-off, and blanks a contact's
conversations, notes and drafts when the contact is erased."""

from django.db.models import Q
from django.dispatch import receiver

from inbox.models import AIClassification, Conversation, InternalNote, ReplyDraft
from inbox.services.conversations import conversation_ingest, conversations_contact_attach, inbound_is_for_inbox
from madansara.audit import audit_scrub_keys
from madansara.channels.signals import inbound_contact_attached, inbound_received
from madansara.contacts.signals import contact_erased


@receiver(inbound_received, dispatch_uid="inbox.inbound_received")
def on_inbound_received(sender, inbound, **kwargs):
    """Direct messages go to a conversation; comments and mentions belong to the social app."""
    if inbound_is_for_inbox(inbound):
        conversation_ingest(inbound=inbound)


@receiver(inbound_contact_attached, dispatch_uid="inbox.inbound_contact_attached")
def on_inbound_contact_attached(sender, contact_id, inbound_ids, **kwargs):
    conversations_contact_attach(contact_id=contact_id, inbound_ids=inbound_ids)


# What the inbox's audit rows quote of a conversation (see inbox.services.drafts).
AUDIT_WORDS = {"original", "sent", "instruction"}


@receiver(contact_erased, dispatch_uid="inbox.contact_erased")
def on_contact_erased(sender, contact, values: list[str], **kwargs) -> dict[str, int]:
    """Participant, subject, search text, notes and drafts go; statuses, SLA times and counts stay."""
    conversations = Conversation.objects.filter(Q(contact_id=contact.pk) | Q(contact=None, participant__in=values))
    drafts = ReplyDraft.objects.filter(conversation__in=conversations)
    return {
        "madansara.auditevent": audit_scrub_keys(
            model=ReplyDraft, ids=drafts.values_list("pk", flat=True), keys=AUDIT_WORDS
        ),
        "inbox.aiclassification": AIClassification.objects.filter(inbound__inbox_entry__conversation__in=conversations)
        .exclude(error="")
        .update(error=""),
        "inbox.internalnote": InternalNote.objects.filter(conversation__in=conversations)
        .exclude(text="")
        .update(text=""),
        "inbox.replydraft": drafts.update(subject="", text="", sent_text="", rejection_reason="", instruction=""),
        "inbox.conversation": conversations.update(participant="", thread_key="", subject="", search_text=""),
    }
