"""State changes for send-time and channel recommendations on campaigns.

Experiments vary a subject or the copy per arm; a campaign sends every arm inside one window and
each step on one channel, so a send hour or a channel cannot be an arm. One click on such a
recommendation makes a draft CampaignChange instead; a marketer approves it and the campaign's
window (or the steps' channel) changes, or rejects it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bestpractices import selectors
from bestpractices.advice import HOURS_SAID, WINDOW_OF_HOURS, best_move, window_hours
from bestpractices.models import (
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
    """Open send-time and channel recommendations for a campaign: for each outcome, the best move
    of its window and of each fixed channel of its send steps that significant practices support
    (one per practice: the largest lift); stale open ones are removed."""
    if campaign.status in FINISHED:
        return []
    groups: dict[tuple[str, str], list] = {}
    for practice in selectors.practices_current().filter(feature__in=["send_hour_local", STEP_CHANNEL]):
        groups.setdefault((practice.feature, practice.outcome), []).append(practice)
    steps = list(campaign.steps.filter(kind=StepKind.SEND).exclude(channel__in=["", "auto"]).order_by("position"))
    best: dict[int, tuple] = {}
    for (feature, _outcome), practices in groups.items():
        advice = (
            _send_time_advice(campaign, practices)
            if feature == "send_hour_local"
            else _channel_advice(campaign, practices, steps)
        )
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
    channels = dict(CampaignStep.objects.filter(pk__in=change["steps"], campaign=campaign).values_list("pk", "channel"))
    return {"channel": change["from"] if set(channels.values()) == {change["from"]} else None, "steps": change["steps"]}


@transaction.atomic
def recommendation_draft_change(*, recommendation: Recommendation, actor=None) -> CampaignChange:
    """One click: the draft change of the campaign that a send-time or channel recommendation asks
    for, waiting for a marketer's approval (see the module doc: these cannot be an experiment's arm)."""
    recommendation = (
        Recommendation.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=recommendation.pk)
    )
    if not recommendation.can_draft_change:
        raise ValidationError("Only an open send-time or channel recommendation becomes a draft change.")
    change, campaign = recommendation.change, recommendation.campaign
    if change["field"] == SEND_WINDOW:
        before, after = change["from"], change["to"]
    else:
        before = {"channel": change["from"], "steps": change["steps"]}
        after = {"channel": change["to"], "steps": change["steps"]}
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


def _step_channel_set(*, step: CampaignStep, old: str, new: str) -> None:
    """The step sends on `new` (a copy of its `old` template when it has none for `new`); the old
    channel becomes its first fallback."""
    if not step.templates.filter(channel=new).exists():
        source = step.templates.filter(channel=old).order_by("pk").first()
        if source is None:
            raise ValidationError(f"Step {step.position} has no {old} template to copy for {new}.")
        copy = ChannelTemplate(name=f"{source.name} ({new})"[:200], channel=new, subject=source.subject,
                               html=source.html, text=source.text)  # fmt: skip
        copy.save()  # validated for the new channel (an email needs a subject)
        step.templates.add(copy)
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
    if change.field == SEND_WINDOW:
        for field, value in change.after.items():
            setattr(campaign, field, value)
        campaign.save(update_fields=[*WINDOW_FIELDS, "updated_at"])
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
