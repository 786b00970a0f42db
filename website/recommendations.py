"""Optimisation rules: largest funnel drop-offs, high-exit pages, under-converting segments.

Each finding becomes (or refreshes) an OptimizationRecommendation with its evidence and a
proposed A/B test that `recommendation_create_test` turns into a draft test in one click.
"""

import re
from datetime import datetime

from django.db import transaction

from website.funnels import FunnelSpec, funnel_compute, glob_regex
from website.models import (
    FunnelDefinition,
    OptimizationRecommendation,
    RecommendationKind,
    RecommendationStatus,
)
from website.selectors import top_pages
from website.signals import recommendation_test_requested

MIN_ENTERED = 20
MIN_PAGEVIEWS = 30
HIGH_EXIT_RATE = 0.4
SEGMENT_RATIO = 0.5
SEGMENT_BREAKDOWNS = ("source", "device", "customer_type")


def _metric(step: dict) -> str:
    return step.get("event") or "pageview"


def _url_regex(step: dict) -> str:
    pattern = step.get("url")
    if not pattern:
        return ""
    return "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))


def _proposal(*, name: str, hypothesis: str, metric: str, url_pattern: str) -> dict:
    return {
        "name": name[:200],
        "hypothesis": hypothesis,
        "surface": "website_element",
        "primary_metric": metric,
        "url_pattern": url_pattern,
        "variants": [
            {"key": "control", "name": "Current page", "is_control": True, "weight": 1.0, "content": {}},
            {"key": "treatment", "name": "Proposed change", "is_control": False, "weight": 1.0, "content": {}},
        ],
    }


def _funnel_findings(funnel: FunnelDefinition, start: datetime, end: datetime) -> list[dict]:
    findings = []
    result = funnel_compute(FunnelSpec.for_funnel(funnel, start=start, end=end))
    steps = result.steps
    if steps[0]["count"] < MIN_ENTERED:
        return findings
    worst = max(steps[:-1], key=lambda s: s["dropped"])
    k = worst["index"]
    if worst["dropped"]:
        after = steps[k + 1]
        findings.append(
            {
                "kind": RecommendationKind.FUNNEL_DROP_OFF,
                "fingerprint": f"drop:{funnel.pk}:{k}",
                "funnel": funnel,
                "title": f"{funnel.name}: {worst['dropped']} of {worst['count']} drop between "
                f"'{worst['label']}' and '{after['label']}'",
                "evidence": {
                    "from_step": worst,
                    "to_step": after,
                    "range": [start.isoformat(), end.isoformat()],
                    "entered": steps[0]["count"],
                },
                "impact": float(worst["dropped"]),
                "proposal": _proposal(
                    name=f"{funnel.name}: lift '{worst['label']}' → '{after['label']}'",
                    hypothesis=f"Only {after['conversion_from_previous']:.0%} go on from '{worst['label']}'; "
                    f"a clearer next step on that page should raise '{after['label']}'.",
                    metric=_metric(funnel.steps[k + 1]),
                    url_pattern=_url_regex(funnel.steps[k]),
                ),
            }
        )
    overall = steps[-1]["count"] / steps[0]["count"]
    for breakdown in SEGMENT_BREAKDOWNS:
        by_value = funnel_compute(FunnelSpec.for_funnel(funnel, start=start, end=end, breakdown=breakdown)).breakdown
        for value, counts in by_value.items():
            if counts[0] < MIN_ENTERED or value == "(none)":
                continue
            rate = counts[-1] / counts[0]
            if rate < overall * SEGMENT_RATIO:
                findings.append(
                    {
                        "kind": RecommendationKind.UNDER_CONVERTING_SEGMENT,
                        "fingerprint": f"segment:{funnel.pk}:{breakdown}:{value}",
                        "funnel": funnel,
                        "title": f"{funnel.name}: {breakdown} '{value}' converts at {rate:.1%} vs {overall:.1%} overall",
                        "evidence": {"breakdown": breakdown, "value": value, "counts": counts, "overall": overall},
                        "impact": counts[0] * (overall - rate),
                        "proposal": _proposal(
                            name=f"{funnel.name}: variant for {breakdown}={value}",
                            hypothesis=f"Visitors with {breakdown} '{value}' convert at less than half the "
                            "average; a version of the entry page tailored to them should close the gap.",
                            metric=_metric(funnel.steps[-1]),
                            url_pattern=_url_regex(funnel.steps[0]),
                        ),
                    }
                )
    return findings


