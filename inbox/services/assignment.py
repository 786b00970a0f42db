"""Assignment: manual, or round robin per team within each agent's capacity and availability."""

from django.db import transaction
from django.db.models import Count, F, Q

from inbox.live import inbox_changed
from inbox.models import Agent, Conversation, ConversationStatus, Team
from madansara.audit import audit_record

ACTIVE_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)


def team_for_channel(*, channel: str) -> Team | None:
    """The first team (by name) that handles the channel; teams with no channels handle all."""
    for team in Team.objects.all():
        if not team.channels or channel in team.channels:
            return team
    return None


def agents_with_room(*, team: Team):
    """Available agents of a team below their capacity, with their open-conversation load."""
    return (
        Agent.objects.filter(team=team, is_available=True, user__is_active=True)
        .annotate(
            load=Count("user__inbox_conversations", filter=Q(user__inbox_conversations__status__in=ACTIVE_STATUSES))
        )
        .filter(load__lt=F("capacity"))
        .order_by("user_id")
    )


@transaction.atomic
def conversation_auto_assign(*, conversation: Conversation) -> Conversation:
    """Round robin: the next available agent after the team's cursor who still has room."""
    team = conversation.team or team_for_channel(channel=conversation.channel)
    if team is None:
        return conversation
    team = Team.objects.select_for_update().get(pk=team.pk)
    candidates = list(agents_with_room(team=team).values_list("user_id", flat=True))
    conversation.team = team
    if candidates:
        after = [uid for uid in candidates if uid > team.round_robin_cursor]
        chosen = (after or candidates)[0]
        conversation.assignee_id = chosen
        Team.objects.filter(pk=team.pk).update(round_robin_cursor=chosen)
    Conversation.objects.filter(pk=conversation.pk).update(team=team, assignee_id=conversation.assignee_id)
    inbox_changed(conversation_id=conversation.pk, what="assigned", assignee=conversation.assignee_id)
    return conversation


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee, actor, team: Team | None = None) -> Conversation:
    """Manual (re)assignment to a user (None: back to the unassigned queue)."""
    previous = conversation.assignee_id
    conversation.assignee = assignee
    if team is not None:
        conversation.team = team
    conversation.save(update_fields=["assignee", "team"])
    audit_record(
        actor=actor,
        action="inbox.conversation.assign",
        target=conversation,
        data={"from": previous, "to": assignee.pk if assignee else None, "team": conversation.team_id},
    )
    inbox_changed(conversation_id=conversation.pk, what="assigned", assignee=assignee.pk if assignee else None)
    return conversation
