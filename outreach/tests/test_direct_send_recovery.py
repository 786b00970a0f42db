"""Direct sends a dead worker left `sending` are finished by the beat job, each sent exactly once."""

from datetime import timedelta

import pytest

from madansara.channels import services as channel_services
from madansara.channels.models import DeliveryAttempt, Message
from outreach.models import DirectSend, DirectSendStatus
from outreach.services import direct
from outreach.services.direct import direct_send_deliver, direct_sends_recover
from outreach.tests.campaign_helpers import NOON, contact
from outreach.tests.fake_provider import CountingProvider, CountingServer

pytestmark = pytest.mark.django_db
LATER = NOON + timedelta(seconds=61)  # the lease (60 s) has run out


@pytest.fixture
def server():
    with CountingServer() as running:
        yield running


def _scheduled() -> DirectSend:
    return DirectSend.objects.create(
        contact=contact(), channel="email", status=DirectSendStatus.SCHEDULED, text="Hello", subject="Hi", due_at=NOON
    )


def _dies(monkeypatch, *, after_provider: bool):
    """The worker dies inside the send: after the provider accepted it, or just before calling it."""

    def send_then_die(*, message, provider=None):
        Message.objects.filter(pk=message.pk).update(status="sending")
        if after_provider:
            provider.send(channel_services.payload_for(message))
        raise SystemExit("worker killed")

    monkeypatch.setattr(direct, "message_send", send_then_die)


@pytest.mark.parametrize("after_provider", [True, False], ids=["provider-got-it", "provider-never-got-it"])
def test_a_send_stuck_around_the_provider_call_goes_out_exactly_once(server, monkeypatch, after_provider):
    # given a worker that died around the provider call, leaving the send and its message `sending`
    provider = CountingProvider(server.url)
    send = _scheduled()
    _dies(monkeypatch, after_provider=after_provider)
    with pytest.raises(SystemExit):
        direct_send_deliver(send_id=send.pk, provider=provider, now=NOON)
    monkeypatch.undo()
    send.refresh_from_db()
    assert (send.status, send.message.status) == ("sending", "sending")
    # when the beat job runs within the lease, the row is left to its worker
    assert direct_sends_recover(provider=provider, now=NOON + timedelta(seconds=30)) == {}
    # and after the lease it is finished
    assert direct_sends_recover(provider=provider, now=LATER) == {"sent": 1}
    # then the provider got the message exactly once, and the send and message are sent
    send.refresh_from_db()
    assert server.counts == {str(send.message_id): 1}
    assert (send.status, send.message.status) == ("sent", "sent")
    assert DeliveryAttempt.objects.filter(message=send.message, outcome="success").count() == 1
    assert direct_sends_recover(provider=provider, now=LATER + timedelta(minutes=5)) == {}


def test_a_send_stuck_before_its_message_existed_is_sent_after_its_guards(server, monkeypatch):
    # given a worker that died after claiming the row, before creating its message
    provider = CountingProvider(server.url)
    send = _scheduled()

    def die(**kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(direct, "direct_send_render", die)
    with pytest.raises(SystemExit):
        direct_send_deliver(send_id=send.pk, provider=provider, now=NOON)
    monkeypatch.undo()
    assert DirectSend.objects.get(pk=send.pk).status == "sending" and not Message.objects.exists()
    # when the beat job runs after the lease
    assert direct_sends_recover(provider=provider, now=LATER) == {"sent": 1}
    # then it went out once
    assert list(server.counts.values()) == [1]
    assert DirectSend.objects.get(pk=send.pk).status == "sent"
