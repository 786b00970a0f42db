"""The automatic winner-rollout policy, as a pure decision over a test and its latest results."""

from dataclasses import dataclass, field

from abtesting.models import SRM_THRESHOLD, ABTest, AllocationMode


@dataclass(frozen=True)
class Verdict:
    ready: bool
    winner_key: str | None = None
    reasons: list[str] = field(default_factory=list)


def guardrail_regressions(test: ABTest, results: dict, variant_key: str) -> list[str]:
    """Guardrail metrics on which `variant_key` is decisively worse than control (sequential)."""
    worse = []
    for metric in test.guardrail_metrics:
        estimate = results["metrics"].get(metric, {}).get("variants", {}).get(variant_key, {})
        sequential = estimate.get("sequential") or {}
        high = (sequential.get("ci") or [None, None])[1]
        if sequential.get("error") is None and high is not None and high < 0:
            worse.append(metric)
    return worse


def rollout_verdict(*, test: ABTest, results: dict, now=None) -> Verdict:
    """Ready only if every condition holds; otherwise says which ones do not."""
    reasons = []
    if test.mode != AllocationMode.FIXED:
        reasons.append("bandit mode re-weights traffic instead of rolling out")
    if not test.auto_rollout:
        reasons.append("automatic rollout is off")
    if test.rollout_hold:
        reasons.append("an admin holds automatic rollout")
    if not test.is_running:
        reasons.append(f"test is {test.status}")
    runtime = test.runtime_days(now)
    if runtime < test.min_runtime_days:
        reasons.append(f"runtime {runtime:.1f} of {test.min_runtime_days} days")
    small = [k for k, arm in results["arms"].items() if arm["units"] < test.min_units_per_arm]
    if small:
        reasons.append(f"fewer than {test.min_units_per_arm} units in {', '.join(sorted(small))}")
    srm = results.get("srm_p_value")
    if srm is not None and srm < SRM_THRESHOLD:
        reasons.append(f"sample ratio mismatch (p = {srm:.2g})")
    winner = _sequential_winner(test, results)
    if winner is None:
        reasons.append("the sequential test is not decisive on the primary metric")
    else:
        regressions = guardrail_regressions(test, results, winner)
        if regressions:
            reasons.append(f"guardrail regression on {', '.join(regressions)}")
    return Verdict(ready=not reasons, winner_key=winner, reasons=reasons)


def _sequential_winner(test: ABTest, results: dict) -> str | None:
    """Best treatment decisively above control (Holm over treatments), or control if all lose."""
    block = results["metrics"].get(test.primary_metric)
    if not block:
        return None
    treated = {k: r["sequential"] for k, r in block["variants"].items() if "sequential" in r}
    if not treated or any(r["error"] for r in treated.values()):
        return None
    # Holm at level alpha across treatments: sort p-values, compare with alpha / (m - rank)
    ordered = sorted(treated.items(), key=lambda item: item[1]["p_value"])
    decisive = {}
    for rank, (key, r) in enumerate(ordered):
        if r["p_value"] >= test.alpha / (len(ordered) - rank):
            break
        decisive[key] = r
    winners = {k: r for k, r in decisive.items() if r["expected"] > 0}
    if winners:
        return max(winners, key=lambda k: winners[k]["expected"])
    if len(decisive) == len(treated):  # every treatment is decisively worse
        return next(k for k, arm in results["arms"].items() if arm["is_control"])
    return None
