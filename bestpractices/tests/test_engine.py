"""The engine on generated sends with planted, confounded effects (bestpractices.synthetic)."""

import math

import numpy as np
import orjson
import pytest

from bestpractices.engine import Predictor, patterns_extract
from bestpractices.features import FEATURES, send_features
from bestpractices.sends import sends_read
from bestpractices.synthetic import EFFECTS, sends_generate, true_lift


def extract(records, **kwargs):
    lines = [orjson.dumps({k: v for k, v in r.items() if k != "_features"}) for r in records]
    return patterns_extract(sends_read(lines), **kwargs)


def truth(records, row, effects=None):
    return true_lift(
        records,
        outcome=row["outcome"],
        feature=row["feature"],
        value=row["value"],
        baseline=row["baseline"],
        effects=effects,
    )


@pytest.fixture(scope="module")
def world():
    records = list(sends_generate(60_000, seed=11))
    return records, extract(records)


def test_generated_text_has_the_features_the_generator_meant(world):
    records, _ = world
    for record in records[:3000]:
        derived = dict(zip(FEATURES, send_features(record), strict=True))
        assert {name: derived[name] for name in record["_features"]} == record["_features"]


def test_every_planted_effect_is_found_with_its_sign_and_an_interval_covering_the_truth(world):
    records, patterns = world
    rows = patterns["patterns"]
    for outcome, planted in EFFECTS.items():
        for (feature, value), _effect in planted.items():
            candidates = [
                r
                for r in rows
                if r["outcome"] == outcome and r["feature"] == feature and value in (r["value"], r["baseline"])
            ]
            assert candidates, (outcome, feature, value)
            for row in candidates:
                expected = truth(records, row)
                if abs(expected) < 0.02:
                    continue
                assert row["significant"], (row, expected)
                assert math.copysign(1, row["lift"]) == math.copysign(1, expected), (row, expected)
                assert row["ci_low"] <= expected <= row["ci_high"], (row, expected)


def test_every_interval_covers_its_truth(world):
    records, patterns = world
    misses = [row for row in patterns["patterns"] if not row["ci_low"] <= truth(records, row) <= row["ci_high"]]
    assert not misses


def test_confounded_null_is_not_reported_but_a_naive_comparison_would_report_it(world):
    """Question subjects go out mostly in the morning, and morning lifts opens; questions do not."""
    records, patterns = world
    emails = [r for r in records if "opened" in r["outcomes"]]
    with_q = [r["outcomes"]["opened"] for r in emails if r["_features"]["subject_question"]]
    without_q = [r["outcomes"]["opened"] for r in emails if not r["_features"]["subject_question"]]
    naive_lift = np.mean(with_q) / np.mean(without_q) - 1
    assert naive_lift > 0.05
    (row,) = [r for r in patterns["patterns"] if r["outcome"] == "opened" and r["feature"] == "subject_question"]
    assert not row["significant"]
    assert row["ci_low"] < 0 < row["ci_high"]
    assert abs(row["lift"]) < naive_lift / 2


def test_missing_outcomes_are_not_measured_and_counted_only_where_measured(world):
    records, patterns = world
    measured_opens = sum("opened" in r["outcomes"] for r in records)
    assert patterns["outcomes"]["opened"]["n"] == measured_opens < len(records)
    (row,) = [r for r in patterns["patterns"] if r["outcome"] == "opened" and r["feature"] == "subject_emoji"]
    assert row["n"] + row["n_baseline"] == measured_opens
    assert not [r for r in patterns["patterns"] if r["outcome"] == "opened" and r["feature"] == "channel"]


def test_pattern_rows_have_the_contract_fields_and_state_the_error_control(world):
    _, patterns = world
    for row in patterns["patterns"]:
        assert {
            "feature",
            "value",
            "baseline",
            "outcome",
            "lift",
            "ci_low",
            "ci_high",
            "n",
            "significant",
        } <= row.keys()
        assert row["ci_low"] <= row["lift"] <= row["ci_high"]
        assert row["significant"] == (row["ci_low"] > 0 or row["ci_high"] < 0)
    control = patterns["method"]["multiple_testing"]
    assert control["method"] == "bonferroni" and control["error_rate"] == 0.05
    assert control["tests"] == len(patterns["patterns"])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_nothing_is_significant_where_nothing_works(seed):
    """Family-wise error 5%: with no planted effect these fixed seeds report no pattern at all."""
    records = list(sends_generate(15_000, seed=seed, effects={}))
    patterns = extract(records)
    assert len(patterns["patterns"]) > 60
    assert [r for r in patterns["patterns"] if r["significant"]] == []


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_null_features_are_not_significant_beside_planted_ones(seed):
    records = list(sends_generate(25_000, seed=seed))
    patterns = extract(records)
    false_positives = [r for r in patterns["patterns"] if r["significant"] and truth(records, r) == 0.0]
    assert false_positives == []


def brier(p, y):
    return float(np.mean((np.asarray(p) - np.asarray(y)) ** 2))


def test_predictions_beat_the_base_rate_on_held_out_sends():
    train = list(sends_generate(40_000, seed=31))
    held_out = list(sends_generate(10_000, seed=32))
    patterns = extract(train)
    predictor = Predictor(orjson.loads(orjson.dumps(patterns)))  # as read back from the file
    for outcome in ("opened", "clicked", "replied", "converted"):
        sends = [r for r in held_out if outcome in r["outcomes"]]
        y = [r["outcomes"][outcome] for r in sends]
        p = [predictor.predict(send_features(r))[outcome] for r in sends]
        base = patterns["outcomes"][outcome]["rate"]
        assert brier(p, y) < brier([base] * len(y), y), outcome
        assert abs(np.mean(p) - np.mean(y)) < 0.02, outcome  # calibrated in the large
