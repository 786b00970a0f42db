"""Thin Celery entry points of the social app: load by id, call a service; retries live here."""

from celery import shared_task
from django.utils import timezone

from madansara.channels.retry import SEND, SYNC
from social.models import FunnelRun, SocialAccount, SocialComment, SyncStatus
from social.services import comments, funnels, scoring, sync


@shared_task(soft_time_limit=600, time_limit=660)
def accounts_sync_task() -> int:
    """Scheduled: queue a sync of every active account not paused by a rate limit."""
    ids = sync.accounts_due_for_sync()
    for account_id in ids:
        account_sync_task.delay(account_id)
    return len(ids)


@shared_task(bind=True, soft_time_limit=540, time_limit=600, max_retries=SYNC.max_attempts - 1)
def account_sync_task(self, account_id: int) -> str:
    account = SocialAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return "gone"
    if account.is_rate_limited() and not self.request.is_eager:
        # A retry capped below the broker's visibility timeout can wake before the pause ends.
        raise self.retry(countdown=SYNC.countdown(self.request.retries, _pause_left(account)))
    run = sync.account_sync(account=account)
    if run.status == SyncStatus.RATE_LIMITED and not self.request.is_eager:
        account.refresh_from_db(fields=["retry_after_until"])
        raise self.retry(countdown=SYNC.countdown(self.request.retries, _pause_left(account)))
    return run.status


def _pause_left(account: SocialAccount) -> float | None:
    """Seconds until the platform's rate limit on the account ends (None: no pause recorded)."""
    if account.retry_after_until is None:
        return None
    return max(0.0, (account.retry_after_until - timezone.now()).total_seconds())


@shared_task(soft_time_limit=120, time_limit=150)
def comment_handle_task(comment_id: int) -> str:
    """Classify and apply the rules (no retry: a reply that fails is retried by the send policy)."""
    comment = SocialComment.objects.select_related("account", "post").filter(pk=comment_id).first()
    if comment is None:
        return "gone"
    return comments.comment_handle(comment=comment).status


@shared_task(soft_time_limit=60, time_limit=90)
def comment_reply_send_task(comment_id: int) -> str:
    comment = SocialComment.objects.select_related("account", "post").filter(pk=comment_id).first()
    if comment is None:
        return "gone"
    attempt = comments.comment_reply_send(comment=comment)
    return attempt.outcome if attempt else "waiting"


@shared_task(soft_time_limit=240, time_limit=300)
def comment_replies_flush_task() -> int:
    """Scheduled: send approved replies that waited for the account's reply budget."""
    return comments.comment_replies_flush()


@shared_task(bind=True, soft_time_limit=120, time_limit=150, max_retries=SEND.max_attempts - 1)
def funnel_run_advance_task(self, run_id: int) -> str:
    run = FunnelRun.objects.filter(pk=run_id).first()
    if run is None:
        return "gone"
    try:
        return funnels.funnel_run_advance(run=run).status
    except funnels.FunnelStepFailed as exc:
        if self.request.is_eager:
            return "retry"
        raise self.retry(countdown=SEND.countdown(self.request.retries, exc.retry_after)) from exc


@shared_task(soft_time_limit=600, time_limit=660)
def scores_recompute_task() -> dict:
    """Scheduled: decayed engagement scores on contacts, then advocate tiers."""
    changed = scoring.engagement_scores_recompute()
    return {"scores": changed, **scoring.advocates_recompute()}
