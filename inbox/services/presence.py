"""Agents' presence on a conversation: each open console page heartbeats; a page that stops
(closed tab, lost network) is stale after LIVE_PRESENCE_TTL_SECONDS and no longer shown."""

from datetime import datetime

from django.utils import timezone

from inbox.live import presence_publish
from inbox.models import AgentPresence, PresenceState
from inbox.selectors import presence_cutoff


def presence_record(*, conversation_id: int, user, state: str, now: datetime | None = None) -> None:
    """A heartbeat of `user`'s page on the conversation ("left": the page closed); the other
    agents' pages hear it at once through the conversation's live topic."""
    if state == "left":
        AgentPresence.objects.filter(conversation_id=conversation_id, user=user).delete()
    else:
        AgentPresence.objects.update_or_create(
            conversation_id=conversation_id,
            user=user,
            defaults={"state": PresenceState(state), "seen_at": now or timezone.now()},
        )
    presence_publish(conversation_id=conversation_id, user=user, state=state)


def presence_prune(*, now: datetime | None = None) -> int:
    """Delete every stale heartbeat (one indexed DELETE)."""
    return AgentPresence.objects.filter(seen_at__lt=presence_cutoff(now)).delete()[0]
