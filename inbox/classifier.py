"""Message classification: the LLM (Anthropic, strict tool schema) or the local model.

The local model is scikit-learn: word (1-2) and character (2-5, within words) TF-IDF n-grams
of the customer's new words (quoted history, HTML and forwarding headers removed, accents
folded) and two multinomial logistic regressions, one for the intent and one for the
sentiment, sharing those features. Probabilities are temperature-scaled on out-of-fold
predictions so that a confidence of 0.9 is right about nine times in ten. A rule layer runs
after the model for the two cases where a miss is costly: opt-outs in any of our languages
and legal threats (see `inbox/safety.py`). The model is trained by `manage.py train_classifier`
on `inbox/data/train.jsonl` and committed as plain arrays (`inbox/data/local_model.npz`), so
inference needs neither scikit-learn nor pickles; it is deterministic and offline.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from inbox import safety
from inbox.text import detect_language, fold, new_text
from madansara.llm import llm_structured

MODEL_PATH = Path(__file__).resolve().parent / "data" / "local_model.npz"
PROMPT_VERSION = "classify-v1"
SEEDED_INTENTS = (
    "question",
    "purchase_intent",
    "pricing",
    "meeting_request",
    "support_issue",
    "complaint",
    "unsubscribe_request",
    "out_of_office",
    "spam",
    "positive_feedback",
    "other",
)
SENTIMENTS = ("negative", "neutral", "positive")
MAX_CHARS = 1500  # the customer's new words beyond this add latency, not signal
_URGENT = re.compile(
    r"\b(urgent|urgente|asap|immediately|right now|tout de suite|tout swit|imediatement|ahora mismo|ijan|kounye a menm)\b",
    re.I,
)


@dataclass
class Classification:
    intent: str
    confidence: float
    sentiment_label: str
    sentiment_score: float
    urgency: str
    language: str
    legal_risk: bool
    engine: str = "local"
    model: str = ""
    prompt_version: str = ""
    latency_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    extra: dict = field(default_factory=dict)


def strip_quoted(text: str) -> str:
    """The new part of a reply: HTML reduced, quoted history and forwarding headers removed."""
    return new_text(text)


def prepare(text: str) -> str:
    """What the model reads: the folded new words of the message."""
    return fold(new_text(text)[:MAX_CHARS])


_WORD_TOKEN = re.compile(r"(?u)\b\w+\b|[?!$€]")
CHAR_NGRAMS = (2, 5)


def word_terms(text: str) -> list[str]:
    """Word unigrams and bigrams, as scikit-learn's word analyzer makes them."""
    tokens = _WORD_TOKEN.findall(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def char_terms(text: str) -> list[str]:
    """Character n-grams inside space-padded words, as scikit-learn's `char_wb` analyzer makes them."""
    low, high = CHAR_NGRAMS
    grams = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams += [padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
            if len(padded) <= n:
                break
    return grams


class LocalModel:
    """The trained weights as plain arrays: TF-IDF (sublinear tf, L2 per block) over word and
    character terms, then two linear heads with their calibration temperatures.

    Training uses scikit-learn (`inbox.training`); inference only needs these arrays, so loading
    is a small `.npz` read and a message costs a few dictionary look-ups and one small product.
    `inbox/tests/test_training.py` checks that the scores equal scikit-learn's.
    """

    def __init__(self, arrays: dict):
        self.word_index = {t: i for i, t in enumerate(arrays["word_terms"].tolist())}
        self.char_index = {t: i for i, t in enumerate(arrays["char_terms"].tolist())}
        self.idf = arrays["idf"].astype(np.float64)
        self.intent_classes = [str(c) for c in arrays["intent_classes"]]
        self.sentiment_classes = [str(c) for c in arrays["sentiment_classes"]]
        self.intent_weights = arrays["intent_coef"]
        self.intent_bias = arrays["intent_intercept"].astype(np.float64)
        self.sentiment_weights = arrays["sentiment_coef"]
        self.sentiment_bias = arrays["sentiment_intercept"].astype(np.float64)
        self.intent_temperature = float(arrays["temperatures"][0])
        self.sentiment_temperature = float(arrays["temperatures"][1])
        self.version = str(arrays["version"])
        self.metadata = json.loads(str(arrays["metadata"]))

    @classmethod
    def load(cls, path: Path) -> "LocalModel":
        with np.load(path, allow_pickle=False) as arrays:
            return cls({name: arrays[name] for name in arrays.files})

    def _block(self, terms: list[str], index: dict, offset: int) -> tuple[list[int], list[float]]:
        counts: dict[int, int] = {}
        for term in terms:
            column = index.get(term)
            if column is not None:
                counts[column + offset] = counts.get(column + offset, 0) + 1
        columns = list(counts)
        values = (1.0 + np.log(np.fromiter(counts.values(), float, len(counts)))) * self.idf[columns]
        norm = np.sqrt(values @ values)
        return columns, (values / norm if norm else values).tolist()

    def features(self, prepared: str) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) of the sparse TF-IDF vector of one prepared text."""
        word_columns, word_values = self._block(word_terms(prepared), self.word_index, 0)
        char_columns, char_values = self._block(char_terms(prepared), self.char_index, len(self.word_index))
        return np.array(word_columns + char_columns, dtype=np.intp), np.array(word_values + char_values)

    def scores(self, prepared: str) -> tuple[np.ndarray, np.ndarray]:
        """Raw (intent, sentiment) decision scores, as the logistic regressions compute them."""
        columns, values = self.features(prepared)
        return (
            self.intent_weights[:, columns] @ values + self.intent_bias,
            self.sentiment_weights[:, columns] @ values + self.sentiment_bias,
        )

    def probabilities(self, prepared: str) -> tuple[dict[str, float], dict[str, float]]:
        """Calibrated (intent, sentiment) probabilities of one prepared text."""
        intent, sentiment = self.scores(prepared)
        intent_p = softmax(intent[None, :] / self.intent_temperature)[0]
        sentiment_p = softmax(sentiment[None, :] / self.sentiment_temperature)[0]
        return (
            dict(zip(self.intent_classes, intent_p.tolist(), strict=True)),
            dict(zip(self.sentiment_classes, sentiment_p.tolist(), strict=True)),
        )


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


@cache
def local_model() -> LocalModel:
    """The committed model, loaded once per process."""
    model = LocalModel.load(MODEL_PATH)
    new_text("warm up\n\nOn Mon, 1 Jan 2026, A <a@b.c> wrote:\n> x")  # compiles the reply parser's patterns
    return model


def classify_local(text: str, allowed_intents: set[str] | None = None) -> Classification:
    """The deterministic local model plus its safety layer; intents outside `allowed_intents`
    are not chosen (the remaining probabilities are renormalised)."""
    model = local_model()
    words = new_text(text)
    intents, sentiments = model.probabilities(fold(words[:MAX_CHARS]))
    if allowed_intents:
        kept = {k: v for k, v in intents.items() if k in allowed_intents}
        total = sum(kept.values())
        intents = {k: v / total for k, v in kept.items()} if total > 0 else {"other": 1.0}
    intent = max(intents, key=intents.get)
    confidence = intents[intent]
    checks = safety.check(words)
    extra = {}
    if checks.keep_subscribed and intent == "unsubscribe_request" and len(intents) > 1:
        # "don't stop sending the coupons", "I unsubscribed by mistake, add me back": no opt-out wording
        # outside the sentences that keep the subscription, so the model's opt-out reading is not taken.
        others = {k: v for k, v in intents.items() if k != "unsubscribe_request"}
        extra["safety"] = f"keep-subscribed wording overrode unsubscribe_request ({confidence:.2f})"
        intent = max(others, key=others.get)
        confidence = others[intent]  # not renormalised: a reading against the model stays unsure (no auto-send)
    if (
        checks.unsubscribe
        and intent != "unsubscribe_request"
        and (not allowed_intents or "unsubscribe_request" in allowed_intents)
    ):
        extra["safety"] = f"unsubscribe rule overrode {intent} ({confidence:.2f})"
        intent, confidence = (
            "unsubscribe_request",
            max(intents.get("unsubscribe_request", 0.0), safety.UNSUBSCRIBE_PRECISION),
        )
    if checks.legal_risk and sentiments.get("negative", 0) < 0.5:
        # A threat of lawyers or chargebacks is negative whatever the wording's politeness.
        sentiments = {"negative": 0.8, "neutral": 0.15, "positive": 0.05}
    label = max(sentiments, key=sentiments.get)
    score = round(sentiments.get("positive", 0) - sentiments.get("negative", 0), 3)
    return Classification(
        intent=intent,
        confidence=round(min(1.0, confidence), 3),
        sentiment_label=label,
        sentiment_score=score,
        language=detect_language(words),
        engine="local",
        model=f"local-sklearn:{model.version}",
        prompt_version="",
        legal_risk=checks.legal_risk,
        urgency=_urgency(words, intent, checks.legal_risk),
        extra=extra,
    )


def _urgency(words: str, intent: str, legal: bool) -> str:
    if legal or intent == "complaint" or _URGENT.search(fold(words)) or words.count("!") >= 3:
        return "high"
    return "low" if intent in ("spam", "out_of_office") else "normal"


SYSTEM_PROMPT = """You classify inbound customer messages for a marketing and customer-service team.
Prompt version: {version}.
Read only the customer's new text; quoted history is context. Choose exactly one intent:
{intents}
Sentiment score is from -1 (very negative) to 1 (very positive). Urgency: low, normal or high
(high for outages, money lost, threats, legal wording). language: ISO 639-1 code (ht for Haitian
Creole). legal_risk: true when the text mentions lawyers, courts, lawsuits or regulators.
confidence: your probability (0 to 1) that the intent is right. Call the tool exactly once."""


def classification_schema(intents: list[str]) -> dict:
    return {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": intents},
            "sentiment_label": {"type": "string", "enum": list(SENTIMENTS)},
            "sentiment_score": {"type": "number", "minimum": -1, "maximum": 1},
            "urgency": {"type": "string", "enum": ["low", "normal", "high"]},
            "language": {"type": "string", "minLength": 2, "maxLength": 8},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "legal_risk": {"type": "boolean"},
        },
        "required": [
            "intent",
            "sentiment_label",
            "sentiment_score",
            "urgency",
            "language",
            "confidence",
            "legal_risk",
        ],
        "additionalProperties": False,
    }


def classify_llm(text: str, *, channel: str, intents: list[str], context: str = "") -> Classification:
    """One LLM call (raises madansara.llm.LLMError; the caller retries transient errors)."""
    system = SYSTEM_PROMPT.format(version=PROMPT_VERSION, intents=", ".join(intents))
    content = f"Channel: {channel}\n{context}\nMessage:\n{text[:8000]}"
    result = llm_structured(
        system=system,
        messages=[{"role": "user", "content": content}],
        tool_name="record_classification",
        tool_schema=classification_schema(intents),
        max_tokens=300,
    )
    data = result.data
    checks = safety.check(new_text(text))
    intent, confidence = data["intent"], float(data["confidence"])
    if checks.unsubscribe and intent != "unsubscribe_request" and "unsubscribe_request" in intents:
        intent, confidence = "unsubscribe_request", max(confidence, safety.UNSUBSCRIBE_PRECISION)
    return Classification(
        intent=intent,
        confidence=confidence,
        sentiment_label=data["sentiment_label"],
        sentiment_score=float(data["sentiment_score"]),
        urgency=data["urgency"],
        language=data["language"][:8],
        legal_risk=bool(data["legal_risk"]) or checks.legal_risk,
        engine="llm",
        model=result.model,
        prompt_version=PROMPT_VERSION,
        latency_ms=result.latency_ms,
        input_tokens=result.input_tokens,
        output_tokens=result.output_tokens,
    )
