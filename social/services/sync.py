"""Sync of posts, their metrics and comments, mentions and account insights from a platform."""

import logging
from collections.abc import Callable
from datetime import UTC, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from madansara.channels.base import CommentData, PostData, ProviderError
from madansara.channels.registry import pages_client_for
from social.models import PlatformInsight, SocialAccount, SocialPost, SocialSyncRun, SyncStatus
from social.services import comments, engagements

logger = logging.getLogger(__name__)
METRIC_FIELDS = ("likes", "comments_count", "shares", "saves", "impressions", "reach")


def post_upsert(*, account: SocialAccount, data: PostData) -> tuple[SocialPost, bool]:
    """Create or refresh a post and its metrics (a post seen again is no longer deleted)."""
    metrics = {k: max(int(v or 0), 0) for k, v in data.metrics.items() if k in METRIC_FIELDS}
    defaults = {
        "url": data.url[:1000],
        "text": data.text,
        "media_type": data.media_type[:32],
        "published_at": data.published_at,
        "deleted_at": None,
        **metrics,
    }
    if metrics:
        defaults["metrics_updated_at"] = timezone.now()
    return SocialPost.objects.update_or_create(account=account, external_id=data.external_id, defaults=defaults)


def post_mark_deleted(*, post: SocialPost) -> None:
    SocialPost.objects.filter(pk=post.pk, deleted_at__isnull=True).update(deleted_at=timezone.now())


def _mention_cursor(account: SocialAccount, mentions: list[CommentData]) -> str:
    if not mentions:
        return account.mentions_cursor
    if account.platform == "x":
        return str(max(int(m.external_id) for m in mentions))
    if account.platform == "sandbox":
        return mentions[0].external_id
    newest = max(m.commented_at for m in mentions).astimezone(UTC)
    return newest.strftime("%Y-%m-%dT%H:%M:%S+0000")


def account_sync(*, account: SocialAccount, since=None, progress: Callable[[str], None] | None = None) -> SocialSyncRun:
    """Sync one account; the incremental watermark only moves forward after a complete sync,
    so a run cut short by a rate limit is simply repeated (everything is idempotent)."""
    say = progress or (lambda message: None)
    now = timezone.now()
    run = SocialSyncRun.objects.create(account=account, started_at=now)
    watermark = since or (account.posts_synced_until - timedelta(days=1) if account.posts_synced_until else None)
    comment_days = settings.SOCIAL_COMMENT_SYNC_DAYS
    handle_hours = settings.SOCIAL_HANDLE_SYNCED_WITHIN_HOURS
    client = pages_client_for(account)
    newest = account.posts_synced_until
    try:
        for data in client.iter_posts(since=watermark):
            post, _ = post_upsert(account=account, data=data)
            run.posts += 1
            newest = max(newest, post.published_at) if newest else post.published_at
            if run.posts % 50 == 0:
                say(f"{account}: {run.posts} posts")
        say(f"{account}: {run.posts} posts synced")
        recent = SocialPost.objects.filter(
            account=account,
            deleted_at__isnull=True,
            published_at__gte=min(now - timedelta(days=comment_days), watermark or now),
        )
        for post in recent.order_by("-published_at"):
            try:
                metrics = client.post_metrics(post_external_id=post.external_id)
                if metrics:
                    fields = {k: int(v or 0) for k, v in metrics.items() if k in METRIC_FIELDS}
                    SocialPost.objects.filter(pk=post.pk).update(metrics_updated_at=timezone.now(), **fields)
                run.engagements += _sync_engagers(account=account, client=client, post=post)
                for data in client.iter_comments(post_external_id=post.external_id):
                    recent_enough = data.commented_at >= now - timedelta(hours=handle_hours)
                    _, created = comments.comment_ingest(account=account, data=data, handle=recent_enough)
                    run.comments += created
            except ProviderError as exc:
                if not exc.gone:
                    raise
                post_mark_deleted(post=post)
                run.deleted_posts += 1
        say(
            f"{account}: {run.comments} new comments, {run.engagements} likes/shares, {run.deleted_posts} deleted posts"
        )
        mentions = list(client.iter_mentions(cursor=account.mentions_cursor))
        for data in mentions:
            _, created = comments.comment_ingest(account=account, data=data, handle=True)
            run.mentions += created
        run.insights = _sync_insights(account=account, client=client, since=since)
        say(f"{account}: {run.mentions} new mentions, {run.insights} insight days")
    except ProviderError as exc:
        client.close()
        return _finish(run, account, exc=exc)
    client.close()
    account.posts_synced_until = newest
    account.mentions_cursor = _mention_cursor(account, mentions)
    return _finish(run, account)


def _sync_engagers(*, account: SocialAccount, client, post: SocialPost) -> int:
    """Likes and shares by people the platform lists, one engagement per (post, kind, person)."""
    created = 0
    for engager in client.iter_engagers(post_external_id=post.external_id):
        contact = engagements.contact_for_author(
            platform=account.platform, author_handle=engager.author_handle, author_id=engager.author_id
        )
        _, was_created = engagements.engagement_record(
            account=account,
            kind=engager.kind,
            external_id=f"{post.external_id}:{engager.kind}:{engager.author_id}",
            post=post,
            contact=contact,
            author_handle=engager.author_handle,
            author_followers=engager.author_followers,
        )
        created += was_created
    return created


def _sync_insights(*, account: SocialAccount, client, since) -> int:
    today = timezone.now().date()
    start = max(since.date() if since else today - timedelta(days=7), today - timedelta(days=730))
    rows = client.insights(since=start, until=today)
    last_followers = 0
    with transaction.atomic():
        for row in rows:
            defaults = {"reach": row.reach, "impressions": row.impressions, "engagements": row.engagements}
            if row.followers:
                defaults["followers"] = last_followers = row.followers
            PlatformInsight.objects.update_or_create(account=account, day=row.day, defaults=defaults)
    if last_followers:
        SocialAccount.objects.filter(pk=account.pk).update(followers=last_followers)
    return len(rows)


def _finish(run: SocialSyncRun, account: SocialAccount, exc: ProviderError | None = None) -> SocialSyncRun:
    now = timezone.now()
    run.finished_at = now
    if exc is None:
        run.status = SyncStatus.OK
        SocialAccount.objects.filter(pk=account.pk).update(
            posts_synced_until=account.posts_synced_until,
            mentions_cursor=account.mentions_cursor,
            last_synced_at=now,
            retry_after_until=None,
        )
    elif exc.retry_after is not None and not exc.permanent:
        run.status, run.error = SyncStatus.RATE_LIMITED, f"{exc.code}: {exc.message}"[:500]
        SocialAccount.objects.filter(pk=account.pk).update(retry_after_until=now + timedelta(seconds=exc.retry_after))
    else:
        run.status, run.error = SyncStatus.FAILED, f"{exc.code}: {exc.message}"[:500]
        logger.warning("social sync failed", extra={"account": account.pk, "code": exc.code})
    run.save()
    account.refresh_from_db()
    return run


def accounts_due_for_sync(*, now=None) -> list[int]:
    """Active accounts not paused by a platform rate limit."""
    now = now or timezone.now()
    return list(
        SocialAccount.objects.filter(is_active=True)
        .exclude(retry_after_until__gt=now)
        .order_by("last_synced_at")
        .values_list("pk", flat=True)
    )
