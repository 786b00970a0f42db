"""Sandbox simulator: fake what a real provider would report for a message sent in the sandbox."""

import uuid

from django.db import transaction

from madansara.channels.email_ids import email_message_id
from madansara.channels.inbound import inbound_record
from madansara.channels.models import InboundMessage, Message, MessageEvent, MessageEventKind
from madansara.channels.services import message_event_record
from madansara.choices import Channel

SIMULATED_EVENTS = {
    "delivered": MessageEventKind.DELIVERED,
    "open": MessageEventKind.OPENED,
    "click": MessageEventKind.CLICKED,
    "failure": MessageEventKind.FAILED,
    "bounce": MessageEventKind.BOUNCED,
}
SIMULATIONS = (*SIMULATED_EVENTS, "reply")


@transaction.atomic
def sandbox_simulate(*, message: Message, event: str, text: str = "") -> MessageEvent | InboundMessage:
    """Record a simulated delivered/open/click/failure/bounce event, or a reply from the recipient
    (an InboundMessage threaded to the message, which moves it to replied)."""
    if message.provider and message.provider != "sandbox":
        raise ValueError("Only messages sent through the sandbox can be simulated.")
    if event == "reply":
        headers = {}
        if message.channel == Channel.EMAIL:
            our_id = email_message_id(message.pk)
            headers = {"message_id": f"<{uuid.uuid4()}@sandbox.invalid>", "in_reply_to": our_id, "references": our_id}
        inbound, _ = inbound_record(
            channel=message.channel,
            external_id=f"sbx-in-{uuid.uuid4().hex[:24]}",
            sender=message.to,
            recipient="sandbox",
            thread_id=message.to,
            subject=f"Re: {message.subject}" if message.subject else "",
            text=text or "Thanks, tell me more!",
            headers=headers,
            reply_to_provider_id=message.provider_message_id or "",
        )
        return inbound
    if event not in SIMULATED_EVENTS:
        raise ValueError(f"Unknown simulation '{event}'; choose one of {', '.join(SIMULATIONS)}.")
    data = {"simulated": True}
    if event in ("failure", "bounce"):
        data["reason"] = "Simulated failure"
    return message_event_record(
        message=message,
        kind=SIMULATED_EVENTS[event],
        provider_event_id=f"sbx-ev-{uuid.uuid4().hex}",
        data=data,
    )
