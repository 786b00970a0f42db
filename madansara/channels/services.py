"""Sending and recording through the channel layer. No other code calls providers directly."""

import logging
import time

from django.db import transaction
from django.utils import timezone

from madansara.channels import registry, rules
from madansara.channels.base import OutboundPayload, Provider, ProviderError
from madansara.channels.models import (
    STATUS_RANK,
    AttemptOutcome,
    DeliveryAttempt,
    Message,
    MessageEvent,
    MessageEventKind,
    MessageStatus,
)

logger = logging.getLogger(__name__)


def message_create(*, channel: str, contact=None, to: str = "", source: str = "", **content) -> Message:
    """A queued message; `to` defaults to the contact's identity on the channel."""
    if not to and contact is not None:
        identity = contact.identities.filter(channel=channel).first()
        if identity is None:
            raise ValueError(f"Contact {contact.pk} has no {channel} identity.")
        to = identity.value
    if not to:
        raise ValueError("A recipient is required.")
    return Message.objects.create(channel=channel, contact=contact, to=to, source=source, **content)


def payload_for(message: Message) -> OutboundPayload:
    """The provider-neutral payload of a message (with the contact's messaging window)."""
    from outreach.models import ContactIdentity

    last_inbound_at = (
        ContactIdentity.objects.filter(channel=message.channel, value=message.to)
        .values_list("last_inbound_at", flat=True)
        .first()
    )
    return OutboundPayload(
        channel=message.channel,
        to=message.to,
        message_id=str(message.id),
        text=message.text,
        html=message.html,
        subject=message.subject,
        media_urls=list(message.media_urls or []),
        template_name=message.template_name,
        template_variables=dict(message.template_variables or {}),
        headers=dict(message.headers or {}),
        reply_to=message.reply_to,
        categories=list(message.categories or []),
        human_approved=message.human_approved,
        last_inbound_at=last_inbound_at,
        context=dict(message.context or {}),
    )


def _consent_error(message: Message) -> ProviderError | None:
    from outreach.models import ConsentStatus, ContactConsent, ContactIdentity

    if (
        message.contact_id
        and ContactConsent.objects.filter(
            contact_id=message.contact_id, channel=message.channel, status=ConsentStatus.UNSUBSCRIBED
        ).exists()
    ):
        return ProviderError("The contact unsubscribed from this channel", permanent=True, code="unsubscribed")
    if ContactIdentity.objects.filter(channel=message.channel, value=message.to, is_valid=False).exists():
        return ProviderError("The recipient identity is flagged as invalid", permanent=True, code="invalid_identity")
    return None


def message_send(*, message: Message, provider: Provider | None = None) -> DeliveryAttempt | None:
    """Make one delivery attempt. Claims the message (queued → sending) first, so two workers
    never send it twice; returns None when it was not queued. The attempt is recorded whatever
    happens; a transient error puts the message back to queued for the caller to retry."""
    claimed = Message.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SENDING, attempts_count=message.attempts_count + 1
    )
    if not claimed:
        return None
    message.refresh_from_db()
    provider = provider or registry.provider_for(message.channel)
    payload = payload_for(message)
    started = time.perf_counter()
    error = _consent_error(message) or rules.window_error(payload)
    result = None
    if error is None:
        try:
            result = provider.send(payload)
        except ProviderError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - network failures etc. are transient by default
            logger.warning("provider call failed", extra={"provider": provider.name, "error": exc.__class__.__name__})
            error = ProviderError(f"{exc.__class__.__name__}: {exc}", permanent=False, code="exception")
    latency_ms = int((time.perf_counter() - started) * 1000)
    return _record_attempt(message=message, provider=provider, result=result, error=error, latency_ms=latency_ms)


@transaction.atomic
def _record_attempt(*, message, provider, result, error, latency_ms) -> DeliveryAttempt:
    now = timezone.now()
    if error is None:
        attempt = DeliveryAttempt.objects.create(
            message=message,
            provider=provider.name,
            outcome=AttemptOutcome.SUCCESS,
            latency_ms=latency_ms,
            provider_message_id=result.provider_message_id,
        )
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENT,
            provider=provider.name,
            provider_message_id=result.provider_message_id,
            cost=result.cost,
            currency=result.currency,
            sent_at=now,
        )
        MessageEvent.objects.create(message=message, kind=MessageEventKind.SENT, occurred_at=now)
        return attempt
    outcome = AttemptOutcome.PERMANENT if error.permanent else AttemptOutcome.TRANSIENT
    attempt = DeliveryAttempt.objects.create(
        message=message,
        provider=provider.name,
        outcome=outcome,
        error_code=error.code,
        error_message=error.message[:500],
        retry_after=error.retry_after,
        latency_ms=latency_ms,
    )
    if error.permanent:
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.FAILED,
            provider=provider.name,
            failure_code=error.code,
            failure_reason=error.message[:500],
            failed_at=now,
        )
        MessageEvent.objects.create(
            message=message, kind=MessageEventKind.FAILED, occurred_at=now, data={"code": error.code}
        )
        _apply_side_effects(message=message, error=error)
    else:
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.QUEUED, provider=provider.name)
    return attempt


def _apply_side_effects(*, message: Message, error: ProviderError) -> None:
    from outreach.models import ContactIdentity

    if error.identity_invalid:
        ContactIdentity.objects.filter(channel=message.channel, value=message.to).update(
            is_valid=False, invalid_reason=error.message[:255]
        )
    if error.consent_revoked and message.contact_id:
        from outreach.services.contacts import consent_set

        consent_set(
            contact=message.contact,
            channel=message.channel,
            status="unsubscribed",
            source=f"{message.provider or 'provider'}:{error.code}",
        )


EVENT_STATUS = {
    MessageEventKind.DELIVERED: (MessageStatus.DELIVERED, "delivered_at"),
    MessageEventKind.OPENED: (MessageStatus.OPENED, "opened_at"),
    MessageEventKind.CLICKED: (MessageStatus.CLICKED, "clicked_at"),
    MessageEventKind.REPLIED: (MessageStatus.REPLIED, "replied_at"),
    MessageEventKind.BOUNCED: (MessageStatus.FAILED, "failed_at"),
    MessageEventKind.DROPPED: (MessageStatus.FAILED, "failed_at"),
    MessageEventKind.FAILED: (MessageStatus.FAILED, "failed_at"),
}


@transaction.atomic
def message_event_record(
    *, message: Message, kind: str, occurred_at=None, provider_event_id: str | None = None, data: dict | None = None
) -> MessageEvent | None:
    """Add an event to a message's timeline and move its status forward (never backwards).
    Returns None when the provider event was already recorded (idempotent)."""
    if provider_event_id and MessageEvent.objects.filter(provider_event_id=provider_event_id).exists():
        return None
    occurred_at = occurred_at or timezone.now()
    event = MessageEvent.objects.create(
        message=message, kind=kind, occurred_at=occurred_at, provider_event_id=provider_event_id, data=data or {}
    )
    if kind in EVENT_STATUS:
        status, stamp = EVENT_STATUS[kind]
        fields = {stamp: occurred_at}
        current = Message.objects.select_for_update().values_list("status", flat=True).get(pk=message.pk)
        moves_forward = STATUS_RANK[status] > STATUS_RANK[current] and current != MessageStatus.FAILED
        if status == MessageStatus.FAILED or moves_forward:
            fields["status"] = status
        Message.objects.filter(pk=message.pk).update(**fields)
    return event
