"""The console's live updates: what changed in the inbox is published on two live topics
(madansara/live.py): `inbox` (every queue page listens) and `inbox:conv:<id>` (the open
conversation and its draft review). Agents' presence (viewing / replying) goes the same way."""

from madansara.live import live_publish

QUEUE_TOPIC = "inbox"


def conversation_topic(conversation_id: int) -> str:
    return f"inbox:conv:{conversation_id}"


def inbox_changed(*, conversation_id: int, what: str, **data) -> None:
    """After commit: the queue and the open conversation refresh (`what`: message, draft,
    reply, assigned, status)."""
    live_publish(
        topics=[QUEUE_TOPIC, conversation_topic(conversation_id)],
        kind=what,
        data={"conversation": conversation_id, **data},
    )


def presence_publish(*, conversation_id: int, user, state: str) -> None:
    """Another agent sees that `user` is viewing or replying to the conversation."""
    live_publish(
        topics=[conversation_topic(conversation_id)],
        kind="presence",
        data={"conversation": conversation_id, "user_id": user.pk, "user": user.get_username(), "state": state},
    )
