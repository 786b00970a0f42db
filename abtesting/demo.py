"""Demo data for A/B testing: a running website CTA test and an email subject test, with results."""

import random

from django.db import transaction

from abtesting.models import ABTest
from abtesting.services import abtest_create, abtest_start, outcome_record, results_refresh, variant_assign
from madansara.contacts.models import Contact
from website import demo as website_demo
from website.models import Site

CTA_KEY = "demo-pricing-cta"
SUBJECT_KEY = "demo-spring-subject"


def _demo_site(stdout):
    """The website demo's site (seeded first when the website step has not run yet)."""
    site = Site.objects.filter(name=website_demo.DEMO_SITE).first()
    if site is None:
        website_demo.seed_demo(stdout)
        site = Site.objects.get(name=website_demo.DEMO_SITE)
    return site


def _exercise(test: ABTest, *, rng: random.Random, units: list[tuple[str, int | None]], rates: dict[str, float]):
    """Expose every unit and record the primary metric with each variant's demo conversion rate."""
    for unit_id, contact_id in units:
        variant = variant_assign(test=test, unit_id=unit_id, contact_id=contact_id)
        if rng.random() < rates[variant.key]:
            outcome_record(test=test, unit_id=unit_id, metric=test.primary_metric)


def seed_demo(stdout) -> None:
    """Two running tests with ~150 exposures each and one results snapshot."""
    if ABTest.objects.filter(key=CTA_KEY).exists():
        stdout.write("abtesting: demo tests already present")
        return
    rng = random.Random(42)
    with transaction.atomic():
        site = _demo_site(stdout)
        cta = abtest_create(
            key=CTA_KEY,
            name="Pricing page call to action",
            hypothesis="'Start free trial' converts better than 'Sign up' on the pricing page.",
            surface="website_cta",
            primary_metric="signup_completed",
            site=site,
            url_pattern=r"/pricing",
            variants=[
                {"key": "control", "name": "Sign up", "is_control": True, "content": {"text": "Sign up"}},
                {"key": "trial", "name": "Start free trial", "content": {"text": "Start free trial"}},
            ],
        )
        subject = abtest_create(
            key=SUBJECT_KEY,
            name="Spring launch subject line",
            hypothesis="A personal, question-style subject gets more opens.",
            surface="email_subject",
            primary_metric="open",
            channel="email",
            variants=[
                {"key": "control", "name": "Plain", "is_control": True, "content": {"subject": "Our spring launch"}},
                {"key": "question", "name": "Question", "content": {"subject": "{{ contact.first_name }}, ready?"}},
            ],
        )
        abtest_start(test=cta)
        abtest_start(test=subject)
        _exercise(
            cta, rng=rng, units=[(f"demo-v{n}", None) for n in range(150)], rates={"control": 0.08, "trial": 0.12}
        )
        contacts = list(Contact.objects.order_by("pk").values_list("pk", flat=True)[:150])
        _exercise(
            subject, rng=rng, units=[(f"contact:{pk}", pk) for pk in contacts], rates={"control": 0.22, "question": 0.3}
        )
        snapshots = results_refresh(tests=[cta, subject])
    stdout.write(f"abtesting: 2 running tests, {len(snapshots)} result snapshots")
