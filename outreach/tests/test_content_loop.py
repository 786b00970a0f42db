"""The content loop end to end: a brief becomes a draft, a person approves it, a copy experiment
runs on e-mail and SMS through the sandbox, results come back per variant, and the experiment
engine rolls the winner out to the rest of the audience."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from abtesting.models import ABTestStatus
from abtesting.services import results_refresh, variant_assign
from bestpractices import selectors as practices
from madansara.channels.models import Message
from madansara.channels.simulate import sandbox_simulate
from outreach.models import TemplateVariant
from outreach.selectors import variant_performance
from outreach.services.composer import content_draft_compose
from outreach.services.copy import arms_from_approved, content_draft_approve, copy_experiment_start
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db

SOURCES = [
    {
        "title": "New spring menu",
        "text": "Six new dishes arrive on March 1. Fresh herbs come from farms near the shop.",
        "link": "https://shop.example.com/menu",
    },
    {
        "title": "Longer opening hours",
        "text": "We now open at 7 am on weekdays.",
        "link": "https://shop.example.com/hours",
    },
]
BRIEF = "Tell regulars about the spring menu and the new opening hours."


def _two_channel_campaign(people, **fields):
    return campaign(
        contacts=people, steps=[{"kind": "send", "channel": "email"}, {"kind": "send", "channel": "sms"}], **fields
    )


def _run(camp, hours=1):
    """What beat does: plan and dispatch, hour by hour from noon, until both steps went out."""
    for hour in range(hours):
        for _ in range(3):
            campaign_plan(campaign=camp, now=NOON + timedelta(hours=hour))
            outbox_dispatch(once=True, now=NOON + timedelta(hours=hour))


def _messages(camp):
    return list(Message.objects.filter(source="campaign", context__campaign_id=camp.pk).select_related("contact"))


def _templates(camp):
    steps = list(camp.steps.order_by("position"))
    return steps[0].templates.get(), steps[1].templates.get()


def test_brief_to_draft_to_approval_to_copy_experiment_on_email_and_sms_to_rollout(
    django_user_model, django_capture_on_commit_callbacks
):
    marketer = django_user_model.objects.create_user(username="marketer", password="pw-123456", is_staff=True)
    people = [contact(channels=("email", "sms")) for _ in range(270)]  # about 90 per arm
    camp = _two_channel_campaign(people)
    email_template, sms_template = _templates(camp)

    # Given newsletter drafts written from a brief (local composer: no key), one per channel
    with override_settings(ANTHROPIC_API_KEY=""):
        email_draft = content_draft_compose(
            brief=BRIEF, template=email_template, segment=camp.segment, sources=SOURCES, subject_count=2
        )
        sms_draft = content_draft_compose(
            brief=BRIEF, template=sms_template, segment=camp.segment, sources=SOURCES, subject_count=2
        )
    assert email_draft.variants.count() == 2 and sms_draft.variants.count() == 2
    assert set(TemplateVariant.objects.values_list("status", flat=True)) == {"draft"}

    # an experiment cannot be built on drafts: a person approves them first
    drafts = [[email_draft.variants.order_by("id")[0], sms_draft.variants.order_by("id")[0]]]
    with pytest.raises(ValidationError, match="not approved"):
        copy_experiment_start(campaign=camp, arms=drafts)
    content_draft_approve(draft=email_draft, actor=marketer)
    content_draft_approve(draft=sms_draft, actor=marketer)
    assert set(TemplateVariant.objects.values_list("status", "approved_by__username")) == {("approved", "marketer")}

    # When a copy experiment runs on both channels (arm n = the n-th approved variant of each)
    arms = arms_from_approved(campaign=camp)
    assert [[v.template.channel for v in arm] for arm in arms] == [["email", "sms"], ["email", "sms"]]
    test = copy_experiment_start(
        campaign=camp, arms=arms, key="spring-copy", min_units_per_arm=10, min_runtime_days=0, sequential_tuning=50
    )
    _run(camp)

    # Then every send carries the copy of the arm the engine assigned to its contact
    sent = _messages(camp)
    assert len(sent) == 540
    by_key = {arm_variant.key: arm_variant for arm_variant in test.variants.all()}
    for message in sent:
        arm = variant_assign(test=test, unit_id=f"contact:{message.contact_id}", contact_id=message.contact_id)
        first_name = message.contact.name.split(" ")[0]
        if arm.is_control:
            assert message.context["variant"] == "original"
            expected = f"Hello {first_name}" if message.channel == "email" else f"Hi {first_name}"
            assert (message.subject if message.channel == "email" else message.text) == expected
            continue
        variant = TemplateVariant.objects.get(
            pk__in=by_key[arm.key].content["message_variants"], template__channel=message.channel
        )
        assert message.context["variant"] == f"{arm.key}/{variant.key}"
        if message.channel == "email":
            assert message.subject == variant.subject
            assert "Six new dishes arrive on March 1." in message.text and "<h2>New spring menu</h2>" in message.html
            assert "/o/c/" in message.html and "shop.example.com" not in message.html  # links tracked
            assert "Unsubscribe" in message.text  # the footer kept
        else:
            assert message.text.startswith(variant.body) and "/o/c/" in message.text
    assert {m.context["variant"].split("/")[0] for m in sent} == {"original", "copy-1", "copy-2"}

    # When recipients of copy-2 click far more often than the others: 19 in 20 against 2 in 5 within each
    # arm, counted per arm so the rates hold whichever contacts the hash puts in each arm
    seen = Counter()
    for message in (m for m in sent if m.channel == "email"):
        arm = message.context["variant"].split("/")[0]
        nth = seen[arm]
        seen[arm] += 1
        if (arm == "copy-2" and nth % 20 != 19) or (arm != "copy-2" and nth % 5 < 2):
            with django_capture_on_commit_callbacks(execute=True):
                sandbox_simulate(message=message, event="click")

    # Then results are reported per variant, on both channels
    rows = variant_performance(campaign=camp)
    assert {(r["channel"], r["arm"]) for r in rows} == {
        (c, a) for c in ("email", "sms") for a in ("original", "copy-1", "copy-2")
    }
    assert sum(r["sent"] for r in rows) == 540
    email_rows = {r["arm"]: r for r in rows if r["channel"] == "email"}
    assert email_rows["copy-2"]["rates"]["clicked"] > 0.8 > 0.5 > email_rows["original"]["rates"]["clicked"]
    # and the best-practices engine reads these sends with the text each carried
    records = list(practices.sends_as_records(until=timezone.now() + timedelta(days=1)))
    copy2 = [r for r in records if r["variant"].startswith("copy-2/") and r["channel"] == "sms"]
    assert copy2 and all(r["experiment"] == test.pk and r["body"].startswith("New spring menu") for r in copy2)

    # When the engine's scheduled analysis runs, the rollout policy picks copy-2
    results_refresh(tests=[test])
    test.refresh_from_db()
    assert test.status == ABTestStatus.ROLLED_OUT
    assert test.winner.key == "copy-2"

    # Then the rest of the audience, on a campaign with the same experiment, only gets copy-2
    rest = [contact(channels=("email", "sms")) for _ in range(10)]
    camp.refresh_from_db()
    # (the experiment's tracked links); its sends are timed from the clicks above, whose hour is the real
    # clock's, so beat runs through the day
    later = _two_channel_campaign(rest, links=camp.links)
    later.steps.get(position=1).templates.set([email_template])
    later.steps.get(position=2).templates.set([sms_template])
    later.copy_test = test
    later.save()
    _run(later, hours=24)
    carried = {m.context["variant"].split("/")[0] for m in _messages(later)}
    assert len(_messages(later)) == 20 and carried == {"copy-2"}
