"""abtesting.stats agrees with gbstats 0.8.0, scipy and statsmodels (fixtures in fixtures/)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from abtesting import stats

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "reference.json").read_text())
REL = 1e-6


def _num(x):
    return {"inf": math.inf, "-inf": -math.inf}.get(x, x) if isinstance(x, str) else x


def _stat(kind, values):
    if kind.startswith("cuped-"):
        n, post_sum, post_sq, pre_sum, pre_sq, products = values
        post = stats.Proportion(n, post_sum) if kind == "cuped-proportion" else stats.Mean(n, post_sum, post_sq)
        return stats.Cuped(post, stats.Mean(n, pre_sum, pre_sq), products)
    return stats.Proportion(*values) if kind == "proportion" else stats.Mean(*values)


def _run(case):
    control, treatment = _stat(case["kind"], case["control"]), _stat(case["kind"], case["treatment"])
    kw = {"relative": case["relative"], "alpha": case["alpha"]}
    if case["method"] == "frequentist":
        return stats.frequentist(control, treatment, alternative=case["alternative"], **kw)
    if case["method"] == "sequential":
        return stats.sequential(control, treatment, tuning=case["tuning"], **kw)
    prior = case["prior"]
    extra = {} if prior is None else {"prior_mean": prior[0], "prior_variance": prior[1]}
    return stats.bayesian(control, treatment, **kw, **extra)


def _close(ours, theirs):
    return ours == theirs or math.isclose(ours, theirs, rel_tol=REL, abs_tol=1e-12)


def _case_id(case):
    extra = case.get("alternative") or case.get("tuning") or case.get("prior")
    return f"{case['method']}-{case['kind']}-{'rel' if case['relative'] else 'abs'}-{extra}"


@pytest.mark.parametrize("case", REFERENCE["comparisons"], ids=_case_id)
def test_every_method_matches_gbstats(case):
    # given the same summary statistics as the gbstats run
    # when analysed
    estimate = _run(case)
    # then errors agree, and otherwise every number agrees to 1e-6 relative
    expected = case["result"]
    assert (estimate.error is None) == (expected["error"] is None)
    if estimate.error:
        assert estimate.expected is None and estimate.ci is None
        return
    assert _close(estimate.expected, expected["expected"])
    assert _close(estimate.ci[0], _num(expected["ci"][0]))
    if case.get("alternative") == "less":
        # gbstats 0.8.0 puts the upper bound at expected - width (a sign slip); ours is
        # expected + width, i.e. the mirror image of its bound around the estimate.
        assert math.isinf(estimate.ci[0])
        assert _close(estimate.ci[1], 2 * expected["expected"] - _num(expected["ci"][1]))
    else:
        assert _close(estimate.ci[1], _num(expected["ci"][1]))
    if "p_value" in expected:
        assert _close(estimate.p_value, expected["p_value"])
    if "chance_to_win" in expected:
        assert _close(estimate.chance_to_win, expected["chance_to_win"])
        assert _close(estimate.risk[0], expected["risk"][0])
        assert _close(estimate.risk[1], expected["risk"][1])


def test_fixtures_cover_every_method_kind_and_scale():
    seen = {(c["method"], c["kind"], c["relative"]) for c in REFERENCE["comparisons"]}
    assert len(seen) == 3 * 4 * 2  # methods x (proportion, mean, CUPED on each) x scales
    assert {c["alternative"] for c in REFERENCE["comparisons"] if c["method"] == "frequentist"} == {
        "two-sided",
        "greater",
        "less",
    }
    assert sum(c["result"]["error"] is not None for c in REFERENCE["comparisons"]) > 10


@pytest.mark.parametrize("method", [stats.frequentist, stats.sequential, stats.bayesian])
def test_vectorised_path_equals_scalar_path(method):
    # given a batch of comparisons, some of which cannot be analysed
    rng = np.random.default_rng(1)
    n_a, n_b = rng.integers(50, 5000, 40), rng.integers(50, 5000, 40)
    conv_a, conv_b = rng.binomial(n_a, 0.1), rng.binomial(n_b, 0.12)
    conv_a[3] = 0  # zero baseline
    n_b[5], conv_b[5] = 0, 0  # empty arm
    # when analysed in one call
    batch = method(stats.Proportion(n_a, conv_a), stats.Proportion(n_b, conv_b))
    # then each row equals the scalar call
    for i in range(40):
        one = method(stats.Proportion(int(n_a[i]), int(conv_a[i])), stats.Proportion(int(n_b[i]), int(conv_b[i])))
        _assert_same(batch.row(i), one)
    assert batch.row(3).error == stats.ERROR_ZERO_BASELINE
    assert batch.row(5).error == stats.ERROR_EMPTY_ARM


def _assert_same(a, b):
    flat_a, flat_b = _flatten(a.as_dict()), _flatten(b.as_dict())
    assert flat_a.keys() == flat_b.keys()
    for key, value in flat_a.items():
        other = flat_b[key]
        if isinstance(value, float) and isinstance(other, float):
            assert math.isclose(value, other, rel_tol=1e-12), key
        else:
            assert value == other, key


def _flatten(d):
    out = {}
    for key, value in d.items():
        if isinstance(value, list):
            out.update({f"{key}{i}": v for i, v in enumerate(value)})
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("control", "treatment", "error"),
    [
        (stats.Proportion(100, 0), stats.Proportion(100, 5), stats.ERROR_ZERO_BASELINE),
        (stats.Proportion(100, 5), stats.Proportion(0, 0), stats.ERROR_EMPTY_ARM),
        (stats.Mean(10, 20.0, 40.0), stats.Mean(10, 25.0, 80.0), stats.ERROR_ZERO_VARIANCE),
    ],
)
def test_unanalysable_input_gives_a_message_instead_of_numbers(control, treatment, error):
    for method in (stats.frequentist, stats.sequential, stats.bayesian):
        estimate = method(control, treatment)
        assert estimate.error == error
        assert estimate.expected is None and estimate.p_value is None


def test_welch_matches_scipy_ttest_on_raw_data():
    # given raw values of two arms
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 3, 400), rng.normal(10.6, 4, 350)
    # when the absolute difference is tested from summary statistics
    estimate = stats.frequentist(
        stats.Mean(len(a), a.sum(), (a**2).sum()), stats.Mean(len(b), b.sum(), (b**2).sum()), relative=False
    )
    # then it is scipy's Welch t-test and confidence interval
    reference = sps.ttest_ind(b, a, equal_var=False)
    low, high = reference.confidence_interval(0.95)
    assert math.isclose(estimate.p_value, reference.pvalue, rel_tol=REL)
    assert math.isclose(estimate.ci[0], low, rel_tol=REL) and math.isclose(estimate.ci[1], high, rel_tol=REL)


@pytest.mark.parametrize("case", REFERENCE["srm"], ids=lambda c: str(c["counts"]))
def test_srm_matches_gbstats_and_scipy(case):
    p = stats.srm_p_value(case["counts"], case["weights"])
    assert math.isclose(p, case["gbstats"], rel_tol=REL)
    if case["scipy"] is not None:
        assert math.isclose(p, case["scipy"], rel_tol=REL)


@pytest.mark.parametrize("case", REFERENCE["adjust"], ids=lambda c: f"{len(c['p_values'])}-values")
def test_holm_and_bh_match_statsmodels(case):
    for ours, theirs in zip(stats.adjust_p_values(case["p_values"]), case["holm"], strict=True):
        assert math.isclose(ours, theirs, rel_tol=REL, abs_tol=1e-15)
    for ours, theirs in zip(stats.adjust_p_values(case["p_values"], method="bh"), case["bh"], strict=True):
        assert math.isclose(ours, theirs, rel_tol=REL, abs_tol=1e-15)


def test_adjust_rejects_unknown_method():
    with pytest.raises(ValueError):
        stats.adjust_p_values([0.1], method="bonferroni-ish")


@pytest.mark.parametrize("case", REFERENCE["sample_size"], ids=lambda c: f"{c['baseline']}-{c['mde']}")
def test_sample_size_matches_statsmodels(case):
    n = stats.sample_size_per_arm(case["baseline"], case["mde"], alpha=case["alpha"], power=case["power"])
    assert n == case["n"]


def test_minimum_detectable_effect_inverts_sample_size():
    n = stats.sample_size_per_arm(0.05, 0.1)
    mde = stats.minimum_detectable_effect(0.05, n)
    assert 0.099 < mde <= 0.1
    assert stats.sample_size_per_arm(0.05, mde) <= n


def test_one_sided_intervals_are_open_on_one_side():
    control, treatment = stats.Proportion(1000, 100), stats.Proportion(1000, 130)
    greater = stats.frequentist(control, treatment, alternative="greater")
    less = stats.frequentist(control, treatment, alternative="less")
    two = stats.frequentist(control, treatment)
    assert greater.ci[1] == math.inf and less.ci[0] == -math.inf
    assert greater.ci[0] > two.ci[0] and less.ci[1] < two.ci[1]
    assert math.isclose(greater.p_value + less.p_value, 1.0)
    assert math.isclose(greater.p_value * 2, two.p_value)


def test_cuped_narrows_the_interval_when_the_pre_period_predicts_the_metric():
    # given post-period revenue that strongly follows pre-period revenue
    rng = np.random.default_rng(8)
    arms = []
    for lift in (0.0, 1.0):
        pre = rng.gamma(2.0, 10.0, 4000)
        post = pre + rng.normal(lift, 3.0, 4000)
        arms.append((pre, post))

    def summarise(pre, post):
        plain = stats.Mean(len(post), post.sum(), (post**2).sum())
        return plain, stats.Cuped(plain, stats.Mean(len(pre), pre.sum(), (pre**2).sum()), (pre * post).sum())

    (plain_a, cuped_a), (plain_b, cuped_b) = summarise(*arms[0]), summarise(*arms[1])
    # when analysed with and without the covariate
    plain = stats.frequentist(plain_a, plain_b, relative=False)
    adjusted = stats.frequentist(cuped_a, cuped_b, relative=False)
    # then CUPED's interval is several times narrower and still covers the true effect
    assert (adjusted.ci[1] - adjusted.ci[0]) * 3 < plain.ci[1] - plain.ci[0]
    assert adjusted.ci[0] < 1.0 < adjusted.ci[1]


def test_cuped_needs_pre_period_data_in_both_arms():
    plain = stats.Mean(10, 20.0, 50.0)
    with pytest.raises(TypeError):
        stats.frequentist(stats.Cuped(plain, plain, 50.0), plain)
