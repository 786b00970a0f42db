"""Erasing one person among many (issue #14): what `contact_erase` costs when the tables are large.

    createdb -h 127.0.0.1 -U postgres ms_bench_erase
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_erase .venv/bin/python bench/erase_contact.py

Other people's rows (BENCH_ROWS each, default 100,000) fill the outbound messages, inbound
messages, raw webhook requests, website events and the audit log; one person has 50 of each.
Prints the seconds of `contact_erase` (run in a rolled-back transaction, three times, best kept)
and, as the in-process baseline, one full ILIKE scan of each table that erasure must search by
value (webhook bodies, audit data), the floor of any erasure that finds unlinked copies: the
ratio says how much of the erase is that unavoidable search.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from madansara.audit import audit_record
from madansara.channels.models import InboundMessage, Message, WebhookEvent
from madansara.contacts.models import Contact
from madansara.contacts.services import contact_create, contact_erase
from website.models import Site, WebsiteEvent

ROWS = int(os.environ.get("BENCH_ROWS", 100_000))
PERSON_ROWS = 50
MARK = "bench-erase"
EMAIL = "zephyrine.bench@erasure-bench.org"


class Rollback(Exception):
    pass


def ensure_data() -> Contact:
    person = Contact.objects.filter(external_id=f"{MARK}-person").first()
    if person is not None and Message.objects.count() >= ROWS:
        return person
    print(f"generating {ROWS:,} rows in each of 5 tables…", flush=True)
    started = time.perf_counter()
    others = Contact.objects.bulk_create([Contact(external_id=f"{MARK}-{n}", name=f"Other {n}") for n in range(1000)])
    site = Site.objects.create(name=MARK, domain="bench.example.com")
    now = timezone.now()
    for start in range(0, ROWS, 5000):
        batch = range(start, min(start + 5000, ROWS))
        Message.objects.bulk_create(
            [Message(channel="email", contact=others[n % 1000], to=f"o{n}@x.org", text=f"hello {n}") for n in batch]
        )
        InboundMessage.objects.bulk_create(
            [
                InboundMessage(
                    channel="sms",
                    contact=others[n % 1000],
                    sender=f"+1509{n:08d}",
                    external_id=f"{MARK}{n}",
                    text=f"reply {n}",
                )
                for n in batch
            ]  # fmt: skip
        )
        WebhookEvent.objects.bulk_create(
            [
                WebhookEvent(provider="sendgrid", body=f'[{{"email": "o{n}@x.org", "event": "delivered"}}]')
                for n in batch
            ]
        )
        WebsiteEvent.objects.bulk_create(
            [
                WebsiteEvent(
                    site=site,
                    occurred_at=now,
                    received_at=now,
                    name="pageview",
                    visitor_id=f"v{n}",
                    contact_id=others[n % 1000].pk,
                    session_id=f"s{n}",
                    url="https://bench.example.com/",
                    path="/",
                    referrer="",
                    props={},
                    device="desktop",
                    browser="Chrome",
                    os="Linux",
                    ip="203.0.113.1",
                )
                for n in batch
            ]  # fmt: skip
        )
        for n in batch[:: max(1, len(batch) // 500)]:
            audit_record(actor=None, action="bench", target=site, data={"n": n})
    person = contact_create(
        data={"name": "Zéphyrine Bench", "external_id": f"{MARK}-person", "identities": {"email": EMAIL}}
    )
    for n in range(PERSON_ROWS):
        Message.objects.create(channel="email", contact=person, to=EMAIL, text=f"secret {n}")
        raw = WebhookEvent.objects.create(provider="sendgrid", body=f'[{{"email": "{EMAIL}"}}]')
        InboundMessage.objects.create(
            channel="email", contact=person, sender=EMAIL, external_id=f"{MARK}-p{n}", text="words", raw_event=raw
        )
        WebsiteEvent.objects.create(
            site=site, occurred_at=now, received_at=now, name="pageview", visitor_id="vp", contact_id=person.pk,
            session_id="sp", url="https://bench.example.com/", path="/", referrer="", props={}, device="desktop",
            browser="Chrome", os="Linux", ip="203.0.113.9",
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    return person


def timed_erase(person: Contact) -> float:
    started = time.perf_counter()
    try:
        with transaction.atomic():
            contact_erase(contact=person)
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed


def scan_floor() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM channels_webhookevent WHERE body ILIKE %s", [f"%{EMAIL}%"])
        cursor.execute("SELECT count(*) FROM madansara_auditevent WHERE data::text ILIKE %s", [f"%{EMAIL}%"])
    return time.perf_counter() - started


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: set DATABASE_URL")
    call_command("migrate", verbosity=0)
    person = ensure_data()
    erase = min(timed_erase(person) for _ in range(3))
    floor = min(scan_floor() for _ in range(3))
    print(f"rows per table: {ROWS:,} others + {PERSON_ROWS} of the person")
    print(f"contact_erase: {erase * 1000:.0f} ms")
    print(f"baseline, one ILIKE scan of webhook bodies and audit data: {floor * 1000:.0f} ms")
    print(f"ratio erase / scan floor: {erase / floor:.1f}")


if __name__ == "__main__":
    main()
