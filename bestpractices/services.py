"""State changes: learning practices from sends, their lifecycle, recommendations, the test
scheduler. bestpractices sits above outreach and abtesting (it reads their models and calls
abtesting's services); nothing imports bestpractices (the inbox reads reviewer guidance through
madansara.guidance)."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from abtesting.models import ABTest, ABTestStatus, Outcome, Surface
from abtesting.services import abtest_create, abtest_start
from bestpractices import selectors
from bestpractices.campaigns import FINISHED, campaign_recommendations_refresh, recommendation_campaign_test
from bestpractices.engine import models_by_stratum, patterns_extract
from bestpractices.models import (
    STEP_CHANNEL,
    BestPractice,
    DraftEditPattern,
    PatternRun,
    PracticeStatus,
    ProposalStatus,
    ProposedTest,
    Recommendation,
    RecommendationStatus,
)
from bestpractices.personalise import personalised_plan, personalised_result
from bestpractices.reviewers import Draft, edit_patterns
from bestpractices.rewrites import change_for, title_for
from bestpractices.sends import sends_read
from inbox.models import DraftStatus, ReplyDraft
from madansara.audit import audit_record
from madansara.channels.models import Message
from madansara.guidance import DraftGuidance
from outreach.models import ChannelTemplate, CopyAssignment, OutboxMessage, OutreachCampaign
from outreach.selectors import segment_contacts
from outreach.services.copy import copy_arm_texts, copy_personalise

METRIC_OF_OUTCOME = {
    "opened": Outcome.OPEN,
    "clicked": Outcome.CLICK,
    "replied": Outcome.REPLY,
    "converted": Outcome.CONVERSION,
}


def value_text(value) -> str:
    """A pattern's value as stored: JSON booleans as 'true'/'false', the rest as text."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def value_of(text: str):
    return {"true": True, "false": False}.get(text, text)


@transaction.atomic
def practices_learn(*, since: datetime | None = None, until: datetime | None = None) -> PatternRun:
    """Extract patterns from the settled campaign sends in the database and update the practices."""
    table = sends_read(selectors.sends_as_records(since=since, until=until), strict=False)
    patterns = patterns_extract(table)
    run = PatternRun.objects.create(
        since=since,
        until=until,
        n_sends=patterns["n_sends"],
        method=patterns["method"],
        outcomes=patterns["outcomes"],
        model=patterns["model"] | {"strata": models_by_stratum(table, feature="customer_type")},
    )
    practices_update(run=run, rows=patterns["patterns"])
    for template in ChannelTemplate.objects.all():
        recommendations_refresh(template=template)
    for campaign in OutreachCampaign.objects.exclude(status__in=FINISHED):
        campaign_recommendations_refresh(campaign=campaign)
    return run


@transaction.atomic
def practices_update(*, run: PatternRun, rows: list[dict]) -> list[BestPractice]:
    """Fold a run's pattern rows into the practices: a significant new pattern becomes a
    candidate; an existing practice gets a new version with the new estimate and evidence, and is
    retired when the new interval excludes zero on the other side."""
    current = {
        (p.feature, p.value, p.outcome): p for p in BestPractice.objects.select_for_update().filter(is_current=True)
    }
    written = []
    for row in rows:
        key = (row["feature"], value_text(row["value"]), row["outcome"])
        old = current.get(key)
        if old is None and not row["significant"]:
            continue
        status, reason = PracticeStatus.CANDIDATE, "observed in sends"
        if old is not None:
            status, reason = old.status, old.status_reason
            if old.status != PracticeStatus.RETIRED and old.contradicted_by(
                ci_low=row["ci_low"], ci_high=row["ci_high"]
            ):
                status, reason = PracticeStatus.RETIRED, f"contradicted by run {run.pk}: lift {row['lift']:+.1%}"
            elif old.status == PracticeStatus.RETIRED and row["significant"]:
                status, reason = PracticeStatus.CANDIDATE, f"supported again by run {run.pk}"
            old.is_current = False
            old.save(update_fields=["is_current"])
        written.append(
            BestPractice.objects.create(
                feature=key[0],
                value=key[1],
                baseline=value_text(row["baseline"]),
                outcome=key[2],
                version=(old.version + 1) if old else 1,
                status=status,
                status_reason=reason,
                experiment_id=old.experiment_id if old else None,
                lift=row["lift"],
                ci_low=row["ci_low"],
                ci_high=row["ci_high"],
                n=row["n"],
                significant=row["significant"],
                p_value=row["p_value"],
                evidence=row["evidence"] | {"run": run.pk, "n_baseline": row["n_baseline"]},
                run=run,
            )
        )
    return written


