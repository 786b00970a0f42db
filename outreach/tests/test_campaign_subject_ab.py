"""Subject-line A/B tests through the experiment engine: deterministic assignment at send time,
outcomes fed back to the engine, and the declared winner sent to the rest of the audience."""

import pytest

from abtesting.models import ABTestDailyStat
from abtesting.services import abtest_create, abtest_roll_out, abtest_start, variant_assign
from madansara.channels.models import Message
from madansara.channels.simulate import sandbox_simulate
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact


def _subject_test():
    test = abtest_create(
        key="winter-subject",
        name="Winter subject",
        surface="email_subject",
        primary_metric="open",
        variants=[
            {"key": "control", "name": "A", "is_control": True, "weight": 1, "content": {"subject": "Winter sale"}},
            {"key": "urgent", "name": "B", "weight": 1, "content": {"subject": "48 hours only"}},
        ],
    )
    return abtest_start(test=test)


def _send(camp):
    campaign_plan(campaign=camp, now=NOON)
    outbox_dispatch(once=True, now=NOON)
    return {m.contact_id: m for m in Message.objects.filter(contact__in=camp.segment.contacts.all())}


@pytest.mark.django_db
def test_each_recipient_gets_the_subject_of_their_deterministic_variant(django_capture_on_commit_callbacks):
    # given a running subject test on an email campaign of 40 contacts
    test = _subject_test()
    people = [contact() for _ in range(40)]
    camp = campaign(contacts=people, subject_test=test)

    # when the campaign is planned and dispatched
    sent = _send(camp)

    # then every contact got the subject of the variant the engine assigns to them, and both arms are used
    assert len(sent) == 40
    expected = {p.pk: variant_assign(test=test, unit_id=f"contact:{p.pk}", contact_id=p.pk) for p in people}
    for person in people:
        assert sent[person.pk].subject == expected[person.pk].content["subject"]
        assert sent[person.pk].context["variant"] == expected[person.pk].key
    assert {m.subject for m in sent.values()} == {"Winter sale", "48 hours only"}

    # and an open is counted once for the recipient's variant in the engine's aggregates
    opener = people[0]
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_simulate(message=sent[opener.pk], event="open")
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_simulate(message=sent[opener.pk], event="open")
    opens = ABTestDailyStat.objects.filter(test=test, metric="open")
    assert [(row.variant.key, row.units) for row in opens] == [(expected[opener.pk].key, 1)]


@pytest.mark.django_db
def test_after_the_winner_is_rolled_out_the_rest_of_the_audience_gets_the_winning_subject():
    # given a subject test whose first wave went out to both arms
    test = _subject_test()
    first_wave = _send(campaign(contacts=[contact() for _ in range(20)], subject_test=test))
    assert len({m.subject for m in first_wave.values()}) == 2

    # when the engine's winner is rolled out
    abtest_roll_out(test=test, variant=test.variants.get(key="urgent"), reason="sequential test decisive")

    # then the rest of the audience is sent the winning subject only
    rest = _send(campaign(contacts=[contact() for _ in range(20)], subject_test=test))
    assert len(rest) == 20
    assert {m.subject for m in rest.values()} == {"48 hours only"}
