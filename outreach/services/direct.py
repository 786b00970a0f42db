"""Send one message to one contact on their best channel (the send-one API and AI agents).

The same rules as a campaign send: the channel is ranked like the planner ranks it (eligible,
not capped, the contact's own response rate after MIN_HISTORY sends else the population's,
cost), consent must be opted in, suppressed addresses and closed messaging windows are never
used, frequency caps count campaign rows and direct sends, quiet hours defer the send to the
contact's next window. Then the action policy decides: sent now, queued for a human's
approval, or refused. The message itself goes through the channel layer like every other.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from madansara.audit import audit_record
from madansara.channels import registry
from madansara.channels.models import Message, MessageStatus
from madansara.channels.retry import SEND
from madansara.channels.services import message_create, message_send
from madansara.choices import Channel
from madansara.contacts.models import (
    PHONE_CHANNELS,
    ConsentStatus,
    Contact,
    ContactConsent,
    ContactIdentity,
    normalize_identity,
)
from madansara.models import ActionPolicy, PolicyAction, PolicyTier
from madansara.templating import TemplateError, rendered_length_error, template_render
from outreach.models import (
    ChannelTemplate,
    ContactEngagement,
    DirectSend,
    DirectSendStatus,
    HoldReason,
    OutboxMessage,
    SuppressionEntry,
)
from outreach.models.direct import DIRECT_COUNTED
from outreach.services.content import _email_footer, _url, unsubscribe_token
from outreach.services.dispatch import lease
from outreach.services.dispatch.send_one import _resolve_in_flight as resolve_in_flight
from outreach.services.planning import (
    ACTIVE_OUTBOX,
    MANUAL_ONLY,
    MESSAGING_WINDOW,
    MIN_HISTORY,
    WINDOW_CHANNELS,
    channel_costs,
    frequency_caps,
    in_quiet_hours,
    population_rates,
    send_instant,
)

# The sending window of direct sends, in the contact's zone (a campaign's default window).
WINDOW_START, WINDOW_END = 9, 20


class SendRefused(Exception):
    """The action policy refuses sends by API keys and agents."""


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request."""


class DirectSendError(Exception):
    """The send cannot be decided in its current state."""


