"""Comments: ingest (webhook or sync), classify, apply rules, draft, approve, reply or hide."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from madansara.audit import audit_record
from madansara.channels.attempts import CallResult, operation_attempt_record, provider_call
from madansara.channels.base import CommentData
from madansara.channels.models import AttemptOperation, AttemptOutcome, DeliveryAttempt
from madansara.channels.registry import pages_client_for
from madansara.channels.retry import SEND
from madansara.llm import LLMError, llm_available, llm_structured
from madansara.templating import TemplateError, template_render
from social import tasks
from social.classify import classify_comment
from social.models import (
    CHANNEL_PLATFORMS,
    CommentAction,
    CommentRule,
    CommentStatus,
    SocialAccount,
    SocialComment,
    SocialEngagement,
    SocialPost,
)
from social.services import engagements, funnels

logger = logging.getLogger(__name__)
REPLY_SCHEMA = {
    "type": "object",
    "properties": {"reply": {"type": "string", "minLength": 1, "maxLength": 900}},
    "required": ["reply"],
    "additionalProperties": False,
}
DRAFT_SYSTEM = (
    "You write short, warm public replies for a brand's social media account. One or two sentences, "
    "no hashtags, no links unless given, never promise refunds or legal outcomes. Reply in the comment's language."
)
ENGAGEMENT_KIND = {"comment": "comment", "reply": "reply", "mention": "mention", "story_reply": "dm"}


class CommentStateError(Exception):
    """The comment is not in a state that allows this action."""


def _enqueue_handle(comment_id: int) -> None:
    transaction.on_commit(lambda: tasks.comment_handle_task.delay(comment_id))


@transaction.atomic
def comment_ingest(
    *, account: SocialAccount, data: CommentData, inbound=None, contact=None, handle: bool = True
) -> tuple[SocialComment, bool]:
    """Store a comment/mention once (by platform id), record its engagement, queue its handling."""
    post = None
    if data.post_external_id:
        post = SocialPost.objects.filter(account=account, external_id=data.post_external_id).first()
    if contact is None:
        contact = engagements.contact_for_author(
            platform=account.platform, author_handle=data.author_handle, author_id=data.author_id
        )
    comment, created = SocialComment.objects.get_or_create(
        account=account,
        external_id=data.external_id,
        defaults={
            "post": post,
            "kind": data.kind if data.kind in ("mention", "story_reply") else "comment",
            "parent_external_id": data.parent_external_id,
            "author_handle": data.author_handle[:255],
            "author_id": data.author_id[:255],
            "contact": contact,
            "inbound": inbound,
            "text": data.text,
            "commented_at": data.commented_at,
            "status": CommentStatus.NEW if handle else CommentStatus.IGNORED,
        },
    )
    kind = "reply" if data.parent_external_id and data.kind == "comment" else ENGAGEMENT_KIND.get(data.kind, "comment")
    engagements.engagement_record(
        account=account,
        kind=kind,
        external_id=data.external_id,
        post=post,
        contact=contact,
        author_handle=data.author_handle,
        author_followers=data.author_followers,
        occurred_at=data.commented_at,
    )
    if created and handle:
        _enqueue_handle(comment.pk)
    return comment, created


def account_for_inbound(inbound) -> SocialAccount | None:
    """The connected account an inbound comment/mention was addressed to."""
    platforms = CHANNEL_PLATFORMS.get(inbound.channel, ())
    accounts = SocialAccount.objects.filter(platform__in=platforms, is_active=True)
    return accounts.filter(external_id=inbound.recipient).first() or accounts.order_by("pk").first()


def comment_ingest_inbound(*, inbound) -> SocialComment | None:
    """Real-time path: a comment, mention or story reply from the channel layer's webhooks."""
    account = account_for_inbound(inbound)
    if account is None:
        return None
    name = inbound.contact.name if inbound.contact_id else ""
    data = CommentData(
        external_id=inbound.external_id,
        text=inbound.text,
        author_id=inbound.sender,
        author_handle=name or inbound.sender,
        commented_at=inbound.received_at,
        post_external_id=inbound.post_id,
        parent_external_id=inbound.parent_id,
        kind=inbound.kind,
    )
    comment, _ = comment_ingest(account=account, data=data, inbound=inbound, contact=inbound.contact)
    return comment


