"""State changes of the A/B testing engine: lifecycle, assignment, outcomes, analysis, rollout."""

import logging
from bisect import bisect_right
from collections import Counter
from itertools import accumulate

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from abtesting import analysis, bandit, selectors
from abtesting.models import (
    CAMPAIGN_ARM_SURFACES,
    EXPOSURES,
    SRM_THRESHOLD,
    ABTest,
    ABTestDailyStat,
    ABTestDecision,
    ABTestExposure,
    ABTestSnapshot,
    ABTestStatus,
    ABTestUnitMetric,
    ABTestVariant,
    AllocationMode,
    DecisionAction,
)
from abtesting.policy import guardrail_regressions, rollout_verdict
from madansara.audit import audit_record
from madansara.choices import Channel

logger = logging.getLogger(__name__)


# --- assignment and outcomes -------------------------------------------------------------


def variant_assign(*, test: ABTest, unit_id: str, contact_id: int | None = None) -> ABTestVariant:
    """The unit's variant: deterministic, exposure logged once, sticky to the contact."""
    variants = _variants(test)
    if test.status == ABTestStatus.ROLLED_OUT and test.winner_id:
        return next(v for v in variants if v.id == test.winner_id)
    control = next((v for v in variants if v.is_control), None)
    if control is None:
        raise ValidationError(f"Test {test.key} has no control variant.")
    if not test.is_running:
        return control
    existing = ABTestExposure.objects.filter(test=test, unit_id=unit_id).first()
    if existing is not None:
        if contact_id and existing.contact_id is None:
            ABTestExposure.objects.filter(pk=existing.pk).update(contact_id=contact_id)
        return next(v for v in variants if v.id == existing.variant_id)
    if test.segment_id and not selectors.contact_in_segment(contact_id=contact_id, tag_id=test.segment_id):
        return control  # outside the targeted segment: default experience, not exposed
    canonical = ""
    variant = None
    if contact_id:
        earlier = ABTestExposure.objects.filter(test=test, contact_id=contact_id).first()
        if earlier is not None:
            canonical = earlier.canonical_unit or earlier.unit_id
            variant = next(v for v in variants if v.id == earlier.variant_id)
    if variant is None:
        variant = pick_variant(test=test, variants=variants, unit_id=unit_id)
    try:
        with transaction.atomic():
            ABTestExposure.objects.create(
                test=test, variant=variant, unit_id=unit_id, contact_id=contact_id, canonical_unit=canonical
            )
            if not canonical:
                _daily_add(test_id=test.id, variant_id=variant.id, day=timezone.now().date(), metric=EXPOSURES)
    except IntegrityError:  # another request exposed this unit first
        existing = ABTestExposure.objects.get(test=test, unit_id=unit_id)
        return next(v for v in variants if v.id == existing.variant_id)
    return variant


def pick_variant(*, test: ABTest, variants: list[ABTestVariant], unit_id: str) -> ABTestVariant:
    """Weighted bucket for (test key, unit) without touching the database."""
    weights = [max(v.weight, 0.0) for v in variants]
    total = sum(weights)
    if total <= 0:
        return next(v for v in variants if v.is_control)
    edges = list(accumulate(w / total for w in weights))
    index = min(bisect_right(edges, test.bucket(unit_id)), len(variants) - 1)
    while weights[index] == 0:  # float edge: never land on a zero-weight arm
        index -= 1
    return variants[index]


def outcome_record(*, test: ABTest, unit_id: str, metric: str, value: float = 1.0, occurred_at=None) -> None:
    """Add a unit's metric value to the stored aggregates (binary metrics count once per unit)."""
    if not test.is_running or metric not in test.metrics:
        return
    exposure = ABTestExposure.objects.filter(test=test, unit_id=unit_id).first()
    if exposure is None:
        return  # outcomes of units that never saw the test do not count
    unit = exposure.canonical_unit or unit_id
    is_mean = test.is_mean_metric(metric)
    day = (occurred_at or timezone.now()).date()
    with transaction.atomic():
        row, created = ABTestUnitMetric.objects.select_for_update().get_or_create(
            test=test,
            unit_id=unit,
            metric=metric,
            defaults={"variant_id": exposure.variant_id, "value": value if is_mean else 1.0},
        )
        if created:
            before, after = 0.0, row.value
        elif not is_mean:
            return
        else:
            before, after = row.value, row.value + value
            ABTestUnitMetric.objects.filter(pk=row.pk).update(value=after)
        _daily_add(
            test_id=test.id,
            variant_id=row.variant_id,
            day=day,
            metric=metric,
            units=int(created),
            total=after - before,
            sum_squares=after * after - before * before,
        )


