"""The review loop of message copy: variants are checked, approved or rejected by a person,
previewed per contact, and tested against each other in copy experiments on any channel.

Never sent unless approved: rendering only reads approved variants (content.message_render), and
rejecting a variant withdraws the messages already rendered with it that have not been handed
to a provider yet (a retry re-renders them with approved copy)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from abtesting.models import ABTest, ABTestStatus, Surface
from abtesting.services import abtest_create, abtest_start, abtest_stop
from madansara.audit import audit_record
from madansara.channels.models import Message, MessageStatus
from madansara.contacts.models import Contact
from outreach.models import (
    ChannelTemplate,
    ContentDraft,
    CopyAssignment,
    CopyGroup,
    OutboxMessage,
    OutreachCampaign,
    TemplateVariant,
    VariantField,
    VariantStatus,
)
from outreach.selectors import segment_contacts
from outreach.services.content import RenderedMessage, copy_of, copy_render, message_context
from outreach.services.guards import check_is_blocking, copy_check

WITHDRAWN = "content_withdrawn"


# --- checks and preview -----------------------------------------------------------------------
def variant_audience(*, variant: TemplateVariant) -> QuerySet[Contact]:
    """Who this copy would reach: its draft's segment, else the segments of campaigns using it."""
    if variant.draft_id and variant.draft.segment_id:
        return segment_contacts(segment=variant.draft.segment)
    campaigns = OutreachCampaign.objects.filter(steps__templates=variant.template).select_related("segment")
    audience = Contact.objects.none()
    for campaign in campaigns.distinct()[:5]:
        audience = audience | segment_contacts(segment=campaign.segment)
    return audience


def _support(variant: TemplateVariant) -> str:
    """What the copy may claim: the brief and the sources it was written from."""
    parts = [variant.brief]
    if variant.draft_id:
        sources = variant.draft.sources
        parts += [variant.draft.brief, f"{len(sources)} sources"]
        parts += [f"{s.get('title', '')} {s.get('text', '')}" for s in sources]
    return "\n".join(parts)


def variant_check(*, variant: TemplateVariant, save: bool = True) -> dict:
    """Run the guards on a variant for its audience and store the findings."""
    checks = copy_check(variant=variant, contacts=variant_audience(variant=variant), support=_support(variant))
    if save:
        variant.checks = checks
        TemplateVariant.objects.filter(pk=variant.pk).update(checks=checks)
    return checks


def variant_preview(
    *, variant: TemplateVariant, contact: Contact, campaign: OutreachCampaign | None = None
) -> RenderedMessage:
    """The variant rendered for one contact (nothing is sent or stored; drafts too, for review).
    Links are those of `campaign`, else the draft's source links."""
    links = dict(campaign.links or {}) if campaign else {}
    if variant.draft_id:
        links = (variant.draft.structure or {}).get("links", {}) | links
    stub = campaign or OutreachCampaign(name="(preview)", links=links)
    stub.links = links
    row = OutboxMessage(campaign=stub, contact=contact, channel=variant.template.channel)
    row.pk = 0
    return copy_render(
        channel=variant.template.channel,
        copy=copy_of(template=variant.template, variant=variant),
        context=message_context(row=row),
        whatsapp_variables=variant.template.whatsapp_variables,
    )


# --- the review transitions ---------------------------------------------------------------------
def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def variant_approve(*, variant: TemplateVariant, actor=None, note: str = "") -> TemplateVariant:
    """A person approves a variant: from now on it may be sent. Refused while a guard reports an
    error (checked again now, on the copy as it is)."""
    checks = variant_check(variant=variant)
    if check_is_blocking(checks):
        raise ValidationError([f"Cannot approve: {error}" for error in checks["errors"]])
    changed = TemplateVariant.objects.filter(pk=variant.pk).exclude(status=VariantStatus.APPROVED)
    changed.update(
        status=VariantStatus.APPROVED, approved_at=timezone.now(), approved_by=_actor(actor), review_note=note
    )
    variant.refresh_from_db()
    audit_record(actor=actor, action="variant.approve", target=variant, data={"note": note})
    return variant


@transaction.atomic
def variant_reject(*, variant: TemplateVariant, actor=None, note: str = "") -> TemplateVariant:
    """A person rejects a variant: it is never sent. Messages already rendered with it and not yet
    handed to a provider are withdrawn (their rows render again with approved copy), and running
    copy experiments that send it stop (everyone gets the control)."""
    TemplateVariant.objects.filter(pk=variant.pk).update(
        status=VariantStatus.REJECTED, approved_at=None, approved_by=None, review_note=note
    )
    variant.refresh_from_db()
    withdrawn = variant_withdraw_queued(variant=variant)
    stopped = []
    for test in ABTest.objects.filter(surface=Surface.MESSAGE_COPY, status=ABTestStatus.RUNNING):
        if any(variant.pk in (arm.content or {}).get("message_variants", []) for arm in test.variants.all()):
            abtest_stop(test=test, actor=actor, reason=f"Copy variant {variant.key} was rejected.")
            stopped.append(test.key)
    audit_record(
        actor=actor,
        action="variant.reject",
        target=variant,
        data={"note": note, "withdrawn": withdrawn, "stopped_tests": stopped},
    )
    return variant


