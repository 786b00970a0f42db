"""The console's live feed: what changes in the inbox reaches the queue topic and the conversation's
topic (the same long-poll the chat widget uses); only agents may listen; presence is validated."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.live import QUEUE_TOPIC, conversation_topic
from inbox.models import AgentPresence
from inbox.selectors import presence_on
from inbox.services.assignment import conversation_assign
from inbox.services.conversations import conversation_ingest, conversation_status_set
from inbox.services.presence import presence_prune, presence_record
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

    assert post({"conversation": conversation.pk, "state": "replying"}).status_code == 200
    assert post({"conversation": conversation.pk, "state": "dancing"}).status_code == 400
    assert post({"conversation": 999999, "state": "viewing"}).status_code == 404
    events = live_events_since(topics=[conversation_topic(conversation.pk)], after=start)
    assert [(e["kind"], e["data"]["user"], e["data"]["state"]) for e in events] == [("presence", "agent", "replying")]
    assert live_events_since(topics=[QUEUE_TOPIC], after=start) == []  # the queue is not disturbed


def test_a_silent_agents_presence_expires_from_the_notice_and_is_pruned(
    client, settings, make_inbound, agent, user_in_role
):
    # given two agents on one conversation; the other one's tab heartbeats, then closes (no "left" sent)
    settings.LIVE_PRESENCE_TTL_SECONDS = 45
    conversation = conversation_ingest(inbound=make_inbound(text="Hello"), classify=False)
    other = user_in_role("Agent", "agent2")
    t0 = timezone.now()
    presence_record(conversation_id=conversation.pk, user=other, state="replying", now=t0)
    client.force_login(agent)

    def heartbeat():
        response = client.post(
            "/live/inbox/presence",
            json.dumps({"conversation": conversation.pk, "state": "viewing"}),
            content_type="application/json",
        )
        assert response.status_code == 200
        return response.json()

    # while their heartbeat is recent, this agent's notice shows them
    assert [(o["user"], o["state"]) for o in heartbeat()["others"]] == [("agent2", "replying")]
    just_fresh = presence_on(conversation_id=conversation.pk, exclude_user_id=agent.pk, now=t0 + timedelta(seconds=44))
    assert [o["user"] for o in just_fresh] == ["agent2"]
    # when the clock passes the TTL with no heartbeat from them
    AgentPresence.objects.filter(user=other).update(seen_at=timezone.now() - timedelta(seconds=46))
    body = heartbeat()
    # then they are gone from the notice (the page gets the TTL to expire what it heard live)
    assert body == {"others": [], "ttl": 45}
    later = timezone.now() + timedelta(seconds=1)
    assert presence_on(conversation_id=conversation.pk, exclude_user_id=agent.pk, now=later) == []
    # and pruning deletes the stale row only: this agent's fresh heartbeat stays
    assert presence_prune(now=later) == 1
    assert list(AgentPresence.objects.values_list("user__username", flat=True)) == ["agent"]
    # a page that says it left is removed at once
    presence_record(conversation_id=conversation.pk, user=agent, state="left")
    assert not AgentPresence.objects.exists()


def test_console_pages_carry_the_presence_ttl(client, settings, make_inbound, agent):
    settings.LIVE_PRESENCE_TTL_SECONDS = 30
    conversation = conversation_ingest(inbound=make_inbound(text="Hello"), classify=False)
    client.force_login(agent)
    page = client.get(f"/admin/inbox/conversation/{conversation.pk}/change/").content.decode()
    assert 'data-presence-ttl="30"' in page
