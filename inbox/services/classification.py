"""Classifying inbound messages: the LLM when configured, else the local fallback."""

import logging

from django.db import transaction

from inbox.classifier import SEEDED_INTENTS, Classification, classify_llm, classify_local, strip_quoted
from inbox.models import AIClassification, ClassificationStatus, Conversation, Intent, Priority
from madansara.channels.models import InboundMessage
from madansara.llm import LLMError, llm_available
from madansara.metrics import CLASSIFICATIONS

logger = logging.getLogger(__name__)
MALFORMED_RETRIES = 2  # immediate re-asks for off-schema output; 429/5xx/timeouts back off in the task


class ClassificationRetry(Exception):
    """A transient LLM failure the task should retry later."""


def configured_intents() -> list[str]:
    return list(Intent.objects.values_list("code", flat=True)) or list(SEEDED_INTENTS)


def classify_text(*, text: str, channel: str, context: str = "") -> Classification:
    """Classify one text with the configured engine (raises LLMError on LLM failures)."""
    intents = configured_intents()
    if llm_available():
        return classify_llm(text, channel=channel, intents=intents, context=context)
    return classify_local(text, allowed_intents=set(intents))


def _llm_with_retries(*, text: str, channel: str, context: str) -> tuple[Classification, int]:
    attempts = 0
    while True:
        attempts += 1
        try:
            return classify_text(text=text, channel=channel, context=context), attempts
        except LLMError as exc:
            exc.attempts = attempts
            if exc.malformed and attempts <= MALFORMED_RETRIES:
                continue
            raise


def inbound_classify(*, inbound: InboundMessage, final_attempt: bool = True) -> AIClassification:
    """Classify an inbound message and store the result (idempotent: one row per message).

    Transient LLM errors raise ClassificationRetry unless this is the final attempt; then, or on
    permanent errors, the message is flagged `needs_human` (with the local guess, zero
    confidence) so it is never dropped and never auto-answered.
    """
    existing = AIClassification.objects.filter(inbound=inbound).first()
    if existing is not None:
        return existing
    text = f"{inbound.subject}\n{inbound.text}".strip() if inbound.subject else inbound.text
    error, attempts = "", 1
    try:
        result, attempts = _llm_with_retries(text=text, channel=inbound.channel, context="")
        status = ClassificationStatus.DONE
    except LLMError as exc:
        attempts = getattr(exc, "attempts", 1)
        if exc.transient and not final_attempt:
            raise ClassificationRetry(exc.message) from exc
        logger.warning("classification flagged for a human", extra={"inbound": inbound.pk, "error": exc.message})
        result = classify_local(text, allowed_intents=set(configured_intents()))
        result.confidence = 0.0
        status, error = ClassificationStatus.NEEDS_HUMAN, exc.message[:300]
    classification = _store(inbound=inbound, result=result, status=status, error=error, attempts=attempts)
    CLASSIFICATIONS.labels(classification.engine, classification.status).inc()
    return classification


@transaction.atomic
def _store(*, inbound, result: Classification, status, error, attempts) -> AIClassification:
    classification, _ = AIClassification.objects.get_or_create(
        inbound=inbound,
        defaults={
            "status": status,
            "intent": result.intent,
            "sentiment_score": max(-1.0, min(1.0, result.sentiment_score)),
            "sentiment_label": result.sentiment_label,
            "urgency": result.urgency,
            "language": result.language,
            "confidence": max(0.0, min(1.0, result.confidence)),
            "legal_risk": result.legal_risk,
            "engine": result.engine,
            "model": result.model,
            "prompt_version": result.prompt_version,
            "latency_ms": result.latency_ms,
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
            "attempts": attempts,
            "error": error,
        },
    )
    conversation = Conversation.objects.filter(entries__inbound=inbound).first()
    if conversation is not None:
        fields = {"latest_intent": classification.intent, "latest_sentiment": classification.sentiment_label}
        if classification.urgency == "high" and conversation.priority in (Priority.LOW, Priority.NORMAL):
            fields["priority"] = Priority.HIGH
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
    return classification


def classification_context(inbound: InboundMessage) -> str:
    """The customer's new words only (quoted history removed), for prompts and previews."""
    return strip_quoted(inbound.text)
