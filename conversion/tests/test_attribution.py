"""conversion.attribution: every model on hand-computed paths, properties, Markov vs references."""

import json
from pathlib import Path as FsPath

import pytest

from conversion.attribution import MODELS, Path, attribute, removal_effects

REFERENCE = json.loads(FsPath(__file__).with_name("fixtures").joinpath("markov_reference.json").read_text())
HEURISTIC = [m for m in MODELS if m != "markov"]


def approx(expected: dict) -> dict:
    return pytest.approx(expected, abs=1e-12)


THREE_TOUCH = [Path(("email", "sms", "direct"), 1, ages_days=(14, 7, 0))]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", {"email": 1, "sms": 0, "direct": 0}),
        ("last_touch", {"email": 0, "sms": 0, "direct": 1}),
        ("last_non_direct", {"email": 0, "sms": 1, "direct": 0}),
        ("linear", {"email": 1 / 3, "sms": 1 / 3, "direct": 1 / 3}),
        ("position_based", {"email": 0.4, "sms": 0.2, "direct": 0.4}),
        ("time_decay", {"email": 1 / 7, "sms": 2 / 7, "direct": 4 / 7}),
        ("shapley", {"email": 1 / 3, "sms": 1 / 3, "direct": 1 / 3}),
        ("markov", {"email": 1 / 3, "sms": 1 / 3, "direct": 1 / 3}),
    ],
)
def test_three_touch_path_is_split_as_computed_by_hand(model, expected):
    # given one converting email > sms > direct journey, touches 14, 7 and 0 days old
    # when it is attributed
    credit = attribute(THREE_TOUCH, model)
    # then each model splits the conversion by its rule
    assert credit == approx(expected)


@pytest.mark.parametrize("model", list(MODELS))
def test_one_touch_path_gives_everything_to_its_channel(model):
    paths = [Path(("email",), 2, nulls=1, value=50.0, ages_days=(3,))]
    assert attribute(paths, model) == approx({"email": 2})
    assert attribute(paths, model, by="value") == approx({"email": 50.0})


@pytest.mark.parametrize("model", ["position_based", "linear", "shapley", "markov"])
def test_two_touch_path_is_split_evenly(model):
    paths = [Path(("email", "sms"), 1)]
    assert attribute(paths, model) == approx({"email": 0.5, "sms": 0.5})


def test_position_based_shares_are_configurable():
    two = [Path(("email", "sms"), 1)]
    four = [Path(("email", "sms", "x", "direct"), 1)]
    assert attribute(two, "position_based", first=0.3, last=0.5) == approx({"email": 0.375, "sms": 0.625})
    assert attribute(four, "position_based", first=0.3, last=0.3) == approx(
        {"email": 0.3, "sms": 0.2, "x": 0.2, "direct": 0.3}
    )
    with pytest.raises(ValueError, match="first"):
        attribute(two, "position_based", first=0.7, last=0.7)


def test_repeated_channel_counts_per_touch_for_heuristics_and_once_for_shapley_and_markov():
    # given email > email > sms converting three times
    paths = [Path(("email", "email", "sms"), 3)]
    assert attribute(paths, "linear") == approx({"email": 2, "sms": 1})
    assert attribute(paths, "position_based") == approx({"email": 1.8, "sms": 1.2})
    assert attribute(paths, "shapley") == approx({"email": 1.5, "sms": 1.5})
    # the repeat collapses: email > sms > conversion, both channels are indispensable
    assert removal_effects(paths) == approx({"email": 1.0, "sms": 1.0})
    assert attribute(paths, "markov") == approx({"email": 1.5, "sms": 1.5})


def test_markov_removal_effects_on_a_hand_computed_chain():
    # given a > b converting once, and b alone converting once out of two
    paths = [Path(("a", "b"), 1), Path(("b",), 1, nulls=1)]
    # start→a 1/3, start→b 2/3, a→b 1, b→conversion 2/3: P = 2/3; without a: 4/9; without b: 0
    assert removal_effects(paths) == approx({"a": 1 / 3, "b": 1.0})
    # then credit is proportional to the removal effects
    assert attribute(paths, "markov") == approx({"a": 0.5, "b": 1.5})


def test_last_non_direct_falls_back_to_direct_on_an_all_direct_path():
    paths = [Path(("direct", "direct"), 1), Path(("email", "direct"), 1)]
    assert attribute(paths, "last_non_direct") == approx({"direct": 1, "email": 1})
    assert attribute(paths, "last_non_direct", direct=()) == approx({"direct": 2, "email": 0})


def test_time_decay_half_life_is_configurable_and_needs_ages():
    paths = [Path(("email", "sms"), 1, ages_days=(2, 0))]
    assert attribute(paths, "time_decay", half_life_days=2) == approx({"email": 1 / 3, "sms": 2 / 3})
    with pytest.raises(ValueError, match="ages_days"):
        attribute([Path(("email",), 1)], "time_decay")


