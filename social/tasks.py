"""Thin Celery entry points of the social app: load by id, call a service; retries live here."""

from celery import shared_task

from social.models import FunnelRun, SocialAccount, SocialComment
from social.services import comments, funnels, scoring, sync


@shared_task(soft_time_limit=600, time_limit=660)
def accounts_sync_task() -> int:
    """Scheduled: queue a sync of every active account not paused by a rate limit."""
    ids = sync.accounts_due_for_sync()
    for account_id in ids:
        account_sync_task.delay(account_id)
    return len(ids)


@shared_task(bind=True, soft_time_limit=540, time_limit=600, max_retries=5)
def account_sync_task(self, account_id: int) -> str:
    account = SocialAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return "gone"
    run = sync.account_sync(account=account)
    if run.status == "rate_limited" and not self.request.is_eager:
        wait = (account.retry_after_until - run.finished_at).total_seconds() if account.retry_after_until else 60
        raise self.retry(countdown=max(wait, 1))
    return run.status


@shared_task(bind=True, soft_time_limit=120, time_limit=150, max_retries=3, default_retry_delay=30)
def comment_handle_task(self, comment_id: int) -> str:
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


@shared_task(bind=True, soft_time_limit=120, time_limit=150, max_retries=6)
def funnel_run_advance_task(self, run_id: int) -> str:
    run = FunnelRun.objects.filter(pk=run_id).first()
    if run is None:
        return "gone"
    try:
        return funnels.funnel_run_advance(run=run).status
    except funnels.FunnelStepFailed as exc:
        if self.request.is_eager:
            return "retry"
        raise self.retry(countdown=max(exc.retry_after or 0, 2 ** (self.request.retries + 2)))


@shared_task(soft_time_limit=600, time_limit=660)
def scores_recompute_task() -> dict:
    """Scheduled: decayed engagement scores on contacts, then advocate tiers."""
    changed = scoring.engagement_scores_recompute()
    return {"scores": changed, **scoring.advocates_recompute()}
