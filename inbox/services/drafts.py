"""Reply drafts: composed from history, contact facts, templates and snippets; approved,
edited or rejected by a human (or auto-sent within the policy); sent through the channel layer."""

import hashlib
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from inbox.classifier import strip_quoted
from inbox.live import inbox_changed
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
from inbox.services import conversations
from inbox.services.sla import sla_record_response
from madansara.audit import audit_record
from madansara.channels.models import InboundMessage, MessageStatus
from madansara.channels.retry import SEND
from madansara.channels.services import message_create, message_send
from madansara.channels.tasks import message_send_task
from madansara.choices import Channel
from madansara.contacts.services import consent_set
from madansara.guidance import draft_guidance
from madansara.llm import LLMError, llm_available, llm_structured
from madansara.metrics import DRAFTS
from madansara.templating import LENGTH_LIMITS, TemplateError, template_render

logger = logging.getLogger(__name__)
DRAFT_PROMPT_VERSION = "draft-v1"
NEVER_AUTO_INTENTS = {"complaint", "unsubscribe_request", "spam", "out_of_office"}
WHATSAPP_WINDOW_HOURS = 24
TEMPLATE_VARIABLES = {"contact", "conversation", "agent", "snippet"}
SUPPORTED_LANGUAGES = ("en", "fr", "es", "ht")
LANGUAGE_NAMES = {
    "fr": {"french", "francais"},
    "es": {"spanish", "espanol"},
    "ht": {"creole", "kreyol", "haitian"},
    "en": {"english", "anglais"},
}
# The local composer's frame around the retrieved knowledge, per language.
LOCAL_PHRASES = {
    "en": {
        "hello": "Hello {name}", "hello_anon": "Hello", "thanks": "Thank you for your message.",
        "more": "If anything is still unclear, just reply to this message.",
        "ack": "Thank you for your message. A member of the team is looking into it and will answer you shortly.",
        "bye": "Kind regards,",
    },
    "fr": {
        "hello": "Bonjour {name}", "hello_anon": "Bonjour", "thanks": "Merci pour votre message.",
        "more": "Si quelque chose n'est pas clair, répondez simplement à ce message.",
        "ack": "Merci pour votre message. Un membre de l'équipe s'en occupe et vous répond très vite.",
        "bye": "Cordialement,",
    },
    "es": {
        "hello": "Hola {name}", "hello_anon": "Hola", "thanks": "Gracias por su mensaje.",
        "more": "Si algo no queda claro, responda a este mensaje.",
        "ack": "Gracias por su mensaje. Un miembro del equipo lo está revisando y le responderá muy pronto.",
        "bye": "Saludos cordiales,",
    },
    "ht": {
        "hello": "Bonjou {name}", "hello_anon": "Bonjou", "thanks": "Mèsi pou mesaj ou.",
        "more": "Si gen yon bagay ki pa klè, reponn mesaj sa a.",
        "ack": "Mèsi pou mesaj ou. Yon moun nan ekip la ap okipe l, n ap reponn ou byento.",
        "bye": "Mèsi anpil,",
    },
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")


class DraftError(Exception):
    """A draft cannot be sent or decided in its current state."""


class DraftConflict(DraftError):
    """The draft or its conversation changed since the reviewer saw it; nothing was done."""


# --- composing -------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    """Lower-case, accent-free words of 3+ letters (so 'Remboursé' matches 'rembourse')."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return {w for w in _WORD.findall(plain) if len(w) >= 3}


def snippets_for(*, text: str, intent: str = "", language: str = "", limit: int = 2) -> list[KnowledgeSnippet]:
    """The active snippets that best match the message: retrieval by keyword and word overlap,
    boosted by the intent, restricted to the language (or language-neutral snippets)."""
    words = _words(text)
    scored = []
    candidates = KnowledgeSnippet.objects.filter(is_active=True)
    if language:
        candidates = candidates.filter(language__in=["", language])
    for snippet in candidates:
        keywords = [_words(k) for k in snippet.keywords.split(",") if k.strip()]
        keyword_hits = sum(1 for k in keywords if k and k <= words)
        overlap = len(words & _words(snippet.title))
        intent_match = bool(snippet.intent) and snippet.intent == intent
        if not keyword_hits and not intent_match:
            continue
        score = 3 * keyword_hits + overlap + 2 * intent_match + (0.5 if snippet.language == language else 0)
        scored.append((score, -snippet.pk, snippet))
    scored.sort(key=lambda row: row[:2], reverse=True)
    return [snippet for _, _, snippet in scored[:limit]]


def template_for(*, intent: str, channel: str, language: str) -> ResponseTemplate | None:
    """The best approved template for the intent in the language (or language-neutral): a
    channel-specific one first. A template in another language is never used."""
    candidates = ResponseTemplate.objects.filter(is_approved=True, intent=intent, language__in=["", language])
    ranked = sorted(
        (t for t in candidates if t.channel in ("", channel)),
        key=lambda t: (t.channel != channel, t.language != language, t.pk),
    )
    return ranked[0] if ranked else None


def draft_language(
    *, conversation: Conversation, classification: AIClassification | None, instruction: str = ""
) -> str:
    """The language to answer in: one named in the reviewer's instruction, else the message's,
    else the contact's locale, else English."""
    lowered = _words(instruction)
    for code, names in LANGUAGE_NAMES.items():
        if lowered & names:
            return code
    detected = (classification.language if classification else "") or ""
    if detected in SUPPORTED_LANGUAGES:
        return detected
    locale = ((conversation.contact.locale if conversation.contact else "") or "").split("-")[0].lower()
    return locale if locale in SUPPORTED_LANGUAGES else "en"


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


@dataclass
class Composition:
    """A composed reply and its evidence: the template and knowledge snippets it used."""

    text: str
    source: str
    language: str
    template: ResponseTemplate | None = None
    snippets: list[KnowledgeSnippet] = field(default_factory=list)


def _compose_llm(*, conversation, inbound, classification, language, template_text, snippets, limit, instruction):
    system = DRAFT_SYSTEM.format(
        version=DRAFT_PROMPT_VERSION, language=language, channel=conversation.channel, limit=limit
    )
    parts = [
        f"Conversation so far:\n{history_text(conversation)}",
        f"Contact facts:\n{contact_facts(conversation) or 'none'}",
        f"Intent: {classification.intent}; sentiment: {classification.sentiment_label}",
    ]
    if template_text:
        parts.append(f"Approved template for this intent:\n{template_text}")
    if snippets:
        parts.append(
            "Knowledge base (cite the titles you use in used_snippets):\n"
            + "\n".join(f"- {s.title}: {s.body}" for s in snippets)
        )
    feedback = rejection_feedback(intent=classification.intent)
    if feedback:
        parts.append(
            "Reviewers rejected earlier drafts for this intent because:\n" + "\n".join(f"- {r}" for r in feedback)
        )
    guidance = draft_guidance(intent=classification.intent, channel=conversation.channel, language=language)
    if guidance.notes:
        parts.append("What reviewers change in drafts like this one:\n" + "\n".join(f"- {n}" for n in guidance.notes))
    if instruction:
        parts.append(f"The reviewer asks you to: {instruction}")
    parts.append(f"Reply to the customer's latest message:\n{strip_quoted(inbound.text)[:4000]}")
    result = llm_structured(
        system=system,
        messages=[{"role": "user", "content": "\n\n".join(parts)}],
        tool_name="reply_draft",
        tool_schema=DRAFT_SCHEMA,
        max_tokens=800,
    )
    used = {title.strip().lower() for title in result.data.get("used_snippets", [])}
    return result.data["reply"], [s for s in snippets if s.title.lower() in used]


def _compose_local(*, context: dict, language: str, snippets: list[KnowledgeSnippet]) -> str:
    """Greeting, the matching knowledge in the contact's language, a closing; no LLM needed."""
    phrases = LOCAL_PHRASES.get(language, LOCAL_PHRASES["en"])
    name = context["contact"]["first_name"]
    lines = [(phrases["hello"].format(name=name) if name else phrases["hello_anon"]) + ","]
    if snippets:
        lines.append(phrases["thanks"])
        lines.extend(template_render_safe(snippet.body, context) for snippet in snippets)
        lines.append(phrases["more"])
    else:
        lines.append(phrases["ack"])
    lines.append(phrases["bye"] + "\n" + context["agent"]["name"])
    return "\n\n".join(line for line in lines if line)


def template_render_safe(source: str, context: dict) -> str:
    """Render a snippet or template body; on a template error, the body as written."""
    try:
        return template_render(source=source, context=context)
    except TemplateError:
        return source


def compose_reply(
    *, conversation: Conversation, inbound: InboundMessage, classification: AIClassification, instruction: str = ""
) -> Composition:
    """Compose a draft: the LLM grounded in the matching template and snippets when a key is
    configured; otherwise the template (or a local composition) filled with contact facts and
    the snippets retrieved for the intent and the message, in the contact's language."""
    language = draft_language(conversation=conversation, classification=classification, instruction=instruction)
    query = f"{strip_quoted(inbound.text)} {instruction}"
    snippets = snippets_for(text=query, intent=classification.intent, language=language)
    template = template_for(intent=classification.intent, channel=conversation.channel, language=language)
    context = template_context(conversation=conversation, agent=conversation.assignee, snippet="")
    context["snippet"] = "\n".join(template_render_safe(s.body, context) for s in snippets)
    template_text = ""
    if template is not None:
        try:
            template_text = template_render(source=template.body, context=context)
        except TemplateError as exc:
            logger.warning("response template failed", extra={"template": template.pk, "error": str(exc)})
    limit = LENGTH_LIMITS.get(conversation.channel, 10000)
    # Reviewers' usual length for this case (learnt by bestpractices) guides the LLM, never truncates.
    learnt = draft_guidance(intent=classification.intent, channel=conversation.channel, language=language)
    asked_limit = min(limit, max(learnt.max_length, 80)) if learnt.max_length else limit
    if llm_available():
        try:
            text, used = _compose_llm(
                conversation=conversation,
                inbound=inbound,
                classification=classification,
                language=language,
                template_text=template_text,
                snippets=snippets,
                limit=asked_limit,
                instruction=instruction,
            )
            return Composition(text[:limit], "llm", language, template, used)
        except LLMError as exc:
            logger.warning("llm draft failed, using templates", extra={"error": exc.message})
    if template_text:
        if snippets and "snippet" not in template.body:
            template_text = f"{template_text}\n\n{context['snippet']}"
        return Composition(template_text[:limit], "template", language, template, snippets)
    return Composition(
        _compose_local(context=context, language=language, snippets=snippets)[:limit], "local", language, None, snippets
    )


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
    composition = compose_reply(conversation=conversation, inbound=inbound, classification=classification)
    DRAFTS.labels(composition.source).inc()
    with transaction.atomic():
        ReplyDraft.objects.filter(conversation=conversation, status=DraftStatus.PENDING).update(
            status=DraftStatus.SUPERSEDED
        )
        return _draft_store(
            conversation=conversation, inbound=inbound, classification=classification, composition=composition
        )


def _draft_store(*, conversation, inbound, classification, composition: Composition, instruction: str = ""):
    template = composition.template
    draft = ReplyDraft.objects.create(
        conversation=conversation,
        inbound=inbound,
        source=composition.source,
        template=template,
        subject=reply_subject(conversation, inbound),
        text=composition.text,
        language=composition.language,
        instruction=instruction[:500],
        whatsapp_template_name=template.whatsapp_template_name if template else "",
        intent=classification.intent,
        confidence=classification.confidence,
        low_risk=_low_risk(classification.intent) and classification.status == ClassificationStatus.DONE,
        sla_due_at=conversation.response_due,
    )
    if composition.snippets:
        draft.snippets.set(composition.snippets)
    inbox_changed(conversation_id=conversation.pk, what="draft", draft=draft.pk)
    return draft


def draft_regenerate(*, draft: ReplyDraft, actor, instruction: str, expected_version: str | None = None) -> ReplyDraft:
    """Compose the draft again following the reviewer's instruction ("shorter", "mention the
    refund policy", "in French"); the old draft is superseded, the new one is pending."""
    if not actor.has_perm("inbox.change_replydraft"):
        raise PermissionError("Only users allowed to change drafts may regenerate them.")
    classification = AIClassification.objects.get(inbound=draft.inbound)
    conversation = Conversation.objects.select_related("contact", "campaign_message", "assignee").get(
        pk=draft.conversation_id
    )
    composition = compose_reply(
        conversation=conversation, inbound=draft.inbound, classification=classification, instruction=instruction
    )
    DRAFTS.labels(composition.source).inc()
    with transaction.atomic():
        _check_version(draft=draft, expected_version=expected_version)
        claimed = ReplyDraft.objects.filter(pk=draft.pk, status=DraftStatus.PENDING).update(
            status=DraftStatus.SUPERSEDED
        )
        if not claimed:
            raise DraftError("This draft was already decided.")
        new = _draft_store(
            conversation=conversation,
            inbound=draft.inbound,
            classification=classification,
            composition=composition,
            instruction=instruction,
        )
        audit_record(
            actor=actor,
            action="inbox.draft.regenerate",
            target=new,
            data={"previous": draft.pk, "instruction": instruction, "source": composition.source},
        )
    return new


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
    base = conversations.clean_subject(inbound.subject) or conversation.subject
    return f"Re: {base}"[:998] if base else "Re: your message"


def quoted_history(inbound: InboundMessage) -> str:
    when = inbound.received_at.astimezone(UTC).strftime("%a, %d %b %Y at %H:%M UTC")
    quoted = "\n".join(f"> {line}" for line in (inbound.text or "").splitlines())
    return f"On {when}, {inbound.sender} wrote:\n{quoted}"


def _outbound_content(*, draft: ReplyDraft, text: str, message_id: uuid.UUID) -> dict:
    conversation, inbound = draft.conversation, draft.inbound
    content = {"text": text}
    if conversation.channel == Channel.EMAIL:
        ids = conversations.referenced_ids(inbound)
        own = (inbound.headers or {}).get("message_id") or (inbound.headers or {}).get("Message-ID") or ""
        refs = [f"<{i}>" for i in reversed(ids)]
        if own:
            refs.append(own if own.startswith("<") else f"<{own}>")
        content |= {
            "subject": draft.subject or reply_subject(conversation, inbound),
            "text": f"{text}\n\n{quoted_history(inbound)}",
            "reply_to": conversation.reply_address,
            "headers": {
                "Message-ID": conversations.message_id_header(message_id),
                **({"In-Reply-To": refs[-1], "References": " ".join(dict.fromkeys(refs))} if refs else {}),
            },
        }
    if conversation.channel == Channel.WHATSAPP and draft_whatsapp_window_closed(conversation):
        content["template_name"] = draft.whatsapp_template_name
    if inbound.thread_id:
        content["context"] = {"thread_id": inbound.thread_id}
    return content


def draft_whatsapp_window_closed(conversation: Conversation) -> bool:
    last = conversation.last_inbound_at
    return last is None or (timezone.now() - last).total_seconds() >= WHATSAPP_WINDOW_HOURS * 3600


def _check_version(*, draft: ReplyDraft, expected_version: str | None) -> None:
    """Inside a transaction: refuse (DraftConflict) when the draft or its conversation changed
    since the reviewer loaded the page. The conversation row is locked until commit."""
    if expected_version is None:
        return
    conversation = (
        Conversation.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=draft.conversation_id)
    )
    current = ReplyDraft.objects.select_related("decided_by").get(pk=draft.pk)
    current.conversation = conversation
    if current.version_token() == expected_version:
        return
    if not current.is_pending:
        who = f" by {current.decided_by.get_username()}" if current.decided_by else ""
        raise DraftConflict(
            f"Nothing was sent: this draft was already {current.get_status_display().lower()}{who} "
            "since you opened it. Review the current state below."
        )
    raise DraftConflict(
        "Nothing was sent: the conversation changed since you opened this page (a new message, "
        "another reply, a new status or assignee). Review the current state below and decide again."
    )


