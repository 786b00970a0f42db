"""Synthetic sends with planted, confounded effects: for tests, the benchmark and demos.

Effects are planted on the logit of each outcome (main effects, keyed by the engine's own feature
names). Features are confounded on purpose: question subjects go out mostly in the morning and
morning has its own effect on opens (questions have none), VIPs get more personalised subjects,
SMS bodies are short. `true_lift` gives the model-standardised truth for any pattern row.
"""

import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import numpy as np
from scipy import special

BASE = {"delivered": 3.0, "opened": -1.2, "clicked": -2.6, "replied": -2.2, "converted": -3.6, "unsubscribed": -4.5}
EFFECTS: dict[str, dict[tuple[str, object], float]] = {
    "delivered": {("channel", "whatsapp"): -0.6},
    "opened": {
        ("send_hour_local", "morning"): 0.35,
        ("subject_personalised", True): 0.30,
        ("subject_length", "long"): -0.35,
        ("customer_type", "vip"): 0.25,
    },
    "clicked": {("subject_question", True): 0.40, ("urgency", True): 0.30, ("channel", "sms"): -0.40},
    "replied": {("body_question", True): 0.50, ("channel", "whatsapp"): 0.35},
    "converted": {("customer_type", "vip"): 0.60, ("customer_type", "returning"): 0.30, ("cta", "buy"): 0.40},
    "unsubscribed": {("subject_emoji", True): 0.50},
}
# Outcomes measured per channel (others are missing: "not measured").
MEASURED = {
    "email": ("delivered", "opened", "clicked", "converted", "unsubscribed"),
    "sms": ("delivered", "clicked", "replied", "converted"),
    "whatsapp": ("delivered", "clicked", "replied", "converted"),
}
NAMES = ("Ana", "Bruno", "Chen", "Dara", "Eli", "Fatou", "Gita", "Hugo", "Ines", "Jon", "Kofi", "Lena")
OFFSETS = (-5, 0, 1, 5.5, 9)
FILLER = ("spring", "collection", "arrivals", "picks", "story", "guide", "season", "ideas", "notes", "update")


def _subject(rng: random.Random, name: str, question: bool, emoji: bool, personal: bool, length: str) -> str:
    target = {"short": rng.randint(12, 28), "medium": rng.randint(35, 56), "long": rng.randint(64, 90)}[length]
    words = [f"{name}," if personal else "Our"]
    while len(" ".join(words)) < target - 3:
        words.append(rng.choice(FILLER))
    text = " ".join(words)[: target - 2].rstrip()
    text += "?" if question else "."
    if emoji:
        text = text[:-2] + " 🎉" + text[-1]
    return text


def _body(rng: random.Random, channel: str, question: bool, urgency: bool, cta: str) -> str:
    parts = ["Hello there", "we picked a few things for you"]
    if urgency:
        parts.append("the offer ends today")
    parts.append({"buy": "shop the edit", "link": "see https://example.com/x", "none": "have a good week"}[cta])
    text = ", ".join(parts) + ("? " if question else ". ")
    if channel == "email":
        text += " ".join(rng.choice(FILLER) for _ in range(rng.randint(30, 90)))
    return text


def sends_generate(n: int, *, seed: int = 0, effects: dict | None = None) -> Iterator[dict]:
    """n send records (the file contract's shape) with `_features` holding the planted truth's
    inputs; `effects` replaces EFFECTS (e.g. {} for a world where nothing works)."""
    effects = EFFECTS if effects is None else effects
    rng = random.Random(seed)
    for i in range(n):
        channel = rng.choices(("email", "sms", "whatsapp"), (0.6, 0.25, 0.15))[0]
        customer_type = rng.choices(("new", "returning", "vip"), (0.5, 0.35, 0.15))[0]
        name = rng.choice(NAMES)
        has_subject = channel == "email"
        question = has_subject and rng.random() < 0.3
        personal = has_subject and rng.random() < (0.6 if customer_type == "vip" else 0.25)
        emoji = has_subject and rng.random() < 0.2
        length = rng.choices(("short", "medium", "long"), (0.3, 0.45, 0.25))[0] if has_subject else "short"
        hour_block = rng.choices(range(4), (0.05, 0.7, 0.15, 0.1) if question else (0.15, 0.3, 0.3, 0.25))[0]
        hour = hour_block * 6 + rng.randrange(6)
        offset = rng.choice(OFFSETS)
        local = datetime(2026, 3, 2) + timedelta(days=rng.randrange(56), hours=hour, minutes=rng.randrange(60))
        zone = timezone(timedelta(hours=offset))
        sent_at = local.replace(tzinfo=zone)
        body_question = rng.random() < 0.3
        urgency = rng.random() < (0.5 if customer_type == "new" else 0.2)
        cta = rng.choices(("buy", "link", "none"), (0.4, 0.4, 0.2))[0]
        subject = _subject(rng, name, question, emoji, personal, length) if has_subject else ""
        body = _body(rng, channel, body_question, urgency, cta)
        features = {
            "subject_question": question,
            "subject_emoji": emoji,
            "subject_personalised": personal,
            "subject_length": length,
            "send_hour_local": ("night", "morning", "afternoon", "evening")[hour_block],
            "channel": channel,
            "customer_type": customer_type,
            "body_question": body_question,
            "urgency": urgency,
            "cta": cta,
        }
        outcomes = {}
        for outcome in MEASURED[channel]:
            outcomes[outcome] = rng.random() < 1 / (1 + math.exp(-logit(outcome, features, effects)))
        yield {
            "send_id": f"s{seed}-{i}",
            "channel": channel,
            "sent_at": sent_at.isoformat(),
            "campaign": f"c{i % 40}",
            "contact": {
                "first_name": name,
                "customer_type": customer_type,
                "lifecycle_stage": "lead",
                "language": "en",
            },
            "subject": subject,
            "body": body,
            "outcomes": outcomes,
            "_features": features,
        }


def logit(outcome: str, features: dict, effects: dict | None = None) -> float:
    planted = (EFFECTS if effects is None else effects).get(outcome, {})
    return BASE[outcome] + sum(effect for (name, value), effect in planted.items() if features.get(name) == value)


def true_lift(records: list[dict], *, outcome: str, feature: str, value, baseline, effects=None) -> float:
    """The standardised rate ratio - 1 under the generator's own model, over the sends measured
    for the outcome (the population the engine standardises over)."""
    planted = (EFFECTS if effects is None else effects).get(outcome, {})
    if all(name != feature for name, _value in planted):
        return 0.0
    measured = [r["_features"] for r in records if outcome in r["outcomes"]]
    with_value = np.array([logit(outcome, {**f, feature: value}, effects) for f in measured])
    with_baseline = np.array([logit(outcome, {**f, feature: baseline}, effects) for f in measured])
    return float(special.expit(with_value).mean() / special.expit(with_baseline).mean() - 1)
