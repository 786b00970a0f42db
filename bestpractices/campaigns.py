"""State changes for send-time, weekday and channel recommendations on campaigns.

Such a recommendation is tested or applied. Tested: one click makes a draft send experiment
attached to the campaign (`campaign.send_test`); its control arm carries the campaign as it is,
its treatment arm the recommended window, weekdays or channel, and the planner sends each contact
under its arm (outreach.services.planning). Applied: one click makes a draft CampaignChange; a
marketer approves it and the campaign changes, or rejects it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator, slugify

from abtesting.models import ABTest, ABTestStatus, Surface
from abtesting.services import abtest_create
from bestpractices import selectors
from bestpractices.advice import HOURS_SAID, WINDOW_OF_HOURS, best_move, days_said, weekday_move, window_hours
from bestpractices.models import (
    SEND_WEEKDAYS,
    SEND_WINDOW,
    STEP_CHANNEL,
    CampaignChange,
    CampaignChangeStatus,
    Recommendation,
    RecommendationStatus,
)
from madansara.audit import audit_record
from madansara.choices import Channel
from outreach.models import CampaignStatus, CampaignStep, ChannelTemplate, OutreachCampaign, StepKind
from outreach.services.planning import MANUAL_ONLY

FINISHED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
CHANNEL_NAMES = dict(Channel.choices)
WINDOW_FIELDS = ("window_start_hour", "window_end_hour")


def _window(campaign: OutreachCampaign) -> dict[str, int]:
    return {field: getattr(campaign, field) for field in WINDOW_FIELDS}


def _send_time_advice(campaign: OutreachCampaign, practices) -> list[tuple]:
    current = window_hours(campaign.window_start_hour, campaign.window_end_hour)
    move = best_move(practices, current=current, targets=WINDOW_OF_HOURS)
    if move is None:
        return []
    start, end = WINDOW_OF_HOURS[move.target]
    title = f"Send {HOURS_SAID[move.target]} ({start:02d}-{end:02d} h local), not {HOURS_SAID[current]}: {move.said()}"
    change = {
        "field": SEND_WINDOW,
        "from": _window(campaign),
        "to": {"window_start_hour": start, "window_end_hour": end},
        "evidence": move.evidence(),
    }
    return [(move, title, change)]


def _weekday_advice(campaign: OutreachCampaign, practices) -> list[tuple]:
    found = weekday_move(practices, current=campaign.send_weekdays or [])
    if found is None:
        return []
    move, days = found
    title = f"Send on {days_said(days)}, not {move.current}: {move.said()}"
    change = {
        "field": SEND_WEEKDAYS,
        "from": {"send_weekdays": list(campaign.send_weekdays or [])},
        "to": {"send_weekdays": days},
        "evidence": move.evidence(),
    }
    return [(move, title, change)]


def _channel_advice(campaign: OutreachCampaign, practices, steps: list[CampaignStep]) -> list[tuple]:
    by_channel: dict[str, list[CampaignStep]] = {}
    for step in steps:
        by_channel.setdefault(step.channel, []).append(step)
    targets = [c for c in Channel.values if c not in MANUAL_ONLY]
    advice = []
    for channel, on_it in by_channel.items():
        move = best_move(practices, current=channel, targets=targets)
        if move is None:
            continue
        positions = ", ".join(str(step.position) for step in on_it)
        title = (
            f"Use {CHANNEL_NAMES.get(move.target, move.target)} instead of {CHANNEL_NAMES.get(channel, channel)} "
            f"(step {positions}): {move.said()}"
        )
        change = {
            "field": STEP_CHANNEL,
            "steps": [step.pk for step in on_it],
            "from": channel,
            "to": move.target,
            "evidence": move.evidence(),
        }
        advice.append((move, title, change))
    return advice


@transaction.atomic
def campaign_recommendations_refresh(*, campaign: OutreachCampaign) -> list[Recommendation]:
    """Open send-time, weekday and channel recommendations for a campaign: for each outcome, the
    best move of its window, its weekdays and each fixed channel of its send steps that significant
    practices support
    (one per practice: the largest lift); stale open ones are removed."""
    if campaign.status in FINISHED:
        return []
    groups: dict[tuple[str, str], list] = {}
    for practice in selectors.practices_current().filter(feature__in=["send_hour_local", "weekday", STEP_CHANNEL]):
        groups.setdefault((practice.feature, practice.outcome), []).append(practice)
    steps = list(campaign.steps.filter(kind=StepKind.SEND).exclude(channel__in=["", "auto"]).order_by("position"))
    best: dict[int, tuple] = {}
    for (feature, _outcome), practices in groups.items():
        if feature == "send_hour_local":
            advice = _send_time_advice(campaign, practices)
        elif feature == "weekday":
            advice = _weekday_advice(campaign, practices)
        else:
            advice = _channel_advice(campaign, practices, steps)
        for move, title, change in advice:
            kept = best.get(move.practice.pk)
            if kept is None or abs(move.lift) > abs(kept[0].lift):
                best[move.practice.pk] = (move, title, change)
    made = []
    for move, title, change in best.values():
        recommendation, _ = Recommendation.objects.update_or_create(
            practice=move.practice,
            campaign=campaign,
            template=None,
            status=RecommendationStatus.OPEN,
            defaults={"title": title[:200], "expected_lift": move.lift, "change": change},
        )
        made.append(recommendation)
    Recommendation.objects.filter(campaign=campaign, template=None, status=RecommendationStatus.OPEN).exclude(
        pk__in=[r.pk for r in made]
    ).delete()
    return made


def _campaign_now(campaign: OutreachCampaign, change: dict) -> dict:
    """The part of the campaign a change touches, as it is now."""
    if change["field"] == SEND_WINDOW:
        return _window(campaign)
    if change["field"] == SEND_WEEKDAYS:
        return {"send_weekdays": list(campaign.send_weekdays or [])}
    channels = dict(CampaignStep.objects.filter(pk__in=change["steps"], campaign=campaign).values_list("pk", "channel"))
    return {"channel": change["from"] if set(channels.values()) == {change["from"]} else None, "steps": change["steps"]}


def _as_found(change: dict, side: str = "from") -> dict:
    """A side of a recommended change, in the form _campaign_now reads the campaign."""
    if change["field"] == STEP_CHANNEL:
        return {"channel": change[side], "steps": change["steps"]}
    return change[side]


@transaction.atomic
def recommendation_draft_change(*, recommendation: Recommendation, actor=None) -> CampaignChange:
    """One click: the draft change of the campaign that a send-time, weekday or channel
    recommendation asks for, waiting for a marketer's approval (applied without a test)."""
    recommendation = (
        Recommendation.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=recommendation.pk)
    )
    if not recommendation.can_draft_change:
        raise ValidationError("Only an open send-time, weekday or channel recommendation becomes a draft change.")
    change, campaign = recommendation.change, recommendation.campaign
    before, after = _as_found(change), _as_found(change, side="to")
    if _campaign_now(campaign, change) != before:
        raise ValidationError("The campaign changed since this recommendation was made; wait for the next run.")
    draft = CampaignChange.objects.create(
        recommendation=recommendation,
        campaign=campaign,
        field=change["field"],
        before=before,
        after=after,
        created_by=actor,
    )
    recommendation.status = RecommendationStatus.DRAFTED
    recommendation.save(update_fields=["status"])
    audit_record(actor=actor, action="recommendation.drafted", target=recommendation, data={"change": draft.pk})
    return draft


