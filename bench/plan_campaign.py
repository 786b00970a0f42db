"""Plan one `auto` send step for N contacts on PostgreSQL, every guard applied, and compare it
with a bare `INSERT … SELECT` of N rows into an unindexed copy of the outbox table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ms_bench_outreach .venv/bin/python bench/plan_campaign.py
        [--contacts 1000000] [--erased N]

The audience: 20 time zones, email for everyone and SMS for half, opt-in on most, 0.1 %
suppressed, plus N (default 0.1 %) erased addresses kept as digests, half of them imported again;
engagement history for 20 % (preference + STO), a 5 % holdout, global and per channel frequency
caps with earlier sends of another campaign counted, quiet hours 9-20 local.
"""

import argparse
import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madansara.settings")

import django

django.setup()

from django.db import connection
from django.utils import timezone

ZONES = [
    "UTC", "Europe/Paris", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "America/Port-au-Prince", "America/Sao_Paulo", "Africa/Lagos", "Africa/Nairobi", "Asia/Kolkata",
    "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "Pacific/Auckland", "Europe/Berlin", "Asia/Dubai",
    "America/Mexico_City", "Europe/Madrid", "Asia/Manila",
]  # fmt: skip


def run(sql: str, params=None) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return time.perf_counter() - started


def setup(n: int, erased: int):
    from outreach.models import CampaignStep, ChannelTemplate, FrequencyCap, OutreachCampaign, Segment

    run(
        "TRUNCATE channels_deliveryattempt, channels_messageevent, channels_message, outreach_outboxmessage, "
        "outreach_campaignenrollment, outreach_campaignspend, outreach_contactengagement, "
        "outreach_campaignstep_templates, outreach_campaignstep, outreach_outreachcampaign, "
        "outreach_segment_contacts, outreach_segment, outreach_channeltemplate, outreach_contactidentity, "
        "outreach_contactconsent, outreach_consentevent, outreach_contact_tags, outreach_suppressionentry, "
        "outreach_frequencycap, outreach_contact CASCADE"
    )
    zones = "ARRAY[" + ",".join(f"'{z}'" for z in ZONES) + "]"
    run(
        f"""INSERT INTO outreach_contact (id, name, timezone, locale, lifecycle_stage, attributes, engagement_score,
                created_at, updated_at)
            SELECT g, 'Bench ' || g, ({zones})[1 + g %% {len(ZONES)}], 'en', 'lead', '{{}}', 0, now(), now()
            FROM generate_series(1, %s) g""",
        [n],
    )
    run(
        """INSERT INTO outreach_contactidentity (contact_id, channel, value, is_valid, invalid_reason, created_at)
           SELECT g, 'email', 'b' || g || '@example.com', true, '', now() FROM generate_series(1, %s) g
           UNION ALL
           SELECT g, 'sms', '+1415' || lpad(g::text, 7, '0'), true, '', now() FROM generate_series(1, %s) g
           WHERE g %% 2 = 0""",
        [n, n],
    )
    run(
        """INSERT INTO outreach_contactconsent (contact_id, channel, status, source, updated_at)
           SELECT contact_id, channel, CASE WHEN contact_id %% 10 = 3 THEN 'unknown' ELSE 'opted_in' END,
                  'bench', now()
           FROM outreach_contactidentity"""
    )
    run(
        """INSERT INTO outreach_contactengagement (contact_id, channel, sent, delivered, opened, clicked, replied,
               bounced, converted, responses, hour_counts, best_hour, score)
           SELECT contact_id, channel, 6, 6, (contact_id %% 5), 0, 0, 0, 0, (contact_id %% 5), '[]',
                  8 + contact_id %% 12, 0.2
           FROM outreach_contactidentity WHERE contact_id %% 5 = 0"""
    )
    run(
        """INSERT INTO outreach_suppressionentry (channel, value, reason, created_at)
           SELECT '', 'b' || g || '@example.com', 'bench', now() FROM generate_series(1, %s, 1000) g""",
        [n],
    )
    # what erasures leave: entries kept as SHA-256 digests, half of them of addresses imported again since
    run(
        """INSERT INTO outreach_suppressionentry (channel, value, reason, created_at)
           SELECT '', 'sha256:' || encode(sha256(convert_to(
                      CASE WHEN g %% 2 = 0 THEN 'b' || (g * 997 %% %s + 1) || '@example.com'
                           ELSE 'gone' || g || '@example.com' END, 'UTF8')), 'hex'), '[erased]', now()
           FROM generate_series(1, %s) g ON CONFLICT DO NOTHING""",
        [n, erased],
    )
    run("SELECT setval(pg_get_serial_sequence('outreach_contact', 'id'), %s)", [n])
    FrequencyCap.objects.create(channel="", per_day=2, per_week=5)
    FrequencyCap.objects.create(channel="email", per_day=1)
    email = ChannelTemplate.objects.create(name="e", channel="email", subject="Hi {{ contact.first_name }}", text="x")
    sms = ChannelTemplate.objects.create(name="s", channel="sms", text="Hi {{ contact.first_name }}")
    segment = Segment.objects.create(name="leads", filters={"lifecycle_stage": ["lead"]})
    earlier = OutreachCampaign.objects.create(name="earlier", segment=segment, status="running")
    earlier_step = CampaignStep.objects.create(campaign=earlier, position=1, channel="email")
    # earlier sends today to 1 % of contacts: the frequency caps have something to count
    run(
        """INSERT INTO outreach_outboxmessage (campaign_id, step_id, contact_id, channel, status, due_at, reason,
               hold_reason, sto_arm, claimed_by, attempts, fallback_from, variant_key, cost, error, created_at)
           SELECT %s, %s, g, 'email', 'sent', now(), 'fixed', '', '', '', 0, '[]', '', 0, '', now()
           FROM generate_series(1, %s, 100) g""",
        [earlier.pk, earlier_step.pk, n],
    )
    campaign = OutreachCampaign.objects.create(
        name="bench",
        segment=segment,
        status="running",
        holdout_percent=5,
        window_start_hour=9,
        window_end_hour=20,
        sto_enabled=True,
        sto_control_percent=10,
    )
    step = CampaignStep.objects.create(campaign=campaign, position=1, channel="auto")
    step.templates.set([email, sms])
    run("ANALYZE")
    return campaign, step


