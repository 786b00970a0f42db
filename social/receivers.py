"""The channel layer's hand-off: comments, mentions and story replies; DMs resume funnels."""

from django.dispatch import receiver

from madansara.channels.signals import inbound_received
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