def _step_template_ensure(*, step: CampaignStep, old: str, new: str) -> None:
    """The step has a template for `new`: a copy of its `old` one when it has none."""
    if step.templates.filter(channel=new).exists():
        return
    source = step.templates.filter(channel=old).order_by("pk").first()
    if source is None:
        raise ValidationError(f"Step {step.position} has no {old} template to copy for {new}.")
    subject = source.subject
    if new == Channel.EMAIL and not subject:  # an e-mail needs a subject: the text's first line
        subject = Truncator((source.text or source.name).strip().splitlines()[0]).chars(60)
    copy = ChannelTemplate(name=f"{source.name} ({new})"[:200], channel=new, subject=subject,
                           html=source.html, text=source.text)  # fmt: skip
    copy.save()  # validated for the new channel
    step.templates.add(copy)


def _step_channel_set(*, step: CampaignStep, old: str, new: str) -> None:
    """The step sends on `new` (a copy of its `old` template when it has none for `new`); the old
    channel becomes its first fallback."""
    _step_template_ensure(step=step, old=old, new=new)
    step.channel = new
    step.fallback_channels = [old, *[c for c in step.fallback_channels or [] if c not in (old, new)]]
    step.save(update_fields=["channel", "fallback_channels"])


@transaction.atomic
def campaign_change_approve(*, change: CampaignChange, actor=None) -> CampaignChange:
    """Apply a draft change to its campaign (unless the campaign changed since the draft)."""
    change = CampaignChange.objects.select_for_update().select_related("recommendation").get(pk=change.pk)
    if not change.is_draft:
        raise ValidationError("Only a draft change can be approved.")
    campaign = OutreachCampaign.objects.select_for_update().get(pk=change.campaign_id)
    if campaign.status in FINISHED:
        raise ValidationError(f"A {campaign.get_status_display().lower()} campaign is not changed.")
    recommended = change.recommendation.change
    if _campaign_now(campaign, recommended) != change.before:
        raise ValidationError("The campaign changed since this draft; reject it and wait for the next run.")
    if change.field in (SEND_WINDOW, SEND_WEEKDAYS):
        for field, value in change.after.items():
            setattr(campaign, field, value)
        campaign.save(update_fields=[*change.after, "updated_at"])
    else:
        for step in CampaignStep.objects.filter(pk__in=change.after["steps"], campaign=campaign).order_by("position"):
            _step_channel_set(step=step, old=change.before["channel"], new=change.after["channel"])
    change.status, change.decided_by, change.decided_at = CampaignChangeStatus.APPLIED, actor, timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    Recommendation.objects.filter(pk=change.recommendation_id).update(status=RecommendationStatus.APPLIED)
    audit_record(actor=actor, action="campaignchange.applied", target=change,
                 data={"campaign": campaign.pk, "before": change.before, "after": change.after})  # fmt: skip
    return change