def _practice_transition(*, practice: BestPractice, status: str, reason: str, experiment: ABTest | None, actor=None):
    practice.status, practice.status_reason = status, reason
    practice.experiment = experiment
    practice.save(update_fields=["status", "status_reason", "experiment"])
    audit_record(actor=actor, action=f"bestpractice.{status}", target=practice, data={"reason": reason})
    return practice


@transaction.atomic
def practice_confirm(*, practice: BestPractice, experiment: ABTest, actor=None) -> BestPractice:
    """An experiment whose variant carried the practice won."""
    if practice.status == PracticeStatus.RETIRED:
        raise ValidationError("A retired practice cannot be confirmed; learn again first.")
    return _practice_transition(
        practice=practice,
        status=PracticeStatus.CONFIRMED,
        reason=f"confirmed by experiment {experiment.key}",
        experiment=experiment,
        actor=actor,
    )


@transaction.atomic
def practice_retire(*, practice: BestPractice, reason: str, experiment: ABTest | None = None, actor=None):
    return _practice_transition(
        practice=practice, status=PracticeStatus.RETIRED, reason=reason, experiment=experiment, actor=actor
    )


@transaction.atomic
def recommendations_refresh(*, template: ChannelTemplate) -> list[Recommendation]:
    """Open recommendations for a template: each current, significant practice that helps and
    that the template does not follow yet, with the concrete change a test would carry."""
    features = selectors.template_features(template=template)
    made = []
    practices = selectors.practices_current().filter(significant=True)
    for practice in practices:
        value = value_of(practice.value)
        if not practice.helps or features.get(practice.feature) == value:
            continue
        if practice.feature == "channel" or (practice.feature, value) == ("channel", template.channel):
            continue
        change = change_for(feature=practice.feature, value=value, subject=template.subject, text=template.text)
        if change is None:
            continue
        recommendation, _ = Recommendation.objects.update_or_create(
            practice__feature=practice.feature,
            practice__value=practice.value,
            practice__outcome=practice.outcome,
            template=template,
            status=RecommendationStatus.OPEN,
            defaults={
                "practice": practice,
                "title": f"{title_for(practice.feature, value)} ({practice.outcome} {practice.lift:+.0%})",
                "expected_lift": practice.lift,
                "change": change,
            },
        )
        made.append(recommendation)
    return made


def _hypothesis(practice: BestPractice) -> str:
    evidence = practice.evidence or {}
    return (
        f"{practice.feature} = {practice.value} changes {practice.outcome} by {practice.lift:+.1%} "
        f"[{practice.ci_low:+.1%}, {practice.ci_high:+.1%}] against {practice.baseline}, adjusted for the other "
        f"features; evidence: {evidence.get('sends', 0)} sends, {evidence.get('campaigns', 0)} campaigns, "
        f"{evidence.get('experiments', 0)} experiments (best practice #{practice.pk} v{practice.version})."
    )


@transaction.atomic
def recommendation_create_test(*, recommendation: Recommendation, actor=None) -> ABTest:
    """One click: a draft experiment whose treatment variant carries the recommended change — a
    template's subject or copy, or a campaign's window, weekdays or step channel (a send
    experiment of the campaign, see bestpractices.campaigns)."""
    recommendation = (
        Recommendation.objects.select_for_update(of=("self",))
        .select_related("practice", "template")
        .get(pk=recommendation.pk)
    )
    if not recommendation.can_test:
        raise ValidationError("This recommendation is not open or has no change to test.")
    practice, change, template = recommendation.practice, recommendation.change, recommendation.template
    metric = METRIC_OF_OUTCOME.get(practice.outcome, Outcome.CLICK)
    if recommendation.changes_campaign:
        test = recommendation_campaign_test(
            recommendation=recommendation,
            metric=metric,
            hypothesis=f"{recommendation.title}. The practice behind it: {_hypothesis(practice)}",
            actor=actor,
        )
    else:
        test = abtest_create(
            key=slugify(f"bp-{recommendation.pk}-{practice.feature}-{practice.value}")[:100],
            name=f"{recommendation.title}"[:200],
            hypothesis=_hypothesis(practice),
            surface=Surface.EMAIL_SUBJECT if change["field"] == "subject" else Surface.MESSAGE_COPY,
            primary_metric=metric,
            channel=template.channel if template else "",
            variants=[
                {
                    "key": "control",
                    "name": "As it is",
                    "is_control": True,
                    "weight": 1.0,
                    "content": {change["field"]: change["from"]},
                },
                {
                    "key": "treatment",
                    "name": recommendation.title[:200],
                    "is_control": False,
                    "weight": 1.0,
                    "content": {change["field"]: change["to"]},
                },
            ],  # fmt: skip
            actor=actor,
        )
    recommendation.status, recommendation.experiment = RecommendationStatus.TESTING, test
    recommendation.save(update_fields=["status", "experiment"])
    audit_record(actor=actor, action="recommendation.tested", target=recommendation, data={"experiment": test.key})
    return test


