"""The fast PostgreSQL funnel path: its index, its plan, and agreement with the reference engine."""

import importlib
import random
from datetime import timedelta

import pytest
from django.db import connection, transaction

import website.funnels
from website.funnels import (
    FUNNEL_INDEX,
    PERSON_KEY,
    FunnelSpec,
    _compute_python,
    _per_person_sql,
    _split_key,
    funnel_compute,
)
from website.tests.factories import RANGE, T0, add_event

DAY = timedelta(days=1)


def spec(site, steps, mode="sequential", breakdown="", window=3 * DAY):
    return FunnelSpec(
        site_id=site.pk, steps=steps, mode=mode, window=window, start=RANGE[0], end=RANGE[1], breakdown=breakdown
    )


def test_the_index_migration_uses_the_person_key_of_the_funnel_sql():
    # given the migration that created the index (frozen) and the SQL that must match its expression
    migration = importlib.import_module("website.migrations.0003_funnel_perf")
    # then both spell the person key and the index name identically, or the planner ignores the index
    assert migration.PERSON_KEY == PERSON_KEY
    assert migration.FUNNEL_INDEX == FUNNEL_INDEX


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_sequential_funnel_merges_index_only_scans_instead_of_sorting(site):
    # given a few events (the planner is told to avoid seq scans and sorts, as it does at volume)
    add_event(site, "a", "view_product", T0)
    add_event(site, "a", "purchase", T0 + DAY)
    sql, params = _per_person_sql(spec(site, [{"event": "view_product"}, {"event": "purchase"}]))
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        # when PostgreSQL plans the per-person query
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # then the events come in (person, time) order from the funnel index, merged, never sorted
    assert "Merge Append" in plan
    assert "_site_id_name_case_occurred_at_id" in plan  # the partitions' copies of website_event_funnel
    nodes = [line.strip().removeprefix("->  ") for line in plan.splitlines()]
    assert not [node for node in nodes if node.startswith(("Sort  (", "Incremental Sort  ("))]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["sequential", "strict", "any_order"])
@pytest.mark.parametrize(
    "steps",
    [
        [{"event": "signup"}, {"event": "pricing"}, {"event": "signup"}, {"event": "purchase"}],
        [{"event": "signup"}, {"event": "pricing"}, {"event": "purchase"}],
    ],
    ids=["repeated", "distinct"],
)
def test_sql_matches_the_reference_engine_with_ties_contacts_and_repeated_steps(site, mode, steps):
    from madansara.contacts.models import Contact

    # given random histories with equal timestamps, contacts on two devices and a step repeated by name
    rng = random.Random(11)
    contacts = [Contact.objects.create(name=f"c{i}").pk for i in range(4)]
    names = ["signup", "pricing", "pageview", "purchase"]
    for v in range(40):
        contact = rng.choice([None, None, *contacts])
        for _ in range(rng.randint(1, 7)):
            add_event(
                site,
                f"v{v}",
                rng.choice(names),
                T0 + timedelta(hours=6 * rng.randint(-4, 40)),
                contact=contact,
                device=rng.choice(["mobile", "desktop"]),
            )
    funnel = spec(site, steps, mode=mode, breakdown="device")  # no breakdown: see test_funnels.py
    # when the funnel is computed in SQL and by the reference engine
    sql, python = funnel_compute(funnel, dropped_limit=5), _compute_python(funnel, dropped_limit=5)
    # then they agree on counts, medians, drop-off lists and breakdown
    assert sql.steps == python.steps
    assert sql.dropped == python.dropped
    assert sql.breakdown == python.breakdown
    assert sql.steps[0]["count"] > 0


def random_histories(site, rng, *, contacts, visitors=30):
    """Events of five names at coarse times (many ties), some people contacts on several devices."""
    names = ["a", "b", "c", "d", "pageview"]
    for v in range(visitors):
        contact = rng.choice([None, None, None, *contacts])
        for _ in range(rng.randint(1, 12)):
            add_event(
                site,
                f"d{rng.randint(0, 99)}" if contact else f"v{v}",
                rng.choice(names),
                T0 + timedelta(hours=rng.choice([6, 12, 24]) * rng.randint(-4, 40)),
                contact=contact,
                device=rng.choice(["mobile", "desktop"]),
                props={"x": rng.choice([1, 2])},
            )