def variant_withdraw_queued(*, variant: TemplateVariant) -> int:
    """Fail the queued (never handed over) messages carrying this variant and detach them from
    their outbox rows, so the next attempt renders approved copy. A message a worker already
    claimed (sending) is past recall."""
    carries = Q(variant_key=variant.key) | Q(variant_key__endswith=f"/{variant.key}")
    candidates = list(
        OutboxMessage.objects.filter(carries, message__status=MessageStatus.QUEUED).values_list("message_id", flat=True)
    )
    if not candidates:
        return 0
    Message.objects.filter(pk__in=candidates, status=MessageStatus.QUEUED).update(
        status=MessageStatus.FAILED,
        failure_code=WITHDRAWN,
        failure_reason=f"Copy variant {variant.key} was rejected before sending.",
        failed_at=timezone.now(),
    )
    withdrawn = list(Message.objects.filter(pk__in=candidates, failure_code=WITHDRAWN).values_list("pk", flat=True))
    OutboxMessage.objects.filter(message_id__in=withdrawn).update(message=None, variant_key="")
    return len(withdrawn)


@transaction.atomic
def variant_update(*, variant: TemplateVariant, actor=None, **copy) -> TemplateVariant:
    """Change a variant's copy; approved copy that changes needs approving again (a draft)."""
    unknown = set(copy) - set(TemplateVariant.COPY_FIELDS)
    if unknown:
        raise ValidationError(f"Not copy fields: {', '.join(sorted(unknown))}")
    changed = {name: value for name, value in copy.items() if getattr(variant, name) != value}
    if not changed:
        return variant
    for name, value in changed.items():
        setattr(variant, name, value)
    was_approved = variant.status == VariantStatus.APPROVED
    if was_approved:
        variant.status, variant.approved_at, variant.approved_by = VariantStatus.DRAFT, None, None
    variant.save()
    if was_approved:
        variant_withdraw_queued(variant=variant)
    variant_check(variant=variant)
    audit_record(actor=actor, action="variant.update", target=variant, data={"fields": sorted(changed)})
    return variant


@transaction.atomic
def content_draft_approve(
    *, draft: ContentDraft, actor=None, variants: list[TemplateVariant] | None = None
) -> ContentDraft:
    """Approve a newsletter draft: the chosen variants (default: every draft variant without a
    blocking finding) become sendable; the others stay drafts."""
    chosen = variants if variants is not None else list(draft.variants.filter(status=VariantStatus.DRAFT))
    approved = 0
    for variant in chosen:
        if variant.draft_id != draft.pk:
            raise ValidationError(f"Variant {variant.key} is not part of this draft.")
        if variants is None and check_is_blocking(variant_check(variant=variant)):
            continue
        variant_approve(variant=variant, actor=actor)
        approved += 1
    if not approved:
        raise ValidationError("No variant of this draft could be approved (see each variant's findings).")
    ContentDraft.objects.filter(pk=draft.pk).update(status=VariantStatus.APPROVED)
    draft.refresh_from_db()
    return draft


@transaction.atomic
def content_draft_reject(*, draft: ContentDraft, actor=None, note: str = "") -> ContentDraft:
    """Reject a draft and every variant of it."""
    for variant in draft.variants.exclude(status=VariantStatus.REJECTED):
        variant_reject(variant=variant, actor=actor, note=note)
    ContentDraft.objects.filter(pk=draft.pk).update(status=VariantStatus.REJECTED)
    draft.refresh_from_db()
    return draft


# --- copy experiments ---------------------------------------------------------------------------
def _campaign_templates(campaign: OutreachCampaign) -> set[int]:
    return set(ChannelTemplate.objects.filter(steps__campaign=campaign).values_list("pk", flat=True))