def baseline(n: int) -> float:
    """A bare INSERT … SELECT of n rows into an unindexed copy of the outbox table."""
    run("DROP TABLE IF EXISTS bench_outbox_copy")
    run("CREATE TABLE bench_outbox_copy (LIKE outreach_outboxmessage INCLUDING DEFAULTS)")
    seconds = run(
        """INSERT INTO bench_outbox_copy (id, campaign_id, step_id, contact_id, channel, status, due_at, reason,
               hold_reason, sto_arm, claimed_by, attempts, fallback_from, variant_key, cost, error, created_at)
           SELECT g, 1, 1, g, 'email', 'pending', now(), 'fixed', '', '', '', 0, '[]', '', 0, '', now()
           FROM generate_series(1, %s) g""",
        [n],
    )
    run("DROP TABLE bench_outbox_copy")
    return seconds


def floor(campaign, step) -> tuple[float, float, int]:
    """The same number of rows the planner wrote, inserted into the real outbox table (its
    indexes and FK checks) with nothing computed: (insert seconds, FK check seconds, rows).
    Rolled back; the planner's rows are removed first and put back by the rollback."""
    from django.db import transaction

    with transaction.atomic():
        run("DELETE FROM outreach_outboxmessage WHERE campaign_id = %s", [campaign.pk])
        insert = run(
            """INSERT INTO outreach_outboxmessage (campaign_id, step_id, contact_id, channel, status, due_at,
                   reason, hold_reason, sto_arm, claimed_by, attempts, fallback_from, variant_key, cost, error,
                   created_at)
               SELECT %s, %s, contact_id, 'email', 'pending', now(), 'fixed', '', '', '', 0, '[]', '', 0, '', now()
               FROM outreach_campaignenrollment WHERE campaign_id = %s AND state = 'active' ORDER BY contact_id""",
            [campaign.pk, step.pk, campaign.pk],
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM outreach_outboxmessage WHERE campaign_id = %s", [campaign.pk])
            rows = cursor.fetchone()[0]
        fk_checks = run("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred FK checks a COMMIT would run
        transaction.set_rollback(True)
    return insert, fk_checks, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--erased", type=int, default=None, help="suppression entries kept as digests (default: contacts / 1000)"
    )
    parser.add_argument(
        "--send-test",
        action="store_true",
        help="with a running send-time experiment: half the audience in its own window (08-12 h), exposed",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL (DATABASE_URL).")
    from outreach.models import CampaignEnrollment, OutboxMessage
    from outreach.services.planning import campaign_enroll, step_plan

    n = args.contacts
    started = time.perf_counter()
    erased = n // 1000 if args.erased is None else args.erased
    campaign, step = setup(n, erased)
    print(f"setup of {n:,} contacts, {erased:,} digest entries: {time.perf_counter() - started:.1f} s", flush=True)
    now = timezone.now().replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if args.send_test:
        from abtesting.models import ABTest
        from abtesting.services import abtest_create, abtest_start

        ABTest.objects.filter(key="bench-send-time").delete()
        test = abtest_create(
            key="bench-send-time", name="bench", surface="send_time", primary_metric="open",
            variants=[{"key": "control", "is_control": True, "content": {}},
                      {"key": "treatment", "content": {"window_start_hour": 8, "window_end_hour": 12}}],
        )  # fmt: skip
        abtest_start(test=test)
        campaign.send_test = test
        campaign.save(update_fields=["send_test"])

    t = time.perf_counter()
    enrolled = campaign_enroll(campaign=campaign, now=now)
    enroll_seconds = time.perf_counter() - t
    run("ANALYZE outreach_campaignenrollment")

    t = time.perf_counter()
    result = step_plan(step=step, now=now)
    plan_seconds = time.perf_counter() - t

    run("VACUUM ANALYZE outreach_outboxmessage")
    base = baseline(n)
    floor_insert, floor_fk, floor_rows = floor(campaign, step)
    run("VACUUM outreach_outboxmessage")

    holdout = CampaignEnrollment.objects.filter(campaign=campaign, state="holdout").count()
    rows = OutboxMessage.objects.filter(campaign=campaign)
    by_channel = dict(rows.filter(status="pending").values_list("channel").annotate(n=django.db.models.Count("id")))
    held = dict(rows.exclude(hold_reason="").values_list("hold_reason").annotate(n=django.db.models.Count("id")))
    print(f"enrolled {enrolled:,} ({holdout:,} holdout) in {enroll_seconds:.1f} s")
    print(f"planned {result['planned']:,} sends, held back {result['held']:,}: {by_channel} {held}")
    print(f"plan step (commit and its FK checks included): {plan_seconds:.1f} s")
    print(f"baseline INSERT … SELECT of {n:,} rows into an unindexed copy: {base:.1f} s")
    print(
        f"floor: the same {floor_rows:,} rows into the real outbox, nothing computed: {floor_insert:.1f} s insert "
        f"(6 indexes) + {floor_fk:.1f} s FK checks = {floor_insert + floor_fk:.1f} s "
        f"(ratio {(floor_insert + floor_fk) / base:.2f})"
    )
    if args.send_test:
        arms = dict(rows.values_list("send_arm").annotate(n=django.db.models.Count("id")))
        exposed = campaign.send_test.exposures.count()
        print(f"send experiment: rows per arm {arms}, {exposed:,} exposures (counted in the plan step)")
    print(f"ratio plan / baseline: {plan_seconds / base:.2f}  (goal ≤ 3)")
    print(f"ratio plan / floor: {plan_seconds / (floor_insert + floor_fk):.2f}")


if __name__ == "__main__":
    main()
