"""Dispatch N due outbox messages through a sandbox provider with W concurrent dispatchers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_dispatch .venv/bin/python bench/dispatch.py
        [--messages 50000] [--workers 4] [--baseline-messages 2000] [--async-commit]

Prints messages/s, the share of dispatcher time spent outside the provider call, and checks
that every row was sent exactly once (one Message, one successful attempt per row). The
machine is shared, so it first runs a baseline leg in the same process: the same workers
sending row by row through the careful path (`outbox_send_one`, what every row took before
the batch path), and prints the ratio. `--async-commit` adds a leg with synchronous_commit=off
(see OUTREACH_DISPATCH_ASYNC_COMMIT); the default keeps commits durable.
"""

import argparse
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from django.db import connection
from django.utils import timezone

from madansara.channels.providers.sandbox import SandboxProvider


class TimedSandbox(SandboxProvider):
    """The sandbox provider, timing the provider call itself."""

    def __init__(self, channel):
        super().__init__(channel)
        self.seconds = 0.0

    def send(self, payload):
        started = time.perf_counter()
        try:
            return super().send(payload)
        finally:
            self.seconds += time.perf_counter() - started


def setup(n: int) -> int:
    from outreach.models import CampaignStep, ChannelTemplate, OutreachCampaign, Segment

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE channels_deliveryattempt, channels_messageevent, channels_message, outreach_outboxmessage, "
            "outreach_campaignenrollment, outreach_campaignspend, outreach_contactengagement, "
            "outreach_campaignstep_templates, outreach_campaignstep, outreach_outreachcampaign, "
            "outreach_segment_contacts, outreach_segment, outreach_channeltemplate, outreach_contactidentity, "
            "outreach_contactconsent, outreach_consentevent, outreach_contact_tags, outreach_suppressionentry, "
            "outreach_frequencycap, outreach_channelcost, outreach_contact CASCADE"
        )
        cursor.execute(
            """INSERT INTO outreach_contact (id, name, timezone, locale, lifecycle_stage, attributes,
                   engagement_score, created_at, updated_at)
               SELECT g, 'Bench ' || g, 'UTC', 'en', 'lead', '{}', 0, now(), now() FROM generate_series(1, %s) g""",
            [n],
        )
        cursor.execute(
            """INSERT INTO outreach_contactidentity (contact_id, channel, value, is_valid, invalid_reason, created_at)
               SELECT g, 'email', 'b' || g || '@example.com', true, '', now() FROM generate_series(1, %s) g""",
            [n],
        )
        cursor.execute(
            """INSERT INTO outreach_contactconsent (contact_id, channel, status, source, updated_at)
               SELECT g, 'email', 'opted_in', 'bench', now() FROM generate_series(1, %s) g""",
            [n],
        )
        cursor.execute("SELECT setval(pg_get_serial_sequence('outreach_contact', 'id'), %s)", [n])
    segment = Segment.objects.create(name="bench", is_static=True)
    campaign = OutreachCampaign.objects.create(
        name="bench", segment=segment, status="running", window_start_hour=0, window_end_hour=24, sto_enabled=False
    )
    step = CampaignStep.objects.create(campaign=campaign, position=1, kind="send", channel="email")
    step.templates.set(
        [
            ChannelTemplate.objects.create(
                name="bench",
                channel="email",
                subject="Hi {{ contact.first_name }}",
                text="Hello {{ contact.first_name }}, see {{ unsubscribe_url }}",
            )
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO outreach_outboxmessage (campaign_id, step_id, contact_id, channel, status, due_at, reason,
                   hold_reason, sto_arm, claimed_by, attempts, fallback_from, variant_key, cost, error, created_at)
               SELECT %s, %s, g, 'email', 'pending', now(), 'fixed', '', '', '', 0, '[]', '', 0, '', now()
               FROM generate_series(1, %s) g""",
            [campaign.pk, step.pk, n],
        )
        cursor.execute("ANALYZE")
    return campaign.pk


def worker(index: int, queue, async_commit: bool, per_row: bool) -> None:
    from django.conf import settings

    from outreach.services.dispatch import outbox_claim, outbox_dispatch, outbox_send_one

    settings.OUTREACH_DISPATCH_ASYNC_COMMIT = async_commit
    connection.close()
    from outreach.models import OutboxMessage

    provider = TimedSandbox("email")
    started = time.perf_counter()
    counts: dict[str, int] = {}
    name = f"bench-{index}"
    # Until every row is final (rows backing off after a transient error come due again).
    while OutboxMessage.objects.filter(status__in=["pending", "claimed"]).exists():
        if per_row:
            for row_id in outbox_claim(worker=name, batch=100):
                outcome = outbox_send_one(row_id=row_id, worker=name, provider=provider)
                counts[outcome] = counts.get(outcome, 0) + 1
            continue
        for key, value in outbox_dispatch(worker=name, batch=100, provider=provider).items():
            counts[key] = counts.get(key, 0) + value
        time.sleep(0.2)
    queue.put({"counts": counts, "busy": time.perf_counter() - started, "provider": provider.seconds})


def run(messages: int, workers: int, async_commit: bool, per_row: bool) -> dict:
    """One leg: set up `messages` due rows, dispatch them with `workers` processes, check them."""
    setup(messages)
    connection.close()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=worker, args=(i, queue, async_commit, per_row)) for i in range(workers)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    wall = time.perf_counter() - started

    from django.db.models import Count

    from madansara.channels.models import DeliveryAttempt, Message
    from outreach.models import OutboxMessage

    sent_rows = OutboxMessage.objects.filter(status="sent").count()
    message_rows = Message.objects.count()
    extra_attempts = (
        DeliveryAttempt.objects.filter(outcome="success")
        .values("message")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    unrecorded = Message.objects.exclude(attempts__outcome="success").count()
    busy = sum(r["busy"] for r in results)
    provider = sum(r["provider"] for r in results)
    label = "per-row baseline" if per_row else f"batch path, synchronous_commit={'off' if async_commit else 'on'}"
    print(f"--- {label}: {workers} workers at {timezone.now():%Y-%m-%d %H:%M} UTC")
    print(f"sent rows: {sent_rows:,} / {messages:,}   Message rows: {message_rows:,}")
    print(f"per worker: {[r['counts'] for r in results]}")
    print(
        f"duplicates: {message_rows - sent_rows} extra messages, {extra_attempts} messages with >1 successful attempt"
    )
    print(f"messages without their successful attempt recorded: {unrecorded}")
    print(f"wall: {wall:.1f} s   throughput: {sent_rows / wall:,.0f} messages/s")
    print(f"time outside the provider call: {100 * (1 - provider / busy):.1f} % of dispatcher time", flush=True)
    return {"rate": sent_rows / wall, "duplicates": message_rows - sent_rows + extra_attempts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--baseline-messages", type=int, default=2_000, help="0 skips the baseline leg")
    parser.add_argument("--async-commit", action="store_true", help="add a leg with synchronous_commit=off")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL (DATABASE_URL).")
    baseline = None
    if args.baseline_messages:
        baseline = run(args.baseline_messages, args.workers, async_commit=False, per_row=True)
    legs = [False, True] if args.async_commit else [False]
    for async_commit in legs:
        result = run(args.messages, args.workers, async_commit=async_commit, per_row=False)
        if baseline:
            print(f"ratio to the per-row baseline: {result['rate'] / baseline['rate']:.1f}x", flush=True)


if __name__ == "__main__":
    main()