@transaction.atomic
def recommendation_dismiss(*, recommendation: Recommendation, actor=None) -> Recommendation:
    recommendation.status = RecommendationStatus.DISMISSED
    recommendation.save(update_fields=["status"])
    audit_record(actor=actor, action="recommendation.dismissed", target=recommendation)
    return recommendation


def experiments_review() -> int:
    """Confirm or retire the practices whose experiments have a winner; returns how many."""
    decided = 0
    finished = Q(experiment__status__in=[ABTestStatus.STOPPED, ABTestStatus.ROLLED_OUT]) & Q(
        experiment__winner__isnull=False
    )
    for recommendation in Recommendation.objects.filter(finished, status=RecommendationStatus.TESTING).select_related(
        "practice", "experiment__winner"
    ):
        with transaction.atomic():
            practice = BestPractice.objects.select_for_update().get(
                feature=recommendation.practice.feature,
                value=recommendation.practice.value,
                outcome=recommendation.practice.outcome,
                is_current=True,
            )
            test = recommendation.experiment
            if test.winner.is_control:
                practice_retire(practice=practice, reason=f"the control won experiment {test.key}", experiment=test)
            elif practice.status != PracticeStatus.RETIRED:
                practice_confirm(practice=practice, experiment=test)
            recommendation.status = RecommendationStatus.LOST if test.winner.is_control else RecommendationStatus.WON
            recommendation.save(update_fields=["status"])
            ProposedTest.objects.filter(
                recommendation=recommendation, status__in=[ProposalStatus.APPROVED, ProposalStatus.STARTED]
            ).update(status=ProposalStatus.FINISHED)
            decided += 1
    return decided


def week_of(moment: datetime) -> date:
    day = timezone.localdate(moment)
    return day - timedelta(days=day.weekday())


def _audience_busy(*, template: ChannelTemplate, surface: str) -> bool:
    """A running experiment already tests this surface on an audience the template reaches."""
    segments = set(OutreachCampaign.objects.filter(steps__templates=template).values_list("segment_id", flat=True))
    running = ABTest.objects.filter(status=ABTestStatus.RUNNING, surface=surface).filter(
        Q(channel="") | Q(channel=template.channel)
    )
    return running.filter(Q(segment__isnull=True) | Q(segment_id__in=segments)).exists()


def _campaign_busy(*, campaign: OutreachCampaign) -> bool:
    """The campaign already has a send experiment drafted or running (one at a time)."""
    test = campaign.send_test
    return test is not None and test.status in (ABTestStatus.DRAFT, ABTestStatus.RUNNING)


def weekly_reach(*, template: ChannelTemplate, now: datetime) -> int:
    """Sends of the template's campaigns over the last week (or a quarter of the last four)."""
    campaigns = list(OutreachCampaign.objects.filter(steps__templates=template).values_list("pk", flat=True))
    return _weekly_sends(campaigns=campaigns, channel=template.channel, now=now)


def campaign_weekly_reach(*, campaign: OutreachCampaign, now: datetime) -> int:
    """Sends of the campaign over the last week (or a quarter of the last four), every channel."""
    return _weekly_sends(campaigns=[campaign.pk], channel=None, now=now)


