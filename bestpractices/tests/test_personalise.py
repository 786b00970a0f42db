"""Personalised variant: each contact gets the variant predicted best for their kind, measured
against the single winner on a holdout."""

import math
import random

import pytest

from abtesting.models import ABTest, ABTestStatus
from abtesting.services import abtest_create, abtest_roll_out
from bestpractices.engine import models_by_stratum, patterns_extract
from bestpractices.models import PatternRun
from bestpractices.personalise import HOLDOUT, PERSONALISED, in_holdout, personalised_plan, personalised_result
from bestpractices.sends import sends_read
from madansara.channels.models import Message
from madansara.tests.factories import make_user
from outreach.models import CopyAssignment, TemplateVariant
from outreach.services.copy import copy_experiment_start, variant_approve
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign
from outreach.tests.campaign_helpers import contact as make_contact

pytestmark = pytest.mark.django_db
QUESTION, STATEMENT = "Ready for spring?", "Spring is here."


def open_probability(customer_type: str, question: bool) -> float:
    # VIPs answer questions, new customers prefer a plain statement: an interaction
    logit = (
        -1.0
        + (0.9 if question else 0.0) * (customer_type == "vip")
        - (0.7 if question else 0.0) * (customer_type == "new")
    )
    return 1 / (1 + math.exp(-logit))


def sends(n, rng):
    for i in range(n):
        customer_type = "vip" if i % 2 else "new"
        question = rng.random() < 0.5
        yield {
            "send_id": str(i), "channel": "email", "sent_at": "2026-10-02T09:00:00+00:00",
            "contact": {"first_name": "Ana", "customer_type": customer_type},
            "subject": QUESTION if question else STATEMENT, "body": "Hello",
            "outcomes": {"opened": rng.random() < open_probability(customer_type, question)},
        }  # fmt: skip


@pytest.fixture(scope="module")
def model():
    table = sends_read(list(sends(10_000, random.Random(3))))
    return patterns_extract(table)["model"] | {"strata": models_by_stratum(table)}


@pytest.fixture
def learnt(model):
    run = PatternRun.objects.create(model=model)
    test = abtest_create(
        key="subject-spring", name="spring", surface="email_subject", primary_metric="open", channel="email",
        variants=[{"key": "control", "is_control": True, "weight": 1, "content": {"subject": STATEMENT}},
                  {"key": "question", "is_control": False, "weight": 1, "content": {"subject": QUESTION}}],
    )  # fmt: skip
    ABTest.objects.filter(pk=test.pk).update(status=ABTestStatus.STOPPED, winner=test.variants.get(key="question"))
    test.refresh_from_db()
    return run, test


def test_each_kind_of_contact_gets_its_best_variant_and_the_holdout_gets_the_winner(learnt):
    run, test = learnt
    contacts = [{"id": i, "first_name": "Ana", "customer_type": "vip" if i % 2 else "new"} for i in range(1000)]
    plan = personalised_plan(test=test, contacts=contacts, holdout_percent=10, run=run)
    for contact in contacts:
        variant, arm = plan[contact["id"]]
        if arm == HOLDOUT:
            assert variant == "question"
        else:
            assert variant == ("question" if contact["customer_type"] == "vip" else "control")
    held = sum(arm == HOLDOUT for _, arm in plan.values())
    assert 60 <= held <= 140
    assert plan == personalised_plan(test=test, contacts=contacts, holdout_percent=10, run=run)  # stable


def test_personalisation_is_measured_against_the_single_winner(learnt):
    run, test = learnt
    rng = random.Random(9)
    contacts = [{"id": i, "customer_type": "vip" if i % 2 else "new"} for i in range(20_000)]
    plan = personalised_plan(test=test, contacts=contacts, holdout_percent=50, run=run)
    outcomes = {
        c["id"]: rng.random() < open_probability(c["customer_type"], plan[c["id"]][0] == "question") for c in contacts
    }
    result = personalised_result(plan=plan, outcomes=outcomes)
    assert result[PERSONALISED]["n"] + result[HOLDOUT]["n"] == 20_000
    assert result["lift"] > 0 and result["ci_low"] > 0  # new customers no longer get the question


def test_no_personalising_before_the_test_has_a_winner(learnt):
    run, test = learnt
    ABTest.objects.filter(pk=test.pk).update(winner=None)
    test.refresh_from_db()
    with pytest.raises(Exception, match="no winner"):
        personalised_plan(test=test, contacts=[{"id": 1}], run=run)


def test_holdout_membership_is_stable_and_near_its_share():
    members = [in_holdout(test_key="t", contact_id=i, percent=20) for i in range(5000)]
    assert 0.17 < sum(members) / 5000 < 0.23
    assert members == [in_holdout(test_key="t", contact_id=i, percent=20) for i in range(5000)]


def test_after_a_copy_experiment_the_dispatcher_sends_each_contact_their_predicted_best_arm(model, client):
    # given a learnt model and a campaign whose copy experiment (statement vs question) is rolled out
    PatternRun.objects.create(model=model)
    vips = [make_contact(attributes={"customer_type": "vip"}) for _ in range(30)]
    news = [make_contact(attributes={"customer_type": "new"}) for _ in range(30)]
    camp = campaign(contacts=vips + news)
    template = camp.steps.get().templates.get()
    template.subject = STATEMENT
    template.save()
    question = TemplateVariant.objects.create(
        template=template, field="message", source="person", subject=QUESTION, body=template.text
    )
    variant_approve(variant=question)
    test = copy_experiment_start(campaign=camp, arms=[[question]], key="spring-copy", primary_metric="open")
    abtest_roll_out(test=test, variant=test.variants.get(key="copy-1"))

    # when a marketer personalises the rest of the campaign through the API
    client.force_login(make_user("Marketer"))
    url = f"/api/v1/campaigns/{camp.pk}/personalised-variant"
    counts = client.post(url, {"holdout_percent": 20}, content_type="application/json").json()
    assert counts["personalised"] + counts["holdout"] == 60 and counts["holdout"] > 0
    campaign_plan(campaign=camp, now=NOON)
    outbox_dispatch(once=True, now=NOON)

    # then the dispatcher sent VIPs the question, new customers the statement, the holdout the winner
    groups = dict(CopyAssignment.objects.values_list("contact_id", "group"))
    subjects = {m.contact_id: m.subject for m in Message.objects.filter(source="campaign")}
    for person in vips + news:
        if groups[person.pk] == HOLDOUT:
            expected = QUESTION  # the rolled-out winner
        else:
            expected = QUESTION if person in vips else STATEMENT
        assert subjects[person.pk] == expected
    # and the comparison with the holdout is available
    result = client.get(url, {"outcome": "opened"}).json()
    assert result["personalised"]["n"] == counts["personalised"] and result["holdout"]["n"] == counts["holdout"]
    page = client.get(f"/admin/outreach/outreachcampaign/{camp.pk}/change/").content.decode()
    assert f"holdout (single winner) 0.0% of {counts['holdout']}" in page