def draft_send(
    *, draft: ReplyDraft, actor, text: str | None = None, auto: bool = False, expected_version: str | None = None
) -> ReplyDraft:
    """Approve (optionally edited) and send now; audited with the original and the sent text.

    Raises DraftError when the draft is no longer pending, DraftConflict when `expected_version`
    (the reviewer's `version_token()`) no longer matches, PermissionError when a human actor
    lacks `inbox.approve_replydraft`.
    """
    _may_send(actor=actor, auto=auto)
    with transaction.atomic():
        _check_version(draft=draft, expected_version=expected_version)
        message = _draft_claim(draft=draft, actor=actor, text=text, auto=auto)
    return _draft_dispatch(draft=draft, message=message)


def _may_send(*, actor, auto: bool) -> None:
    if not auto and not (actor and actor.has_perm("inbox.approve_replydraft")):
        raise PermissionError("Only users allowed to approve replies may send drafts.")


def _draft_claim(*, draft: ReplyDraft, actor, text: str | None, auto: bool):
    """Inside the caller's transaction: mark the pending draft sent (a conditional UPDATE: one
    sender wins), create its outbound message and timeline entry, update the conversation."""
    final_text = (text if text is not None else draft.text).replace("\r\n", "\n").strip()
    if not final_text:
        raise DraftError("The reply is empty.")
    conversation = draft.conversation
    window_closed = conversation.channel == Channel.WHATSAPP and draft_whatsapp_window_closed(conversation)
    if window_closed and not draft.whatsapp_template_name:
        raise DraftError("The WhatsApp 24 h window is closed: choose a template with an approved WhatsApp template.")
    message_id = uuid.uuid4()
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
    inbox_changed(conversation_id=conversation.pk, what="reply", draft=draft.pk, by=None if auto else actor.pk)
    return message


