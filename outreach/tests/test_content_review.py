"""Only approved copy is ever sent: drafts and rejected variants never reach a provider, on the
first attempt, in copy experiments, after a rollout, and on retries."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from abtesting.models import ABTestStatus
from abtesting.services import abtest_roll_out
from conversion.models import ConversionType
from conversion.services.conversions import conversion_record
from madansara.channels.models import DeliveryAttempt, Message
from madansara.contacts.models import ContactIdentity
from outreach.models import OutboxMessage, TemplateVariant
from outreach.selectors import variant_performance
from outreach.services.content import message_render
from outreach.services.copy import (
    copy_experiment_start,
    variant_approve,
    variant_preview,
    variant_reject,
    variant_update,
)
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.services.tracking import preferences_set
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db

NEW_BODY = "Spring is here, {% if contact.first_name %}{{ contact.first_name }}{% else %}friend{% endif %}."


def _variant(template, **fields):
    defaults = {"field": "message", "source": "person", "subject": "Spring news", "body": NEW_BODY}
    return TemplateVariant.objects.create(template=template, **(defaults | fields))


def _rows(camp):
    campaign_plan(campaign=camp, now=NOON)
    return list(OutboxMessage.objects.filter(campaign=camp).select_related("campaign", "step", "contact"))


def test_draft_and_rejected_variants_are_never_rendered_approved_ones_are():
    camp = campaign(contacts=[contact() for _ in range(30)])
    variant = _variant(camp.steps.get().templates.get())
    rows = _rows(camp)

    assert {message_render(row=row).subject.split(" ")[0] for row in rows} == {"Hello"}  # a draft: never

    variant_approve(variant=variant)
    rendered = [message_render(row=row) for row in rows]
    assert {r.variant_key for r in rendered} == {"", variant.key}  # original and the variant rotate
    assert all("Spring is here" in r.text for r in rendered if r.variant_key == variant.key)

    variant_reject(variant=variant, note="off-brand")
    assert {message_render(row=row).variant_key for row in rows} == {""}


def test_rejecting_a_variant_stops_its_copy_experiment_and_even_a_rolled_out_winner_is_not_sent():
    people = [contact() for _ in range(20)]
    camp = campaign(contacts=people)
    variant = _variant(camp.steps.get().templates.get())
    variant_approve(variant=variant)
    test = copy_experiment_start(campaign=camp, arms=[[variant]], key="spring")
    rows = _rows(camp)
    assert {message_render(row=row).variant_key for row in rows} == {"original", f"copy-1/{variant.key}"}

    # rolled out, then rejected: the winner's arm renders the original copy
    abtest_roll_out(test=test, variant=test.variants.get(key="copy-1"))
    variant_reject(variant=variant)
    assert {message_render(row=row).text.split("\n")[0] for row in rows} == {"Hi Ana"}

    # while running, a rejection stops the experiment (everyone gets the control)
    other = _variant(camp.steps.get().templates.get(), body="Other copy")
    variant_approve(variant=other)
    camp.copy_test = None
    camp.save()
    running = copy_experiment_start(campaign=camp, arms=[[other]], key="spring-2")
    variant_reject(variant=other)
    running.refresh_from_db()
    assert running.status == ABTestStatus.STOPPED
    assert {message_render(row=row).variant_key for row in _rows(camp)} == {"original"}


def test_a_retry_after_the_variant_was_rejected_sends_approved_copy_never_the_rejected_body():
    # given a contact whose first attempt fails transiently with an approved variant's copy
    person = contact(values={"email": "fail-transient@example.com"})
    camp = campaign(contacts=[person])
    variant = _variant(camp.steps.get().templates.get(), body="REJECTED BODY")
    variant_approve(variant=variant)
    test = copy_experiment_start(campaign=camp, arms=[[variant]], key="retry", min_units_per_arm=1)
    test.variants.filter(key="original").update(weight=0)  # this contact gets the variant
    now = timezone.now()
    campaign_plan(campaign=camp, now=now)
    OutboxMessage.objects.update(due_at=now)
    assert outbox_dispatch(now=now) == {"retry": 1}
    first = Message.objects.get()
    assert first.text.startswith("REJECTED BODY") and first.status == "queued"

    # when a reviewer rejects the variant before the retry (and the address is fixed meanwhile)
    variant_reject(variant=variant, note="claims a discount we do not offer")
    ContactIdentity.objects.filter(contact=person).update(value="ana@example.com")
    row = OutboxMessage.objects.get()
    outbox_dispatch(now=row.due_at)

    # then the queued message was withdrawn, never handed over again, and the send carried
    # approved copy (the control: the rejection stopped the experiment)
    first.refresh_from_db()
    assert (first.status, first.failure_code) == ("failed", "content_withdrawn")
    assert DeliveryAttempt.objects.filter(message=first, outcome="success").count() == 0
    sent = Message.objects.get(status="sent")
    assert "REJECTED BODY" not in sent.text and sent.text.startswith(f"Hi {person.name.split()[0]}")
    assert not Message.objects.filter(status="sent", text__contains="REJECTED BODY").exists()


def test_a_retry_with_the_variant_still_approved_sends_it():
    person = contact(values={"email": "fail-transient@example.com"})
    camp = campaign(contacts=[person])
    variant = _variant(camp.steps.get().templates.get(), body="APPROVED BODY")
    variant_approve(variant=variant)
    test = copy_experiment_start(campaign=camp, arms=[[variant]], key="retry-ok")
    test.variants.filter(key="original").update(weight=0)
    now = timezone.now()
    campaign_plan(campaign=camp, now=now)
    OutboxMessage.objects.update(due_at=now)
    outbox_dispatch(now=now)
    ContactIdentity.objects.filter(contact=person).update(value="ana@example.com")
    Message.objects.update(to="ana@example.com")
    outbox_dispatch(now=OutboxMessage.objects.get().due_at)
    assert Message.objects.get(status="sent").text.startswith("APPROVED BODY")


def test_changing_approved_copy_makes_it_a_draft_that_is_not_sent():
    camp = campaign(contacts=[contact() for _ in range(20)])
    variant = _variant(camp.steps.get().templates.get())
    variant_approve(variant=variant)
    variant_update(variant=variant, body="Edited after approval")
    variant.refresh_from_db()
    assert (variant.status, variant.approved_at) == ("draft", None)
    assert {message_render(row=row).variant_key for row in _rows(camp)} == {""}


def test_approval_is_refused_while_a_guard_reports_an_error():
    camp = campaign(contacts=[contact()])
    variant = _variant(camp.steps.get().templates.get(), body="Buy at https://shop.example.com now")
    with pytest.raises(ValidationError, match="untracked link"):
        variant_approve(variant=variant)
    variant.refresh_from_db()
    assert variant.status == "draft"
    with pytest.raises(ValidationError, match="not approved"):
        copy_experiment_start(campaign=camp, arms=[[variant]])


def test_preview_renders_a_draft_for_one_contact_without_sending_or_exposing():
    person = contact(name="Zoé Durand")
    camp = campaign(contacts=[person])
    variant = _variant(camp.steps.get().templates.get())
    rendered = variant_preview(variant=variant, contact=person, campaign=camp)
    assert rendered.subject == "Spring news" and rendered.text.startswith("Spring is here, Zoé.")
    assert Message.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_results_per_variant_count_conversions_and_unsubscribes_after_the_send():
    people = [contact() for _ in range(12)]
    camp = campaign(contacts=people, goal_conversion="purchase")
    variant = _variant(camp.steps.get().templates.get())
    variant_approve(variant=variant)
    copy_experiment_start(campaign=camp, arms=[[variant]], key="outcomes")
    campaign_plan(campaign=camp, now=NOON)
    outbox_dispatch(once=True, now=NOON)
    rows = {row.contact_id: row for row in OutboxMessage.objects.filter(campaign=camp)}
    treated = [p for p in people if rows[p.pk].variant_key.startswith("copy-1/")]
    control = [p for p in people if rows[p.pk].variant_key == "original"]
    assert treated and control

    # a purchase after the send counts; one before it does not; an unsubscribe from the channel counts
    ConversionType.objects.get_or_create(code="purchase", defaults={"name": "Purchase"})
    after = rows[treated[0].pk].sent_at + timedelta(hours=1)
    conversion_record(external_id="o1", type="purchase", contact_id=treated[0].pk, occurred_at=after)
    conversion_record(external_id="o0", type="purchase", contact_id=control[0].pk, occurred_at=NOON - timedelta(days=1))
    preferences_set(contact=control[0], unsubscribe=["email"], source="one-click")

    result = {r["arm"]: r for r in variant_performance(campaign=camp)}
    assert (result["copy-1"]["converted"], result["copy-1"]["unsubscribed"]) == (1, 0)
    assert (result["original"]["converted"], result["original"]["unsubscribed"]) == (0, 1)
    assert result["copy-1"]["variant"] == variant.key and result["original"]["variant"] == ""
