"""Channel rules checked before any provider call (sandbox included): consent, identity,
messaging windows, human approval. Returns the ProviderError to record, or None."""

from datetime import timedelta

from django.utils import timezone

from madansara.channels.base import OutboundPayload, ProviderError
from madansara.choices import Channel

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
META_CHANNELS = {Channel.FACEBOOK, Channel.INSTAGRAM}


def requires_human_approval(channel: str) -> bool:
    """LinkedIn is manual-approval-only: every message needs a human's approval, one by one."""
    return channel == Channel.LINKEDIN


def window_error(payload: OutboundPayload, now=None) -> ProviderError | None:
    """Messaging-window and approval rules of the channel."""
    now = now or timezone.now()
    since = (now - payload.last_inbound_at) if payload.last_inbound_at else None
    if payload.channel == Channel.WHATSAPP:
        if payload.template_name:
            return None
        if since is None or since >= STANDARD_WINDOW:
            return ProviderError(
                "WhatsApp window closed: outside 24 h of the contact's last message only approved templates may be sent",
                permanent=True,
                code="window_closed",
            )
    if payload.channel in META_CHANNELS:
        if payload.context.get("comment_id"):
            return None  # private reply to a comment: its own rules (one per comment, 7 days)
        if since is not None and since < STANDARD_WINDOW:
            return None
        if payload.human_approved and since is not None and since < HUMAN_AGENT_WINDOW:
            return None
        return ProviderError(
            "Messaging window closed: no message from the contact in 24 h (7 days for human-approved replies)",
            permanent=True,
            code="window_closed",
        )
    if requires_human_approval(payload.channel) and not payload.human_approved:
        return ProviderError(
            "LinkedIn messages must be approved by a human one by one", permanent=True, code="approval_required"
        )
    return None


def meta_message_tag(payload: OutboundPayload, now=None) -> str | None:
    """HUMAN_AGENT outside the 24 h window, only for human-approved replies."""
    now = now or timezone.now()
    if payload.last_inbound_at is None or not payload.human_approved:
        return None
    since = now - payload.last_inbound_at
    return "HUMAN_AGENT" if STANDARD_WINDOW <= since < HUMAN_AGENT_WINDOW else None


def private_reply_error(*, comment_at, already_replied: bool, now=None) -> ProviderError | None:
    """A private reply to a comment: one per comment, within 7 days of the comment."""
    now = now or timezone.now()
    if already_replied:
        return ProviderError("This comment already got its private reply", permanent=True, code="already_replied")
    if comment_at is None or now - comment_at >= HUMAN_AGENT_WINDOW:
        return ProviderError(
            "Private replies are allowed within 7 days of the comment", permanent=True, code="window_closed"
        )
    return None