def _draft_dispatch(*, draft: ReplyDraft, message) -> ReplyDraft:
    """After commit: send the claimed draft's message now (or queue its retry)."""
    message_send(message=message)
    message.refresh_from_db()
    if message.status == MessageStatus.FAILED:
        ReplyDraft.objects.filter(pk=draft.pk).update(status=DraftStatus.FAILED)
    elif message.status == MessageStatus.QUEUED:
        message_send_task.apply_async((str(message.pk),), countdown=SEND.countdown(0, _retry_after(message)))
    draft.refresh_from_db()
    return draft


def _retry_after(message) -> float | None:
    """The provider's Retry-After on the message's last attempt (None: none asked)."""
    return message.attempts.order_by("-created_at").values_list("retry_after", flat=True).first()


@transaction.atomic
def draft_reject(*, draft: ReplyDraft, actor, reason: str, expected_version: str | None = None) -> ReplyDraft:
    """Reject with a reason, kept as feedback for prompts and the best-practices engine."""
    if not actor.has_perm("inbox.change_replydraft"):
        raise PermissionError("Only users allowed to change drafts may reject them.")
    if not reason.strip():
        raise DraftError("A rejection needs a reason.")
    _check_version(draft=draft, expected_version=expected_version)
    claimed = ReplyDraft.objects.filter(pk=draft.pk, status=DraftStatus.PENDING).update(
        status=DraftStatus.REJECTED, rejection_reason=reason.strip()[:500], decided_by=actor, decided_at=timezone.now()
    )
    if not claimed:
        raise DraftError("This draft was already decided.")
    audit_record(
        actor=actor, action="inbox.draft.reject", target=draft, data={"original": draft.text, "reason": reason.strip()}
    )
    inbox_changed(conversation_id=draft.conversation_id, what="draft", draft=draft.pk)
    draft.refresh_from_db()
    return draft