def _weekly_sends(*, campaigns: list[int], channel: str | None, now: datetime) -> int:
    sends = Message.objects.filter(source="campaign", context__campaign_id__in=campaigns)
    if channel is not None:
        sends = sends.filter(channel=channel)
    last_week = sends.filter(created_at__gte=now - timedelta(days=7)).count()
    return last_week or sends.filter(created_at__gte=now - timedelta(days=28)).count() // 4


def _proposal_target(recommendation: Recommendation, now: datetime) -> tuple[str, str, int, bool]:
    """(surface, audience, weekly reach, busy) of an open recommendation."""
    if recommendation.changes_campaign:
        campaign = recommendation.campaign
        surface = Surface.CHANNEL if recommendation.change.get("field") == STEP_CHANNEL else Surface.SEND_TIME
        reach = campaign_weekly_reach(campaign=campaign, now=now)
        return surface, f"campaign:{campaign.pk}", reach, _campaign_busy(campaign=campaign)
    template = recommendation.template
    surface = Surface.EMAIL_SUBJECT if recommendation.change.get("field") == "subject" else Surface.MESSAGE_COPY
    reach = weekly_reach(template=template, now=now)
    return surface, f"template:{template.pk}", reach, _audience_busy(template=template, surface=surface)


@transaction.atomic
def tests_schedule(*, now: datetime | None = None) -> list[ProposedTest]:
    """Propose this week's tests: the open recommendations on candidate practices — of templates
    (subject, copy) and of campaigns (send window, weekdays, channel) — ranked by expected value =
    uncertainty (interval width) x weekly reach x |lift|, never two on one audience and surface
    (proposed, approved or running; a campaign runs one send experiment at a time), within
    BESTPRACTICES_WEEKLY_TESTS. Proposals wait for approval unless BESTPRACTICES_AUTOSTART is on."""
    now = now or timezone.now()
    week = week_of(now)
    budget = (
        settings.BESTPRACTICES_WEEKLY_TESTS
        - ProposedTest.objects.filter(week=week).exclude(status=ProposalStatus.REJECTED).count()
    )
    if budget <= 0:
        return []
    open_proposals = ProposedTest.objects.filter(
        status__in=[ProposalStatus.PROPOSED, ProposalStatus.APPROVED, ProposalStatus.STARTED]
    )
    taken = set(open_proposals.values_list("audience", "surface"))
    # A campaign's send experiment covers both its send time and its channels.
    taken_campaigns = {audience for audience in open_proposals.values_list("audience", flat=True)
                       if audience.startswith("campaign:")}  # fmt: skip
    ranked = []
    candidates = (
        Recommendation.objects.filter(
            status=RecommendationStatus.OPEN,
            practice__is_current=True,
            practice__status=PracticeStatus.CANDIDATE,
        )
        .filter(Q(template__isnull=False) | Q(campaign__isnull=False))
        .select_related("practice", "template", "campaign__send_test")
    )
    for recommendation in candidates:
        practice = recommendation.practice
        surface, audience, reach, busy = _proposal_target(recommendation, now)
        if busy:
            continue
        uncertainty = practice.uncertainty
        ranked.append((uncertainty * reach * abs(practice.lift), recommendation, surface, audience, reach, uncertainty))
    ranked.sort(key=lambda item: (-item[0], item[1].pk))
    proposals = []
    for value, recommendation, surface, audience, reach, uncertainty in ranked:
        if len(proposals) >= budget:
            break
        if value <= 0 or (audience, surface) in taken or audience in taken_campaigns:
            continue
        taken.add((audience, surface))
        if audience.startswith("campaign:"):
            taken_campaigns.add(audience)
        proposal = ProposedTest.objects.create(
            recommendation=recommendation,
            week=week,
            surface=surface,
            audience=audience,
            reach=reach,
            uncertainty=uncertainty,
            expected_value=value,
        )
        if settings.BESTPRACTICES_AUTOSTART:
            proposal_approve(proposal=proposal, actor=None, start=True)
        proposals.append(proposal)
    return proposals


@transaction.atomic
def proposal_approve(*, proposal: ProposedTest, actor=None, start: bool = False) -> ABTest:
    """Approve a proposed test: its draft experiment is made (and started when asked)."""
    proposal = ProposedTest.objects.select_for_update().get(pk=proposal.pk)
    if not proposal.is_open:
        raise ValidationError("Only a proposed test can be approved.")
    test = recommendation_create_test(recommendation=proposal.recommendation, actor=actor)
    if start:
        abtest_start(test=test, actor=actor, reason="started by the best-practices test scheduler")
    proposal.status = ProposalStatus.STARTED if start else ProposalStatus.APPROVED
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action="proposedtest.approved", target=proposal, data={"experiment": test.key})
    return test


