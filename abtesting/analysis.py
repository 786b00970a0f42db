"""Turn stored aggregates into per-variant results for many tests in one vectorised pass."""

from dataclasses import dataclass

import numpy as np

from abtesting import stats
from abtesting.models import EXPOSURES, ABTest, AllocationMode


@dataclass(frozen=True)
class Sums:
    units: int = 0
    total: float = 0.0
    sum_squares: float = 0.0


def analyse(tests: list[ABTest], sums: dict[tuple[int, int, str], Sums]) -> dict[int, dict]:
    """Results for each test (by id) from cumulative sums keyed (test_id, variant_id, metric).

    Every (test, metric, treatment) comparison of every test goes through the three methods
    at once; frequentist p-values are Holm-adjusted across treatments of a metric.
    """
    rows = []  # (test, metric, control, treatment, is_mean)
    results: dict[int, dict] = {}
    for test in tests:
        variants = list(test.variants.all())
        control = next((v for v in variants if v.is_control), None)
        arms = {
            v.key: {
                "units": sums.get((test.id, v.id, EXPOSURES), Sums()).units,
                "weight": v.weight,
                "is_control": v.is_control,
            }
            for v in variants
        }
        results[test.id] = {"arms": arms, "metrics": {}, "srm_p_value": _srm(test, variants, arms)}
        for metric in test.metrics:
            is_mean = test.is_mean_metric(metric)
            block = {"kind": "mean" if is_mean else "proportion", "variants": {}}
            results[test.id]["metrics"][metric] = block
            for v in variants:
                s = sums.get((test.id, v.id, metric), Sums())
                n = arms[v.key]["units"]
                block["variants"][v.key] = {
                    "units": n,
                    "conversions": s.units,
                    "value": (s.total if is_mean else s.units) / n if n else None,
                }
                if control is not None and v.id != control.id:
                    rows.append((test, metric, control, v, is_mean))
    if not rows:
        return results
    estimates = _estimate_all(rows, sums)
    for i, (test, metric, _control, variant, _is_mean) in enumerate(rows):
        target = results[test.id]["metrics"][metric]["variants"][variant.key]
        for method, per_row in estimates.items():
            target[method] = per_row[i].as_dict()
    _holm(results)
    return results


def _estimate_all(rows, sums) -> dict[str, list[stats.Estimate]]:
    """Scalar estimates per row and method, computed with one vectorised call per (alpha, tuning)."""
    size = len(rows)
    columns = {name: np.zeros(size) for name in ("n_a", "t_a", "q_a", "n_b", "t_b", "q_b")}
    is_mean = np.zeros(size, dtype=bool)
    alpha = np.zeros(size)
    tuning = np.zeros(size)
    for i, (test, metric, control, variant, mean_metric) in enumerate(rows):
        for side, v in (("a", control), ("b", variant)):
            n = sums.get((test.id, v.id, EXPOSURES), Sums()).units
            s = sums.get((test.id, v.id, metric), Sums())
            columns[f"n_{side}"][i] = n
            columns[f"t_{side}"][i] = s.total if mean_metric else s.units
            columns[f"q_{side}"][i] = s.sum_squares if mean_metric else s.units
        is_mean[i] = mean_metric
        alpha[i] = test.alpha
        tuning[i] = test.sequential_tuning
    # alpha and tuning vary per test; group so each call is still vectorised
    out: dict[str, list] = {method: [None] * size for method in ("frequentist", "sequential", "bayesian")}
    for key in {(a, t) for a, t in zip(alpha, tuning, strict=True)}:
        idx = np.flatnonzero((alpha == key[0]) & (tuning == key[1]))
        c = _statistic(*(columns[f"{x}_a"][idx] for x in "ntq"), is_mean[idx])
        t = _statistic(*(columns[f"{x}_b"][idx] for x in "ntq"), is_mean[idx])
        for method, estimate in (
            ("frequentist", stats.frequentist(c, t, alpha=key[0])),
            ("sequential", stats.sequential(c, t, alpha=key[0], tuning=key[1])),
            ("bayesian", stats.bayesian(c, t, alpha=key[0])),
        ):
            for j, i in enumerate(idx):
                out[method][i] = estimate.row(j)
    return out


def _statistic(n, total, squares, is_mean):
    if is_mean.all():
        return stats.Mean(n, total, squares)
    if not is_mean.any():
        return stats.Proportion(n, total)
    return _Mixed(n, total, squares, is_mean)


class _Mixed:
    """Proportion rows and mean rows side by side (same interface as stats.Proportion/Mean)."""

    def __init__(self, n, total, squares, is_mean):
        self._p = stats.Proportion(n, total)
        self._m = stats.Mean(n, total, squares)
        self._is_mean = is_mean
        self.n = n

    @property
    def units(self):
        return self._p.units

    @property
    def mean(self):
        return np.where(self._is_mean, self._m.mean, self._p.mean)

    @property
    def variance(self):
        return np.where(self._is_mean, self._m.variance, self._p.variance)


def _srm(test: ABTest, variants, arms) -> float | None:
    if test.mode == AllocationMode.BANDIT or len(variants) < 2:
        return None  # bandit weights move on purpose
    counts = [arms[v.key]["units"] for v in variants]
    if sum(counts) == 0:
        return None
    return stats.srm_p_value(counts, [v.weight for v in variants])


def _holm(results):
    for result in results.values():
        for block in result["metrics"].values():
            treated = [r["frequentist"] for r in block["variants"].values() if "frequentist" in r]
            valid = [r for r in treated if r["p_value"] is not None]
            adjusted = stats.adjust_p_values([r["p_value"] for r in valid], method="holm")
            for r, p in zip(valid, adjusted, strict=True):
                r["p_value_adjusted"] = p