def conversation_reply(*, conversation: Conversation, actor, text: str, expected_version: str | None = None):
    """A human reply from the conversation page: it answers the latest inbound message, through
    its pending draft when there is one (recorded as an edit), else through a new human draft.
    With `expected_version` (the page's `conversation_version_token`) a conversation that moved
    on since the page loaded is refused (DraftConflict) and nothing is created or sent. The check,
    the draft and the claim run under the conversation's row lock: of two agents sending from
    the same page state at once, the second waits, then sees the first one's reply and is refused."""
    _may_send(actor=actor, auto=False)
    with transaction.atomic():
        current = Conversation.objects.select_for_update(of=("self",)).get(pk=conversation.pk)
        if expected_version is not None and conversation_version_token(current) != expected_version:
            raise DraftConflict(_conversation_moved_on(current, actor=actor))
        latest = current.entries.filter(direction=Direction.INBOUND).order_by("-created_at", "-id").first()
        if latest is None:
            raise DraftError("Nothing to reply to: the contact has not written in this conversation.")
        draft = ReplyDraft.objects.filter(inbound_id=latest.inbound_id, status=DraftStatus.PENDING).first()
        if draft is None:
            draft = ReplyDraft.objects.create(
                conversation=current, inbound_id=latest.inbound_id, source="human", text=text.strip()
            )
        draft.conversation = current
        message = _draft_claim(draft=draft, actor=actor, text=text, auto=False)
    return _draft_dispatch(draft=draft, message=message)


