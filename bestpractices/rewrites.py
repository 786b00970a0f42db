"""The change a practice asks for, applied to a template's text: the variant a test will carry.
Pure functions; each returns the rewritten text, or None when the practice cannot be applied."""

from bestpractices.features import has_emoji, length_bucket, mentions_name

FIRST_NAME = "{{ contact.first_name }}"
TITLES = {
    ("subject_question", True): "Ask a question in the subject",
    ("subject_question", False): "State the subject, do not ask",
    ("subject_emoji", True): "Add an emoji to the subject",
    ("subject_emoji", False): "Drop the emoji from the subject",
    ("subject_personalised", True): "Put the contact's first name in the subject",
    ("subject_personalised", False): "Leave the first name out of the subject",
    ("subject_length", "short"): "Shorten the subject to 30 characters or fewer",
    ("subject_length", "medium"): "Keep the subject between 31 and 60 characters",
    ("urgency", True): "Add a reason to act now",
    ("body_question", True): "End the message with a question",
    ("body_personalised", True): "Greet the contact by first name",
}


def title_for(feature: str, value) -> str:
    return TITLES.get((feature, value)) or f"Use {feature.replace('_', ' ')} = {value}"


def _ask(text: str) -> str | None:
    stripped = text.rstrip().rstrip(".!")
    return f"{stripped}?" if stripped and "?" not in text else None


def _state(text: str) -> str | None:
    return text.replace("?", ".") if "?" in text else None


def _shorten(text: str, limit: int) -> str | None:
    if len(text) <= limit:
        return None
    words, out = text.split(), ""
    for word in words:
        if len(f"{out} {word}".strip()) > limit:
            break
        out = f"{out} {word}".strip()
    return out or text[:limit]


def _personalise(text: str) -> str | None:
    if mentions_name(text, ""):
        return None
    return f"{FIRST_NAME}, {text[:1].lower()}{text[1:]}" if text else None


def _depersonalise(text: str) -> str | None:
    for pattern in (f"{FIRST_NAME}, ", f"{FIRST_NAME} ", FIRST_NAME):
        if pattern in text:
            rest = text.replace(pattern, "", 1).strip()
            return rest[:1].upper() + rest[1:]
    return None


def _emoji(text: str) -> str | None:
    return None if has_emoji(text) else f"✨ {text}"


def _no_emoji(text: str) -> str | None:
    if not has_emoji(text):
        return None
    return " ".join("".join(ch for ch in text if not has_emoji(ch)).split())


SUBJECT_REWRITES = {
    ("subject_question", True): _ask,
    ("subject_question", False): _state,
    ("subject_emoji", True): _emoji,
    ("subject_emoji", False): _no_emoji,
    ("subject_personalised", True): _personalise,
    ("subject_personalised", False): _depersonalise,
    ("subject_length", "short"): lambda text: _shorten(text, 30),
    ("subject_length", "medium"): lambda text: (
        _shorten(text, 60) if length_bucket(len(text), 30, 60) == "long" else None
    ),
}
TEXT_REWRITES = {
    ("urgency", True): lambda text: f"{text.rstrip()}\n\nThis offer ends today." if text else None,
    ("body_question", True): lambda text: f"{text.rstrip()}\n\nWhat do you think?" if "?" not in text else None,
    ("body_personalised", True): lambda text: f"Hi {FIRST_NAME},\n\n{text}" if not mentions_name(text, "") else None,
}


def change_for(*, feature: str, value, subject: str, text: str) -> dict | None:
    """{"field", "from", "to"} applying the practice to a template, or None if it does not apply."""
    if (feature, value) in SUBJECT_REWRITES and subject:
        new = SUBJECT_REWRITES[(feature, value)](subject)
        return {"field": "subject", "from": subject, "to": new} if new and new != subject else None
    if (feature, value) in TEXT_REWRITES and text:
        new = TEXT_REWRITES[(feature, value)](text)
        return {"field": "text", "from": text, "to": new} if new and new != text else None
    return None