MIXED = [
    Path(("email", "sms", "email", "direct"), 4, nulls=6, value=120.0, ages_days=(20, 9, 3, 0)),
    Path(("organic_search", "email"), 2, nulls=10, value=45.5, ages_days=(4, 1)),
    Path(("paid_search",), 3, nulls=30, value=99.0, ages_days=(0,)),
    Path(("instagram", "direct"), 1, nulls=2, value=10.0, ages_days=(6, 0)),
    Path(("x", "linkedin"), 0, nulls=12, ages_days=(3, 1)),
]


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("by", ["conversions", "value"])
def test_credit_sums_to_the_total_attributed(model, by):
    total = sum(p.conversions if by == "conversions" else p.value for p in MIXED)
    assert sum(attribute(MIXED, model, by=by).values()) == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("model", list(MODELS))
def test_symmetric_channels_get_equal_credit(model):
    paths = [
        Path(("a", "b"), 2, nulls=1, value=10.0, ages_days=(1, 0)),
        Path(("b", "a"), 2, nulls=1, value=10.0, ages_days=(1, 0)),
        Path(("c",), 1, nulls=3, value=4.0, ages_days=(0,)),
    ]
    credit = attribute(paths, model)
    assert credit["a"] == pytest.approx(credit["b"], abs=1e-12)
    assert credit["a"] > 0


@pytest.mark.parametrize("model", HEURISTIC + ["markov"])
def test_channel_on_no_converting_path_gets_nothing(model):
    credit = attribute(MIXED, model)
    assert credit["x"] == 0
    assert credit["linkedin"] == 0


def test_no_conversions_means_no_credit():
    paths = [Path(("email",), 0, nulls=5)]
    assert attribute(paths, "markov") == {"email": 0.0}
    assert removal_effects(paths) == {"email": 0.0}
    assert attribute([], "linear") == {}


def test_bad_input_is_rejected_clearly():
    with pytest.raises(ValueError, match="unknown model"):
        attribute(MIXED, "u_shaped")
    with pytest.raises(ValueError, match="by must be"):
        attribute(MIXED, "linear", by="revenue")
    with pytest.raises(ValueError, match="at least one channel"):
        Path((), 1)
    with pytest.raises(ValueError, match="one age per channel"):
        Path(("a", "b"), 1, ages_days=(1,))


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[c["name"] for c in REFERENCE["cases"]])
def test_markov_removal_effects_match_independent_implementations(case):
    # given paths whose exact removal effects were computed by ChannelAttribution's transition
    # matrix solved in rational arithmetic and by marketing-attribution-models
    paths = [Path(tuple(chans), conv, nulls, value) for chans, conv, nulls, value in case["paths"]]
    # when our module computes them
    ours = removal_effects(paths)
    # then they agree to 1e-9
    assert ours == pytest.approx(case["removal_effects"], abs=1e-9, rel=0)
    assert ours == pytest.approx(case["removal_effects_mam"], abs=1e-9, rel=0)


HIGHER_ORDER_CASES = [
    (case, order)
    for case in REFERENCE["cases"]
    for order in (2, 3)
    if not (order == 3 and case["name"] == "random_12ch")  # ~1,500 states: bench-sized, not unit-test-sized
]


@pytest.mark.parametrize(
    ("case", "order"), HIGHER_ORDER_CASES, ids=[f"{c['name']}-order{o}" for c, o in HIGHER_ORDER_CASES]
)
def test_higher_order_markov_credit_matches_channelattribution_transition_matrix(case, order):
    # given the exact order-k removal effects from ChannelAttribution's order-k transition matrix
    paths = [Path(tuple(chans), conv, nulls, value) for chans, conv, nulls, value in case["paths"]]
    effects = case[f"removal_effects_order{order}"]
    total = sum(p.conversions for p in paths)
    expected = {c: (e / sum(effects.values()) * total if sum(effects.values()) else 0.0) for c, e in effects.items()}
    # when credit is computed with order-k states
    credit = attribute(paths, "markov", order=order)
    # then it is proportional to those removal effects (to 1e-9)
    assert credit == pytest.approx(expected, abs=1e-9, rel=0)


def test_order_one_markov_is_the_default_and_bad_orders_are_rejected():
    assert attribute(MIXED, "markov", order=1) == attribute(MIXED, "markov")
    with pytest.raises(ValueError, match="order"):
        attribute(MIXED, "markov", order=0)


@pytest.mark.parametrize("case", REFERENCE["cases"][-3:], ids=[c["name"] for c in REFERENCE["cases"][-3:]])
def test_schur_complement_path_for_many_states_is_exact_too(case, monkeypatch):
    # given the one-inverse Schur-complement route forced even for few states
    import conversion.attribution as module

    monkeypatch.setattr(module, "SCHUR_FROM_STATES", 0)
    paths = [Path(tuple(chans), conv, nulls, value) for chans, conv, nulls, value in case["paths"]]
    # then first- and second-order removal effects still match the references to 1e-9
    assert removal_effects(paths) == pytest.approx(case["removal_effects"], abs=1e-9, rel=0)
    effects = case["removal_effects_order2"]
    total = sum(p.conversions for p in paths)
    expected = {c: e / sum(effects.values()) * total for c, e in effects.items()}
    assert attribute(paths, "markov", order=2) == pytest.approx(expected, abs=1e-9, rel=0)
