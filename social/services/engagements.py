"""Engagement events and the contacts behind them."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from madansara.contacts.services import contact_get_or_create_by_identity
from social.models import PLATFORM_CHANNEL, SocialAccount, SocialEngagement, SocialPost
from social.services import comments

logger = logging.getLogger(__name__)
# X identities are handles (as the channel layer stores DM senders); Meta and LinkedIn use the
# platform's user id (IG-scoped id, page-scoped id, member URN), the same value webhooks carry.
HANDLE_PLATFORMS = {"x", "sandbox"}


def contact_for_author(*, platform: str, author_handle: str, author_id: str = ""):
    """The contact behind a platform identity, matched or created (None when unusable)."""
    value = (author_handle or author_id) if platform in HANDLE_PLATFORMS else (author_id or author_handle)
    if not value:
        return None
    try:
        contact, _, _ = contact_get_or_create_by_identity(
            channel=PLATFORM_CHANNEL[platform], value=value, defaults={"name": author_handle or value}
        )
    except ValidationError:
        logger.info("unusable social identity", extra={"platform": platform})
        return None
    return contact


@transaction.atomic
def engagement_record(
    *,
    account: SocialAccount,
    kind: str,
    external_id: str,
    post: SocialPost | None = None,
    contact=None,
    author_handle: str = "",
    author_followers: int = 0,
    sentiment: str = "",
    occurred_at=None,
) -> tuple[SocialEngagement, bool]:
    """Record one engagement event, once per platform id (conversion captures it as a touchpoint)."""
    engagement, created = SocialEngagement.objects.get_or_create(
        platform=account.platform,
        kind=kind,
        external_id=str(external_id),
        defaults={
            "account": account,
            "post": post,
            "contact": contact,
            "author_handle": author_handle[:255],
            "author_followers": max(int(author_followers or 0), 0),
            "sentiment": sentiment,
            "occurred_at": occurred_at or timezone.now(),
        },
    )
    if not created and sentiment and engagement.sentiment != sentiment:
        SocialEngagement.objects.filter(pk=engagement.pk).update(sentiment=sentiment)
        engagement.sentiment = sentiment
    return engagement, created


def engagement_record_dm(*, inbound) -> SocialEngagement | None:
    """A direct message from a known contact to a connected account is a 'dm' engagement."""
    account = comments.account_for_inbound(inbound)
    if account is None or inbound.contact_id is None:
        return None
    engagement, _ = engagement_record(
        account=account,
        kind="dm",
        external_id=inbound.external_id,
        contact=inbound.contact,
        author_handle=inbound.sender,
        occurred_at=inbound.received_at,
    )
    return engagement