def comment_draft(*, comment: SocialComment, rule: CommentRule | None) -> tuple[str, str]:
    """(text, source) of a reply draft: the LLM when configured, else the rule's template."""
    if (rule is None or rule.use_ai_draft) and llm_available():
        guidance = f"\nHouse answer to adapt: {rule.reply_template}" if rule and rule.reply_template else ""
        try:
            result = llm_structured_reply(comment=comment, guidance=guidance)
            return result, "ai"
        except LLMError as exc:
            logger.info("ai draft failed, using the template", extra={"error": exc.message})
    return _template_reply(comment=comment, rule=rule), "template"


def llm_structured_reply(*, comment: SocialComment, guidance: str = "") -> str:
    post_text = comment.post.text[:500] if comment.post_id else ""
    content = f"Platform: {comment.account.platform}\nPost: {post_text}\nComment by @{comment.author_handle}: {comment.text[:1000]}{guidance}"
    result = llm_structured(
        system=DRAFT_SYSTEM,
        messages=[{"role": "user", "content": content}],
        tool_name="comment_reply",
        tool_schema=REPLY_SCHEMA,
        max_tokens=300,
    )
    return result.data["reply"].strip()


def _template_reply(*, comment: SocialComment, rule: CommentRule | None) -> str:
    source = (rule.reply_template if rule else "") or "Thank you for your comment, @{{ author }}!"
    context = {
        "author": comment.author_handle,
        "text": comment.text,
        "post_url": comment.post.url if comment.post_id else "",
    }
    try:
        return template_render(source=source, context=context).strip()
    except TemplateError:
        return f"Thank you for your comment, @{comment.author_handle}!"


def _matching_rule(comment: SocialComment) -> CommentRule | None:
    rules = CommentRule.objects.filter(account_id=comment.account_id, is_active=True).order_by("priority", "id")
    for rule in rules:
        if rule.matches(text=comment.text, intent=comment.intent, sentiment=comment.sentiment, post_id=comment.post_id):
            return rule
    return None


def comment_handle(*, comment: SocialComment) -> SocialComment:
    """Classify a new comment, start funnels, apply the first matching rule."""
    if comment.status != CommentStatus.NEW:
        return comment
    labels = classify_comment(comment.text, channel=comment.account.channel)
    comment.intent, comment.sentiment = labels.intent[:32], labels.sentiment
    comment.save(update_fields=["intent", "sentiment"])
    if comment.sentiment:
        SocialEngagement.objects.filter(platform=comment.account.platform, external_id=comment.external_id).update(
            sentiment=comment.sentiment
        )
    funnels.funnels_trigger(comment=comment)
    if comment.kind == "story_reply":  # a private message: the inbox answers it, not a public reply
        return _set_status(comment, CommentStatus.ROUTED)
    rule = _matching_rule(comment)
    action = rule.action if rule else None
    if action == CommentAction.HIDE and comment.intent == "spam":
        comment_hide(comment=comment, actor="rule")
        return comment
    if comment.must_go_to_human:
        draft, source = comment_draft(comment=comment, rule=rule) if action == CommentAction.REPLY else ("", "")
        return _set_status(comment, CommentStatus.NEEDS_HUMAN, rule=rule, draft_text=draft, draft_source=source)
    if action == CommentAction.HIDE:
        comment_hide(comment=comment, actor="rule")
        return comment
    if action == CommentAction.ROUTE_INBOX:
        return _set_status(comment, CommentStatus.ROUTED, rule=rule)
    if action != CommentAction.REPLY:
        return _set_status(comment, CommentStatus.IGNORED, rule=rule)
    draft, source = comment_draft(comment=comment, rule=rule)
    if rule.auto_send and comment.account.auto_send_allowed:
        _set_status(comment, CommentStatus.APPROVED, rule=rule, draft_text=draft, draft_source=source)
        comment_reply_send(comment=comment)
        return comment
    return _set_status(comment, CommentStatus.PENDING_APPROVAL, rule=rule, draft_text=draft, draft_source=source)