@transaction.atomic
def exposures_add_from(*, test: ABTest, source_sql: str, params: list, now=None) -> dict[str, int]:
    """Expose, set-based, the contacts a query yields as rows (contact_id, arm: the variant key) — the
    campaign planner assigns a send-time or channel experiment's arms in SQL. A contact already
    exposed keeps its first exposure; the day's exposure counts grow by the new ones. Returns the
    new exposures per variant key."""
    now = now or timezone.now()
    exposure, variant = ABTestExposure._meta.db_table, ABTestVariant._meta.db_table
    insert = f"""
        INSERT INTO {exposure} (test_id, variant_id, unit_id, contact_id, canonical_unit, exposed_at)
        SELECT %s, v.id, 'contact:' || r.contact_id, r.contact_id, '', %s
        FROM ({source_sql}) r JOIN {variant} v ON v.test_id = %s AND v.key = r.arm
        WHERE NOT EXISTS (SELECT 1 FROM {exposure} x WHERE x.test_id = %s AND x.contact_id = r.contact_id)
        ON CONFLICT DO NOTHING
        RETURNING variant_id"""
    args = [test.pk, connection.ops.adapt_datetimefield_value(now), *params, test.pk, test.pk]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A nested-loop anti-join would rescan the exposures this very statement appends (the
            # table is empty when the experiment starts, so the planner expects no rows): quadratic.
            # A hash anti-join reads the exposures once, before the first insert.
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute(f"WITH ins AS ({insert}) SELECT variant_id, COUNT(*) FROM ins GROUP BY variant_id", args)
            counts = dict(cursor.fetchall())
            cursor.execute("RESET enable_nestloop")
        else:
            cursor.execute(insert, args)
            counts = Counter(row[0] for row in cursor.fetchall())
    keys = dict(ABTestVariant.objects.filter(test=test).values_list("pk", "key"))
    for variant_id, units in counts.items():
        _daily_add(test_id=test.pk, variant_id=variant_id, day=now.date(), metric=EXPOSURES, units=units)
    return {keys[variant_id]: units for variant_id, units in counts.items()}


def unit_identify(*, unit_id: str, contact_id: int) -> int:
    """Attach a unit's exposures in every test to the contact it turned out to be."""
    return ABTestExposure.objects.filter(unit_id=unit_id, contact__isnull=True).update(contact_id=contact_id)


def _daily_add(*, test_id, variant_id, day, metric, units=1, total=0.0, sum_squares=0.0) -> None:
    lookup = {"test_id": test_id, "variant_id": variant_id, "day": day, "metric": metric}
    increments = {
        "units": F("units") + units,
        "total": F("total") + total,
        "sum_squares": F("sum_squares") + sum_squares,
    }
    if ABTestDailyStat.objects.filter(**lookup).update(**increments):
        return
    try:
        with transaction.atomic():
            ABTestDailyStat.objects.create(**lookup, units=units, total=total, sum_squares=sum_squares)
    except IntegrityError:
        ABTestDailyStat.objects.filter(**lookup).update(**increments)


def _variants(test: ABTest) -> list[ABTestVariant]:
    cache = getattr(test, "_prefetched_objects_cache", {})
    if "variants" in cache:
        return list(cache["variants"])
    return list(test.variants.all())


# --- lifecycle -----------------------------------------------------------------------------


def _decide(*, test, action, actor=None, reason="", data=None, automatic=False) -> ABTestDecision:
    label = actor.get_username() if getattr(actor, "is_authenticated", False) else (actor or "system")
    decision = ABTestDecision.objects.create(
        test=test, action=action, actor_label=label, automatic=automatic, reason=reason, data=data or {}
    )
    audit_record(actor=actor, action=f"abtest.{action}", target=test, data={"reason": reason, **(data or {})})
    return decision


def abtest_validate(*, test: ABTest) -> None:
    """Raise ValidationError unless the test can run (one control, two arms, traffic)."""
    variants = _variants(test)
    if len(variants) < 2:
        raise ValidationError("A test needs at least two variants.")
    if sum(v.is_control for v in variants) != 1:
        raise ValidationError("A test needs exactly one control variant.")
    if sum(v.weight for v in variants) <= 0:
        raise ValidationError("At least one variant needs a positive weight.")
    if test.is_website and test.site_id is None:
        raise ValidationError("A website test needs a site.")
    if test.surface in CAMPAIGN_ARM_SURFACES:
        errors = [f"{v.key}: {error}" for v in variants for error in send_arm_errors(v.content or {})]
        if errors:
            raise ValidationError(errors)


def send_arm_errors(content: dict) -> list[str]:
    """What is wrong with a send-time or channel arm's content (see OutreachCampaign.send_test)."""
    errors = []
    start, end = content.get("window_start_hour"), content.get("window_end_hour")
    if (start is None) != (end is None):
        errors.append("give both window_start_hour and window_end_hour, or neither")
    elif start is not None and not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= 24):
        errors.append("the window is whole hours with 0 <= window_start_hour < window_end_hour <= 24")
    days = content.get("send_weekdays")
    if days is not None and not (
        isinstance(days, list) and len(set(days)) == len(days) and all(isinstance(d, int) and 0 <= d <= 6 for d in days)
    ):
        errors.append("send_weekdays is a list of distinct weekdays, 0 = Monday … 6 = Sunday")
    channel = content.get("channel")
    if channel is not None and channel not in Channel.values:
        errors.append(f"unknown channel {channel!r}")
    steps = content.get("steps")
    if steps is not None and not (isinstance(steps, list) and all(isinstance(s, int) for s in steps)):
        errors.append("steps is a list of step ids")
    unknown = set(content) - {"window_start_hour", "window_end_hour", "send_weekdays", "channel", "steps"}
    if unknown:
        errors.append(
            f"an arm carries window_start_hour/window_end_hour, send_weekdays, channel, steps; not {sorted(unknown)}"
        )
    return errors


