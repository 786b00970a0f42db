"""Reply drafts: composed from history, contact facts, templates and snippets; approved,
edited or rejected by a human (or auto-sent within the policy); sent through the channel layer."""

import logging
import uuid
from datetime import UTC

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from inbox.classifier import strip_quoted
from inbox.models import (
    AIClassification,
    AutoSendPolicy,
    AutoSendSettings,
    ClassificationStatus,
    Conversation,
    ConversationMessage,
    Direction,
    DraftStatus,
    Intent,
    KnowledgeSnippet,
    ReplyDraft,
    ResponseTemplate,
)
from inbox.services.conversations import clean_subject, message_id_header, referenced_ids
from inbox.services.sla import sla_record_response
from madansara.audit import audit_record
from madansara.channels.models import InboundMessage, MessageStatus
from madansara.channels.services import message_create, message_send
from madansara.choices import Channel
from madansara.llm import LLMError, llm_available, llm_structured
from madansara.metrics import DRAFTS
from madansara.templating import LENGTH_LIMITS, TemplateError, template_render

logger = logging.getLogger(__name__)
DRAFT_PROMPT_VERSION = "draft-v1"
NEVER_AUTO_INTENTS = {"complaint", "unsubscribe_request", "spam", "out_of_office"}
WHATSAPP_WINDOW_HOURS = 24
TEMPLATE_VARIABLES = {"contact", "conversation", "agent", "snippet"}
FALLBACK_REPLY = {
    "en": "Hello {name}, thank you for your message. We have received it and will get back to you shortly.",
    "fr": "Bonjour {name}, merci pour votre message. Nous l'avons bien reçu et revenons vers vous très vite.",
    "es": "Hola {name}, gracias por su mensaje. Lo hemos recibido y le responderemos muy pronto.",
    "ht": "Bonjou {name}, mèsi pou mesaj ou. Nou resevwa l, n ap reponn ou byento.",
}


class DraftError(Exception):
    """A draft cannot be sent or decided in its current state."""


# --- composing -------------------------------------------------------------------------------


def snippets_for(*, text: str, limit: int = 3) -> list[KnowledgeSnippet]:
    """Active snippets whose keywords appear in the text (the team maintains them in the admin)."""
    lowered = text.lower()
    found = []
    for snippet in KnowledgeSnippet.objects.filter(is_active=True):
        words = [w.strip().lower() for w in snippet.keywords.split(",") if w.strip()]
        if any(w in lowered for w in words):
            found.append(snippet)
    return found[:limit]


def template_for(*, intent: str, channel: str, language: str) -> ResponseTemplate | None:
    """The best approved template: same intent, then channel and language match first."""
    candidates = ResponseTemplate.objects.filter(is_approved=True, intent=intent)
    ranked = sorted(
        (t for t in candidates if t.channel in ("", channel)),
        key=lambda t: (t.channel != channel, t.language not in ("", language), t.language == "", t.pk),
    )
    return ranked[0] if ranked else None


def template_context(*, conversation: Conversation, agent=None, snippet: str = "") -> dict:
    contact = conversation.contact
    return {
        "contact": {
            "name": (contact.name if contact else "") or "",
            "first_name": ((contact.name if contact else "") or "").split(" ")[0],
            "stage": contact.lifecycle_stage if contact else "",
            **({k: v for k, v in (contact.attributes or {}).items() if isinstance(k, str)} if contact else {}),
        },
        "conversation": {"subject": conversation.subject, "channel": conversation.channel, "id": conversation.pk},
        "agent": {"name": (agent.get_full_name() or agent.get_username()) if agent else "The team"},
        "snippet": snippet,
    }


def recent_conversions(contact, limit: int = 3) -> list[str]:
    """The contact's latest conversions (orders, sign-ups) from the conversion app, newest first."""
    try:
        conversion_event = apps.get_model("conversion", "ConversionEvent")
    except LookupError:
        return []
    rows = conversion_event.objects.filter(contact=contact).select_related("conversion_type").order_by("-occurred_at")
    return [f"{r.conversion_type.name} {r.value} {r.currency} on {r.occurred_at:%Y-%m-%d}" for r in rows[:limit]]


