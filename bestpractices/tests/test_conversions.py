"""`converted` from the database: a send converted when its contact has a conversion after it and
within that conversion type's attribution lookback; measured once the longest lookback has passed."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from bestpractices import selectors, services
from bestpractices.models import BestPractice
from conversion.models import ConversionEvent, ConversionType
from madansara.channels.models import Message
from madansara.contacts.models import Contact

pytestmark = pytest.mark.django_db


def send(contact, sent_at, *, subject="Spring is here.", channel="email"):
    return Message(
        channel=channel,
        contact=contact,
        to="x@example.com",
        source="campaign",
        subject=subject,
        text="New arrivals for you.",
        context={"campaign_id": 1},
        sent_at=sent_at,
        delivered_at=sent_at,
    )


def conversion(contact, at, *, code="purchase", key=None):
    return ConversionEvent(
        external_id=key or f"{contact.pk}-{code}-{at.isoformat()}",
        conversion_type=ConversionType.objects.get(code=code),
        contact=contact,
        occurred_at=at,
    )


def test_a_send_converted_when_its_contact_converted_after_it_within_the_lookback():
    now = timezone.now()
    ConversionType.objects.create(code="trial", name="Trial", lookback_days=7)  # purchase: 30 days (migration)
    names = ("inside", "before", "after_window", "other_type", "never", "young", "at_the_edge")
    people = {n: Contact.objects.create(name=n) for n in names}
    sent = now - timedelta(days=40)
    Message.objects.bulk_create(
        [send(people[n], sent) for n in names if n != "young"] + [send(people["young"], now - timedelta(days=10))]
    )
    ConversionEvent.objects.bulk_create(
        [
            conversion(people["inside"], sent + timedelta(days=2), code="trial"),
            conversion(people["before"], sent - timedelta(hours=1), code="purchase"),
            conversion(people["after_window"], sent + timedelta(days=8), code="trial"),  # trial looks back 7 days
            conversion(people["other_type"], sent + timedelta(days=20), code="purchase"),  # purchase: 30 days
            conversion(people["young"], now - timedelta(days=9), code="purchase"),
            conversion(people["at_the_edge"], sent, code="purchase"),  # not after the send
        ]
    )
    records = {r["contact"]["first_name"]: r["outcomes"] for r in selectors.sends_as_records()}
    converted = {name: outcomes.get("converted") for name, outcomes in records.items()}
    assert converted == {
        "inside": True,
        "before": False,
        "after_window": False,
        "other_type": True,
        "never": False,
        "young": None,  # ten days old: conversions may still come in the 30-day lookback, not measured
        "at_the_edge": False,
    }


def test_converted_is_one_extra_query_not_one_per_send(django_assert_max_num_queries):
    now = timezone.now()
    contacts = Contact.objects.bulk_create(Contact(name=f"P{i}") for i in range(30))
    Message.objects.bulk_create(send(c, now - timedelta(days=40)) for c in contacts)
    ConversionEvent.objects.bulk_create(conversion(c, now - timedelta(days=39)) for c in contacts[::2])
    with django_assert_max_num_queries(4):  # window, lookbacks, the campaigns' tests, the streamed sends
        records = list(selectors.sends_as_records())
    assert sum(r["outcomes"]["converted"] for r in records) == 15


def test_no_conversion_type_means_converted_is_not_measured():
    Message.objects.bulk_create([send(Contact.objects.create(name="Ana"), timezone.now() - timedelta(days=40))])
    ConversionType.objects.all().delete()
    (record,) = selectors.sends_as_records()
    assert "converted" not in record["outcomes"] and record["outcomes"]["delivered"] is True


def test_the_engine_learns_and_predicts_conversion_from_database_sends():
    """Question subjects convert three times as often: a significant `converted` practice and
    predictions that tell the two subjects apart."""
    rng = random.Random(3)
    now = timezone.now()
    contacts = Contact.objects.bulk_create(Contact(name=f"Ana{i} Doe") for i in range(1600))
    sent = now - timedelta(days=45)
    messages, conversions = [], []
    for i, contact in enumerate(contacts):
        question = i % 2 == 0
        messages.append(send(contact, sent + timedelta(minutes=i), subject="Ready?" if question else "Ready."))
        if rng.random() < (0.3 if question else 0.1):
            conversions.append(conversion(contact, sent + timedelta(days=3, minutes=i)))
        elif rng.random() < 0.5:  # converting before the send does not count
            conversions.append(conversion(contact, sent - timedelta(days=1)))
    Message.objects.bulk_create(messages)
    ConversionEvent.objects.bulk_create(conversions)

    run = services.practices_learn()
    assert run.outcomes["converted"]["modelled"] and run.outcomes["converted"]["n"] == 1600
    practice = BestPractice.objects.get(feature="subject_question", value="true", outcome="converted")
    assert practice.significant and 1.0 < practice.lift < 4.0 and practice.ci_low > 0
    asking = selectors.prediction_for(channel="email", subject="Ready?", body="Hi", audience=[{}], run=run)
    stating = selectors.prediction_for(channel="email", subject="Ready.", body="Hi", audience=[{}], run=run)
    assert asking["converted"] > stating["converted"] + 0.1
