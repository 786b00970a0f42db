"""The message state machine: every change of a Message's status is made here, nowhere else.

    queued ──claim──▶ sending ──sent──▶ sent ──events──▶ delivered ▶ opened ▶ clicked ▶ replied
      ▲                 │  │
      └──requeue/unclaim┘  └──fail──▶ failed ◀── give_up (queued or sending), bounce/drop events

Each transition is one conditional UPDATE that names the status it leaves, so two workers can
never both move the same message: the one whose UPDATE touched no row lost. Raw SQL that moves a
status (the dispatcher's one-statement commit) takes the SQL fragments and values below.
"""

from django.db.models import F

from madansara.channels.models import STATUS_RANK, Message, MessageEventKind, MessageStatus

PENDING = (MessageStatus.QUEUED, MessageStatus.SENDING)

# What a provider event means for the message: (status it moves to, timestamp field it sets first).
EVENT_STATUS = {
    MessageEventKind.DELIVERED: (MessageStatus.DELIVERED, "delivered_at"),
    MessageEventKind.OPENED: (MessageStatus.OPENED, "opened_at"),
    MessageEventKind.CLICKED: (MessageStatus.CLICKED, "clicked_at"),
    MessageEventKind.REPLIED: (MessageStatus.REPLIED, "replied_at"),
    MessageEventKind.BOUNCED: (MessageStatus.FAILED, "failed_at"),
    MessageEventKind.DROPPED: (MessageStatus.FAILED, "failed_at"),
    MessageEventKind.FAILED: (MessageStatus.FAILED, "failed_at"),
}


def claim(*, message_id) -> bool:
    """queued → sending, counting the attempt; False when someone else holds it or it is final."""
    return bool(
        Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENDING, attempts_count=F("attempts_count") + 1
        )
    )


def unclaim(*, message_id) -> None:
    """sending → queued for a message whose provider call never started (the attempt uncounted)."""
    Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
        status=MessageStatus.QUEUED, attempts_count=F("attempts_count") - 1
    )


def requeue(*, message_id, provider: str = "") -> bool:
    """sending → queued: a transient error, or an in-flight send the provider never received."""
    fields = {"provider": provider} if provider else {}
    return bool(
        Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED, **fields
        )
    )


def mark_sent(*, message_id, provider: str, provider_message_id: str, cost, currency: str, at) -> bool:
    """sending → sent with the provider's id and cost (a provider's answer on an in-flight send)."""
    return bool(
        Message.objects.filter(pk=message_id, status__in=PENDING).update(
            status=MessageStatus.SENT,
            provider=provider,
            provider_message_id=provider_message_id,
            cost=cost,
            currency=currency,
            sent_at=at,
        )
    )


def mark_failed(*, message_id, provider: str, code: str, reason: str, at) -> bool:
    """sending → failed: the provider refused it for good."""
    return bool(
        Message.objects.filter(pk=message_id, status=MessageStatus.SENDING).update(
            status=MessageStatus.FAILED,
            provider=provider,
            failure_code=code[:64],
            failure_reason=reason[:500],
            failed_at=at,
        )
    )


def give_up(*, message_id, code: str, reason: str, at) -> bool:
    """queued or sending → failed: retries exhausted or the caller abandons it."""
    return bool(
        Message.objects.filter(pk=message_id, status__in=PENDING).update(
            status=MessageStatus.FAILED, failure_code=code[:64], failure_reason=reason[:500], failed_at=at
        )
    )


def event_target(*, current: str, kind: str) -> str | None:
    """The status an event moves a message to from `current`, or None: failed always wins, the
    others only move forward (a late 'delivered' never undoes an 'opened')."""
    if kind not in EVENT_STATUS:
        return None
    status = EVENT_STATUS[kind][0]
    if status == MessageStatus.FAILED:
        return status
    if current == MessageStatus.FAILED or STATUS_RANK[status] <= STATUS_RANK[current]:
        return None
    return status


def event_apply(*, message_id, kind: str, occurred_at) -> None:
    """Stamp and move one message for one provider event (inside the caller's transaction)."""
    if kind not in EVENT_STATUS:
        return
    status, stamp = EVENT_STATUS[kind]
    fields = {stamp: occurred_at}
    current = Message.objects.select_for_update().values_list("status", flat=True).get(pk=message_id)
    if event_target(current=current, kind=kind) is not None:
        fields["status"] = status
    Message.objects.filter(pk=message_id).update(**fields)


def events_targets(events) -> tuple[dict[str, dict], dict]:
    """For a batch of events: ({stamp: {message_id: earliest time}}, {message_id: furthest status})."""
    first_stamps: dict[str, dict] = {}
    target: dict = {}
    for event in events:
        if event.kind not in EVENT_STATUS:
            continue
        status, stamp = EVENT_STATUS[event.kind]
        firsts = first_stamps.setdefault(stamp, {})
        if event.message_id not in firsts or event.occurred_at < firsts[event.message_id]:
            firsts[event.message_id] = event.occurred_at
        current = target.get(event.message_id)
        if current is None or current != MessageStatus.FAILED and STATUS_RANK[status] > STATUS_RANK[current]:
            target[event.message_id] = status
    return first_stamps, target


def statuses_advance(*, target: dict) -> None:
    """Set-based: move each message to its target status, never backwards (failed always wins)."""
    ids_by_status: dict[str, list] = {}
    for message_id, status in target.items():
        ids_by_status.setdefault(status, []).append(message_id)
    for status, ids in ids_by_status.items():
        if status == MessageStatus.FAILED:
            Message.objects.filter(pk__in=ids).update(status=status)
            continue
        lower = [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status] and s != MessageStatus.FAILED]
        Message.objects.filter(pk__in=ids, status__in=lower).update(status=status)


# --- the same transitions as SQL fragments, for statements that do more than move a message ---
# Parameters: %(message_id)s / %(next_id)s and the provider fields; SQL_VALUES gives the statuses.
SQL_MARK_SENT = """UPDATE {message} SET status = %(status_sent)s, provider = %(provider)s,
        provider_message_id = %(provider_id)s, cost = %(message_cost)s, currency = %(currency)s, sent_at = %(at)s
    WHERE id = %(message_id)s AND status IN (%(status_queued)s, %(status_sending)s) RETURNING id"""
SQL_CLAIM_NEXT = """UPDATE {message} SET status = %(status_sending)s, attempts_count = attempts_count + 1
    WHERE id = %(next_id)s::uuid AND status = %(status_queued)s RETURNING id"""
SQL_VALUES = {
    "status_queued": MessageStatus.QUEUED.value,
    "status_sending": MessageStatus.SENDING.value,
    "status_sent": MessageStatus.SENT.value,
}
