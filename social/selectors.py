"""Reads of the social app: funnel stats, insight series, review queues."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from social.models import CommentStatus, PlatformInsight, SocialComment, SocialEngagementFunnel


def funnels_with_stats(queryset: QuerySet | None = None) -> QuerySet:
    """Funnels annotated with triggered, dm_sent, replied and converted counts (one query)."""
    queryset = SocialEngagementFunnel.objects.all() if queryset is None else queryset
    return queryset.annotate(
        triggered=Count("runs", distinct=True),
        dm_sent=Count("runs", filter=Q(runs__dm_sent_at__isnull=False), distinct=True),
        replied=Count("runs", filter=Q(runs__replied_at__isnull=False), distinct=True),
        converted=Count("runs", filter=Q(runs__converted_at__isnull=False), distinct=True),
    )


def insight_series(*, account_id: int, days: int = 30) -> list[PlatformInsight]:
    """The account's daily insights of the last `days` days, oldest first."""
    since = timezone.now().date() - timedelta(days=days)
    return list(PlatformInsight.objects.filter(account_id=account_id, day__gte=since).order_by("day"))


def comments_awaiting_human() -> QuerySet:
    return SocialComment.objects.filter(
        status__in=[CommentStatus.PENDING_APPROVAL, CommentStatus.NEEDS_HUMAN]
    ).select_related("account", "post", "contact")
