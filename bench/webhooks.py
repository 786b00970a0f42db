"""SendGrid Event Webhook benchmark: a signed 1,000-event batch posted to the running app.

Starts gunicorn and one Celery worker against DATABASE_URL (PostgreSQL) and REDIS_URL (broker),
then for several fresh batches prints the time to verify + store + acknowledge, and the time
until every event of the batch is a MessageEvent (processing by the worker). Goals: ≤ 100 ms
to acknowledge, ≤ 1 s to process. Baseline in the same process: the same batch processed with
one `message_event_record` call per event, against the set-based path the worker uses.

    createdb -h 127.0.0.1 -U postgres ms_bench_channels
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_channels \
    REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/webhooks.py
"""

import base64
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django
import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")

PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = base64.b64encode(
    PRIVATE_KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()
os.environ["SENDGRID_EVENT_PUBLIC_KEY"] = PUBLIC_KEY
django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from madansara.channels.models import Message, MessageEvent, MessageStatus, WebhookEvent, WebhookStatus
from madansara.channels.services import message_event_record
from madansara.channels.webhooks.processing import webhook_event_process

BATCH = 1000
MESSAGES = 250  # 4 events each: processed, delivered, open, click
ROUNDS = 10
KINDS = ("processed", "delivered", "open", "click")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_messages() -> list[Message]:
    rows = [
        Message(
            channel="email",
            to=f"bench{i}@example.com",
            provider="sendgrid",
            provider_message_id=f"bench-{uuid.uuid4().hex}",
            status=MessageStatus.SENT,
            source="bench",
        )
        for i in range(MESSAGES)
    ]
    return Message.objects.bulk_create(rows)


def batch_for(messages: list[Message]) -> bytes:
    now = int(time.time())
    events = [
        {
            "email": m.to,
            "timestamp": now,
            "event": kind,
            "sg_event_id": uuid.uuid4().hex,
            "sg_message_id": f"{m.provider_message_id}.filter0001",
            "ms_message_id": str(m.pk),
            "category": ["bench"],
            **({"url": "https://example.com/offer"} if kind == "click" else {}),
        }
        for m in messages
        for kind in KINDS
    ]
    assert len(events) == BATCH
    return json.dumps(events).encode()


def signed_headers(body: bytes) -> dict:
    timestamp = str(int(time.time()))
    signature = PRIVATE_KEY.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


def processed(body: bytes) -> bool:
    """The batch's webhook event is processed: its message events are committed with that status."""
    key = f"sendgrid:events:{hashlib.sha256(body).hexdigest()}"
    return WebhookEvent.objects.filter(dedup_key=key, status=WebhookStatus.PROCESSED).exists()


def start(env: dict, port: int) -> list[subprocess.Popen]:
    bin_dir = Path(sys.executable).parent
    common = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    web = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "madansara.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "2"], **common
    )
    worker = subprocess.Popen(
        [str(bin_dir / "celery"), "-A", "madansara.celery", "worker", "-c", "1", "-l", "warning",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        **common,
    )  # fmt: skip
    return [web, worker]


def main() -> None:
    if not settings.IS_POSTGRES:
        print("warning: DATABASE_URL is not PostgreSQL; figures are not comparable", file=sys.stderr)
    call_command("migrate", verbosity=0)
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "LOG_LEVEL": "WARNING",
    }
    processes = start(env, port)
    url = f"http://127.0.0.1:{port}/webhooks/sendgrid/events"
    acks, totals = [], []
    try:
        with httpx.Client(timeout=30) as client:
            for _ in range(100):  # wait for gunicorn
                try:
                    client.post(url, content=b"[]")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            for _ in range(4):  # warm-up: each gunicorn worker's imports and connections
                body = batch_for(make_messages())
                client.post(url, content=body, headers=signed_headers(body))
                _wait(body, timeout=60)
            for _ in range(ROUNDS):
                messages = make_messages()
                body = batch_for(messages)
                headers = signed_headers(body)
                started = time.perf_counter()
                response = client.post(url, content=body, headers=headers)
                acked = time.perf_counter()
                assert response.status_code == 200, response.text
                _wait(body, timeout=60)
                done = time.perf_counter()
                assert MessageEvent.objects.filter(message__in=[m.pk for m in messages]).count() == BATCH
                acks.append((acked - started) * 1000)
                totals.append(done - started)
            in_process = view_in_process()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)

    naive, set_based = baseline()
    print(f"batch: {BATCH} events ({MESSAGES} messages x {len(KINDS)}), {len(body) / 1024:.0f} KiB, {ROUNDS} rounds")
    print(
        f"verify + store + acknowledge: median {statistics.median(acks):.1f} ms, p90 {p90(acks):.1f} ms, "
        f"max {max(acks):.1f} ms (goal <= 100 ms)"
    )
    print(
        f"until every event processed:  median {statistics.median(totals):.3f} s, p90 {p90(totals):.3f} s, "
        f"max {max(totals):.3f} s (goal <= 1 s)"
    )
    print(f"  same view in-process (Django test client, no HTTP server): median {statistics.median(in_process):.1f} ms")
    print(f"in-process processing of one batch: set-based {set_based:.3f} s vs per-event baseline {naive:.3f} s "
          f"({naive / set_based:.1f}x faster)")  # fmt: skip


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def _wait(body: bytes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not processed(body):
        if time.monotonic() > deadline:
            raise SystemExit("events were not processed in time (is the worker running?)")
        time.sleep(0.005)
    connection.close()


def view_in_process() -> list[float]:
    """Server-side cost of verify + parse + store + enqueue, without gunicorn and the network."""
    from django.test import Client

    client, timings = Client(), []
    for _ in range(ROUNDS):
        body = batch_for(make_messages())
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers(body).items() if k != "Content-Type"
        }
        started = time.perf_counter()
        response = client.post("/webhooks/sendgrid/events", data=body, content_type="application/json", **headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        _wait(body, timeout=60)
    return timings


def baseline() -> tuple[float, float]:
    """Same-size batch in this process: one message_event_record per event vs the set-based processor."""
    messages = make_messages()
    events = json.loads(batch_for(messages))
    by_id = {str(m.pk): m for m in messages}
    kinds = {"processed": "sent", "delivered": "delivered", "open": "opened", "click": "clicked"}
    started = time.perf_counter()
    for item in events:
        message_event_record(
            message=by_id[item["ms_message_id"]],
            kind=kinds[item["event"]],
            provider_event_id=f"naive:{item['sg_event_id']}",
        )
    naive = time.perf_counter() - started
    messages = make_messages()
    body = batch_for(messages).decode()
    event = WebhookEvent.objects.create(
        provider="sendgrid", kind="events", dedup_key=f"bench:{uuid.uuid4()}", body=body
    )
    started = time.perf_counter()
    webhook_event_process(event=event)
    return naive, time.perf_counter() - started


if __name__ == "__main__":
    main()