@transaction.atomic
def copy_experiment_start(
    *,
    campaign: OutreachCampaign,
    arms: list[list[TemplateVariant]],
    primary_metric: str = "click",
    key: str = "",
    actor=None,
    **policy,
) -> ABTest:
    """Start a copy experiment on a campaign: the control sends the templates as written, each
    arm sends its approved variants (at most one per template, any channels). Assignment,
    analysis and the winner's rollout are the experiment engine's (`policy`: min_units_per_arm,
    min_runtime_days, alpha, auto_rollout...)."""
    if not arms:
        raise ValidationError("A copy experiment needs at least one arm of variants.")
    if campaign.copy_test_id and campaign.copy_test.status == ABTestStatus.RUNNING:
        raise ValidationError("This campaign already runs a copy experiment.")
    templates = _campaign_templates(campaign)
    links = dict(campaign.links or {})
    for arm in arms:
        seen = set()
        for variant in arm:
            if variant.status != VariantStatus.APPROVED:
                raise ValidationError(f"Variant {variant.key} is not approved.")
            if variant.template_id not in templates:
                raise ValidationError(f"Variant {variant.key} belongs to a template this campaign does not send.")
            if variant.template_id in seen:
                raise ValidationError("An arm sends at most one variant per template.")
            seen.add(variant.template_id)
            if variant.draft_id:  # the draft's source links become tracked links of the campaign
                links = (variant.draft.structure or {}).get("links", {}) | links
            if variant.cta_link and variant.cta_link not in links:
                raise ValidationError(f"Variant {variant.key} links to '{variant.cta_link}', not a campaign link.")
    channels = sorted({v.template.channel for arm in arms for v in arm})
    test = abtest_create(
        key=key or f"copy-{campaign.pk}-{timezone.now():%Y%m%d%H%M%S}",
        name=f"Copy: {campaign.name}"[:200],
        hypothesis=f"Message copy on {', '.join(channels)}",
        surface=Surface.MESSAGE_COPY,
        primary_metric=primary_metric,
        actor=actor,
        variants=[
            {"key": "original", "name": "Original copy", "is_control": True, "content": {"message_variants": []}},
            *(
                {
                    "key": f"copy-{index}",
                    "name": " / ".join(v.key for v in arm),
                    "content": {"message_variants": [v.pk for v in arm]},
                }
                for index, arm in enumerate(arms, start=1)
            ),
        ],
        **policy,
    )
    abtest_start(test=test, actor=actor, reason="Copy experiment started from approved variants.")
    OutreachCampaign.objects.filter(pk=campaign.pk).update(copy_test=test, links=links)
    campaign.copy_test, campaign.links = test, links
    audit_record(actor=actor, action="campaign.copy_experiment", target=campaign, data={"test": test.key})
    return test


def arms_from_approved(*, campaign: OutreachCampaign) -> list[list[TemplateVariant]]:
    """Arms pairing the campaign's approved whole-message variants by rank across templates:
    arm 1 holds each template's first approved variant, arm 2 the second, and so on."""
    per_template = [
        list(
            TemplateVariant.objects.filter(template_id=pk, status=VariantStatus.APPROVED, field=VariantField.MESSAGE)
            .select_related("template", "draft")
            .order_by("id")
        )
        for pk in sorted(_campaign_templates(campaign))
    ]
    depth = max((len(v) for v in per_template), default=0)
    return [[variants[i] for variants in per_template if i < len(variants)] for i in range(depth)]


# --- personalised copy after an experiment --------------------------------------------------
def copy_arm_texts(*, campaign: OutreachCampaign) -> dict[str, dict]:
    """{arm key: {"channel", "subject", "body"}} of the campaign's copy experiment, for prediction:
    each arm's first approved variant (the control: the template it replaces, as written)."""
    test = campaign.copy_test
    if test is None:
        return {}
    templates = {t.pk: t for t in ChannelTemplate.objects.filter(steps__campaign=campaign)}
    texts = {}
    for arm in test.variants.all():
        ids = (arm.content or {}).get("message_variants") or []
        variant = (
            TemplateVariant.objects.filter(pk__in=ids, status=VariantStatus.APPROVED).select_related("template").first()
        )
        if variant is not None:
            copy = copy_of(template=variant.template, variant=variant)
            texts[arm.key] = {"channel": variant.template.channel, "subject": copy.subject, "body": copy.text}
        elif templates:
            template = templates[min(templates)]
            texts[arm.key] = {"channel": template.channel, "subject": template.subject, "body": template.text}
    return texts


@transaction.atomic
def copy_personalise(*, campaign: OutreachCampaign, plan: dict[int, tuple[str, str]], actor=None) -> dict[str, int]:
    """Send each contact of `plan` ({contact id: (arm key, group)}) the arm chosen for them once the
    campaign's copy experiment is rolled out; others keep getting the winner. Returns counts per group."""
    test = campaign.copy_test
    if test is None or test.status != ABTestStatus.ROLLED_OUT:
        raise ValidationError("Personalise after the copy experiment's winner is rolled out.")
    keys = set(test.variants.values_list("key", flat=True))
    unknown = {arm for arm, _ in plan.values()} - keys
    if unknown:
        raise ValidationError(f"Not arms of {test.key}: {', '.join(sorted(unknown))}")
    CopyAssignment.objects.filter(campaign=campaign).delete()
    CopyAssignment.objects.bulk_create(
        [CopyAssignment(campaign=campaign, contact_id=pk, arm=arm, group=group) for pk, (arm, group) in plan.items()],
        batch_size=2000,
    )
    OutreachCampaign.objects.filter(pk=campaign.pk).update(copy_personalised=True)
    campaign.copy_personalised = True
    counts = dict.fromkeys(CopyGroup.values, 0)
    for _, group in plan.values():
        counts[group] += 1
    audit_record(actor=actor, action="campaign.copy_personalised", target=campaign, data=counts)
    return counts