def _goal_page(path: str, funnels) -> bool:
    """Pages that end a funnel (thank-you pages) are meant to end visits."""
    return any(f.steps[-1].get("url") and glob_regex(f.steps[-1]["url"]).match(path) for f in funnels)


def _exit_findings(site_id: int, start: datetime, end: datetime) -> list[dict]:
    funnels = list(FunnelDefinition.objects.filter(site_id=site_id, is_active=True))
    pages = [
        p
        for p in top_pages(site_id=site_id, start=start, end=end, limit=50)
        if p["pageviews"] >= MIN_PAGEVIEWS and not _goal_page(p["path"], funnels)
    ]
    if not pages:
        return []
    average = sum(p["exits"] for p in pages) / sum(p["pageviews"] for p in pages)
    findings = []
    for page in pages:
        if page["exit_rate"] >= max(HIGH_EXIT_RATE, 1.5 * average):
            findings.append(
                {
                    "kind": RecommendationKind.HIGH_EXIT_PAGE,
                    "fingerprint": f"exit:{page['path']}"[:200],
                    "funnel": None,
                    "title": f"{page['path']}: {page['exit_rate']:.0%} of views end the visit (site {average:.0%})",
                    "evidence": {**page, "site_exit_rate": average},
                    "impact": page["exits"] - average * page["pageviews"],
                    "proposal": _proposal(
                        name=f"Keep visitors on {page['path']}",
                        hypothesis="A stronger call to action on this page should lower its exit rate.",
                        metric="pageview",
                        url_pattern="^" + re.escape(page["path"]) + "$",
                    ),
                }
            )
    return findings


@transaction.atomic
def recommendations_generate(*, site_id: int, start: datetime, end: datetime) -> list[OptimizationRecommendation]:
    """Run every rule for a site and upsert its findings (dismissed or acted-on ones keep their status)."""
    findings = _exit_findings(site_id, start, end)
    for funnel in FunnelDefinition.objects.filter(site_id=site_id, is_active=True):
        findings += _funnel_findings(funnel, start, end)
    stored = []
    for finding in findings:
        recommendation, _ = OptimizationRecommendation.objects.update_or_create(
            site_id=site_id,
            fingerprint=finding["fingerprint"],
            defaults={
                "kind": finding["kind"],
                "funnel": finding["funnel"],
                "title": finding["title"][:300],
                "evidence": finding["evidence"],
                "proposed_test": finding["proposal"],
                "impact_score": round(finding["impact"], 3),
            },
        )
        stored.append(recommendation)
    return stored


@transaction.atomic
def recommendation_create_test(*, recommendation: OptimizationRecommendation, actor=None):
    """Create the proposed A/B test as a draft and link it (the experiments app answers
    `recommendation_test_requested`: abtesting.receivers)."""
    locked = OptimizationRecommendation.objects.select_for_update().get(pk=recommendation.pk)
    if not locked.can_create_test():
        raise ValueError("A test was already created from this recommendation, or it was dismissed.")
    proposal = dict(locked.proposed_test)
    variants = proposal.pop("variants")
    answers = recommendation_test_requested.send(
        sender=OptimizationRecommendation,
        recommendation=locked,
        key=f"rec-{locked.pk}-{locked.site_id}",
        variants=variants,
        actor=actor,
        proposal=proposal,
    )
    test = next((answer for _, answer in answers if answer is not None), None)
    if test is None:
        raise ValueError("No experiments app answered: install abtesting to create tests.")
    locked.status = RecommendationStatus.TEST_CREATED
    locked.experiment_ref = test.key
    locked.save(update_fields=["status", "experiment_ref", "updated_at"])
    recommendation.refresh_from_db()
    return test


def recommendation_dismiss(*, recommendation: OptimizationRecommendation) -> None:
    """Hide a recommendation; reruns of the rules keep it dismissed."""
    OptimizationRecommendation.objects.filter(pk=recommendation.pk).update(status=RecommendationStatus.DISMISSED)
