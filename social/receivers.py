"""The channel layer's hand-off: comments, mentions and story replies; DMs resume funnels.
Contact erasure and merge reach comments, engagements, funnel runs and advocates."""

from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from madansara.channels.models import DeliveryAttempt
from madansara.channels.signals import inbound_received
from madansara.contacts.signals import contact_erased, contact_merged
from social.models import (
    OPEN_RUN_STATUSES,
    FunnelRun,
    RunStatus,
    SocialAdvocate,
    SocialComment,
    SocialEngagement,
)
from social.services.comments import comment_ingest_inbound
from social.services.engagements import engagement_record_dm
from social.services.funnels import funnel_runs_on_reply

SOCIAL_KINDS = {"comment", "mention", "story_reply"}
SOCIAL_CHANNELS = {"instagram", "facebook", "linkedin", "x"}


@receiver(inbound_received, dispatch_uid="social.inbound_received")
def on_inbound_received(sender, inbound, **kwargs):
    if inbound.kind in SOCIAL_KINDS:
        comment_ingest_inbound(inbound=inbound)
    elif inbound.kind == "message" and inbound.channel in SOCIAL_CHANNELS:
        engagement_record_dm(inbound=inbound)
        funnel_runs_on_reply(inbound=inbound)


def _handle_is(values: list[str], field: str = "author_handle") -> Q:
    """Rows whose author is one of the person's handles or platform ids (stored with or without '@')."""
    query = Q(pk__in=[])
    for value in values:
        query |= Q(**{f"{field}__iexact": value}) | Q(**{f"{field}__iexact": f"@{value}"})
    return query


@receiver(contact_erased, dispatch_uid="social.contact_erased")
def on_contact_erased(sender, contact, values: list[str], **kwargs) -> dict[str, int]:
    """Authors, comment words, drafts, the errors of the platform calls on the comments and funnel
    e-mails go; kinds, sentiments, times and counts stay."""
    comments = SocialComment.objects.filter(
        Q(contact_id=contact.pk) | (Q(contact=None) & (_handle_is(values) | _handle_is(values, "author_id")))
    )
    engagements = SocialEngagement.objects.filter(Q(contact_id=contact.pk) | (Q(contact=None) & _handle_is(values)))
    return {
        "channels.deliveryattempt": DeliveryAttempt.objects.filter(social_comment__in=comments)
        .exclude(error_message="")
        .update(error_message=""),
        "social.socialcomment": comments.update(author_handle="", author_id="", text="", draft_text="", last_error=""),
        "social.socialengagement": engagements.exclude(author_handle="").update(author_handle=""),
        "social.funnelrun": FunnelRun.objects.filter(contact_id=contact.pk).update(email="", last_error=""),
    }


@receiver(contact_merged, dispatch_uid="social.contact_merged")
def on_contact_merged(sender, survivor, loser, **kwargs) -> None:
    """Runs the generic move left on the loser (same funnel as one of the survivor's) follow it;
    an open one that would be a second open run is closed first. The loser's advocate row goes:
    advocates_recompute rebuilds the survivor's from the engagements, which have moved."""
    open_funnels = FunnelRun.objects.filter(contact=survivor, status__in=OPEN_RUN_STATUSES).values("funnel")
    FunnelRun.objects.filter(contact=loser, status__in=OPEN_RUN_STATUSES, funnel__in=open_funnels).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), last_error=f"Contact merged into #{survivor.pk}"
    )
    FunnelRun.objects.filter(contact=loser).update(contact=survivor)
    SocialAdvocate.objects.filter(contact=loser).delete()