def contact_facts(conversation: Conversation) -> str:
    """Facts the drafter may use: stage, attributes, the campaign that reached them."""
    contact = conversation.contact
    lines = []
    if contact is not None:
        lines.append(f"Name: {contact.name or 'unknown'}; stage: {contact.lifecycle_stage}; locale: {contact.locale}")
        if contact.attributes:
            lines.append("Attributes: " + ", ".join(f"{k}={v}" for k, v in list(contact.attributes.items())[:15]))
        conversions = recent_conversions(contact)
        if conversions:
            lines.append("Recent conversions: " + "; ".join(conversions))
    if conversation.campaign_message_id:
        campaign = conversation.campaign_message
        lines.append(f"They answer our outreach message: {campaign.subject or campaign.text[:200]}")
    return "\n".join(lines)


def history_text(conversation: Conversation, limit: int = 10) -> str:
    entries = list(
        ConversationMessage.objects.filter(conversation=conversation)
        .select_related("inbound", "outbound")
        .order_by("-created_at", "-id")[:limit]
    )
    lines = []
    for entry in reversed(entries):
        if entry.direction == Direction.INBOUND:
            lines.append(f"Customer: {strip_quoted(entry.inbound.text)[:1000]}")
        else:
            lines.append(f"Us: {entry.outbound.text[:1000]}")
    return "\n".join(lines)