EDITABLE_FIELDS = (
    "name", "hypothesis", "surface", "primary_metric", "secondary_metrics", "guardrail_metrics",
    "mean_metrics", "site", "segment", "url_pattern", "channel", "mode", "alpha", "sequential_tuning",
    "auto_rollout", "min_units_per_arm", "min_runtime_days",
)  # fmt: skip


@transaction.atomic
def abtest_create(*, key: str, variants: list[dict], actor=None, **fields) -> ABTest:
    """A draft test with its variants (dicts of key, name, is_control, weight, content)."""
    test = ABTest(key=key, **{k: v for k, v in fields.items() if k in EDITABLE_FIELDS})
    test.full_clean(exclude=["winner"])
    test.save()
    ABTestVariant.objects.bulk_create([ABTestVariant(test=test, **v) for v in variants])
    audit_record(actor=actor, action="abtest.created", target=test, data={"variants": [v["key"] for v in variants]})
    return test


@transaction.atomic
def abtest_update(*, test: ABTest, variants: list[dict] | None = None, actor=None, **fields) -> ABTest:
    """Edit a draft test; a running test only accepts name, hypothesis and policy changes."""
    locked = {"surface", "primary_metric", "site", "segment", "url_pattern", "channel", "mode"}
    if test.status != ABTestStatus.DRAFT and (variants is not None or locked & fields.keys()):
        raise ValidationError("Variants, metric and targeting can only change while the test is a draft.")
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(test, name, value)
    test.full_clean(exclude=["winner"])
    test.save()
    if variants is not None:
        test.variants.all().delete()
        ABTestVariant.objects.bulk_create([ABTestVariant(test=test, **v) for v in variants])
    audit_record(actor=actor, action="abtest.updated", target=test, data={"fields": sorted(fields)})
    return test