SEQUENTIAL_STEPS = [
    [{"event": "a"}, {"event": "b"}, {"event": "c"}, {"event": "d"}],
    [{"event": "a"}, {"event": "a"}, {"event": "b"}, {"event": "a"}],
    [{"event": "a"}, {"event": "b", "filters": {"x": 1}}, {"event": "b"}, {"event": "b", "filters": {"x": 2}}],
    [{"event": "a"}, {"event": "b"}, {"event": "a"}, {"event": "b"}, {"event": "c"}],
    [{"event": "b"}, {"event": "b"}],
]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("heavy_starts", [64, 1, 0], ids=["pairs", "mixed", "running-max"])
def test_sequential_sql_matches_the_reference_engine_on_both_step_1_paths(site, seed, heavy_starts, monkeypatch):
    from madansara.contacts.models import Contact

    # given random histories; step 1 by start/event pairs, by a running max for people with more than
    # heavy_starts starts, or both
    monkeypatch.setattr(website.funnels, "HEAVY_STARTS", heavy_starts)
    rng = random.Random(seed)
    random_histories(site, rng, contacts=[Contact.objects.create(name=f"c{i}").pk for i in range(5)])
    for steps in SEQUENTIAL_STEPS:
        for breakdown in ("", "device"):
            funnel = spec(site, steps, breakdown=breakdown, window=rng.choice([1, 2, 3, 5]) * DAY)
            # when the funnel is computed in SQL and by the reference engine
            sql, python = funnel_compute(funnel, dropped_limit=4), _compute_python(funnel, dropped_limit=4)
            # then they agree on counts, medians, drop-off lists (visitor ids of contacts too) and breakdown
            assert sql.steps == python.steps, steps
            assert sql.dropped == python.dropped, steps
            assert sql.breakdown == python.breakdown, steps


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["sequential", "strict", "any_order"])
def test_two_connections_split_the_people_and_agree_with_one(site, settings, mode):
    from madansara.contacts.models import Contact

    # given committed histories: contacts below and above the middle contact id, anonymous visitors
    rng = random.Random(3)
    random_histories(site, rng, contacts=[Contact.objects.create(name=f"c{i}").pk for i in range(6)], visitors=40)
    settings.WEBSITE_FUNNEL_CONNECTIONS = 2
    split = _split_key()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(DISTINCT {PERSON_KEY}) FILTER (WHERE {PERSON_KEY} < %s),"
            f" count(DISTINCT {PERSON_KEY}) FILTER (WHERE {PERSON_KEY} >= %s) FROM website_event",
            [split, split],
        )
        below, above = cursor.fetchone()
    assert below > 5 and above > 5  # both connections get people
    funnel = spec(site, SEQUENTIAL_STEPS[0], mode=mode, breakdown="source")  # a session join in every part
    # when it is computed on two connections (this one and a thread's), on one, and by the reference
    two = funnel_compute(funnel, dropped_limit=6)
    settings.WEBSITE_FUNNEL_CONNECTIONS = 1
    one, python = funnel_compute(funnel, dropped_limit=6), _compute_python(funnel, dropped_limit=6)
    # then all three agree (merged drop-off lists keep the first people in str order)
    assert two.steps == one.steps == python.steps
    assert two.dropped == one.dropped == python.dropped
    assert two.breakdown == one.breakdown == python.breakdown
    assert two.steps[1]["count"] > 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_inside_a_transaction_a_funnel_stays_on_its_connection(site, settings):
    # given a caller's open transaction (another connection could not see its rows)
    settings.WEBSITE_FUNNEL_CONNECTIONS = 2
    with transaction.atomic():
        # then the funnel is not split
        assert _split_key() is None
