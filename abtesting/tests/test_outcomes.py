import numpy as np
import pytest

from abtesting import selectors, services, stats
from abtesting.models import ABTestDailyStat, ABTestSnapshot

pytestmark = pytest.mark.django_db


def _expose(test, units):
    return {u: services.variant_assign(test=test, unit_id=u) for u in units}


def test_binary_outcomes_count_once_per_unit(make_test):
    test = make_test()
    _expose(test, ["a"])
    for _ in range(3):
        services.outcome_record(test=test, unit_id="a", metric="signup")
    assert ABTestDailyStat.objects.get(metric="signup").units == 1


def test_outcomes_of_unexposed_units_or_unknown_metrics_are_ignored(make_test):
    test = make_test()
    _expose(test, ["a"])
    services.outcome_record(test=test, unit_id="never-seen", metric="signup")
    services.outcome_record(test=test, unit_id="a", metric="not-a-metric")
    assert not ABTestDailyStat.objects.exclude(metric="").exists()


def test_mean_metric_aggregates_equal_raw_sums(make_test):
    # given revenue events, several per unit
    test = make_test(primary_metric="revenue", mean_metrics=["revenue"])
    rng = np.random.default_rng(5)
    assigned = _expose(test, [f"u{i}" for i in range(30)])
    per_unit = {}
    for unit in assigned:
        for value in rng.exponential(10, rng.integers(0, 3)):
            services.outcome_record(test=test, unit_id=unit, metric="revenue", value=float(value))
            per_unit[unit] = per_unit.get(unit, 0.0) + float(value)
    # when the stored aggregates are read back
    sums = selectors.cumulative_sums(test_ids=[test.id])
    # then Σx and Σx² per variant equal the raw per-unit values
    for variant in test.variants.all():
        values = np.array([per_unit.get(u, 0.0) for u, v in assigned.items() if v == variant])
        s = sums[(test.id, variant.id, "revenue")]
        assert s.total == pytest.approx(values.sum())
        assert s.sum_squares == pytest.approx((values**2).sum())
        assert sums[(test.id, variant.id, "")].units == len(values)


def test_results_refresh_matches_stats_on_the_raw_counts(make_test):
    # given a running test with exposures and conversions
    test = make_test(secondary_metrics=["click"])
    assigned = _expose(test, [f"u{i}" for i in range(60)])
    for i, unit in enumerate(assigned):
        if i % 4 == 0:
            services.outcome_record(test=test, unit_id=unit, metric="signup")
    # when results are refreshed
    [snapshot] = services.results_refresh()
    # then the stored estimate is exactly the stats module's on the same counts
    control, treatment = test.variants.all()
    n = {v.key: sum(1 for x in assigned.values() if x == v) for v in (control, treatment)}
    conv = {
        v.key: sum(1 for i, (u, x) in enumerate(assigned.items()) if x == v and i % 4 == 0)
        for v in (control, treatment)
    }
    expected = stats.sequential(stats.Proportion(n["control"], conv["control"]), stats.Proportion(n["v1"], conv["v1"]))
    assert snapshot.results["metrics"]["signup"]["variants"]["v1"]["sequential"] == expected.as_dict()
    assert snapshot.results["arms"]["v1"]["units"] == n["v1"]
    assert snapshot.srm_p_value == pytest.approx(stats.srm_p_value([n["control"], n["v1"]], [1, 1]))
    # and a metric without data reports an error instead of numbers
    assert snapshot.results["metrics"]["click"]["variants"]["v1"]["sequential"]["error"]


def test_refresh_analyses_all_running_tests_in_constant_queries(make_test, django_assert_max_num_queries):
    tests = [make_test(f"t{i}") for i in range(5)]
    for test in tests:
        _expose(test, ["a", "b", "c"])
    with django_assert_max_num_queries(5 + 2 * 5 * 3):  # reads are O(1); per test: alert/rollout checks
        snapshots = services.results_refresh()
    assert len(snapshots) == 5 == ABTestSnapshot.objects.count()
