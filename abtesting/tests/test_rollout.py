"""The automatic rollout policy, its decision log and overrides, and the bandit mode."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from abtesting import services
from abtesting.models import ABTest, ABTestDecision, ABTestStatus, DecisionAction
from abtesting.policy import rollout_verdict
from abtesting.tasks import results_refresh_task
from madansara.models import AuditEvent

NOW = timezone.now()


def _test(**overrides):
    fields = {
        "key": "t",
        "primary_metric": "signup",
        "guardrail_metrics": ["unsubscribe"],
        "status": ABTestStatus.RUNNING,
        "started_at": NOW - timedelta(days=10),
        "min_runtime_days": 7,
        "min_units_per_arm": 1000,
    }
    return ABTest(**(fields | overrides))


def _results(*, units=5000, p=0.001, lift=0.08, srm=0.4, guardrail_high=0.05, error=None):
    seq = {"expected": lift, "ci": [lift - 0.05, lift + 0.05], "p_value": p, "error": error}
    guard = {
        "expected": guardrail_high - 0.05,
        "ci": [guardrail_high - 0.1, guardrail_high],
        "p_value": 0.5,
        "error": None,
    }
    return {
        "arms": {"control": {"units": units, "is_control": True}, "v1": {"units": units, "is_control": False}},
        "srm_p_value": srm,
        "metrics": {
            "signup": {"variants": {"control": {}, "v1": {"sequential": seq}}},
            "unsubscribe": {"variants": {"control": {}, "v1": {"sequential": guard}}},
        },
    }


@pytest.mark.parametrize(
    ("test_overrides", "result_overrides", "ready", "reason"),
    [
        ({}, {}, True, None),
        ({"started_at": NOW - timedelta(days=2)}, {}, False, "runtime"),
        ({}, {"units": 400}, False, "fewer than 1000 units"),
        ({}, {"srm": 0.0001}, False, "sample ratio mismatch"),
        ({}, {"p": 0.2}, False, "not decisive"),
        ({}, {"error": "An arm has zero variance"}, False, "not decisive"),
        ({}, {"guardrail_high": -0.01}, False, "guardrail regression on unsubscribe"),
        ({"rollout_hold": True}, {}, False, "admin holds"),
        ({"auto_rollout": False}, {}, False, "automatic rollout is off"),
        ({"mode": "bandit"}, {}, False, "bandit"),
        ({"status": ABTestStatus.STOPPED}, {}, False, "test is stopped"),
    ],
)
def test_rollout_policy_matrix(test_overrides, result_overrides, ready, reason):
    verdict = rollout_verdict(test=_test(**test_overrides), results=_results(**result_overrides), now=NOW)
    assert verdict.ready is ready
    if ready:
        assert verdict.winner_key == "v1" and verdict.reasons == []
    else:
        assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_policy_picks_control_when_every_treatment_is_decisively_worse():
    verdict = rollout_verdict(test=_test(), results=_results(lift=-0.1), now=NOW)
    assert verdict.ready and verdict.winner_key == "control"


def test_policy_uses_holm_across_treatments():
    results = _results(p=0.03)  # decisive alone at 0.05 ...
    results["arms"]["v2"] = {"units": 5000, "is_control": False}
    results["metrics"]["signup"]["variants"]["v2"] = {
        "sequential": {"expected": 0.01, "ci": [-0.1, 0.1], "p_value": 0.6, "error": None}
    }
    # ... but not at 0.05 / 2 once a second treatment is in the family
    assert not rollout_verdict(test=_test(), results=results, now=NOW).ready


@pytest.mark.django_db
def test_scheduled_refresh_rolls_out_a_clear_winner_with_an_audit_trail(make_test, seed):
    # given a test past its minimum runtime with a large, clear lift
    test = make_test(started_days_ago=8, sequential_tuning=300, min_units_per_arm=100, min_runtime_days=7)
    seed(test, units={"control": 150, "v1": 150}, signup={"control": 15, "v1": 75})
    # when the beat job runs
    results_refresh_task.delay()
    # then the winner takes all traffic, with a decision and an audit record
    test.refresh_from_db()
    assert test.status == ABTestStatus.ROLLED_OUT and test.winner.key == "v1"
    decision = test.decisions.get(action=DecisionAction.ROLLED_OUT)
    assert decision.automatic and decision.data["winner"] == "v1"
    assert AuditEvent.objects.filter(action="abtest.rolled_out", target_id=str(test.id)).exists()
    assert services.variant_assign(test=test, unit_id="brand-new").key == "v1"


@pytest.mark.django_db
def test_refresh_waits_and_says_why_when_runtime_is_short(make_test, seed):
    test = make_test(started_days_ago=1, sequential_tuning=300, min_units_per_arm=100, min_runtime_days=7)
    seed(test, units={"control": 150, "v1": 150}, signup={"control": 15, "v1": 75})
    services.results_refresh()
    services.results_refresh()
    test.refresh_from_db()
    assert test.status == ABTestStatus.RUNNING
    waiting = test.decisions.filter(action=DecisionAction.ROLLOUT_WAITING)
    assert waiting.count() == 1  # not repeated while the reasons stay the same
    assert "runtime" in waiting.get().reason


@pytest.mark.django_db
def test_admin_hold_blocks_rollout_and_revert_restores_the_test(make_test, seed, admin_user):
    test = make_test(started_days_ago=8, sequential_tuning=300, min_units_per_arm=100)
    seed(test, units={"control": 150, "v1": 150}, signup={"control": 15, "v1": 75})
    services.abtest_set_hold(test=test, hold=True, actor=admin_user, reason="waiting for legal")
    services.results_refresh()
    test.refresh_from_db()
    assert test.status == ABTestStatus.RUNNING
    services.abtest_roll_out(test=test, variant=test.variants.get(key="v1"), actor=admin_user, reason="manual")
    services.abtest_revert_rollout(test=test, actor=admin_user, reason="oops")
    test.refresh_from_db()
    assert test.status == ABTestStatus.RUNNING and test.winner is None and test.rollout_hold
    actions = list(test.decisions.order_by("id").values_list("action", "actor_label"))
    assert actions[-3:] == [("hold_set", "root"), ("rolled_out", "root"), ("rollout_reverted", "root")]


@pytest.mark.django_db
def test_srm_raises_an_alert_once_a_day_and_blocks_rollout(make_test, seed):
    test = make_test(started_days_ago=8, sequential_tuning=300, min_units_per_arm=10)
    # a broken integration assigned far more units to the control than the 50/50 weights allow
    seed(test, units={"control": 400, "v1": 150}, signup={"control": 40, "v1": 75})
    services.results_refresh()
    services.results_refresh()
    test.refresh_from_db()
    assert test.status == ABTestStatus.RUNNING
    assert test.decisions.filter(action=DecisionAction.SRM_ALERT).count() == 1
    assert "sample ratio mismatch" in test.decisions.get(action=DecisionAction.ROLLOUT_WAITING).reason


@pytest.mark.django_db
def test_guardrail_regression_raises_an_alert_and_blocks_rollout(make_test, seed):
    # given a treatment that wins on signups but loses badly on repeat purchases (a guardrail)
    test = make_test(
        started_days_ago=8, sequential_tuning=300, min_units_per_arm=100, guardrail_metrics=["repeat_purchase"]
    )
    seed(
        test,
        units={"control": 150, "v1": 150},
        signup={"control": 15, "v1": 75},
        repeat_purchase={"control": 75, "v1": 15},
    )
    # when the schedule runs
    services.results_refresh()
    # then nothing is rolled out and the regression is logged
    test.refresh_from_db()
    assert test.status == ABTestStatus.RUNNING
    alert = test.decisions.get(action=DecisionAction.GUARDRAIL_ALERT)
    assert alert.data == {"variant": "v1", "metrics": ["repeat_purchase"]}
    assert "guardrail regression" in test.decisions.get(action=DecisionAction.ROLLOUT_WAITING).reason


@pytest.mark.django_db
def test_bandit_reweights_on_schedule_and_keeps_the_floor(make_test, seed):
    # given a bandit test where v1 converts far better
    test = make_test(mode="bandit", weights=(1, 1, 1))
    seed(test, units={"control": 100, "v1": 100, "v2": 100}, signup={"control": 10, "v1": 60, "v2": 12})
    # when the schedule runs
    services.results_refresh()
    # then v1 gets most traffic, every arm keeps >= 1%, and the change is logged
    weights = dict(test.variants.values_list("key", "weight"))
    assert weights["v1"] > 0.9 and min(weights.values()) >= 0.01
    assert sum(weights.values()) == pytest.approx(1.0)
    assert ABTestDecision.objects.filter(test=test, action=DecisionAction.REWEIGHTED).exists()
    # and the SRM check is skipped on purpose (weights move)
    assert test.snapshots.get().srm_p_value is None


@pytest.mark.django_db
def test_refresh_is_declared_as_a_beat_job_and_runs_from_the_command_line(make_test, seed):
    from django.core.management import call_command

    from madansara.periodic import declared_schedules

    assert declared_schedules()["abtesting.results-refresh"].task == "abtesting.tasks.results_refresh_task"
    test = make_test()
    seed(test, units={"control": 10, "v1": 10}, signup={"control": 1, "v1": 2})
    call_command("abtesting_refresh", test=test.key)
    assert test.snapshots.count() == 1


@pytest.mark.django_db
def test_a_stale_copy_cannot_roll_out_twice(make_test):
    # given two workers holding the same running test
    test = make_test()
    stale = ABTest.objects.get(pk=test.pk)
    services.abtest_roll_out(test=test, variant=test.variants.get(key="v1"), actor="beat", automatic=True)
    # when the second one tries too, then it is refused and nothing is logged twice
    with pytest.raises(ValidationError):
        services.abtest_roll_out(test=stale, variant=stale.variants.get(key="control"), actor="beat")
    test.refresh_from_db()
    assert test.winner.key == "v1"
    assert test.decisions.filter(action=DecisionAction.ROLLED_OUT).count() == 1