@transaction.atomic
def campaign_change_reject(*, change: CampaignChange, actor=None) -> CampaignChange:
    change = CampaignChange.objects.select_for_update().get(pk=change.pk)
    if not change.is_draft:
        raise ValidationError("Only a draft change can be rejected.")
    change.status, change.decided_by, change.decided_at = CampaignChangeStatus.REJECTED, actor, timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    Recommendation.objects.filter(pk=change.recommendation_id).update(status=RecommendationStatus.DISMISSED)
    audit_record(actor=actor, action="campaignchange.rejected", target=change)
    return change


def _arm_content(change: dict, side: str) -> dict:
    """What an arm of the send experiment carries: the campaign's side (`from`) or the
    recommendation's (`to`) of the change."""
    if change["field"] == STEP_CHANNEL:
        return {"channel": change[side], "steps": change["steps"]}
    return dict(change[side])


@transaction.atomic
def recommendation_campaign_test(*, recommendation: Recommendation, metric: str, hypothesis: str, actor=None) -> ABTest:
    """A draft send experiment on the recommendation's campaign: the control arm sends as the
    campaign does, the treatment arm in the recommended window, on the recommended weekdays or
    channel (the steps get a template for it, copied from their current one). The planner assigns
    the arms once the experiment runs; a campaign runs one send experiment at a time."""
    change = recommendation.change
    campaign = (
        OutreachCampaign.objects.select_for_update(of=("self",))
        .select_related("send_test")
        .get(pk=recommendation.campaign_id)
    )
    if campaign.status in FINISHED:
        raise ValidationError(f"A {campaign.get_status_display().lower()} campaign is not tested.")
    if campaign.send_test is not None and campaign.send_test.status in (ABTestStatus.DRAFT, ABTestStatus.RUNNING):
        raise ValidationError(
            f"The campaign already has a send experiment ({campaign.send_test.key}); finish or stop it first."
        )
    if _campaign_now(campaign, change) != _as_found(change):
        raise ValidationError("The campaign changed since this recommendation was made; wait for the next run.")
    if change["field"] == STEP_CHANNEL:
        for step in CampaignStep.objects.filter(pk__in=change["steps"], campaign=campaign):
            _step_template_ensure(step=step, old=change["from"], new=change["to"])
    surface = Surface.CHANNEL if change["field"] == STEP_CHANNEL else Surface.SEND_TIME
    test = abtest_create(
        key=slugify(f"bp-{recommendation.pk}-{campaign.pk}-{change['field']}")[:100],
        name=f"{campaign.name}: {recommendation.title}"[:200],
        hypothesis=hypothesis,
        surface=surface,
        primary_metric=metric,
        variants=[
            {
                "key": "control",
                "name": "As the campaign sends",
                "is_control": True,
                "weight": 1.0,
                "content": _arm_content(change, "from"),
            },
            {
                "key": "treatment",
                "name": recommendation.title[:200],
                "is_control": False,
                "weight": 1.0,
                "content": _arm_content(change, "to"),
            },
        ],  # fmt: skip
        actor=actor,
    )
    campaign.send_test = test
    campaign.save(update_fields=["send_test", "updated_at"])
    return test
