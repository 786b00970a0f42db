"""Comment classification: the inbox's classifier (LLM or its local model), with a safety net.

Comments are short and public, so a keyword net runs after the classifier: spam patterns,
and complaint/negative wording always win (a complaint must reach a human even if a model
called it neutral).
"""

import logging
import re
from dataclasses import dataclass

from inbox import classifier
from madansara.llm import LLMError, llm_available

logger = logging.getLogger(__name__)

SPAM = re.compile(r"(free followers|check my (profile|bio)|dm me for|crypto|giveaway winner|https?://\S+)", re.I)
COMPLAINT = re.compile(
    r"\b(never arrived|not received|refund|scam|terrible|awful|worst|broken|broke|disappointed|angry|"
    r"complain|useless|rip[- ]?off|horrible|fake|still waiting)\b",
    re.I,
)
POSITIVE = re.compile(r"(love|amazing|great|awesome|beautiful|thank|best|perfect|😍|❤️|🔥|👏)", re.I)
QUESTION = re.compile(r"(\?|\bhow much\b|\bprice\b|\bdo you\b|\bwhere\b|\bwhen\b)", re.I)
INTENT_ALIASES = {"support_issue": "complaint", "positive_feedback": "praise", "purchase_intent": "purchase"}


@dataclass
class CommentLabels:
    intent: str
    sentiment: str
    engine: str


def _keyword_labels(text: str) -> CommentLabels:
    if SPAM.search(text):
        return CommentLabels("spam", "neutral", "keywords")
    if COMPLAINT.search(text):
        return CommentLabels("complaint", "negative", "keywords")
    if QUESTION.search(text):
        return CommentLabels("question", "neutral", "keywords")
    if POSITIVE.search(text):
        return CommentLabels("praise", "positive", "keywords")
    return CommentLabels("other", "neutral", "keywords")


def _inbox_labels(text: str, channel: str) -> CommentLabels | None:
    """The inbox classifier's answer, or None when it is not usable here."""
    try:
        if llm_available():
            try:
                result = classifier.classify_llm(text, channel=channel, intents=list(classifier.SEEDED_INTENTS))
            except LLMError:
                result = classifier.classify_local(text)
        else:
            result = classifier.classify_local(text)
    except Exception as exc:  # noqa: BLE001 - no trained model yet etc.: the keyword net answers
        logger.info("inbox classifier unavailable", extra={"error": exc.__class__.__name__})
        return None
    intent = INTENT_ALIASES.get(result.intent, result.intent)
    return CommentLabels(intent, result.sentiment_label, result.engine)


def classify_comment(text: str, *, channel: str) -> CommentLabels:
    """Intent and sentiment of a public comment."""
    net = _keyword_labels(text)
    labels = _inbox_labels(text, channel) or net
    if net.intent in ("spam", "complaint"):
        return CommentLabels(net.intent, net.sentiment, labels.engine)
    if labels.intent == "complaint" or labels.sentiment == "negative":
        return CommentLabels("complaint" if labels.intent == "complaint" else labels.intent, "negative", labels.engine)
    return labels
