import random
from datetime import timedelta

import pytest
from django.db import connection

from website.funnel_engine import PersonEvent, person_progress
from website.funnels import FunnelSpec, _compute_python, funnel_compute
from website.models import FunnelDefinition
from website.tests.factories import RANGE, T0, add_event

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)
SHOP = [{"event": "view_product"}, {"event": "add_to_cart"}, {"event": "purchase"}]


def spec(site, steps, mode="sequential", breakdown="", window=14 * DAY):
    return FunnelSpec(
        site_id=site.pk, steps=steps, mode=mode, window=window, start=RANGE[0], end=RANGE[1], breakdown=breakdown
    )


@pytest.fixture
def shop_events(site):
    """Hand-made histories; expected outcomes are worked out in each test."""
    add = add_event
    # A: the happy path
    add(site, "A", "view_product", T0)
    add(site, "A", "add_to_cart", T0 + 10 * MIN)
    add(site, "A", "purchase", T0 + 20 * MIN)
    # B: another event between view and add
    add(site, "B", "view_product", T0)
    add(site, "B", "pageview", T0 + 5 * MIN)
    add(site, "B", "add_to_cart", T0 + 10 * MIN)
    # C: add before view (wrong order)
    add(site, "C", "add_to_cart", T0)
    add(site, "C", "view_product", T0 + 5 * MIN)
    # D: only a purchase
    add(site, "D", "purchase", T0 + MIN)
    # E: add exactly at the 14-day edge, purchase one second past it
    add(site, "E", "view_product", T0)
    add(site, "E", "add_to_cart", T0 + 14 * DAY)
    add(site, "E", "purchase", T0 + 14 * DAY + timedelta(seconds=1))
    # F: entered before the range
    add(site, "F", "view_product", T0 - timedelta(hours=1))
    add(site, "F", "add_to_cart", T0 + timedelta(hours=1))
    # G: only a later start fits the window (day 6 -> day 19 is 13 days)
    add(site, "G", "view_product", T0)
    add(site, "G", "view_product", T0 + 6 * DAY)
    add(site, "G", "add_to_cart", T0 + 19 * DAY)


def counts(result):
    return [s["count"] for s in result.steps]


@pytest.mark.django_db
def test_sequential_mode_counts_window_edges_and_late_starts(site, shop_events):
    result = funnel_compute(spec(site, SHOP))
    # entered: A B C E G; added: A B E G; purchased: A
    assert counts(result) == [5, 4, 1]
    assert [s["conversion"] for s in result.steps] == [1.0, 0.8, 0.2]
    assert [s["conversion_from_previous"] for s in result.steps] == [1.0, 0.8, 0.25]
    assert [s["dropped"] for s in result.steps] == [1, 3, 0]
    assert [p["visitor_id"] for p in result.dropped[0]] == ["C"]
    assert [p["visitor_id"] for p in result.dropped[1]] == ["B", "E", "G"]
    # first add minus first view: A 600 s, B 600 s, E 14 days, G 19 days -> median of the middle two
    assert result.steps[1]["median_seconds_from_previous"] == (600 + 14 * 86400) / 2
    assert result.steps[2]["median_seconds_from_previous"] == 600


@pytest.mark.django_db
def test_strict_mode_needs_steps_back_to_back(site, shop_events):
    result = funnel_compute(spec(site, SHOP, mode="strict"))
    # B has a pageview between view and add: it stops at step 1
    assert counts(result) == [5, 3, 1]
    assert [p["visitor_id"] for p in result.dropped[0]] == ["B", "C"]


@pytest.mark.django_db
def test_any_order_counts_distinct_steps_within_one_window(site, shop_events):
    result = funnel_compute(spec(site, SHOP, mode="any_order"))
    # entered: every person with a step event starting in range (F starts with its add)
    assert counts(result) == [7, 5, 1]
    assert all(s["median_seconds_from_previous"] is None for s in result.steps)


@pytest.mark.django_db
def test_a_shorter_window_excludes_late_steps(site, shop_events):
    result = funnel_compute(spec(site, SHOP, window=timedelta(minutes=15)))
    # only A and B add within 15 minutes; A purchases 20 minutes after viewing
    assert counts(result) == [5, 2, 0]


@pytest.mark.django_db
def test_repeated_steps_need_separate_events(site):
    add_event(site, "one", "signup", T0)
    add_event(site, "two", "signup", T0)
    add_event(site, "two", "signup", T0 + MIN)
    result = funnel_compute(spec(site, [{"event": "signup"}, {"event": "signup"}]))
    assert counts(result) == [2, 1]


