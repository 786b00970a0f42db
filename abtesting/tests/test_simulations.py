"""Monte Carlo checks of the statistics (vectorised, seeded, a few seconds in total)."""

import numpy as np

from abtesting import bandit, stats

ALPHA = 0.05


def _aa_daily_cumulative(seed, sims=2000, days=28, per_day=150, rate=0.1):
    rng = np.random.default_rng(seed)
    n = np.arange(1, days + 1) * per_day
    conv_a = rng.binomial(per_day, rate, size=(sims, days)).cumsum(axis=1)
    conv_b = rng.binomial(per_day, rate, size=(sims, days)).cumsum(axis=1)
    return n, conv_a, conv_b


def test_aa_with_daily_peeking_sequential_stays_below_alpha_and_naive_does_not():
    # given 2,000 A/A tests analysed every day for four weeks
    n, conv_a, conv_b = _aa_daily_cumulative(seed=11)
    sims, days = conv_a.shape
    naive_rejected = np.zeros(sims, dtype=bool)
    sequential_rejected = np.zeros(sims, dtype=bool)
    # when a test "wins" the first day its p-value drops below alpha
    for day in range(days):
        control = stats.Proportion(np.full(sims, n[day]), conv_a[:, day])
        treatment = stats.Proportion(np.full(sims, n[day]), conv_b[:, day])
        naive_rejected |= stats.frequentist(control, treatment, alpha=ALPHA).p_value < ALPHA
        sequential_rejected |= stats.sequential(control, treatment, alpha=ALPHA).p_value < ALPHA
    # then the always-valid test keeps its promise and repeated fixed-horizon testing breaks it
    assert sequential_rejected.mean() <= ALPHA
    assert naive_rejected.mean() > 2 * ALPHA


def test_aa_sequential_interval_covers_zero_at_every_peek():
    n, conv_a, conv_b = _aa_daily_cumulative(seed=12, sims=1000)
    ever_excluded = np.zeros(conv_a.shape[0], dtype=bool)
    for day in range(conv_a.shape[1]):
        control = stats.Proportion(np.full(conv_a.shape[0], n[day]), conv_a[:, day])
        treatment = stats.Proportion(np.full(conv_a.shape[0], n[day]), conv_b[:, day])
        low, high = stats.sequential(control, treatment, relative=False).ci
        ever_excluded |= (low > 0) | (high < 0)
    assert ever_excluded.mean() <= ALPHA


def test_95_percent_intervals_cover_the_true_lift_94_to_96_percent_of_the_time():
    # given 20,000 experiments with a known 10% relative lift
    rng = np.random.default_rng(13)
    sims, n, base, lift = 20_000, 5000, 0.1, 0.1
    control = stats.Proportion(np.full(sims, n), rng.binomial(n, base, sims))
    treatment = stats.Proportion(np.full(sims, n), rng.binomial(n, base * (1 + lift), sims))
    # when each gets a 95% interval on the relative lift
    for estimate in (stats.frequentist(control, treatment), stats.bayesian(control, treatment)):
        low, high = estimate.ci
        coverage = ((low <= lift) & (lift <= high)).mean()
        # then the interval covers the truth 94%-96% of the time
        assert 0.94 <= coverage <= 0.96, coverage


def test_mean_metric_interval_coverage_on_skewed_revenue():
    rng = np.random.default_rng(14)
    sims, n = 4000, 800
    a = rng.exponential(20.0, size=(sims, n))
    b = rng.exponential(22.0, size=(sims, n))
    estimate = stats.frequentist(
        stats.Mean(np.full(sims, n), a.sum(1), (a**2).sum(1)),
        stats.Mean(np.full(sims, n), b.sum(1), (b**2).sum(1)),
        relative=False,
    )
    low, high = estimate.ci
    assert 0.94 <= ((low <= 2.0) & (2.0 <= high)).mean() <= 0.96


def test_bandit_floor_keeps_every_arm_at_one_percent_even_when_one_arm_dominates():
    # given an arm far better than three others with lots of data
    weights = bandit.thompson_weights(
        means=[0.02, 0.30, 0.01, 0.02], variances=[0.02, 0.21, 0.01, 0.02], counts=[50_000] * 4, seed=1
    )
    # then every arm keeps at least 1% and the winner takes the rest
    assert min(weights) >= 0.01
    assert abs(sum(weights) - 1) < 1e-12
    assert weights[1] > 0.96


def test_bandit_splits_evenly_until_every_arm_has_data_and_favours_the_better_arm():
    assert bandit.thompson_weights([0.1, 0.2], [0.09, 0.16], [0, 100]) == [0.5, 0.5]
    weights = bandit.thompson_weights([0.10, 0.12], [0.09, 0.1056], [2000, 2000], seed=2)
    assert weights[1] > weights[0] >= 0.01