def _set_status(comment: SocialComment, status: str, **fields) -> SocialComment:
    for name, value in {"status": status, **fields}.items():
        setattr(comment, name, value)
    comment.save(update_fields=["status", *fields])
    return comment


@transaction.atomic
def comment_reply_approve(*, comment: SocialComment, actor, text: str | None = None) -> SocialComment:
    """A human approves (and may rewrite) the reply; it is sent at once unless rate-limited."""
    comment = SocialComment.objects.select_for_update().get(pk=comment.pk)
    if not comment.can_be_approved:
        raise CommentStateError(f"A comment in state '{comment.status}' cannot be approved.")
    text = (text if text is not None else comment.draft_text).strip()
    if not text:
        raise CommentStateError("The reply is empty.")
    if text != comment.draft_text:
        comment.draft_text, comment.draft_source = text, "human"
    comment.status, comment.approved_by, comment.approved_at = CommentStatus.APPROVED, actor, timezone.now()
    comment.last_error, comment.retry_at = "", None
    comment.save(
        update_fields=["draft_text", "draft_source", "status", "approved_by", "approved_at", "last_error", "retry_at"]
    )
    audit_record(actor=actor, action="social.comment.approve", target=comment, data={"source": comment.draft_source})
    transaction.on_commit(lambda: _send_after_commit(comment.pk))
    return comment


def _send_after_commit(comment_id: int) -> None:
    tasks.comment_reply_send_task.delay(comment_id)


@transaction.atomic
def comment_dismiss(*, comment: SocialComment, actor) -> SocialComment:
    """A human decides the comment needs no reply."""
    updated = SocialComment.objects.filter(
        pk=comment.pk, status__in=[CommentStatus.PENDING_APPROVAL, CommentStatus.NEEDS_HUMAN, CommentStatus.FAILED]
    ).update(status=CommentStatus.IGNORED)
    if not updated:
        raise CommentStateError("Only comments waiting for a human can be dismissed.")
    audit_record(actor=actor, action="social.comment.dismiss", target=comment)
    comment.refresh_from_db()
    return comment


def reply_slot_free(*, account: SocialAccount, now=None) -> bool:
    """Is the account under its hourly budget and past its minimum gap (so it never looks like a bot)?"""
    now = now or timezone.now()
    if account.is_rate_limited(now):
        return False
    recent = SocialComment.objects.filter(account=account).filter(
        Q(replied_at__gte=now - timedelta(hours=1)) | Q(status=CommentStatus.SENDING)
    )
    if recent.count() >= account.max_replies_per_hour:
        return False
    last = SocialComment.objects.filter(account=account).aggregate(last=Max("replied_at"))["last"]
    sending = SocialComment.objects.filter(account=account, status=CommentStatus.SENDING).exists()
    return not sending and (last is None or (now - last).total_seconds() >= account.min_seconds_between_replies)


def _claim_for_reply(comment: SocialComment) -> bool:
    with transaction.atomic():
        account = SocialAccount.objects.select_for_update().get(pk=comment.account_id)
        if not reply_slot_free(account=account):
            return False
        due = Q(retry_at=None) | Q(retry_at__lte=timezone.now())
        return bool(
            SocialComment.objects.filter(due, pk=comment.pk, status=CommentStatus.APPROVED).update(
                status=CommentStatus.SENDING
            )
        )


def comment_reply_send(*, comment: SocialComment) -> DeliveryAttempt | None:
    """Publish an approved reply; None when rate-limited, not yet due or not approved (retried by beat)."""
    if not _claim_for_reply(comment):
        return None
    comment.refresh_from_db()
    client = pages_client_for(comment.account)
    try:
        call = provider_call(
            lambda: client.reply_to_comment(
                comment_external_id=comment.external_id,
                post_external_id=comment.post.external_id if comment.post_id else "",
                text=comment.draft_text,
            )
        )
    finally:
        client.close()
    return _record_attempt(comment, AttemptOperation.COMMENT_REPLY, call, client.platform)