DRAFT_SCHEMA = {
    "type": "object",
    "properties": {
        "reply": {"type": "string", "minLength": 1},
        "used_snippets": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["reply", "used_snippets"],
    "additionalProperties": False,
}
DRAFT_SYSTEM = """You draft replies for a customer-service team (prompt {version}). Write in the customer's
language ({language}), on {channel}, at most {limit} characters, warm and precise. Use only the
facts, templates and knowledge snippets given; never invent prices, dates or promises. If you
cannot answer, say a team member will follow up. A human reviews your draft before it is sent."""


def rejection_feedback(*, intent: str, limit: int = 5) -> list[str]:
    """Recent reasons reviewers gave when rejecting drafts of this intent (fed back into prompts)."""
    rows = ReplyDraft.objects.filter(status=DraftStatus.REJECTED, intent=intent).order_by("-decided_at")
    return list(dict.fromkeys(rows.values_list("rejection_reason", flat=True)[: limit * 2]))[:limit]


def _compose_llm(*, conversation, inbound, classification, template_text, snippets, limit) -> str:
    system = DRAFT_SYSTEM.format(
        version=DRAFT_PROMPT_VERSION, language=classification.language, channel=conversation.channel, limit=limit
    )
    parts = [
        f"Conversation so far:\n{history_text(conversation)}",
        f"Contact facts:\n{contact_facts(conversation) or 'none'}",
        f"Intent: {classification.intent}; sentiment: {classification.sentiment_label}",
    ]
    if template_text:
        parts.append(f"Approved template for this intent:\n{template_text}")
    if snippets:
        parts.append("Knowledge base:\n" + "\n".join(f"- {s.title}: {s.body}" for s in snippets))
    feedback = rejection_feedback(intent=classification.intent)
    if feedback:
        parts.append(
            "Reviewers rejected earlier drafts for this intent because:\n" + "\n".join(f"- {r}" for r in feedback)
        )
    parts.append(f"Reply to the customer's latest message:\n{strip_quoted(inbound.text)[:4000]}")
    result = llm_structured(
        system=system,
        messages=[{"role": "user", "content": "\n\n".join(parts)}],
        tool_name="reply_draft",
        tool_schema=DRAFT_SCHEMA,
        max_tokens=800,
    )
    return result.data["reply"]


def compose_reply(*, conversation: Conversation, inbound: InboundMessage, classification: AIClassification):
    """(text, source, template) for a draft; the LLM when available, else template/fallback."""
    template = template_for(
        intent=classification.intent, channel=conversation.channel, language=classification.language
    )
    snippets = snippets_for(text=strip_quoted(inbound.text))
    snippet_text = "\n".join(s.body for s in snippets)
    context = template_context(conversation=conversation, agent=conversation.assignee, snippet=snippet_text)
    template_text = ""
    if template is not None:
        try:
            template_text = template_render(source=template.body, context=context)
        except TemplateError as exc:
            logger.warning("response template failed", extra={"template": template.pk, "error": str(exc)})
    limit = LENGTH_LIMITS.get(conversation.channel, 10000)
    if llm_available():
        try:
            text = _compose_llm(
                conversation=conversation,
                inbound=inbound,
                classification=classification,
                template_text=template_text,
                snippets=snippets,
                limit=limit,
            )
            return text[:limit], "llm", template
        except LLMError as exc:
            logger.warning("llm draft failed, using templates", extra={"error": exc.message})
    if template_text:
        return template_text[:limit], "template", template
    name = context["contact"]["first_name"] or ""
    text = FALLBACK_REPLY.get(classification.language, FALLBACK_REPLY["en"]).format(name=name).replace(" ,", ",")
    if snippet_text:
        text = f"{text}\n\n{snippet_text}"
    return text[:limit], "local", None


def _needs_reply(intent: str) -> bool:
    configured = Intent.objects.filter(code=intent).values_list("needs_reply", flat=True).first()
    if configured is not None:
        return configured
    return intent not in {"spam", "out_of_office", "unsubscribe_request"}


def _low_risk(intent: str) -> bool:
    return bool(Intent.objects.filter(code=intent).values_list("low_risk", flat=True).first())


def draft_create(*, inbound: InboundMessage) -> ReplyDraft | None:
    """The pending draft for an inbound message that needs an answer (None when it needs none)."""
    classification = AIClassification.objects.get(inbound=inbound)
    conversation = Conversation.objects.select_related("contact", "campaign_message", "assignee").get(
        entries__inbound=inbound
    )
    if classification.status == ClassificationStatus.DONE and not _needs_reply(classification.intent):
        return None
    text, source, template = compose_reply(conversation=conversation, inbound=inbound, classification=classification)
    DRAFTS.labels(source).inc()
    with transaction.atomic():
        ReplyDraft.objects.filter(conversation=conversation, status=DraftStatus.PENDING).update(
            status=DraftStatus.SUPERSEDED
        )
        return ReplyDraft.objects.create(
            conversation=conversation,
            inbound=inbound,
            source=source,
            template=template,
            subject=reply_subject(conversation, inbound),
            text=text,
            whatsapp_template_name=template.whatsapp_template_name if template else "",
            intent=classification.intent,
            confidence=classification.confidence,
            low_risk=_low_risk(classification.intent) and classification.status == ClassificationStatus.DONE,
            sla_due_at=conversation.response_due,
        )


# --- policy ----------------------------------------------------------------------------------


def auto_send_refusal(*, draft: ReplyDraft, classification: AIClassification) -> str | None:
    """Why a draft may not be auto-sent (None: it may). Order: hard rules, then the policy."""
    conversation = draft.conversation
    switch = AutoSendSettings.current()
    if not switch.enabled:
        return "kill switch off"
    if conversation.channel == Channel.LINKEDIN:
        return "LinkedIn replies need human approval"
    if classification.status != ClassificationStatus.DONE:
        return "classification needs a human"
    if classification.intent in NEVER_AUTO_INTENTS:
        return f"never auto-send {classification.intent}"
    if classification.legal_risk:
        return "legal wording"
    if (
        classification.sentiment_label == "negative"
        or classification.sentiment_score < switch.negative_sentiment_threshold
    ):
        return "negative sentiment"
    if conversation.is_first_for_contact:
        return "contact's first conversation"
    if classification.confidence < switch.minimum_confidence:
        return "low confidence"
    policy = (
        AutoSendPolicy.objects.filter(
            intent=classification.intent, channel__in=[conversation.channel, ""], enabled=True
        )
        .order_by("-channel")
        .first()
    )
    if policy is None:
        return "no auto-send rule for this intent and channel"
    if classification.confidence < policy.min_confidence:
        return "low confidence"
    return None


# --- sending and deciding --------------------------------------------------------------------


def reply_subject(conversation: Conversation, inbound: InboundMessage) -> str:
    if conversation.channel != Channel.EMAIL:
        return ""
    base = clean_subject(inbound.subject) or conversation.subject
    return f"Re: {base}"[:998] if base else "Re: your message"


def quoted_history(inbound: InboundMessage) -> str:
    when = inbound.received_at.astimezone(UTC).strftime("%a, %d %b %Y at %H:%M UTC")
    quoted = "\n".join(f"> {line}" for line in (inbound.text or "").splitlines())
    return f"On {when}, {inbound.sender} wrote:\n{quoted}"


def _outbound_content(*, draft: ReplyDraft, text: str, message_id: uuid.UUID) -> dict:
    conversation, inbound = draft.conversation, draft.inbound
    content = {"text": text}
    if conversation.channel == Channel.EMAIL:
        ids = referenced_ids(inbound)
        own = (inbound.headers or {}).get("message_id") or (inbound.headers or {}).get("Message-ID") or ""
        refs = [f"<{i}>" for i in reversed(ids)]
        if own:
            refs.append(own if own.startswith("<") else f"<{own}>")
        content |= {
            "subject": draft.subject or reply_subject(conversation, inbound),
            "text": f"{text}\n\n{quoted_history(inbound)}",
            "reply_to": conversation.reply_address,
            "headers": {
                "Message-ID": message_id_header(message_id),
                **({"In-Reply-To": refs[-1], "References": " ".join(dict.fromkeys(refs))} if refs else {}),
            },
        }
    if conversation.channel == Channel.WHATSAPP and _whatsapp_window_closed(conversation):
        content["template_name"] = draft.whatsapp_template_name
    if inbound.thread_id:
        content["context"] = {"thread_id": inbound.thread_id}
    return content


def _whatsapp_window_closed(conversation: Conversation) -> bool:
    last = conversation.last_inbound_at
    return last is None or (timezone.now() - last).total_seconds() >= WHATSAPP_WINDOW_HOURS * 3600


def draft_send(*, draft: ReplyDraft, actor, text: str | None = None, auto: bool = False) -> ReplyDraft:
    """Approve (optionally edited) and send now; audited with the original and the sent text.

    Raises DraftError when the draft is no longer pending, PermissionError when a human actor
    lacks `inbox.approve_replydraft`.
    """
    if not auto and not (actor and actor.has_perm("inbox.approve_replydraft")):
        raise PermissionError("Only users allowed to approve replies may send drafts.")
    final_text = (text if text is not None else draft.text).strip()
    if not final_text:
        raise DraftError("The reply is empty.")
    conversation = draft.conversation
    window_closed = conversation.channel == Channel.WHATSAPP and _whatsapp_window_closed(conversation)
    if window_closed and not draft.whatsapp_template_name:
        raise DraftError("The WhatsApp 24 h window is closed: choose a template with an approved WhatsApp template.")
    message_id = uuid.uuid4()
    with transaction.atomic():
        claimed = ReplyDraft.objects.filter(pk=draft.pk, status=DraftStatus.PENDING).update(
            status=DraftStatus.AUTO_SENT if auto else DraftStatus.SENT,
            sent_text=final_text,
            edited=final_text != draft.text.strip(),
            decided_by=None if auto else actor,
            decided_at=timezone.now(),
        )
        if not claimed:
            raise DraftError("This draft was already decided.")
        message = message_create(
            id=message_id,
            channel=conversation.channel,
            contact=conversation.contact,
            to=conversation.participant,
            source="inbox",
            in_reply_to=draft.inbound,
            human_approved=not auto,
            **_outbound_content(draft=draft, text=final_text, message_id=message_id),
        )
        ReplyDraft.objects.filter(pk=draft.pk).update(message=message)
        ConversationMessage.objects.create(
            conversation=conversation,
            direction=Direction.OUTBOUND,
            outbound=message,
            author=None if auto else actor,
            auto_sent=auto,
        )
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        sla_record_response(conversation=conversation, auto=auto)
        now = timezone.now()
        conversation.first_responded_at = conversation.first_responded_at or now
        conversation.awaiting_reply = False
        conversation.sla_breached = False
        conversation.last_message_at = now
        if conversation.assignee_id is None and not auto:
            conversation.assignee = actor
        conversation.save(
            update_fields=["first_responded_at", "awaiting_reply", "sla_breached", "last_message_at", "assignee"]
        )
        audit_record(
            actor=actor if not auto else "auto-send",
            action="inbox.draft.auto_send"
            if auto
            else ("inbox.draft.edit_send" if final_text != draft.text.strip() else "inbox.draft.approve"),
            target=draft,
            data={"original": draft.text, "sent": final_text, "message": str(message_id), "intent": draft.intent},
        )
    message_send(message=message)
    message.refresh_from_db()
    if message.status == MessageStatus.FAILED:
        ReplyDraft.objects.filter(pk=draft.pk).update(status=DraftStatus.FAILED)
    elif message.status == MessageStatus.QUEUED:
        from inbox.tasks import send_reply_task

        send_reply_task.apply_async((str(message.pk),), countdown=30)
    draft.refresh_from_db()
    return draft


@transaction.atomic
def draft_reject(*, draft: ReplyDraft, actor, reason: str) -> ReplyDraft:
    """Reject with a reason, kept as feedback for prompts and the best-practices engine."""
    if not reason.strip():
        raise DraftError("A rejection needs a reason.")
    claimed = ReplyDraft.objects.filter(pk=draft.pk, status=DraftStatus.PENDING).update(
        status=DraftStatus.REJECTED, rejection_reason=reason.strip()[:500], decided_by=actor, decided_at=timezone.now()
    )
    if not claimed:
        raise DraftError("This draft was already decided.")
    audit_record(
        actor=actor, action="inbox.draft.reject", target=draft, data={"original": draft.text, "reason": reason.strip()}
    )
    draft.refresh_from_db()
    return draft


def drafts_bulk_approve(*, drafts, actor) -> tuple[int, list[str]]:
    """Send every pending low-risk draft of the selection; returns (sent, skipped reasons)."""
    sent, skipped = 0, []
    for draft in drafts.select_related("conversation", "inbound"):
        if not draft.low_risk or draft.conversation.channel == Channel.LINKEDIN:
            skipped.append(f"#{draft.pk}: not low-risk")
            continue
        try:
            draft_send(draft=draft, actor=actor)
            sent += 1
        except (DraftError, PermissionError) as exc:
            skipped.append(f"#{draft.pk}: {exc}")
    return sent, skipped


# --- the pipeline after classification -------------------------------------------------------


def inbound_after_classification(*, inbound: InboundMessage) -> ReplyDraft | None:
    """Consent for unsubscribe requests, then a draft, then auto-send when the policy allows."""
    classification = AIClassification.objects.get(inbound=inbound)
    if classification.intent == "unsubscribe_request" and inbound.contact_id:
        from outreach.services.contacts import consent_set

        consent_set(
            contact=inbound.contact,
            channel=inbound.channel,
            status="unsubscribed",
            source="inbox:unsubscribe_request",
            note=f"inbound #{inbound.pk}",
        )
    if ReplyDraft.objects.filter(inbound=inbound).exists():
        return None
    draft = draft_create(inbound=inbound)
    if draft is None:
        return None
    if auto_send_refusal(draft=draft, classification=classification) is None:
        return draft_send(draft=draft, actor=None, auto=True)
    return draft