def _conversation_moved_on(conversation: Conversation, *, actor) -> str:
    """Why a reply from a stale page is refused: who replied meanwhile, when another agent did."""
    last = conversation.entries.order_by("-created_at", "-id").select_related("author").first()
    if last is not None and last.direction == Direction.OUTBOUND and last.author_id != actor.pk:
        who = f"{last.author.get_username()} replied" if last.author else "an automatic reply went out"
        return (
            f"Nothing was sent: {who} to this conversation since you opened this page. "
            "Read the reply below; your text is still in the box."
        )
    return (
        "Nothing was sent: the conversation changed since you opened this page (a new message, another "
        "reply, a new status or assignee). Read it again below; your text is still in the box."
    )


def conversation_version_token(conversation: Conversation) -> str:
    """What the conversation page showed: status, assignee and the latest message time."""
    state = (conversation.pk, conversation.status, conversation.assignee_id, conversation.last_message_at.isoformat())
    return hashlib.sha256(repr(state).encode()).hexdigest()[:20]


def drafts_bulk_approve(*, drafts, actor) -> tuple[int, list[str]]:
    """Send every pending low-risk draft of the selection; returns (sent, skipped reasons)."""
    sent, skipped = 0, []
    for draft in drafts.select_related("conversation", "inbound"):
        if not draft.low_risk:
            skipped.append(f"#{draft.pk}: intent '{draft.intent or 'unknown'}' is not low-risk, review it alone")
            continue
        if draft.conversation.channel == Channel.LINKEDIN:
            skipped.append(f"#{draft.pk}: LinkedIn replies need a human approval each")
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