def request_fingerprint(data: dict) -> str:
    """A stable hash of a request body (same key + same body = the same request)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def contact_resolve(*, contact_id: int | None = None, email: str = "", phone: str = "") -> Contact:
    """The active contact with this id, e-mail or phone (SMS or WhatsApp); raises Contact.DoesNotExist."""
    contacts = Contact.objects.active()
    if contact_id:
        return contacts.get(pk=contact_id)
    if email:
        return contacts.get(
            identities__channel=Channel.EMAIL, identities__value=normalize_identity(Channel.EMAIL, email)
        )
    if phone:
        number = normalize_identity(Channel.SMS, phone)
        return contacts.filter(identities__channel__in=PHONE_CHANNELS, identities__value=number).distinct().get()
    raise ValidationError({"contact": ["Give a contact id, an e-mail or a phone number."]})


@dataclass
class ChannelChoice:
    channel: str
    reason: str = ""
    score: float | None = None
    hold_reason: str = ""


def _loads(contact: Contact, now: datetime, exclude_id: int | None) -> dict[str, tuple[int, int]]:
    """Messages per channel planned or sent to the contact: (today, last 7 days), campaigns and direct."""
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=6)
    counts: dict[str, list[int]] = {}
    sources = [
        OutboxMessage.objects.filter(contact=contact, due_at__gte=week_start, status__in=ACTIVE_OUTBOX),
        DirectSend.objects.filter(contact=contact, due_at__gte=week_start, status__in=DIRECT_COUNTED)
        .exclude(pk=exclude_id)
        .exclude(channel=""),
    ]
    for rows in sources:
        for row in rows.values("channel").annotate(week=Count("id"), day=Count("id", filter=Q(due_at__gte=day_start))):
            pair = counts.setdefault(row["channel"], [0, 0])
            pair[0] += row["day"]
            pair[1] += row["week"]
    return {channel: (day, week) for channel, (day, week) in counts.items()}


def direct_channel_choose(
    *, contact: Contact, channels: list[str], whatsapp_templated: bool = False, now: datetime, exclude_id=None
) -> ChannelChoice:
    """The best channel among `channels` for one contact, ranked like the planner ranks a step's
    channels, or the guard that holds the send back (suppressed, unsubscribed, frequency cap, no channel)."""
    identities = {i.channel: i for i in ContactIdentity.objects.filter(contact=contact, channel__in=channels)}
    consents = dict(
        ContactConsent.objects.filter(contact=contact, channel__in=channels).values_list("channel", "status")
    )
    values = [i.value for i in identities.values()]
    suppressed = {(entry.channel, entry.plain_value(values)) for entry in SuppressionEntry.objects.matching(values)}
    engagement = {g.channel: g for g in ContactEngagement.objects.filter(contact=contact, channel__in=channels)}
    rates, costs = population_rates(), channel_costs()
    (global_day, global_week), per_channel = frequency_caps()
    loads = _loads(contact, now, exclude_id)
    total_day = sum(day for day, _ in loads.values())
    total_week = sum(week for _, week in loads.values())
    ranked = []
    for channel in channels:
        identity = identities.get(channel)
        windowed = channel in WINDOW_CHANNELS or (channel == Channel.WHATSAPP and not whatsapp_templated)
        eligible = bool(
            identity
            and identity.is_valid
            and consents.get(channel) == ConsentStatus.OPTED_IN
            and ("", identity.value) not in suppressed
            and (channel, identity.value) not in suppressed
            and (not windowed or (identity.last_inbound_at and identity.last_inbound_at >= now - MESSAGING_WINDOW))
        )
        day, week = loads.get(channel, (0, 0))
        cap_day, cap_week = per_channel[channel]
        capped = day >= cap_day or week >= cap_week or total_day >= global_day or total_week >= global_week
        stats = engagement.get(channel)
        own = stats is not None and stats.sent >= MIN_HISTORY
        score = stats.responses / stats.sent if own else rates[channel]
        ranked.append(((not eligible, capped, -score, costs[channel], channel), channel, eligible, capped, score, own))
    if not ranked:
        return ChannelChoice(channel="", hold_reason=HoldReason.NO_CHANNEL)
    _, channel, eligible, capped, score, own = min(ranked)
    if not eligible:
        if any(("", i.value) in suppressed or (i.channel, i.value) in suppressed for i in identities.values()):
            hold = HoldReason.SUPPRESSED
        elif ConsentStatus.UNSUBSCRIBED in consents.values():
            hold = HoldReason.UNSUBSCRIBED
        else:
            hold = HoldReason.NO_CHANNEL
        return ChannelChoice(channel=channel if channel in identities else "", hold_reason=hold)
    reason = "requested" if len(channels) == 1 else ("contact" if own else "population")
    return ChannelChoice(
        channel=channel, reason=reason, score=score, hold_reason=HoldReason.FREQUENCY_CAP if capped else ""
    )


def _candidates(*, template_name: str, text: str, channel: str) -> tuple[list[str], bool]:
    """(channels the content can go on, whether WhatsApp has an approved template)."""
    if template_name:
        templates = list(ChannelTemplate.objects.filter(name=template_name))
        if not templates:
            raise ValidationError({"template": [f"No template named '{template_name}'."]})
        available = sorted({t.channel for t in templates})
        whatsapp_templated = any(t.channel == Channel.WHATSAPP and t.whatsapp_template for t in templates)
    elif text.strip():
        available, whatsapp_templated = list(Channel.values), False
    else:
        raise ValidationError({"text": ["Give a template or a text."]})
    if channel:
        if channel not in available:
            raise ValidationError({"channel": [f"The template '{template_name}' has no {channel} version."]})
        return [channel], whatsapp_templated
    return [c for c in available if c not in MANUAL_ONLY], whatsapp_templated


def direct_send_request(
    *,
    contact: Contact,
    actor,
    text: str = "",
    subject: str = "",
    template_name: str = "",
    channel: str = "",
    api_key=None,
    via: str = "api",
    idempotency_key: str = "",
    fingerprint: str = "",
    now: datetime | None = None,
) -> tuple[DirectSend, bool]:
    """Request one message to `contact`; returns (the send, whether it is a replay of an earlier
    request with the same idempotency key). Raises SendRefused, IdempotencyConflict, ValidationError."""
    now = now or timezone.now()
    owner = f"key:{api_key.pk}" if api_key is not None else f"user:{getattr(actor, 'pk', '')}"
    if idempotency_key:
        earlier = DirectSend.objects.filter(idempotency_owner=owner, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _replay(earlier, fingerprint), True
    tier, note = ActionPolicy.tier_for(PolicyAction.SEND_MESSAGE)
    key_label = f"{api_key.name} (ms_{api_key.prefix}_…)" if api_key is not None else ""
    if tier == PolicyTier.REFUSED:
        audit_record(
            actor=actor, action="outreach.direct_send.refused", target=contact, data={"api_key": key_label, "via": via}
        )
        raise SendRefused(note or "The action policy refuses messages sent by API keys and agents.")
    channels, whatsapp_templated = _candidates(template_name=template_name, text=text, channel=channel)
    choice = direct_channel_choose(contact=contact, channels=channels, whatsapp_templated=whatsapp_templated, now=now)
    if choice.hold_reason:
        status = DirectSendStatus.HELD
    elif tier == PolicyTier.APPROVAL:
        status = DirectSendStatus.AWAITING_APPROVAL
    else:
        status = DirectSendStatus.SCHEDULED
    try:
        with transaction.atomic():
            send = DirectSend.objects.create(
                contact=contact, channel=choice.channel, requested_channel=channel, template_name=template_name,
                subject=subject, text=text, status=status, hold_reason=choice.hold_reason, reason=choice.reason,
                channel_score=choice.score, due_at=now, requested_by=actor if getattr(actor, "pk", None) else None,
                api_key=api_key, via=via, idempotency_owner=owner if idempotency_key else "",
                idempotency_key=idempotency_key, request_hash=fingerprint, created_at=now,
            )  # fmt: skip
            audit_record(
                actor=actor,
                action="outreach.direct_send.request",
                target=send,
                data={"api_key": key_label, "via": via, "tier": tier, "status": status, "channel": choice.channel},
            )
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its send.
        earlier = DirectSend.objects.get(idempotency_owner=owner, idempotency_key=idempotency_key)
        return _replay(earlier, fingerprint), True
    if send.status == DirectSendStatus.SCHEDULED:
        direct_send_deliver(send_id=send.pk, now=now)
        send.refresh_from_db()
    return send, False


def _replay(earlier: DirectSend, fingerprint: str) -> DirectSend:
    if earlier.request_hash != fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request.")
    return earlier


# --- deciding and delivering ------------------------------------------------------------------
def direct_send_approve(*, send: DirectSend, actor, now: datetime | None = None) -> DirectSend:
    """A reviewer approves a queued send: it goes out now (or at the contact's next window)."""
    if not actor.has_perm("outreach.approve_directsend"):
        raise PermissionError("Only users allowed to approve sends may approve them.")
    now = now or timezone.now()
    with transaction.atomic():
        decided = DirectSend.objects.filter(pk=send.pk, status=DirectSendStatus.AWAITING_APPROVAL).update(
            status=DirectSendStatus.SCHEDULED, due_at=now, decided_by=actor, decided_at=now
        )
        if not decided:
            raise DirectSendError("This send was already decided.")
        audit_record(actor=actor, action="outreach.direct_send.approve", target=send)
    direct_send_deliver(send_id=send.pk, now=now)
    send.refresh_from_db()
    return send


@transaction.atomic
def direct_send_reject(*, send: DirectSend, actor, reason: str = "") -> DirectSend:
    """A reviewer rejects a queued send; nothing is sent."""
    if not actor.has_perm("outreach.approve_directsend"):
        raise PermissionError("Only users allowed to approve sends may reject them.")
    decided = DirectSend.objects.filter(pk=send.pk, status=DirectSendStatus.AWAITING_APPROVAL).update(
        status=DirectSendStatus.REJECTED, decided_by=actor, decided_at=timezone.now(), error=reason[:500]
    )
    if not decided:
        raise DirectSendError("This send was already decided.")
    audit_record(actor=actor, action="outreach.direct_send.reject", target=send, data={"reason": reason})
    send.refresh_from_db()
    return send


def _context(send: DirectSend) -> dict:
    contact = send.contact
    token = unsubscribe_token(contact_id=contact.pk, channel=send.channel)
    return {
        "contact": {
            "name": contact.name,
            "first_name": (contact.name or "").split(" ")[0],
            "external_id": contact.external_id or "",
            "locale": contact.locale,
            "lifecycle_stage": contact.lifecycle_stage,
            "attributes": contact.attributes or {},
        },
        "campaign": {"name": ""},
        "links": {},
        "unsubscribe_url": _url("outreach:unsubscribe", token),
        "preferences_url": _url("outreach:unsubscribe", token),
        "company_address": settings.COMPANY_POSTAL_ADDRESS,
    }


def direct_send_render(*, send: DirectSend) -> dict:
    """The message content for the send's channel: its template rendered for the contact, or the
    text as written. E-mails get the unsubscribe footer. Raises ValueError on content errors."""
    context = _context(send)
    content: dict = {"subject": "", "text": "", "html": "", "template_name": "", "template_variables": {}}
    if send.template_name:
        template = ChannelTemplate.objects.filter(name=send.template_name, channel=send.channel).order_by("id").first()
        if template is None:
            raise ValueError(f"The template '{send.template_name}' has no {send.channel} version.")
        try:
            if send.channel == Channel.WHATSAPP and template.whatsapp_template:
                content["template_name"] = template.whatsapp_template
                content["template_variables"] = {
                    k: template_render(source=str(v), context=context) for k, v in template.whatsapp_variables.items()
                }
            else:
                content["text"] = template_render(source=template.text, context=context) if template.text else ""
                if send.channel == Channel.EMAIL:
                    content["subject"] = template_render(source=template.subject, context=context).strip()
                    content["html"] = (
                        template_render(source=template.html, context=context, html=True) if template.html else ""
                    )
        except TemplateError as exc:
            raise ValueError(f"Template '{template.name}': {exc}") from exc
    else:
        content["text"] = send.text
        if send.channel == Channel.EMAIL:
            content["subject"] = send.subject or f"A message from {settings.EMAIL_FROM_NAME}"
    if send.channel == Channel.EMAIL:
        content["html"], content["text"] = _email_footer(html=content["html"], text=content["text"], context=context)
        content["headers"] = {
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    for name in ("subject", "text"):
        error = rendered_length_error(channel=send.channel, field_name=name, text=content[name])
        if error:
            raise ValueError(error)
    return content


def direct_send_deliver(*, send_id: int, provider=None, now: datetime | None = None) -> str:
    """Send a scheduled row that is due, once: claim it (scheduled → sending), check the guards
    again, defer to the contact's window in quiet hours, then one attempt through the channel
    layer. Returns what happened (sent, failed, held, deferred, retry, lost)."""
    now = now or timezone.now()
    # The claim stamps due_at with its time: a row `sending` for longer than the lease belongs
    # to a worker that died (direct_sends_recover).
    claimed = DirectSend.objects.filter(pk=send_id, status=DirectSendStatus.SCHEDULED, due_at__lte=now).update(
        status=DirectSendStatus.SENDING, due_at=now
    )
    if not claimed:
        return "lost"
    send = DirectSend.objects.select_related("contact", "message").get(pk=send_id)
    if send.message_id is None:
        templated = bool(
            send.template_name
            and ChannelTemplate.objects.filter(name=send.template_name, channel=Channel.WHATSAPP)
            .exclude(whatsapp_template="")
            .exists()
        )
        choice = direct_channel_choose(
            contact=send.contact, channels=[send.channel], whatsapp_templated=templated, now=now, exclude_id=send.pk
        )
        if choice.hold_reason:
            _set(send, status=DirectSendStatus.HELD, hold_reason=choice.hold_reason)
            return "held"
        if in_quiet_hours(tzname=send.contact.timezone, start=WINDOW_START, end=WINDOW_END, now=now):
            due = send_instant(
                tzname=send.contact.timezone, hour=WINDOW_START, start=WINDOW_START, end=WINDOW_END, now=now
            )
            _set(send, status=DirectSendStatus.SCHEDULED, due_at=due, hold_reason=HoldReason.QUIET_HOURS)
            return "deferred"
        try:
            content = direct_send_render(send=send)
        except ValueError as exc:
            _set(send, status=DirectSendStatus.FAILED, hold_reason=HoldReason.CONTENT, error=str(exc)[:500])
            return "failed"
        with transaction.atomic():
            message = message_create(
                channel=send.channel, contact=send.contact, source="direct",
                context={"direct_send_id": send.pk, "via": send.via}, **content,
            )  # fmt: skip
            _set(send, message=message)
    message = send.message
    if message.status == MessageStatus.QUEUED:
        attempt = message_send(message=message, provider=provider)
        message.refresh_from_db()
        if message.status == MessageStatus.QUEUED and attempt is not None:
            attempts = send.attempts + 1
            if SEND.exhausted(attempts):
                _set(send, status=DirectSendStatus.FAILED, attempts=attempts, error=attempt.error_message[:500])
                return "failed"
            due = now + timedelta(seconds=SEND.delay(attempts, attempt.retry_after))
            _set(
                send,
                status=DirectSendStatus.SCHEDULED,
                attempts=attempts,
                due_at=due,
                error=attempt.error_message[:500],
            )
            return "retry"
    if message.status == MessageStatus.FAILED:
        _set(send, status=DirectSendStatus.FAILED, error=f"{message.failure_code}: {message.failure_reason}"[:500])
        return "failed"
    if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        _set(send, status=DirectSendStatus.SCHEDULED, due_at=now + timedelta(minutes=1))
        return "deferred"
    _set(send, status=DirectSendStatus.SENT, sent_at=message.sent_at or now, hold_reason="", error="")
    return "sent"


def _set(send: DirectSend, **fields) -> None:
    DirectSend.objects.filter(pk=send.pk).update(**fields)
    for name, value in fields.items():
        setattr(send, name, value)


def direct_sends_due(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Deliver scheduled sends whose time has come (quiet hours over, retries due)."""
    now = now or timezone.now()
    ids = DirectSend.objects.filter(status=DirectSendStatus.SCHEDULED, due_at__lte=now).order_by("due_at")
    outcomes: dict[str, int] = {}
    for send_id in list(ids.values_list("id", flat=True)[:limit]):
        outcome = direct_send_deliver(send_id=send_id, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def direct_sends_recover(*, provider=None, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Finish sends left `sending` by a worker that died (claimed longer than a lease ago), never
    sending one twice: no message yet, or a queued one → nothing went out, deliver it; a message
    still `sending` died around the provider call → ask the provider (lookup by our message id,
    the dispatcher's rule): found → record that success, not found → send again under the same
    message id (the provider's idempotency key); a final message → record its outcome."""
    now = now or timezone.now()
    stale = DirectSend.objects.filter(status=DirectSendStatus.SENDING, due_at__lt=now - lease())
    outcomes: dict[str, int] = {}
    for send_id in list(stale.order_by("due_at").values_list("id", flat=True)[:limit]):
        # Take the row over: exactly one recoverer moves it back to scheduled, due now.
        if not stale.filter(pk=send_id).update(status=DirectSendStatus.SCHEDULED, due_at=now):
            continue
        message = Message.objects.filter(direct_send__pk=send_id).first()
        if message is not None and message.status == MessageStatus.SENDING:
            resolve_in_flight(message, provider or registry.provider_for(message.channel))
        outcome = direct_send_deliver(send_id=send_id, provider=provider, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def direct_sends_summary() -> dict[str, int]:
    """Direct sends per status (admin and agents)."""
    return dict(DirectSend.objects.order_by().values_list("status").annotate(n=Count("id")))
