"""The second sender of a reply to the same message is refused (issue #21): two agents answer
the same conversation from pages showing the same state. Sequentially on every database; with
two threads racing on PostgreSQL, where the conversation row lock decides who is first."""

import threading

import pytest
from django.db import connection, connections

from inbox.models import DraftStatus, ReplyDraft
from inbox.services.conversations import conversation_ingest
from inbox.services.drafts import DraftConflict, conversation_reply, conversation_version_token
from madansara.channels.models import Message
from madansara.roles import sync_roles


@pytest.fixture
def agents(user_in_role):
    sync_roles()
    return user_in_role("Agent", "ana-agent"), user_in_role("Agent", "ben-agent")


def _open_page(make_inbound, sender="ana@example.com"):
    """A conversation with no pending draft (each reply makes its own) and the version its page shows."""
    conversation = conversation_ingest(inbound=make_inbound(text="Where is my parcel?", sender=sender), classify=False)
    conversation.refresh_from_db()
    return conversation, conversation_version_token(conversation)


@pytest.mark.django_db
def test_the_second_reply_from_the_same_page_state_is_refused_naming_who_replied(make_inbound, agents):
    # given two agents looking at the same conversation
    ana, ben = agents
    conversation, version = _open_page(make_inbound)
    # when Ana replies, then Ben replies from the page he opened before
    conversation_reply(conversation=conversation, actor=ana, text="It left today.", expected_version=version)
    with pytest.raises(DraftConflict) as refused:
        conversation_reply(conversation=conversation, actor=ben, text="It ships tomorrow.", expected_version=version)
    # then only Ana's reply went out, and Ben is told who answered
    assert "Nothing was sent" in str(refused.value) and "ana-agent replied" in str(refused.value)
    assert list(ReplyDraft.objects.values_list("status", "sent_text")) == [(DraftStatus.SENT, "It left today.")]
    assert Message.objects.filter(source="inbox").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_agents_racing_to_reply_send_exactly_one_reply(make_inbound, agents):
    """Both pass the page's version check at the same instant: without a row lock both replies go."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every writer: no race to test (the sequential test covers the rule)")
    rounds = 3  # each round is a fresh race; one would do, three make a lucky interleaving unlikely
    for round_ in range(rounds):
        conversation, version = _open_page(make_inbound, sender=f"client{round_}@example.com")
        barrier = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def reply(agent, text, conversation=conversation, version=version, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait(timeout=10)
                outcomes[agent.username] = conversation_reply(
                    conversation=conversation, actor=agent, text=text, expected_version=version
                )
            except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
                outcomes[agent.username] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=reply, args=(agent, f"Answer from {agent.username}")) for agent in agents]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        sent = [name for name, outcome in outcomes.items() if isinstance(outcome, ReplyDraft)]
        refused = {name: outcome for name, outcome in outcomes.items() if isinstance(outcome, DraftConflict)}
        assert len(sent) == 1 and len(refused) == 1, outcomes
        (loser, refusal), winner = next(iter(refused.items())), sent[0]
        assert f"{winner} replied" in str(refusal) and "Nothing was sent" in str(refusal), loser
        assert ReplyDraft.objects.filter(conversation=conversation, status=DraftStatus.SENT).count() == 1
        assert not ReplyDraft.objects.filter(conversation=conversation, status=DraftStatus.PENDING).exists()
        assert Message.objects.filter(source="inbox", to=conversation.participant).count() == 1
