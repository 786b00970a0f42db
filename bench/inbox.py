"""Inbox benchmark: N messages in N/5 conversations on PostgreSQL; the agent's filtered
conversation list and the review queue through the HTTP API under gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_inbox .venv/bin/python bench/inbox.py [--messages 1000000]

Prints p50/p95 latency and queries per request (page sizes 20 and 100).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
django.setup()

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from madansara.models import APIKey

BASELINE = "/healthz"


def seed(messages: int) -> None:
    conversations = messages // 5
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM inbox_conversationmessage")
        seeded = cur.fetchone()[0] >= messages
        cur.execute("SELECT count(*) FROM inbox_replydraft")
        if seeded and cur.fetchone()[0]:
            return
        cur.execute(
            "TRUNCATE inbox_replydraft, inbox_conversationmessage, inbox_conversation, channels_inboundmessage CASCADE"
        )
        started = time.perf_counter()
        cur.execute(
            """
            INSERT INTO channels_inboundmessage (channel, kind, sender, recipient, external_id, thread_id, post_id,
                parent_id, subject, text, html, attachments, headers, received_at, created_at)
            SELECT (ARRAY['email','whatsapp','sms','instagram','facebook','linkedin','x'])[1 + g %% 7], 'message',
                'c' || (g %% %(conv)s) || '@example.com', '', 'bench-' || g, '', '', '', 'Subject ' || (g %% %(conv)s),
                'Hello, how much does the premium plan cost? message ' || g, '', '[]', '{}',
                now() - (g || ' seconds')::interval, now()
            FROM generate_series(1, %(n)s) AS g
            """,
            {"n": messages, "conv": conversations},
        )
        cur.execute(
            """
            INSERT INTO inbox_conversation (id, channel, participant, thread_key, reply_token, subject, status, priority,
                is_first_for_contact, latest_intent, latest_sentiment, last_message_at, last_inbound_at, awaiting_reply,
                first_response_due, sla_breached, search_text, created_at, assignee_id)
            SELECT g, (ARRAY['email','whatsapp','sms','instagram','facebook','linkedin','x'])[1 + g %% 7],
                'c' || g || '@example.com', '', md5(g::text), 'Subject ' || g,
                (ARRAY['open','pending','resolved','resolved'])[1 + g %% 4], 'normal', false,
                (ARRAY['question','pricing','complaint','support_issue'])[1 + g %% 4], 'neutral',
                now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, g %% 2 = 0,
                now() + ((g %% 600) || ' minutes')::interval, false,
                'Subject ' || g || ' c' || g || '@example.com Hello, how much does the premium plan cost?', now(), NULL
            FROM generate_series(0, %(conv)s - 1) AS g
            """,
            {"conv": conversations},
        )
        cur.execute("SELECT setval(pg_get_serial_sequence('inbox_conversation', 'id'), %s)", [conversations + 1])
        cur.execute(
            """
            INSERT INTO inbox_conversationmessage (conversation_id, direction, inbound_id, auto_sent, created_at)
            SELECT (m.id - first.id) %% %(conv)s, 'in', m.id, false, m.received_at
            FROM channels_inboundmessage m, (SELECT min(id) AS id FROM channels_inboundmessage) first
            """,
            {"conv": conversations},
        )
        cur.execute(
            """
            INSERT INTO inbox_replydraft (conversation_id, inbound_id, status, source, subject, text,
                whatsapp_template_name, intent, confidence, low_risk, sla_due_at, sent_text, edited, rejection_reason,
                instruction, language, created_at)
            SELECT e.conversation_id, e.inbound_id, 'pending', 'local', '', 'Thanks for your message!', '',
                'question', 0.8, true, now() + ((e.conversation_id % 600) || ' minutes')::interval, '', false, '',
                '', 'en', now()
            FROM (SELECT DISTINCT ON (conversation_id) conversation_id, inbound_id FROM inbox_conversationmessage
                  WHERE conversation_id % 4 = 0 ORDER BY conversation_id, created_at DESC) e
            """
        )
        # What autovacuum does in production: statistics and the visibility map (index-only counts).
        for table in ("channels_inboundmessage", "inbox_conversation", "inbox_conversationmessage", "inbox_replydraft"):
            cur.execute(f"VACUUM ANALYZE {table}")
        print(f"seeded {messages} messages / {conversations} conversations in {time.perf_counter() - started:.0f} s")


def api_key() -> str:
    user, _ = get_user_model().objects.get_or_create(username="bench-agent", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Agent"))
    raw, prefix, hashed = APIKey.generate()
    APIKey.objects.create(name="bench", user=user, prefix=prefix, hashed_key=hashed, scopes=["inbox:write"])
    return raw


def query_counts(raw_key: str, paths: list[str]) -> dict[str, int]:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    counts = {}
    for path in paths:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        counts[path] = len(ctx)
    return counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(raw_key: str, paths: list[str], rounds: int) -> dict[str, tuple[float, float]]:
    import httpx

    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "madansara.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1"},
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {raw_key}"}) as http:
            for _ in range(100):
                try:
                    http.get("/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            results = {}
            for path in paths:
                for _ in range(5):
                    http.get(path)
                timings = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    assert http.get(path).status_code in (200, 503)
                    timings.append((time.perf_counter() - started) * 1000)
                timings.sort()
                results[path] = (statistics.median(timings), timings[int(len(timings) * 0.95) - 1])
            return results
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    call_command("migrate", verbosity=0)
    seed(args.messages)
    raw_key = api_key()
    paths = [
        "/api/v1/inbox/conversations?status=open&channel=email&page_size=20",
        "/api/v1/inbox/conversations?status=open&channel=email&page_size=100",
        "/api/v1/inbox/conversations?status=open&intent=pricing&page_size=20",
        "/api/v1/inbox/conversations?search=premium+4242&page_size=20",
        "/api/v1/inbox/drafts?status=pending&page_size=20",
        "/api/v1/inbox/drafts?status=pending&page_size=100",
    ]
    counts = query_counts(raw_key, paths) | {BASELINE: 0}
    timings = measure(raw_key, [BASELINE, *paths], args.rounds)
    base_p50 = timings[BASELINE][0]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM inbox_conversationmessage")
        print(f"{cur.fetchone()[0]} messages; baseline {BASELINE} p50 {base_p50:.1f} ms (server + load noise)")
    print(f"{'endpoint':75} {'p50 ms':>7} {'p95 ms':>7} {'p50/base':>8} {'queries':>7}")
    for path in paths:
        p50, p95 = timings[path]
        print(f"{path:75} {p50:7.1f} {p95:7.1f} {p50 / base_p50:8.1f} {counts[path]:7}")


if __name__ == "__main__":
    main()
