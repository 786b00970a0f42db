"""RFC 8058 one-click unsubscribe, the preference page and click tracking (public, no login)."""

import pytest
from django.test import Client
from django.utils import timezone

from madansara.channels.models import Message
from madansara.contacts.models import ContactConsent
from outreach.models import OutboxMessage
from outreach.services.content import click_token, unsubscribe_token
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import campaign, contact

pytestmark = pytest.mark.django_db


def sent_email(**campaign_fields):
    person = contact(channels=("email", "sms"))
    camp = campaign(contacts=[person], **campaign_fields)
    now = timezone.now()
    campaign_plan(campaign=camp, now=now)
    OutboxMessage.objects.update(due_at=now)
    outbox_dispatch(now=now)
    return person, camp, Message.objects.get()


def test_one_click_post_unsubscribes_immediately_without_cookie_or_csrf():
    person, camp, message = sent_email()
    url = message.headers["List-Unsubscribe"].strip("<>").split("8000", 1)[1]
    client = Client(enforce_csrf_checks=True)

    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert ContactConsent.objects.get(contact=person, channel="email").status == "unsubscribed"
    assert ContactConsent.objects.get(contact=person, channel="sms").status == "opted_in"
    assert person.consent_events.filter(channel="email", status="unsubscribed").exists()


def test_a_later_send_to_an_unsubscribed_contact_is_held_back():
    person, camp, message = sent_email()
    Client().post(f"/o/u/{unsubscribe_token(contact_id=person.pk, channel='email')}", {"List-Unsubscribe": "One-Click"})
    second = campaign(contacts=[person])
    now = timezone.now()
    campaign_plan(campaign=second, now=now)
    assert OutboxMessage.objects.get(campaign=second).hold_reason == "unsubscribed"


def test_preference_page_shows_channels_and_saves_choices():
    person, camp, message = sent_email()
    url = f"/o/u/{unsubscribe_token(contact_id=person.pk, channel='email')}"
    page = Client().get(url)
    assert page.status_code == 200
    assert b"Email" in page.content and b"SMS" in page.content

    Client().post(url, {"channel": ["sms"]})  # keep SMS only

    statuses = dict(ContactConsent.objects.filter(contact=person).values_list("channel", "status"))
    assert statuses == {"email": "unsubscribed", "sms": "opted_in"}
    Client().post(url, {"unsubscribe_all": "1"})
    assert set(ContactConsent.objects.filter(contact=person).values_list("status", flat=True)) == {"unsubscribed"}


def test_a_forged_token_is_refused_and_changes_nothing():
    person, camp, message = sent_email()
    response = Client().post("/o/u/not-a-token", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert ContactConsent.objects.get(contact=person, channel="email").status == "opted_in"


def test_click_redirects_and_records_the_click_on_the_message(django_capture_on_commit_callbacks):
    person, camp, message = sent_email(links={"offer": "https://shop.example.com/sale"})
    row = OutboxMessage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().get(f"/o/c/{click_token(outbox_id=row.pk, link='offer')}")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/sale"
    message.refresh_from_db()
    assert message.status == "clicked" and message.clicked_at is not None
    engagement = person.engagement.get(channel="email")
    assert (engagement.clicked, engagement.responses, engagement.sent) == (1, 1, 1)
    assert Client().get("/o/c/forged").status_code == 404