@pytest.mark.django_db
def test_url_patterns_and_repeated_pages(site):
    steps = [{"url": "/"}, {"url": "/pricing*"}, {"url": "/"}]
    add_event(site, "H", "pageview", T0, path="/")
    add_event(site, "H", "pageview", T0 + MIN, path="/pricing/annual")
    add_event(site, "H", "pageview", T0 + 2 * MIN, path="/")
    add_event(site, "I", "pageview", T0, path="/")
    add_event(site, "I", "pageview", T0 + MIN, path="/")
    add_event(site, "J", "signup", T0, path="/pricing")  # not a page view
    assert counts(funnel_compute(spec(site, steps))) == [2, 1, 1]


@pytest.mark.django_db
def test_property_filters(site):
    steps = [{"event": "view_product"}, {"event": "purchase", "filters": {"plan": "pro", "trial": False}}]
    add_event(site, "P", "view_product", T0)
    add_event(site, "P", "purchase", T0 + MIN, props={"plan": "pro", "trial": False})
    add_event(site, "Q", "view_product", T0)
    add_event(site, "Q", "purchase", T0 + MIN, props={"plan": "basic", "trial": False})
    add_event(site, "R", "view_product", T0)
    add_event(site, "R", "purchase", T0 + MIN, props={"plan": "pro", "trial": True})
    assert counts(funnel_compute(spec(site, steps))) == [3, 1]


@pytest.mark.django_db
def test_a_contact_on_two_devices_is_one_person(site):
    from madansara.contacts.models import Contact

    alice = Contact.objects.create(name="Alice")
    add_event(site, "laptop", "view_product", T0, contact=alice.pk)
    add_event(site, "phone", "purchase", T0 + DAY, contact=alice.pk)
    add_event(site, "anon", "view_product", T0)
    result = funnel_compute(spec(site, [{"event": "view_product"}, {"event": "purchase"}]))
    assert counts(result) == [2, 1]
    assert result.dropped[0] == [{"person": "vanon", "visitor_id": "anon", "contact_id": None}]


@pytest.mark.django_db
def test_breakdown_by_device(site):
    add_event(site, "m", "view_product", T0, device="mobile")
    add_event(site, "d", "view_product", T0, device="desktop")
    add_event(site, "d", "purchase", T0 + MIN, device="desktop")
    result = funnel_compute(spec(site, [{"event": "view_product"}, {"event": "purchase"}], breakdown="device"))
    assert result.breakdown == {"desktop": [1, 1], "mobile": [1, 0]}


@pytest.mark.django_db
def test_breakdown_by_experiment_variant(site):
    add_event(site, "x", "$exposure", T0, props={"experiment": "cta", "variant": "green"})
    add_event(site, "x", "view_product", T0 + MIN)
    add_event(site, "x", "purchase", T0 + 2 * MIN)
    add_event(site, "y", "$exposure", T0, props={"experiment": "cta", "variant": "control"})
    add_event(site, "y", "view_product", T0 + MIN)
    result = funnel_compute(spec(site, [{"event": "view_product"}, {"event": "purchase"}], breakdown="variant:cta"))
    assert result.breakdown == {"control": [1, 0], "green": [1, 1]}


def test_reference_engine_prefers_the_latest_valid_start():
    def ev(day, *steps):
        return PersonEvent(T0 + day * DAY, frozenset(steps))

    times, _ = person_progress([ev(0, 0), ev(6, 0), ev(19, 1)], n_steps=2, mode="sequential", window=14 * DAY)
    assert times == [T0, T0 + 19 * DAY]


def test_funnel_definition_needs_two_to_ten_valid_steps():
    from django.core.exceptions import ValidationError

    from website.models import validate_funnel_steps

    validate_funnel_steps([{"event": "a"}, {"url": "/b"}])
    for bad in ([{"event": "a"}], [{"event": "a"}] * 11, [{"event": "a"}, {"event": "b", "url": "/x"}]):
        with pytest.raises(ValidationError):
            validate_funnel_steps(bad)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["sequential", "strict", "any_order"])
def test_postgres_sql_matches_the_reference_engine_on_random_histories(site, mode):
    # given random histories of 60 visitors over 20 days
    rng = random.Random(7)
    names = ["view_product", "add_to_cart", "purchase", "pageview"]
    for v in range(60):
        for _ in range(rng.randint(1, 8)):
            add_event(site, f"v{v}", rng.choice(names), T0 + timedelta(hours=rng.randint(-48, 480)))
    funnel = spec(site, SHOP, mode=mode, window=5 * DAY)
    # when the funnel is computed in SQL and by the reference engine
    sql, python = funnel_compute(funnel), _compute_python(funnel)
    # then both agree step by step and on who dropped
    assert connection.vendor == "postgresql"
    assert sql.steps == python.steps
    assert sql.dropped == python.dropped
    assert sql.breakdown == python.breakdown


@pytest.mark.django_db
def test_funnel_definition_labels(site):
    funnel = FunnelDefinition.objects.create(
        site=site, name="Shop", steps=[{"event": "a", "label": "A!"}, {"url": "/b"}]
    )
    assert funnel.step_labels() == ["A!", "/b"]
