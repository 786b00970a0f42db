"""Features of one send, derived from what was sent: pure functions, no database.

The same functions serve the file contract (`manage.py best_practices`) and the database path
(`bestpractices.selectors.sends_as_records`), so a pattern learnt from a file and one learnt
from the sends in the database mean the same thing.
"""

import re
from datetime import datetime

# Feature name -> its values in display order. Booleans are compared with False as baseline.
BOOLEAN_FEATURES = (
    "subject_question",
    "subject_emoji",
    "subject_personalised",
    "subject_number",
    "body_question",
    "body_emoji",
    "body_personalised",
    "urgency",
)
ORDERED_LEVELS = {
    "subject_length": ("short", "medium", "long"),
    "body_length": ("short", "medium", "long"),
    "send_hour_local": ("night", "morning", "afternoon", "evening"),
    "weekday": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
    "cta": ("none", "link", "reply", "call", "buy"),
}
# The file contract's features first (always modelled), then the extra ones.
CONTRACT_FEATURES = (
    "subject_question",
    "subject_emoji",
    "subject_personalised",
    "subject_length",
    "send_hour_local",
    "weekday",
    "channel",
    "customer_type",
)
FEATURES = CONTRACT_FEATURES + (
    "subject_number",
    "lifecycle_stage",
    "language",
    "body_length",
    "body_question",
    "body_emoji",
    "body_personalised",
    "urgency",
    "cta",
)
OUTCOMES = ("delivered", "opened", "clicked", "replied", "converted", "unsubscribed", "complained")
UNKNOWN = "unknown"
WEEKDAYS = ORDERED_LEVELS["weekday"]
DEFINITIONS = {
    "subject_question": "the subject contains '?' (false when the channel has no subject)",
    "subject_emoji": "the subject contains an emoji",
    "subject_personalised": "the contact's first name (or a first-name placeholder) is in the subject",
    "subject_length": "short <= 30 characters, medium 31-60, long > 60 (an empty subject is short)",
    "subject_number": "the subject contains a digit",
    "send_hour_local": "hour of sent_at in the send's own offset: night 0-5, morning 6-11, "
    "afternoon 12-17, evening 18-23",
    "weekday": "weekday of sent_at in the send's own offset",
    "channel": "the channel, lower-cased",
    "customer_type": "contact.customer_type (rare values pooled as 'other')",
    "lifecycle_stage": "contact.lifecycle_stage",
    "language": "primary subtag of contact.language ('pt-BR' -> 'pt')",
    "body_length": "short <= 160 characters, medium 161-600, long > 600",
    "body_question": "the body contains '?'",
    "body_emoji": "the body contains an emoji",
    "body_personalised": "the contact's first name (or a placeholder) is in the body",
    "urgency": "an urgency word in subject or body (today, now, last chance, hurry, ends, ...)",
    "cta": "call to action in the body: buy (shop/order/book...), call, reply, link (a URL), none",
}

