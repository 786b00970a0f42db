"""Engagement scores and advocate tiers: 1,000,000 engagement events over 200,000 contacts.

    createdb -h 127.0.0.1 -U postgres ms_bench_social
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_social .venv/bin/python bench/social.py

Data is generated once in SQL (generate_series: 200,000 contacts, 1,000,000 events over 400 days,
five platforms, seven kinds, sentiments and follower counts) and reused by later runs. Prints the
seconds of `engagement_scores_recompute` and `advocates_recompute` (goal: both ≤ 10 s), and two
in-process baselines: one GROUP BY scan of the events (the floor of any set-based plan) and the
per-contact Python loop it replaces, timed on 2,000 contacts and extrapolated.
"""

import math
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from madansara.contacts.models import Contact
from social.models import SocialAccount, SocialAdvocate, SocialEngagement
from social.services.scoring import advocates_recompute, engagement_scores_recompute, score_weights

CONTACTS = int(os.environ.get("BENCH_CONTACTS", 200_000))
EVENTS = int(os.environ.get("BENCH_EVENTS", 1_000_000))
MARK = "bench-social"


def ensure_data() -> None:
    if Contact.objects.filter(external_id=f"{MARK}-{CONTACTS}").exists() and SocialEngagement.objects.count() >= EVENTS:
        return
    print(f"generating {CONTACTS:,} contacts and {EVENTS:,} engagement events…", flush=True)
    started = time.perf_counter()
    SocialEngagement.objects.all().delete()
    accounts = [
        SocialAccount.objects.get_or_create(platform=p, external_id=f"{MARK}-{p}", defaults={"name": p})[0]
        for p in ("instagram", "facebook", "linkedin", "x", "sandbox")
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO outreach_contact (external_id, name, timezone, locale, lifecycle_stage, attributes,
                                          engagement_score, created_at, updated_at)
            SELECT %s || '-' || g, 'Bench ' || g, 'UTC', 'en', 'lead', '{}'::jsonb, 0, now(), now()
            FROM generate_series(1, %s) g
            ON CONFLICT (external_id) DO NOTHING
            """,
            [MARK, CONTACTS],
        )
        cursor.execute("SELECT min(id) FROM outreach_contact WHERE external_id LIKE %s", [f"{MARK}-%"])
        first_id = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO social_socialengagement (platform, account_id, contact_id, kind, external_id, author_handle,
                                                 author_followers, sentiment, occurred_at)
            SELECT (ARRAY['instagram','facebook','linkedin','x','sandbox'])[1 + g %% 5],
                   (ARRAY[%s,%s,%s,%s,%s]::bigint[])[1 + g %% 5],
                   %s + (hashint4(g)::bigint & 2147483647) %% %s,
                   (ARRAY['like','like','like','comment','reply','share','mention','save','dm'])[1 + (g / 7) %% 9],
                   'e' || g, '',
                   ((hashint4(g + 1)::bigint & 2147483647) %% 20000)::int,
                   (ARRAY['positive','positive','neutral','negative',''])[1 + (g / 3) %% 5],
                   now() - ((hashint4(g + 2)::bigint & 2147483647) %% (400 * 86400)) * interval '1 second'
            FROM generate_series(1, %s) g
            """,
            [*(a.pk for a in accounts), first_id, CONTACTS, EVENTS],
        )
        cursor.execute("ANALYZE social_socialengagement")
        cursor.execute("ANALYZE outreach_contact")
    print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)


def timed(label: str, fn) -> float:
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<48} {seconds:7.2f} s   {result}", flush=True)
    return seconds


def scan_floor() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT contact_id, count(*) FROM social_socialengagement GROUP BY 1) t")
        return cursor.fetchone()[0]


def write_floor() -> int:
    """One plain UPDATE of every bench contact (rolled back): the cost of writing the rows at all."""
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE outreach_contact SET engagement_score = engagement_score + 1 WHERE external_id LIKE %s",
            [f"{MARK}-%"],
        )
        count = cursor.rowcount
        transaction.set_rollback(True)
    return count


def reset_scores() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE outreach_contact SET engagement_score = 0 WHERE engagement_score <> 0")
        cursor.execute("VACUUM ANALYZE outreach_contact")


def python_loop(now, sample: int) -> int:
    """The per-row approach set-based SQL replaces: load each contact's events, sum in Python, save."""
    weights = score_weights()
    half_life = settings.SOCIAL_SCORE_HALF_LIFE_DAYS
    horizon = now - timedelta(days=settings.SOCIAL_SCORE_HORIZON_DAYS)
    ids = list(
        Contact.objects.filter(external_id__startswith=MARK).order_by("id").values_list("id", flat=True)[:sample]
    )
    for contact_id in ids:
        score = 0.0
        for platform, kind, at in SocialEngagement.objects.filter(
            contact_id=contact_id, occurred_at__gt=horizon, occurred_at__lte=now
        ).values_list("platform", "kind", "occurred_at"):
            age = (now - at).total_seconds() / 86400
            score += weights[(platform, kind)] * math.pow(0.5, age / half_life)
        Contact.objects.filter(pk=contact_id).update(engagement_score=round(score, 3))
    return len(ids)


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_social")
    call_command("migrate", "social", verbosity=0)  # social and what it depends on
    ensure_data()
    now = timezone.now()
    print(f"{EVENTS:,} events over {CONTACTS:,} contacts on PostgreSQL", flush=True)
    reset_scores()
    floor = timed("baseline: one GROUP BY scan of the events", scan_floor)
    write = timed("baseline: one plain UPDATE of all contacts", write_floor)
    reset_scores()
    scores_cold = timed("engagement_scores_recompute (first run)", lambda: engagement_scores_recompute(now=now))
    scores_next = timed(
        "engagement_scores_recompute (next day, decay)",
        lambda: engagement_scores_recompute(now=now + timedelta(days=1)),
    )
    advocates = timed("advocates_recompute", lambda: advocates_recompute(now=now))
    advocates_again = timed("advocates_recompute (again, upsert)", lambda: advocates_recompute(now=now))
    sample = 2_000
    loop = timed(f"baseline: Python per-contact loop ({sample:,} contacts)", lambda: python_loop(now, sample))
    loop_all = loop * CONTACTS / sample
    tiers = dict(
        SocialAdvocate.objects.values_list("tier").annotate(n=django.db.models.Count("id")).values_list("tier", "n")
    )
    print(f"advocate tiers: {tiers}")
    total = scores_cold + advocates
    print(
        f"\nscores + advocates: {total:.2f} s (goal ≤ 10 s: {'yes' if total <= 10 else 'NO'}); "
        f"{total / floor:.1f}× one GROUP BY scan, {total / (floor + write):.2f}× scan + plain UPDATE; Python loop extrapolated to {CONTACTS:,} contacts: "
        f"{loop_all:,.0f} s ({loop_all / scores_cold:,.0f}× slower than the set-based scores)"
    )
    print(f"(next-day scores {scores_next:.2f} s, advocates re-run {advocates_again:.2f} s)")


if __name__ == "__main__":
    main()
