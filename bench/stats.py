"""Benchmark abtesting.stats: 100,000 comparisons x 3 methods through the vectorised path.

Baseline: a scalar per-comparison loop with scipy.stats on the same inputs (timed on a
sample and reported as comparisons/s). Goal: all three methods on 100,000 comparisons in
<= 1 s. Run: .venv/bin/python bench/stats.py
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

import numpy as np
from scipy import stats as sps

from abtesting import stats

N = 100_000
SCALAR_SAMPLE = 2_000


def make_inputs(rng):
    n_a = rng.integers(1_000, 200_000, N)
    n_b = rng.integers(1_000, 200_000, N)
    p = rng.uniform(0.01, 0.3, N)
    conv_a = rng.binomial(n_a, p)
    conv_b = rng.binomial(n_b, p * rng.uniform(0.9, 1.1, N))
    return stats.Proportion(n_a, conv_a), stats.Proportion(n_b, conv_b)


def vectorised(control, treatment):
    stats.frequentist(control, treatment)
    stats.sequential(control, treatment)
    stats.bayesian(control, treatment)


def scalar_loop(control, treatment, count):
    """Textbook per-comparison code with scipy.stats objects (what a naive port does)."""
    alpha, tuning = 0.05, 5000
    rho2 = (-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning
    for i in range(count):
        n_a, n_b = float(control.n[i]), float(treatment.n[i])
        m_a, m_b = control.conversions[i] / n_a, treatment.conversions[i] / n_b
        v_a, v_b = m_a * (1 - m_a), m_b * (1 - m_b)
        point = (m_b - m_a) / m_a
        var = v_b / (m_a**2 * n_b) + v_a * m_b**2 / (m_a**4 * n_a)
        dof = (v_b / n_b + v_a / n_a) ** 2 / (v_b**2 / (n_b**2 * (n_b - 1)) + v_a**2 / (n_a**2 * (n_a - 1)))
        se = np.sqrt(var)
        # frequentist
        2 * (1 - sps.t.cdf(abs(point / se), dof))
        sps.t.ppf(0.975, dof)
        # sequential
        big_n = n_a + n_b
        np.sqrt(var * big_n) * np.sqrt(
            2 * (big_n * rho2 + 1) * np.log(np.sqrt(big_n * rho2 + 1) / alpha) / (big_n**2 * rho2)
        )
        # bayesian
        sps.norm.sf(0, point, se)
        sps.norm.ppf([0.025, 0.975], point, se)
        a = (0 - point) / se
        sps.truncnorm.stats(a, np.inf, loc=point, scale=se, moments="m")
        sps.truncnorm.stats(-np.inf, a, loc=point, scale=se, moments="m")


def main():
    rng = np.random.default_rng(7)
    control, treatment = make_inputs(rng)
    vectorised(control, treatment)  # warm-up
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        vectorised(control, treatment)
        runs.append(time.perf_counter() - start)
    best = min(runs)
    for method in (stats.frequentist, stats.sequential, stats.bayesian):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            method(control, treatment)
            times.append(time.perf_counter() - start)
        print(f"  {method.__name__:<12} {min(times) * 1000:7.1f} ms for {N:,} comparisons")
    start = time.perf_counter()
    scalar_loop(control, treatment, SCALAR_SAMPLE)
    scalar_rate = SCALAR_SAMPLE / (time.perf_counter() - start)
    vector_rate = N / best
    print(f"vectorised: {N:,} comparisons x 3 methods in {best:.3f} s (best of 5)")
    print(f"vectorised: {vector_rate:,.0f} comparisons/s (all three methods each)")
    print(f"scalar scipy loop: {scalar_rate:,.0f} comparisons/s (sample of {SCALAR_SAMPLE:,})")
    print(f"ratio vectorised/scalar: {vector_rate / scalar_rate:,.0f}x")
    print(f"goal <= 1 s: {'met' if best <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