_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff\U0001f300-\U0001faff\u2600-\u27bf\u2b05-\u2b55\u231a\u231b"
    "\u23e9-\u23fa\u203c\u2049\u3030\u303d\u3297\u3299]"
)
_PLACEHOLDER = re.compile(r"\{\{?\s*(contact\.)?first_?name\s*\}?\}|\[first_?name\]", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_PHONE = re.compile(r"\+\d[\d \-]{7,}")
_PUNCTUATION = b'!"#$%&()*+,./:;<=>?@[\\]^_`{|}~-\n\t\r'
_TO_SPACES = bytes.maketrans(_PUNCTUATION, b" " * len(_PUNCTUATION))
URGENT, BUY, CALL, REPLY, LINK = "urgent", "buy", "call", "reply", "link"
CTA_ORDER = (BUY, CALL, REPLY, LINK)  # the first present is the message's call to action
_WORDS = {
    URGENT: "today tonight now hurry ends ending expire expires expiring final deadline limited urgent "
    "hoy ahora última urgente aujourd'hui dernière derniere hoje agora heute jetzt",
    BUY: "buy shop shopping order book booking checkout subscribe register claim",
    REPLY: "reply respond answer",
    LINK: "http https www",
}
WORD_TAGS = {word.encode(): tag for tag, words in _WORDS.items() for word in words.split()}
# Phrases, looked up only when their first word is present (one pass over the words per text).
PHRASES = {
    "last chance": URGENT,
    "don't miss": URGENT,
    "don’t miss": URGENT,
    "24 hours": URGENT,
    "add to cart": BUY,
    "sign up": BUY,
    "get yours": BUY,
    "call us": CALL,
    "call me": CALL,
    "give us a call": CALL,
    "phone us": CALL,
    "ring us": CALL,
    "text back": REPLY,
    "write back": REPLY,
    "let us know": REPLY,
    "let me know": REPLY,
}
PHRASE_STARTS: dict[bytes, list[tuple[bytes, str]]] = {}
for _phrase, _tag in PHRASES.items():
    PHRASE_STARTS.setdefault(_phrase.split()[0].encode(), []).append((f" {_phrase} ".encode(), _tag))


def text_tags(text: str) -> set[str]:
    """Which of urgent / buy / call / reply / link the text shows, from its words and phrases."""
    if not text:
        return set()
    spaced = b" " + text.lower().encode().translate(_TO_SPACES) + b" "
    words = spaced.split()
    tags = {WORD_TAGS[word] for word in WORD_TAGS.keys() & words}
    for start in PHRASE_STARTS.keys() & words:
        tags.update(tag for phrase, tag in PHRASE_STARTS[start] if phrase in spaced)
    if "+" in text and _PHONE.search(text):
        tags.add(CALL)
    return tags


def cta_kind(tags: set[str]) -> str:
    """The call to action of a body with these tags: buy, call, reply, link or none."""
    for kind in CTA_ORDER:
        if kind in tags:
            return kind
    return "none"


def has_emoji(text: str) -> bool:
    """True when the text holds an emoji (ASCII text never does)."""
    return not text.isascii() and _EMOJI.search(text) is not None


def mentions_name(text: str, first_name: str) -> bool:
    """True when the first name appears as a word in the text, or a first-name placeholder does."""
    if ("{" in text or "[" in text) and _PLACEHOLDER.search(text):
        return True
    if len(first_name) < 2:
        return False
    lowered, name = text.casefold(), first_name.casefold()
    start = lowered.find(name)
    while start >= 0:
        end = start + len(name)
        if (start == 0 or not lowered[start - 1].isalnum()) and (end == len(lowered) or not lowered[end].isalnum()):
            return True
        start = lowered.find(name, start + 1)
    return False


def length_bucket(n: int, short: int, medium: int) -> str:
    return "short" if n <= short else "medium" if n <= medium else "long"


def hour_bucket(hour: int) -> str:
    return ("night", "morning", "afternoon", "evening")[hour // 6]


def _text(value) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _category(value) -> str:
    text = _text(value).strip().lower()
    return text or UNKNOWN


class InvalidSend(ValueError):
    """A send record that cannot be read (the message says which field and why)."""


def parse_sent_at(value) -> tuple[str, str]:
    """(send_hour_local, weekday) of an ISO 8601 time, read in the time's own offset."""
    if not value:
        return UNKNOWN, UNKNOWN
    if not isinstance(value, str):
        raise InvalidSend(f"sent_at must be an ISO 8601 string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidSend(f"sent_at is not ISO 8601: {value!r}") from exc
    return hour_bucket(moment.hour), WEEKDAYS[moment.weekday()]


def send_features(record: dict) -> tuple:
    """The feature values of one send record, in the order of FEATURES."""
    contact = record.get("contact") or {}
    if not isinstance(contact, dict):
        raise InvalidSend("contact must be an object")
    subject = _text(record.get("subject"))
    body = _text(record.get("body"))
    first_name = _text(contact.get("first_name")).strip()
    hour, weekday = parse_sent_at(record.get("sent_at"))
    language = _category(contact.get("language")).replace("_", "-").split("-", 1)[0]
    body_tags = text_tags(body)
    return (
        "?" in subject,
        has_emoji(subject),
        mentions_name(subject, first_name) if subject else False,
        length_bucket(len(subject), 30, 60),
        hour,
        weekday,
        _category(record.get("channel")),
        _category(contact.get("customer_type")),
        _DIGIT.search(subject) is not None,
        _category(contact.get("lifecycle_stage")),
        language,
        length_bucket(len(body), 160, 600),
        "?" in body,
        has_emoji(body),
        mentions_name(body, first_name) if body else False,
        URGENT in body_tags or URGENT in text_tags(subject),
        cta_kind(body_tags),
    )


def outcome_value(value) -> int:
    """0 / 1 for a measured outcome, 2 for not measured (missing or null)."""
    if value is None:
        return 2
    if value is True or value is False:
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    raise InvalidSend(f"an outcome must be true, false or null, got {value!r}")