@transaction.atomic
def proposal_reject(*, proposal: ProposedTest, actor=None) -> ProposedTest:
    if not proposal.is_open:
        raise ValidationError("Only a proposed test can be rejected.")
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(actor=actor, action="proposedtest.rejected", target=proposal)
    return proposal


@transaction.atomic
def draft_edits_learn(*, since: datetime | None = None, now: datetime | None = None) -> list[DraftEditPattern]:
    """Learn what reviewers change in AI drafts, per intent, channel and language, from the drafts
    decided since `since` (default: the last 90 days)."""
    now = now or timezone.now()
    since = since or now - timedelta(days=90)
    rows = ReplyDraft.objects.filter(
        status__in=[DraftStatus.SENT, DraftStatus.AUTO_SENT, DraftStatus.REJECTED], decided_at__gte=since
    ).values_list(
        "intent", "conversation__channel", "inbound__classification__language", "text", "sent_text", "edited",
        "status", "rejection_reason",
    )  # fmt: skip
    groups: dict[tuple[str, str, str], list[Draft]] = {}
    for intent, channel, language, drafted, sent, edited, status, reason in rows.iterator(chunk_size=2000):
        rejected = status == DraftStatus.REJECTED
        groups.setdefault((intent or "", channel or "", language or ""), []).append(
            Draft(drafted=drafted or "", sent=sent or "", edited=bool(edited), rejected=rejected, reason=reason or "")
        )
    written = []
    for (intent, channel, language), drafts in groups.items():
        found = edit_patterns(drafts, language=language)
        pattern, _ = DraftEditPattern.objects.update_or_create(
            intent=intent, channel=channel, language=language, defaults=found | {"updated_at": now}
        )
        written.append(pattern)
    return written


def draft_guidance_provider(*, intent: str, channel: str, language: str) -> DraftGuidance:
    """madansara.guidance provider: what reviewers taught about drafts of this case."""
    notes, max_length = selectors.draft_guidance_notes(intent=intent, channel=channel, language=language)
    return DraftGuidance(notes=notes, max_length=max_length)


# --- personalised variant, wired into sends ---------------------------------------------------------
def campaign_personalise(*, campaign: OutreachCampaign, holdout_percent: int = 10, actor=None) -> dict[str, int]:
    """After a campaign's copy experiment is rolled out, each contact of its segment is sent the arm
    predicted best for them (a holdout keeps the winner, to measure it); counts per group."""
    test = campaign.copy_test
    if test is None:
        raise ValidationError("This campaign has no copy experiment.")
    fields = ("pk", "name", "timezone", "locale", "lifecycle_stage", "attributes")
    contacts = [
        selectors.contact_record(name=n, timezone_name=z, locale=lo, lifecycle_stage=st, attributes=a) | {"id": pk}
        for pk, n, z, lo, st, a in segment_contacts(segment=campaign.segment).values_list(*fields).iterator(2000)
    ]
    plan = personalised_plan(
        test=test, contacts=contacts, holdout_percent=holdout_percent, texts=copy_arm_texts(campaign=campaign)
    )
    return copy_personalise(campaign=campaign, plan=plan, actor=actor)


def campaign_personalised_result(*, campaign: OutreachCampaign, outcome: str = "clicked") -> dict:
    """The personalised arm against the holdout (the single winner) on an outcome of the sends made
    after the assignment: rates, lift and its 95 % interval."""
    plan = {
        contact_id: (arm, group)
        for contact_id, arm, group in CopyAssignment.objects.filter(campaign=campaign).values_list(
            "contact_id", "arm", "group"
        )
    }
    stamp = {"opened": "opened_at", "clicked": "clicked_at", "replied": "replied_at", "delivered": "delivered_at"}[
        outcome
    ]
    sent = OutboxMessage.objects.filter(campaign=campaign, status="sent", contact_id__in=list(plan))
    outcomes = {}
    for contact_id, happened in sent.values_list("contact_id", f"message__{stamp}"):
        outcomes[contact_id] = outcomes.get(contact_id, False) or happened is not None
    return personalised_result(plan=plan, outcomes=outcomes)
