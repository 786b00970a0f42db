"""Personalised variant: after a test, each remaining contact gets the variant predicted best for
them (a model per customer type learnt from sends), and a holdout gets the single winner, so the
personalisation is measured against what it replaces."""

import hashlib
import math

from django.core.exceptions import ValidationError

from abtesting.models import ABTest
from bestpractices import selectors
from bestpractices.engine import Predictor
from bestpractices.features import send_features
from bestpractices.models import PatternRun

OUTCOME_OF_METRIC = {"open": "opened", "click": "clicked", "reply": "replied"}
PERSONALISED, HOLDOUT = "personalised", "holdout"


def in_holdout(*, test_key: str, contact_id, percent: int) -> bool:
    """Stable per test and contact: the same contact stays in (or out of) the holdout."""
    digest = hashlib.sha256(f"{test_key}:holdout:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100 < percent


def personalised_plan(
    *,
    test: ABTest,
    contacts: list[dict],
    body: str = "",
    holdout_percent: int = 10,
    run: PatternRun | None = None,
    texts: dict[str, dict] | None = None,
) -> dict:
    """{contact id: (variant key, arm)} for contact records ({"id", "first_name", "customer_type",
    ...}): the holdout arm gets the test's winner, the personalised arm the variant whose
    predicted primary outcome is highest under the model of the contact's customer type."""
    if test.winner_id is None:
        raise ValidationError("Personalise after a test: this one has no winner yet.")
    outcome = OUTCOME_OF_METRIC.get(test.primary_metric)
    if outcome is None:
        raise ValidationError(f"No message outcome for the metric {test.primary_metric!r}.")
    run = run or selectors.run_latest()
    if run is None or not run.model:
        raise ValidationError("No pattern run yet: learn from sends first.")
    overall = Predictor({"model": run.model})
    by_type = {value: Predictor({"model": model}) for value, model in run.model.get("strata", {}).items()}
    variants = list(test.variants.all())
    winner = next(v.key for v in variants if v.pk == test.winner_id)
    plan = {}
    for contact in contacts:
        if in_holdout(test_key=test.key, contact_id=contact["id"], percent=holdout_percent):
            plan[contact["id"]] = (winner, HOLDOUT)
            continue
        predictor = by_type.get(str(contact.get("customer_type") or "").lower(), overall)

        def predicted(variant, contact=contact, predictor=predictor):
            text = (texts or {}).get(variant.key) or {}  # copy experiments: each arm's message
            record = {
                "channel": text.get("channel") or test.channel or "email",
                "subject": text.get("subject", variant.content.get("subject", "")),
                "body": text.get("body", variant.content.get("text", body)),
                "contact": contact,
            }
            return predictor.predict(send_features(record)).get(outcome, 0.0)

        plan[contact["id"]] = (max(variants, key=predicted).key, PERSONALISED)
    return plan


def personalised_result(*, plan: dict, outcomes: dict) -> dict:
    """Rate of the outcome in each arm and the personalised arm's lift over the holdout (the
    single winner), with a 95 % interval (delta method on the log rate ratio)."""
    arms = {PERSONALISED: [0, 0], HOLDOUT: [0, 0]}
    for contact_id, (_variant, arm) in plan.items():
        if contact_id in outcomes:
            arms[arm][0] += int(bool(outcomes[contact_id]))
            arms[arm][1] += 1
    (s1, n1), (s0, n0) = arms[PERSONALISED], arms[HOLDOUT]
    result = {
        "personalised": {"n": n1, "rate": s1 / n1 if n1 else None},
        "holdout": {"n": n0, "rate": s0 / n0 if n0 else None},
    }
    if s1 and s0:
        log_ratio = math.log((s1 / n1) / (s0 / n0))
        se = math.sqrt(1 / s1 - 1 / n1 + 1 / s0 - 1 / n0)
        result |= {"lift": math.expm1(log_ratio), "ci_low": math.expm1(log_ratio - 1.96 * se),
                   "ci_high": math.expm1(log_ratio + 1.96 * se)}  # fmt: skip
    return result
