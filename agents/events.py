"""What each domain's signals mean for integrators: outbound webhook events.

Identifiers and non-personal facts go to every subscribed endpoint whose scopes cover the
event's domain; names, addresses and message bodies (`personal`) only to endpoints that may
also read contacts (madansara.webhooks_out decides per endpoint).
"""

from django.db.models.signals import post_save

from conversion.models import ConversionEvent
from conversion.signals import conversion_recorded
from inbox.models import ReplyDraft
from madansara.channels.models import InboundMessage, Message, MessageEvent, MessageEventKind
from madansara.channels.signals import inbound_received, message_event, message_sent
from madansara.contacts.models import Contact
from madansara.contacts.signals import contact_erased
from madansara.models import AuditEvent
from madansara.webhooks_out.models import EventType
from madansara.webhooks_out.services import webhook_event_emit

FAILED_KINDS = {MessageEventKind.FAILED, MessageEventKind.BOUNCED, MessageEventKind.DROPPED}
DRAFT_SENT_ACTIONS = {"inbox.draft.approve", "inbox.draft.edit_send", "inbox.draft.auto_send"}
EXPERIMENT_END_ACTIONS = {"abtest.stopped", "abtest.rolled_out"}


def on_inbound_received(sender, inbound: InboundMessage, **kwargs):
    webhook_event_emit(
        event_type=EventType.MESSAGE_RECEIVED,
        data={
            "inbound_id": inbound.pk,
            "channel": inbound.channel,
            "kind": inbound.kind,
            "contact_id": inbound.contact_id,
            "received_at": inbound.received_at,
        },
        personal={"sender": inbound.sender, "subject": inbound.subject, "text": inbound.text},
    )


def _message_data(message: Message) -> dict:
    return {
        "message_id": str(message.pk),
        "channel": message.channel,
        "source": message.source,
        "contact_id": message.contact_id,
        "campaign_id": (message.context or {}).get("campaign_id"),
    }


def on_message_sent(sender, message: Message, sent_at, **kwargs):
    """Once per message, at its move to sent (whichever path sent it)."""
    webhook_event_emit(
        event_type=EventType.MESSAGE_SENT,
        data=_message_data(message) | {"sent_at": sent_at},
        personal={"to": message.to},
    )


def on_message_event(sender, message: Message, event: MessageEvent, **kwargs):
    if event.kind == MessageEventKind.DELIVERED:
        event_type = EventType.MESSAGE_DELIVERED
    elif event.kind in FAILED_KINDS:
        event_type = EventType.MESSAGE_FAILED
    else:
        return
    webhook_event_emit(
        event_type=event_type,
        data=_message_data(message)
        | {"event": event.kind, "occurred_at": event.occurred_at, "code": (event.data or {}).get("code", "")},
        personal={"to": message.to},
    )


def on_draft_saved(sender, instance: ReplyDraft, created: bool, **kwargs):
    if created:
        webhook_event_emit(
            event_type=EventType.DRAFT_CREATED,
            data={
                "draft_id": instance.pk,
                "conversation_id": instance.conversation_id,
                "intent": instance.intent,
                "confidence": instance.confidence,
                "source": instance.source,
                "sla_due_at": instance.sla_due_at,
            },
            personal={"text": instance.text},
        )


def on_audit(sender, instance: AuditEvent, created: bool, **kwargs):
    """Decisions the domains audit: draft approvals, assignments, experiments ending."""
    if not created:
        return
    data = instance.data or {}
    if instance.action in DRAFT_SENT_ACTIONS:
        webhook_event_emit(
            event_type=EventType.DRAFT_APPROVED,
            data={
                "draft_id": int(instance.target_id),
                "message_id": data.get("message"),
                "auto": instance.action == "inbox.draft.auto_send",
                "edited": instance.action == "inbox.draft.edit_send",
                "by": instance.actor_label,
            },
            personal={"text": data.get("sent", "")},
        )
    elif instance.action == "inbox.conversation.assign":
        webhook_event_emit(
            event_type=EventType.CONVERSATION_ASSIGNED,
            data={
                "conversation_id": int(instance.target_id),
                "assignee_id": data.get("to"),
                "previous_assignee_id": data.get("from"),
                "team_id": data.get("team"),
                "by": instance.actor_label,
            },
        )
    elif instance.action in EXPERIMENT_END_ACTIONS:
        webhook_event_emit(
            event_type=EventType.EXPERIMENT_CONCLUDED,
            data={
                "experiment_id": int(instance.target_id),
                "outcome": instance.action.removeprefix("abtest."),
                "reason": data.get("reason", ""),
                "winner": data.get("winner") or data.get("variant"),
            },
        )


def on_conversion(sender, conversion: ConversionEvent, **kwargs):
    webhook_event_emit(
        event_type=EventType.CONVERSION_RECORDED,
        data={
            "conversion_id": conversion.pk,
            "type": conversion.conversion_type.code,
            "value": str(conversion.value),
            "currency": conversion.currency,
            "contact_id": conversion.contact_id,
            "occurred_at": conversion.occurred_at,
            "source": conversion.source,
        },
        personal={"external_id": conversion.external_id},
    )


def on_contact_erased(sender, contact: Contact, **kwargs):
    webhook_event_emit(event_type=EventType.CONTACT_ERASED, data={"contact_id": contact.pk})


def connect() -> None:
    inbound_received.connect(on_inbound_received, dispatch_uid="agents.events.inbound")
    message_event.connect(on_message_event, dispatch_uid="agents.events.message_event")
    message_sent.connect(on_message_sent, dispatch_uid="agents.events.message_sent")
    post_save.connect(on_draft_saved, sender=ReplyDraft, dispatch_uid="agents.events.draft")
    post_save.connect(on_audit, sender=AuditEvent, dispatch_uid="agents.events.audit")
    conversion_recorded.connect(on_conversion, dispatch_uid="agents.events.conversion")
    contact_erased.connect(on_contact_erased, dispatch_uid="agents.events.contact_erased")