@transaction.atomic
def _record_attempt(comment, operation, call: CallResult, provider: str) -> DeliveryAttempt:
    """The attempt row of a platform call on a comment, and what it did to the comment. A reply
    that failed transiently is retried with the send policy (approved again, not before its
    delay) until the policy is used up since the approval."""
    now = timezone.now()
    attempt = operation_attempt_record(
        operation=operation, target=comment, reference=comment.external_id, provider=provider, call=call
    )
    error, external_id = call.error, attempt.provider_message_id
    if error is None:
        if operation == AttemptOperation.COMMENT_REPLY:
            SocialComment.objects.filter(pk=comment.pk).update(
                status=CommentStatus.REPLIED,
                reply_external_id=external_id,
                replied_at=now,
                last_error="",
                retry_at=None,
            )
        else:
            SocialComment.objects.filter(pk=comment.pk).update(
                status=CommentStatus.HIDDEN, hidden_at=now, last_error=""
            )
        return attempt
    reason = "The comment or its post was deleted" if error.gone else error.message
    if operation == AttemptOperation.COMMENT_REPLY and not error.permanent:
        tries = _reply_attempts_since_approval(comment)
        if SEND.exhausted(tries):
            SocialComment.objects.filter(pk=comment.pk).update(
                status=CommentStatus.FAILED, retry_at=None, last_error=f"Too many transient errors: {reason}"[:500]
            )
        else:
            SocialComment.objects.filter(pk=comment.pk).update(
                status=CommentStatus.APPROVED,
                retry_at=now + timedelta(seconds=SEND.delay(tries, error.retry_after)),
                last_error=reason[:500],
            )
    elif error.permanent:
        SocialComment.objects.filter(pk=comment.pk).update(status=CommentStatus.FAILED, last_error=reason[:500])
    else:
        SocialComment.objects.filter(pk=comment.pk).update(last_error=reason[:500])
    if not error.permanent and error.retry_after:
        SocialAccount.objects.filter(pk=comment.account_id).update(
            retry_after_until=now + timedelta(seconds=error.retry_after)
        )
    return attempt


def _reply_attempts_since_approval(comment: SocialComment) -> int:
    """Reply attempts made on the comment since its (last) approval."""
    attempts = comment.attempts.filter(operation=AttemptOperation.COMMENT_REPLY)
    if comment.approved_at is not None:
        attempts = attempts.filter(created_at__gte=comment.approved_at)
    return attempts.count()


def comment_hide(*, comment: SocialComment, actor=None) -> DeliveryAttempt:
    """Hide a comment on the platform (spam); recorded as an attempt."""
    client = pages_client_for(comment.account)
    try:
        call = provider_call(lambda: client.hide_comment(comment_external_id=comment.external_id))
    finally:
        client.close()
    attempt = _record_attempt(comment, AttemptOperation.COMMENT_HIDE, call, client.platform)
    if call.error is not None and not call.error.permanent:
        SocialComment.objects.filter(pk=comment.pk).update(status=CommentStatus.FAILED)
    if actor is not None and not isinstance(actor, str):
        audit_record(actor=actor, action="social.comment.hide", target=comment)
    comment.refresh_from_db()
    return attempt


def comment_replies_flush(*, limit: int = 200) -> int:
    """Send approved replies that waited for a free slot; returns how many were sent."""
    sent = 0
    blocked: set[int] = set()
    due = Q(retry_at=None) | Q(retry_at__lte=timezone.now())
    queue = SocialComment.objects.filter(due, status=CommentStatus.APPROVED).select_related("account", "post")
    for comment in queue.order_by("approved_at", "id")[:limit]:
        if comment.account_id in blocked:
            continue
        attempt = comment_reply_send(comment=comment)
        if attempt is None:
            blocked.add(comment.account_id)
        elif attempt.outcome == AttemptOutcome.SUCCESS:
            sent += 1
    return sent
