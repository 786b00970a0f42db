"""The dispatcher: claims, leases, retries, send-time guards and exactly-once delivery."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib import request

import pytest
from django.db import connection
from django.utils import timezone

from madansara.channels.models import DeliveryAttempt, Message, MessageEvent
from madansara.channels.tasks import message_send_task
from madansara.contacts.services import consent_set
from outreach.models import CampaignSpend, ContactEngagement, OutboxMessage, SuppressionEntry
from outreach.services.dispatch import (
    MAX_ATTEMPTS,
    backoff_seconds,
    batch,
    outbox_claim,
    outbox_dispatch,
    outbox_send_one,
)
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact
from outreach.tests.fake_provider import CountingProvider, CountingServer

WORKER = Path(__file__).with_name("dispatch_worker.py")


def planned(n=3, **fields):
    people = [contact(**fields) for _ in range(n)]
    camp = campaign(contacts=people)
    now = timezone.now()
    campaign_plan(campaign=camp, now=now)
    OutboxMessage.objects.update(due_at=now)  # all due now (planning spreads them over the day)
    return camp, people


@pytest.mark.django_db
def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires():
    camp, _ = planned(1)
    now = timezone.now()
    assert len(outbox_claim(worker="a", now=now)) == 1
    assert outbox_claim(worker="b", now=now) == []
    # worker "a" died: after the lease, "b" takes over and sends it, once
    later = now + timedelta(seconds=61)
    assert outbox_dispatch(worker="b", now=later) == {"sent": 1}
    assert outbox_send_one(row_id=OutboxMessage.objects.get().pk, worker="a", now=later) == "lost"
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_transient_errors_retry_with_backoff_then_fail():
    camp, _ = planned(1, values={"email": "fail-transient@example.com"})
    now = timezone.now()
    assert outbox_dispatch(now=now) == {"retry": 1}
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.due_at >= now + timedelta(seconds=1)
    for _ in range(MAX_ATTEMPTS):
        row.refresh_from_db()
        if row.status != "pending":
            break
        outbox_dispatch(now=row.due_at)
    row.refresh_from_db()
    assert row.status == "failed"
    # the same message (same id) was retried: one Message, one attempt row per try
    assert Message.objects.count() == 1
    assert DeliveryAttempt.objects.count() == MAX_ATTEMPTS


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after():
    assert 15 <= backoff_seconds(1) <= 30
    assert 120 <= backoff_seconds(4) <= 240
    assert backoff_seconds(20) <= 3600
    assert backoff_seconds(1, retry_after=500) >= 500


@pytest.mark.django_db
def test_unsubscribe_and_suppression_after_planning_are_honoured_at_send_time():
    camp, (unsub, supp, ok) = planned(3)
    consent_set(contact=unsub, channel="email", status="unsubscribed", source="test")
    SuppressionEntry.objects.create(value=supp.identities.get().value)

    outbox_dispatch(now=timezone.now())

    rows = {row.contact_id: row for row in OutboxMessage.objects.all()}
    assert (rows[unsub.pk].status, rows[unsub.pk].hold_reason) == ("skipped", "unsubscribed")
    assert (rows[supp.pk].status, rows[supp.pk].hold_reason) == ("skipped", "suppressed")
    assert rows[ok.pk].status == "sent"
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_row_due_in_quiet_hours_at_send_time_is_deferred_to_the_window():
    person = contact(tz="UTC")
    camp = campaign(contacts=[person], window_start_hour=9, window_end_hour=20)
    campaign_plan(campaign=camp, now=NOON)
    late = NOON.replace(hour=21)
    OutboxMessage.objects.update(due_at=late)
    outbox_dispatch(now=late)
    row = OutboxMessage.objects.get()
    assert (row.status, row.hold_reason) == ("pending", "quiet_hours")
    assert row.due_at == (NOON + timedelta(days=1)).replace(hour=9)


@pytest.mark.django_db
def test_email_carries_one_click_unsubscribe_headers_footer_and_our_message_id():
    camp, _ = planned(1)
    outbox_dispatch(now=timezone.now())
    message = Message.objects.get()
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Unsubscribe"].startswith("<http")
    assert "Unsubscribe:" in message.text and "Port-au-Prince" in message.text
    assert message.context["outbox_id"] == OutboxMessage.objects.get().pk
    assert message.context["channel_reason"] == "fixed"


@pytest.mark.django_db
def test_ambiguous_send_is_recognised_at_the_provider_and_not_sent_again():
    # given a worker that died after the provider got the message but before recording it
    with CountingServer() as server:
        provider = CountingProvider(server.url)
        camp, _ = planned(2)
        now = timezone.now()
        outbox_claim(worker="dead", now=now)
        for row in OutboxMessage.objects.all():
            outbox_send_one(row_id=row.pk, worker="dead", provider=provider, now=now)
        first, second = OutboxMessage.objects.order_by("id")
        # rewind both to "claimed by the dead worker, message sending"; only the first reached the provider
        OutboxMessage.objects.update(status="claimed", claimed_by="dead", lease_until=now)
        Message.objects.update(status="sending", provider_message_id=None)
        del server.counts[str(second.message_id)]
        # when another dispatcher re-claims them after the lease
        outbox_dispatch(worker="next", provider=provider, now=now + timedelta(seconds=61))
        # then each message reached the provider exactly once, and both rows are sent
        assert server.counts[str(first.message_id)] == 1
        assert server.counts[str(second.message_id)] == 1
        assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
        assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


class ReplayingProvider(CountingProvider):
    """While the dispatcher is inside the provider call, a stray message_send_task for the same
    message runs (a replayed or legacy task): the other path that sends a queued message."""

    def __init__(self, url: str):
        super().__init__(url)
        self.replays: list = []

    def send(self, payload):
        self.replays.append(message_send_task.apply(args=[payload.message_id]).get())
        return super().send(payload)


@pytest.mark.django_db
@pytest.mark.parametrize("careful", [False, True], ids=["batch", "send_one"])
def test_a_task_replayed_for_a_message_the_dispatcher_is_sending_sends_nothing(careful):
    # given a due row, and a message_send_task for its message that runs mid-send
    with CountingServer() as server:
        provider = ReplayingProvider(server.url)
        planned(1)
        now = timezone.now()
        if careful:
            outbox_claim(worker="a", now=now)
            outbox_send_one(row_id=OutboxMessage.objects.get().pk, worker="a", provider=provider, now=now)
        else:
            assert outbox_dispatch(worker="a", provider=provider, now=now) == {"sent": 1}
        # then the task found the message claimed (sending) and sent nothing: one send, one attempt
        message = Message.objects.get()
        assert provider.replays == [None]
        assert server.counts[str(message.pk)] == 1
        assert list(DeliveryAttempt.objects.values_list("provider", "outcome")) == [("counting", "success")]
        assert message.status == "sent" and OutboxMessage.objects.get().status == "sent"


# --- PostgreSQL: concurrency and crashes ------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_dispatchers_send_every_message_exactly_once():
    with CountingServer(delay=0.002) as server:
        camp, _ = planned(40)
        results = []

        def run(name):
            try:
                results.append(outbox_dispatch(worker=name, batch=10, provider=CountingProvider(server.url)))
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(server.counts) == 40
        assert set(server.counts.values()) == {1}
        assert OutboxMessage.objects.filter(status="sent").count() == 40
        assert all(r.get("sent", 0) > 0 for r in results)  # both really worked


def _worker(url: str, lease_seconds: int):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "OUTREACH_LEASE_SECONDS": str(lease_seconds),
        "BATCH": "10",
    }
    return subprocess.Popen([sys.executable, str(WORKER), url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_killed_mid_batch_and_restarted_sends_every_message_exactly_once(record_property):
    with CountingServer(delay=0.01) as server:
        camp, _ = planned(60)
        # given a dispatcher killed with SIGKILL in the middle of its work
        first = _worker(server.url, lease_seconds=2)
        deadline = time.monotonic() + 60
        while sum(server.counts.values()) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert 0 < sum(server.counts.values()) < 60
        # when a new dispatcher starts after the lease expired
        time.sleep(2.5)
        second = _worker(server.url, lease_seconds=2)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]
        # then every message reached the provider exactly once and every row is sent
        lost, duplicated = 60 - len(server.counts), sum(n - 1 for n in server.counts.values())
        record_property("lost", lost)  # in the JUnit XML: .ci/run prints them
        record_property("duplicated", duplicated)
        print(f"dispatcher SIGKILLed mid-batch, then restarted: 60 sends, {lost} lost, {duplicated} duplicated")
        assert (lost, duplicated) == (0, 0)
        assert OutboxMessage.objects.filter(status="sent").count() == 60
        assert Message.objects.filter(status="sent").count() == 60
        # and each message has exactly one successful attempt and one sent event, even those
        # whose batch records the killed dispatcher never wrote
        assert DeliveryAttempt.objects.filter(outcome="success").values("message").distinct().count() == 60
        assert DeliveryAttempt.objects.filter(outcome="success").count() == 60
        assert MessageEvent.objects.filter(kind="sent").count() == 60


def test_the_fake_provider_server_answers_lookups():
    with CountingServer() as server:
        provider = CountingProvider(server.url)
        assert provider.lookup("nope") is None
        body = json.dumps({"message_id": "m1", "to": "x"}).encode()
        request.urlopen(request.Request(f"{server.url}/send", data=body))
        assert provider.lookup("m1").provider_message_id == "fp-m1"


# --- the batch path ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_batch_records_each_message_with_its_spend_and_engagement():
    # given three plain rows due now
    camp, people = planned(3)
    # when one dispatcher sends them as one batch
    assert outbox_dispatch(now=timezone.now()) == {"sent": 3}
    # then each message has one successful attempt and a sent event, and the day's spend and
    # every contact's engagement count each message once
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert DeliveryAttempt.objects.filter(outcome="success").count() == 3
    assert MessageEvent.objects.filter(kind="sent").count() == 3
    spend = CampaignSpend.objects.get(campaign=camp)
    assert spend.messages == 3
    assert spend.cost == sum(OutboxMessage.objects.values_list("cost", flat=True))
    assert sorted(ContactEngagement.objects.values_list("contact_id", "sent")) == sorted((p.pk, 1) for p in people)


@pytest.mark.django_db
def test_a_crash_between_provider_call_and_record_is_resolved_without_a_second_send(monkeypatch):
    with CountingServer() as server:
        provider = CountingProvider(server.url)
        camp, _ = planned(3)
        now = timezone.now()
        real = batch._record_sent
        calls = []

        def dies_on_the_second(**kwargs):
            calls.append(kwargs["row"].pk)
            if len(calls) == 2:
                raise RuntimeError("worker died after the provider call")
            return real(**kwargs)

        # given a dispatcher whose second record never happened (its provider call did)
        monkeypatch.setattr(batch, "_record_sent", dies_on_the_second)
        assert outbox_dispatch(worker="dying", provider=provider, now=now) == {"sent": 2, "error": 1}
        monkeypatch.setattr(batch, "_record_sent", real)
        stuck = OutboxMessage.objects.get(pk=calls[1])
        assert (stuck.status, stuck.message.status) == ("claimed", "sending")
        # when another dispatcher re-claims it after the lease
        assert outbox_dispatch(worker="next", provider=provider, now=now + timedelta(seconds=61)) == {"sent": 1}
        # then the provider got every message exactly once, and every row is sent
        assert len(server.counts) == 3
        assert set(server.counts.values()) == {1}
        assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
        assert DeliveryAttempt.objects.filter(outcome="success").count() == 3


@pytest.mark.postgres
@pytest.mark.django_db
def test_engagement_counts_a_dying_worker_never_wrote_are_rebuilt_by_the_recompute(monkeypatch):
    from outreach.services.feedback import engagement_recompute

    camp, people = planned(3)

    def dies(sent):
        raise RuntimeError("worker died before writing its batch's engagement counts")

    # given a dispatcher that sent and recorded every message but not the batch's engagement
    monkeypatch.setattr(batch, "_engagement_sent", dies)
    assert outbox_dispatch(worker="dying", now=timezone.now()) == {"sent": 3}
    monkeypatch.undo()
    # then each message and row is recorded one by one all the same
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert DeliveryAttempt.objects.filter(outcome="success").count() == 3
    assert MessageEvent.objects.filter(kind="sent").count() == 3
    assert not ContactEngagement.objects.exists()
    # when the scheduled recompute runs, the counts are exact again
    engagement_recompute()
    assert sorted(ContactEngagement.objects.values_list("contact_id", "sent")) == sorted((p.pk, 1) for p in people)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("prepare", [True, False])
def test_the_per_message_statement_is_prepared_once_per_connection_unless_turned_off(settings, prepare):
    settings.OUTREACH_DISPATCH_PREPARE = prepare
    connection.ensure_connection()
    connection.connection.prepare_threshold = None  # as Django opens it
    planned(3)
    assert outbox_dispatch(now=timezone.now()) == {"sent": 3}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%claim_next AS%"],
        )
        executions = [n for (n,) in cursor.fetchall()]
    # parsed once per parameter-type signature (the last message of a batch has no next one)
    # and executed for every message — or never prepared at all
    assert (sum(executions), len(executions)) == ((3, 2) if prepare else (0, 0))
    # and Django's own queries stay unprepared
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == len(executions)
