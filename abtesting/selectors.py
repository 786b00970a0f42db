"""Reads of the A/B testing engine."""

from django.db.models import Prefetch, Sum

from abtesting import services, stats
from abtesting.analysis import Sums
from abtesting.models import ABTest, ABTestDailyStat, ABTestStatus, ABTestVariant
from madansara.contacts.models import Contact


def running_tests():
    """Running tests with their variants (one extra query for all variants)."""
    return ABTest.objects.filter(status=ABTestStatus.RUNNING).prefetch_related(
        Prefetch("variants", queryset=ABTestVariant.objects.order_by("-is_control", "id"))
    )


def live_tests(*, site_id: int | None = None, surfaces=None):
    """Tests that assign variants (running or rolled out), optionally for one site / surfaces."""
    qs = ABTest.objects.filter(status__in=[ABTestStatus.RUNNING, ABTestStatus.ROLLED_OUT])
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    if surfaces is not None:
        qs = qs.filter(surface__in=surfaces)
    return qs.prefetch_related(Prefetch("variants", queryset=ABTestVariant.objects.order_by("-is_control", "id")))


def cumulative_sums(*, test_ids) -> dict[tuple[int, int, str], Sums]:
    """Σ of the daily aggregates per (test, variant, metric), in one GROUP BY query."""
    rows = (
        ABTestDailyStat.objects.filter(test_id__in=test_ids)
        .values("test_id", "variant_id", "metric")
        .annotate(units=Sum("units"), total=Sum("total"), sum_squares=Sum("sum_squares"))
        .order_by()
    )
    return {
        (r["test_id"], r["variant_id"], r["metric"]): Sums(
            units=int(r["units"] or 0), total=float(r["total"] or 0), sum_squares=float(r["sum_squares"] or 0)
        )
        for r in rows
    }


def contact_in_segment(*, contact_id: int | None, tag_id: int) -> bool:
    """Does the contact carry the segment's tag?"""
    if not contact_id:
        return False

    return Contact.tags.through.objects.filter(contact_id=contact_id, tag_id=tag_id).exists()


def latest_snapshot(*, test: ABTest):
    return test.snapshots.order_by("-computed_at", "-id").first()


def estimate_history(*, test: ABTest, metric: str | None = None, limit: int = 200) -> list[dict]:
    """The primary (or given) metric's sequential estimate per treatment over time, oldest first."""
    metric = metric or test.primary_metric
    snapshots = list(test.snapshots.order_by("-computed_at", "-id").values("computed_at", "results")[:limit])
    history = []
    for snap in reversed(snapshots):
        block = snap["results"].get("metrics", {}).get(metric, {}).get("variants", {})
        history.append(
            {
                "computed_at": snap["computed_at"],
                "variants": {k: v.get("sequential") for k, v in block.items() if "sequential" in v},
            }
        )
    return history


def sample_size_plan(*, baseline: float, alpha: float, power: float, mde=None, n=None) -> dict:
    """Calculator: units per arm for an MDE, or the MDE for a number of units per arm."""
    if mde is not None:
        n = stats.sample_size_per_arm(baseline, mde, alpha=alpha, power=power)
    else:
        mde = stats.minimum_detectable_effect(baseline, n, alpha=alpha, power=power)
    return {"baseline": baseline, "alpha": alpha, "power": power, "mde": mde, "n_per_arm": n}


def assignments_for(*, tests, unit_id: str, contact_id=None, url=None, channel=None) -> dict[str, str]:
    """{test key: variant key} for the live tests that target this request."""
    out = {}
    for test in tests:
        if not test.matches_url(url) or (channel and test.channel and test.channel != channel):
            continue
        out[test.key] = services.variant_assign(test=test, unit_id=unit_id, contact_id=contact_id).key
    return out
