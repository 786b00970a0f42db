"""Comment-to-DM funnels: trigger, private reply, the step sequence, replies and conversions."""

import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from madansara.audit import audit_record
from madansara.channels.models import AttemptOutcome, MessageStatus
from madansara.channels.services import message_create, message_send
from madansara.contacts.models import Tag
from madansara.contacts.services import identity_add
from madansara.templating import TemplateError, template_render
from social import tasks
from social.models import (
    CHANNEL_PLATFORMS,
    OPEN_RUN_STATUSES,
    PRIVATE_REPLY_WINDOW,
    FunnelRun,
    FunnelStep,
    PrivateReply,
    RunStatus,
    SocialComment,
    SocialEngagementFunnel,
    StepAction,
)
from social.signals import funnel_dm_sent

logger = logging.getLogger(__name__)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PRIVATE_REPLY_PLATFORMS = {"instagram", "facebook", "sandbox"}
MESSAGE_STEPS = {StepAction.SEND_DM, StepAction.ASK_EMAIL, StepAction.SEND_LINK}


class PrivateReplyRefused(Exception):
    """Instagram/Messenger allow one private reply per comment, within 7 days of it."""


class FunnelStepFailed(Exception):
    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def _enqueue_advance(run_id: int) -> None:
    transaction.on_commit(lambda: tasks.funnel_run_advance_task.delay(run_id))


def funnels_trigger(*, comment: SocialComment) -> list[FunnelRun]:
    """Start every active funnel of the account that this comment/mention/story reply triggers."""
    if comment.contact_id is None:
        return []
    started = []
    for funnel in SocialEngagementFunnel.objects.filter(account_id=comment.account_id, is_active=True):
        if not funnel.is_triggered_by(kind=comment.kind, text=comment.text, post_id=comment.post_id):
            continue
        try:
            with transaction.atomic():
                run = FunnelRun.objects.create(funnel=funnel, contact_id=comment.contact_id, comment=comment)
                _enqueue_advance(run.pk)
        except IntegrityError:
            continue  # an open run of this funnel already exists for the contact
        started.append(run)
    return started


def private_reply_create(*, comment: SocialComment, text: str, source: str = "social", context: dict | None = None):
    """The queued private-reply Message of a comment; refused if it already had one or is too old."""
    platform = comment.account.platform
    if platform not in PRIVATE_REPLY_PLATFORMS:
        raise PrivateReplyRefused(f"{platform} has no private replies to comments.")
    if timezone.now() - comment.commented_at > PRIVATE_REPLY_WINDOW:
        raise PrivateReplyRefused("The comment is older than 7 days: no private reply is allowed.")
    try:
        with transaction.atomic():
            reply = PrivateReply.objects.create(
                platform="instagram" if platform == "sandbox" else platform,
                comment_external_id=comment.external_id,
                comment=comment,
            )
            message = message_create(
                channel=comment.account.channel,
                contact=comment.contact,
                to=_recipient(comment),
                source=source,
                text=text,
                context={"comment_id": comment.external_id, "social_comment": comment.pk, **(context or {})},
            )
            PrivateReply.objects.filter(pk=reply.pk).update(message=message)
    except IntegrityError as exc:
        raise PrivateReplyRefused("This comment already got its one private reply.") from exc
    return message


def _recipient(comment: SocialComment) -> str:
    """The commenter's identity on the channel: the contact's, else the platform user id."""
    if comment.contact_id:
        identity = comment.contact.identities.filter(channel=comment.account.channel).first()
        if identity is not None:
            return identity.value
    return comment.author_id or comment.author_handle


def _send(message) -> None:
    """One attempt at a step's message; a message another worker holds is in flight, not sent."""
    attempt = message_send(message=message)
    if attempt is None:
        message.refresh_from_db()
        _settled(message)
        return
    if attempt.outcome == AttemptOutcome.SUCCESS:
        return
    raise FunnelStepFailed(
        f"{attempt.error_code}: {attempt.error_message}",
        permanent=attempt.outcome == AttemptOutcome.PERMANENT,
        retry_after=attempt.retry_after,
    )


def _settled(message) -> None:
    """The step's message was handed to the channel layer before (this run was interrupted or is
    being advanced elsewhere): sent is done, failed fails the step, queued or sending waits."""
    if message.status == MessageStatus.FAILED:
        raise FunnelStepFailed(f"{message.failure_code}: {message.failure_reason}", permanent=True)
    if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        raise FunnelStepFailed("The step's message is being sent by another worker", permanent=False)


def _render(step: FunnelStep, run: FunnelRun) -> str:
    context = {"name": run.contact.name, "link": step.link, "email": run.email}
    try:
        return template_render(source=step.text or step.link, context=context).strip()
    except TemplateError:
        return step.text or step.link


