"""The console's live feed: what changes in the inbox reaches the queue topic and the conversation's
topic (the same long-poll the chat widget uses); only agents may listen; presence is validated."""

import json

import pytest

from inbox.live import QUEUE_TOPIC, conversation_topic
from inbox.services.assignment import conversation_assign
from inbox.services.conversations import conversation_ingest, conversation_status_set
from madansara.live import live_cursor, live_events_since
from madansara.roles import sync_roles

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent(user_in_role):
    sync_roles()
    return user_in_role("Agent", "agent")


def test_new_messages_assignments_and_status_reach_the_queue_and_the_conversation(make_inbound, agent):
    start = live_cursor()
    conversation = conversation_ingest(inbound=make_inbound(text="Where is my order?"), classify=False)
    conversation_assign(conversation=conversation, assignee=agent, actor=agent)
    conversation_status_set(conversation=conversation, status="pending", actor=agent)

    for topic in (QUEUE_TOPIC, conversation_topic(conversation.pk)):
        events = live_events_since(topics=[topic], after=start)
        assert [e["kind"] for e in events] == ["message", "assigned", "status"]
        assert events[1]["data"] == {"conversation": conversation.pk, "assignee": agent.pk}


def test_the_console_poll_answers_agents_only(client, make_inbound, agent, django_user_model):
    start = live_cursor()
    conversation = conversation_ingest(inbound=make_inbound(text="Hello"), classify=False)
    url = f"/live/inbox/poll?after={start}&conversation={conversation.pk}&wait=0"

    assert client.get(url).status_code == 403  # anonymous
    outsider = django_user_model.objects.create_user(username="visitor", password="pw-123456")
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(agent)
    body = client.get(url).json()
    assert [e["kind"] for e in body["events"]] == ["message"] and body["cursor"] == body["events"][0]["id"]
    assert client.get("/live/inbox/poll?after=-3").status_code == 400


def test_presence_is_published_to_the_conversation_and_validated(client, make_inbound, agent):
    conversation = conversation_ingest(inbound=make_inbound(text="Hello"), classify=False)
    client.force_login(agent)
    start = live_cursor()

    def post(body):
        return client.post("/live/inbox/presence", json.dumps(body), content_type="application/json")

    assert post({"conversation": conversation.pk, "state": "replying"}).status_code == 204
    assert post({"conversation": conversation.pk, "state": "dancing"}).status_code == 400
    assert post({"conversation": 999999, "state": "viewing"}).status_code == 404
    events = live_events_since(topics=[conversation_topic(conversation.pk)], after=start)
    assert [(e["kind"], e["data"]["user"], e["data"]["state"]) for e in events] == [("presence", "agent", "replying")]
    assert live_events_since(topics=[QUEUE_TOPIC], after=start) == []  # the queue is not disturbed