def _transition(test: ABTest, *, allowed, message: str, **changes) -> None:
    """Conditional UPDATE that must touch exactly one row: concurrent transitions cannot both win."""
    changes["updated_at"] = timezone.now()
    if not ABTest.objects.filter(pk=test.pk, status__in=allowed).update(**changes):
        raise ValidationError(message)
    for name, value in changes.items():
        setattr(test, name, value)


@transaction.atomic
def abtest_start(*, test: ABTest, actor=None, reason: str = "") -> ABTest:
    """draft/stopped → running."""
    abtest_validate(test=test)
    _transition(
        test,
        allowed=[ABTestStatus.DRAFT, ABTestStatus.STOPPED],
        message="Only a draft or stopped test can be started.",
        status=ABTestStatus.RUNNING,
        started_at=test.started_at or timezone.now(),
        stopped_at=None,
    )
    _decide(test=test, action=DecisionAction.STARTED, actor=actor, reason=reason)
    return test


@transaction.atomic
def abtest_stop(*, test: ABTest, actor=None, reason: str = "") -> ABTest:
    """running → stopped: everyone sees the control, results stay."""
    _transition(
        test,
        allowed=[ABTestStatus.RUNNING],
        message="Only a running test can be stopped.",
        status=ABTestStatus.STOPPED,
        stopped_at=timezone.now(),
    )
    _decide(test=test, action=DecisionAction.STOPPED, actor=actor, reason=reason)
    return test


@transaction.atomic
def abtest_roll_out(
    *, test: ABTest, variant: ABTestVariant, actor=None, reason: str = "", automatic: bool = False, data=None
) -> ABTest:
    """running/stopped → rolled out: the winner takes all traffic / the rest of the audience."""
    if variant.test_id != test.id:
        raise ValidationError("The winner must be a variant of this test.")
    _transition(
        test,
        allowed=[ABTestStatus.RUNNING, ABTestStatus.STOPPED],
        message="Only a running or stopped test can be rolled out.",
        status=ABTestStatus.ROLLED_OUT,
        winner=variant,
        rolled_out_at=timezone.now(),
    )
    _decide(
        test=test,
        action=DecisionAction.ROLLED_OUT,
        actor=actor,
        reason=reason,
        automatic=automatic,
        data={"winner": variant.key, **(data or {})},
    )
    logger.info("abtesting: winner rolled out", extra={"test": test.key, "winner": variant.key, "automatic": automatic})
    return test


@transaction.atomic
def abtest_revert_rollout(*, test: ABTest, actor=None, reason: str = "") -> ABTest:
    """Admin override: rolled out → running again, held from automatic rollout."""
    previous = test.winner.key if test.winner else None
    _transition(
        test,
        allowed=[ABTestStatus.ROLLED_OUT],
        message="Only a rolled-out test can be reverted.",
        status=ABTestStatus.RUNNING,
        winner=None,
        rolled_out_at=None,
        rollout_hold=True,
    )
    _decide(test=test, action=DecisionAction.ROLLOUT_REVERTED, actor=actor, reason=reason, data={"was": previous})
    return test


@transaction.atomic
def abtest_set_hold(*, test: ABTest, hold: bool, actor=None, reason: str = "") -> ABTest:
    """Admin override: hold (or release) automatic rollout."""
    test.rollout_hold = hold
    test.save(update_fields=["rollout_hold", "updated_at"])
    action = DecisionAction.HOLD_SET if hold else DecisionAction.HOLD_RELEASED
    _decide(test=test, action=action, actor=actor, reason=reason)
    return test


# --- scheduled analysis ----------------------------------------------------------------


def results_refresh(*, tests=None, now=None) -> list[ABTestSnapshot]:
    """Snapshot results of running tests from stored aggregates, then check SRM, guardrails, rollout."""
    now = now or timezone.now()
    tests = list(tests if tests is not None else selectors.running_tests())
    if not tests:
        return []
    sums = selectors.cumulative_sums(test_ids=[t.id for t in tests])
    results = analysis.analyse(tests, sums)
    snapshots = ABTestSnapshot.objects.bulk_create(
        [
            ABTestSnapshot(test=t, computed_at=now, srm_p_value=results[t.id]["srm_p_value"], results=results[t.id])
            for t in tests
        ]
    )
    for test in tests:
        try:
            _act_on_results(test=test, results=results[test.id], now=now)
        except Exception:  # one broken test must not stop the others
            logger.exception("abtesting: acting on results failed", extra={"test": test.key})
    return snapshots