def _send_step(*, run: FunnelRun, step: FunnelStep) -> None:
    """Send the step's message once: the run's pending message is the step's idempotency key."""
    pending = run.pending_message
    if pending is not None:
        if pending.status == MessageStatus.QUEUED:
            _send(pending)  # a retry after a transient error: the same message, never a second one
        else:
            _settled(pending)  # sent before an interruption, or in flight elsewhere: never a second one
        return
    text = _render(step, run)
    comment = run.comment
    use_private_reply = (
        run.dm_sent_at is None and comment is not None and comment.account.platform in PRIVATE_REPLY_PLATFORMS
    )
    context = {"social_funnel": run.funnel_id, "campaign": f"social-funnel:{run.funnel_id}"}
    with transaction.atomic():
        if use_private_reply:
            message = private_reply_create(comment=comment, text=text, source="social", context=context)
        else:
            message = message_create(
                channel=run.funnel.account.channel, contact=run.contact, source="social", text=text, context=context
            )
        # Claim the step: only the advance that attaches the step's message sends it.
        claimed = FunnelRun.objects.filter(pk=run.pk, position=run.position, pending_message__isnull=True).update(
            pending_message=message
        )
        if not claimed:
            transaction.set_rollback(True)
            raise FunnelStepFailed("Another worker is on this step", permanent=False)
    run.pending_message = message
    _send(message)


def funnel_run_advance(*, run: FunnelRun) -> FunnelRun:
    """Run steps from the run's position until one waits for a reply, hands over, or the end."""
    run = FunnelRun.objects.select_related("funnel__account", "contact", "comment__account", "pending_message").get(
        pk=run.pk
    )
    if run.status != RunStatus.ACTIVE:
        return run
    steps = list(run.funnel.steps.order_by("position"))
    while run.position < len(steps):
        step = steps[run.position]
        if step.action in MESSAGE_STEPS:
            first = run.dm_sent_at is None
            try:
                _send_step(run=run, step=step)
            except (PrivateReplyRefused, ValueError) as exc:  # ValueError: no identity to write to
                return _fail(run, str(exc))
            except FunnelStepFailed as exc:
                if exc.permanent:
                    return _fail(run, str(exc))
                run.last_error = str(exc)[:500]
                run.save(update_fields=["last_error"])
                raise
            run.position += 1
            run.pending_message = None
            if first:
                run.dm_sent_at = timezone.now()
                funnel_dm_sent.send(sender=FunnelRun, run=run)
            waits = step.action == StepAction.ASK_EMAIL or (first and run.comment_id is not None)
            run.status = RunStatus.WAITING_REPLY if waits else RunStatus.ACTIVE
            run.last_error = ""
            run.save(update_fields=["position", "dm_sent_at", "status", "last_error", "pending_message"])
            if waits:
                return run
        elif step.action == StepAction.HANDOVER_CAMPAIGN:
            _tag_contact(run.contact, step.campaign_tag or f"social-funnel-{run.funnel_id}")
            run.position += 1
            return _finish(run, RunStatus.HANDED_OVER)
        else:  # HANDOVER_INBOX: the conversation continues with an agent
            audit_record(actor="social", action="social.funnel.handover_inbox", target=run)
            run.position += 1
            return _finish(run, RunStatus.HANDED_OVER)
    return _finish(run, RunStatus.COMPLETED)


def _finish(run: FunnelRun, status: str) -> FunnelRun:
    run.status, run.finished_at = status, timezone.now()
    run.save(update_fields=["status", "finished_at", "position"])
    return run


def _fail(run: FunnelRun, reason: str) -> FunnelRun:
    run.status, run.finished_at, run.last_error = RunStatus.FAILED, timezone.now(), reason[:500]
    run.save(update_fields=["status", "finished_at", "last_error"])
    return run


def _tag_contact(contact, tag_name: str) -> None:
    tag, _ = Tag.objects.get_or_create(name=tag_name[:100])
    contact.tags.add(tag)


def funnel_runs_on_reply(*, inbound) -> list[FunnelRun]:
    """A DM from a contact resumes their waiting runs on that channel (capturing an email if asked)."""
    if inbound.contact_id is None:
        return []
    runs = FunnelRun.objects.filter(
        contact_id=inbound.contact_id, status=RunStatus.WAITING_REPLY, funnel__account__platform__in=_platforms(inbound)
    ).select_related("funnel")
    resumed = []
    for run in runs:
        asked = run.funnel.steps.filter(position=run.position - 1, action=StepAction.ASK_EMAIL).exists()
        found = EMAIL.search(inbound.text or "")
        if asked and not found:
            FunnelRun.objects.filter(pk=run.pk, replied_at__isnull=True).update(replied_at=inbound.received_at)
            continue  # still waiting for an address
        if found:
            run.email = found.group(0).lower()
            try:
                identity_add(contact=run.contact, channel="email", value=run.email)
            except Exception as exc:  # noqa: BLE001 - owned by another contact or invalid: keep it on the run
                logger.info("funnel email not attached", extra={"run": run.pk, "error": exc.__class__.__name__})
        run.replied_at = run.replied_at or inbound.received_at
        run.status = RunStatus.ACTIVE
        run.save(update_fields=["email", "replied_at", "status"])
        _enqueue_advance(run.pk)
        resumed.append(run)
    return resumed


def _platforms(inbound) -> tuple[str, ...]:
    return tuple(CHANNEL_PLATFORMS.get(inbound.channel, ()))


def funnel_run_cancel(*, run: FunnelRun, actor) -> FunnelRun:
    if run.status not in OPEN_RUN_STATUSES:
        return run
    audit_record(actor=actor, action="social.funnel.cancel", target=run)
    return _fail(run, "Cancelled by a user")