def _act_on_results(*, test: ABTest, results: dict, now) -> None:
    if not test.is_running:
        return
    srm = results.get("srm_p_value")
    if srm is not None and srm < SRM_THRESHOLD and not _alerted_today(test, DecisionAction.SRM_ALERT, now):
        _decide(
            test=test,
            action=DecisionAction.SRM_ALERT,
            actor="beat",
            automatic=True,
            reason=f"Observed split differs from the configured weights (p = {srm:.2g}).",
            data={"p_value": srm, "arms": {k: a["units"] for k, a in results["arms"].items()}},
        )
    for key, arm in results["arms"].items():
        if arm["is_control"]:
            continue
        worse = guardrail_regressions(test, results, key)
        if worse and not _alerted_today(test, DecisionAction.GUARDRAIL_ALERT, now):
            _decide(
                test=test,
                action=DecisionAction.GUARDRAIL_ALERT,
                actor="beat",
                automatic=True,
                reason=f"Variant {key} is worse than control on {', '.join(worse)}.",
                data={"variant": key, "metrics": worse},
            )
    if test.mode == AllocationMode.BANDIT:
        bandit_reweight(test=test, results=results)
        return
    if not test.auto_rollout or test.rollout_hold:
        return
    verdict = rollout_verdict(test=test, results=results, now=now)
    if verdict.ready:
        winner = next(v for v in _variants(test) if v.key == verdict.winner_key)
        estimate = results["metrics"][test.primary_metric]["variants"].get(winner.key, {}).get("sequential")
        abtest_roll_out(
            test=test,
            variant=winner,
            actor="beat",
            automatic=True,
            reason="Policy met: sequential test decisive, enough units and runtime, no SRM, no guardrail regression.",
            data={"sequential": estimate, "arms": {k: a["units"] for k, a in results["arms"].items()}},
        )
        return
    last = test.decisions.filter(action=DecisionAction.ROLLOUT_WAITING).first()
    if last is None or last.data.get("reasons") != verdict.reasons:
        ABTestDecision.objects.create(
            test=test,
            action=DecisionAction.ROLLOUT_WAITING,
            actor_label="beat",
            automatic=True,
            reason="; ".join(verdict.reasons),
            data={"reasons": verdict.reasons},
        )


def _alerted_today(test, action, now) -> bool:
    return test.decisions.filter(action=action, created_at__date=now.date()).exists()


@transaction.atomic
def bandit_reweight(*, test: ABTest, results: dict, seed: int | None = None) -> list[float]:
    """Thompson sampling on the primary metric's Gaussian posteriors; every arm keeps >= 1%."""
    variants = _variants(test)
    block = results["metrics"][test.primary_metric]["variants"]
    sums = selectors.cumulative_sums(test_ids=[test.id])
    means, variances, counts = [], [], []
    for v in variants:
        n = block[v.key]["units"]
        s = sums.get((test.id, v.id, test.primary_metric), analysis.Sums())
        mean = (s.total if test.is_mean_metric(test.primary_metric) else s.units) / n if n else 0.0
        if test.is_mean_metric(test.primary_metric):
            variance = (s.sum_squares - s.total**2 / n) / (n - 1) if n > 1 else 0.0
        else:
            variance = mean * (1 - mean)
        means.append(mean)
        variances.append(variance)
        counts.append(n)
    weights = bandit.thompson_weights(means, variances, counts, seed=seed)
    for v, w in zip(variants, weights, strict=True):
        v.weight = w
    ABTestVariant.objects.bulk_update(variants, ["weight"])
    _decide(
        test=test,
        action=DecisionAction.REWEIGHTED,
        actor="beat",
        automatic=True,
        reason="Thompson sampling on the primary metric.",
        data={"weights": {v.key: round(w, 6) for v, w in zip(variants, weights, strict=True)}},
    )
    return weights
