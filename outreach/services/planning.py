"""The daily planner: enroll the audience, move journeys forward, plan the day's sends.

Everything here is set-based: one `INSERT … SELECT` plans a send step for a whole audience
(sends and the journeys held back together), with consent, suppression, deduplication (an
anti-join under a lock on the step, backed by the outbox's unique key), frequency caps counted
once per contact, budget, channel selection and the send time (quiet hours + STO) in SQL. Time
zones are handled exactly (DST included) without database time-zone support: for every time
zone present in the audience, Python computes the UTC instant of each of the 24 local hours
(`send_instants`), and the SQL joins on (time zone, hour) — per arm of a running send experiment
(its own window and weekdays; the campaign's `send_weekdays` otherwise).
"""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from abtesting.models import ABTest, ABTestExposure
from abtesting.services import exposures_add_from
from madansara.choices import Channel
from madansara.contacts.conversions import contact_converted
from madansara.contacts.models import Contact, ContactConsent, ContactIdentity
from madansara.erasure import digest_sql
from outreach.models import (
    AUTO,
    BranchOn,
    CampaignEnrollment,
    CampaignSpend,
    CampaignStatus,
    CampaignStep,
    ChannelCost,
    ContactEngagement,
    DirectSend,
    EnrollmentState,
    FrequencyCap,
    HoldReason,
    OutboxMessage,
    OutboxStatus,
    OutreachCampaign,
    StepKind,
    SuppressionEntry,
)
from outreach.models.direct import DIRECT_COUNTED
from outreach.selectors import segment_contacts
from outreach.services import campaigns

# A contact's own response rate counts once they have this many messages on a channel.
MIN_HISTORY = 5
# Response rate assumed for a channel nobody has history on yet.
PRIOR_RATE = {Channel.EMAIL: 0.15, Channel.SMS: 0.25, Channel.WHATSAPP: 0.35}
DEFAULT_PRIOR = 0.10
DEFAULT_COST = {Channel.EMAIL: Decimal("0.0008"), Channel.SMS: Decimal("0.0079"), Channel.WHATSAPP: Decimal("0.0050")}
# Channels whose rules forbid unsolicited campaign messages outside a messaging window.
WINDOW_CHANNELS = {Channel.FACEBOOK, Channel.INSTAGRAM}
MANUAL_ONLY = {Channel.LINKEDIN}
MESSAGING_WINDOW = timedelta(hours=24)
NO_CAP = 1_000_000_000
ACTIVE_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.CLAIMED, OutboxStatus.SENT)
# Memory for the planning statement's hashes and per-contact ranking (PostgreSQL, per statement).
PLAN_WORK_MEM = "256MB"


# --- time -------------------------------------------------------------------------------
def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def send_instant(
    *, tzname: str, hour: int, start: int, end: int, now: datetime, days: frozenset[int] | None = None
) -> datetime:
    """When to send for a preferred local `hour` (clamped to [start, end)) on one of the local
    weekdays `days` (None: any day): today at that hour, now if that hour has passed but the window
    is still open, else the next sending day's window start (or that hour, when today is not a
    sending day). Quiet hours defer a send to the window edge, never drop it. DST-exact."""
    zone = _zone(tzname)
    hour = min(max(hour, start), end - 1)
    local_now = now.astimezone(zone)
    day = local_now.date()
    for offset in range(9 if days else 3):
        d = day + timedelta(days=offset)
        if days and d.weekday() not in days:
            continue
        candidate = datetime(d.year, d.month, d.day, hour, tzinfo=zone)
        window_end = datetime(d.year, d.month, d.day, tzinfo=zone) + timedelta(hours=end)
        if candidate >= now:
            return candidate.astimezone(timezone.UTC)
        if offset == 0 and now < window_end.astimezone(timezone.UTC) and local_now.hour >= start:
            return now
        hour = start if offset == 0 else hour
    return now  # unreachable: a sending day comes within a week, with its window


def _local_day(moment: datetime, tzname: str):
    return moment.astimezone(_zone(tzname)).date()


def in_quiet_hours(*, tzname: str, start: int, end: int, now: datetime, days: frozenset[int] | None = None) -> bool:
    """Is `now` outside the sending window [start, end) (or on a day not in `days`) in the zone?"""
    local = now.astimezone(_zone(tzname))
    return not (start <= local.hour < end) or (days is not None and local.weekday() not in days)


def send_instants(
    *, zones: list[str], start: int, end: int, now: datetime, days: frozenset[int] | None = None
) -> list[tuple[str, int, datetime]]:
    """(zone, hour, utc instant) for each zone and each hour 0-23 (clamped into the window)."""
    return [
        (name, hour, send_instant(tzname=name, hour=hour, start=start, end=end, now=now, days=days))
        for name in zones
        for hour in range(24)
    ]


# --- statistics used by the planner ---------------------------------------------------------
def channel_costs() -> dict[str, Decimal]:
    costs = {channel: DEFAULT_COST.get(channel, Decimal("0")) for channel in Channel.values}
    costs.update(dict(ChannelCost.objects.values_list("channel", "cost_per_message")))
    return costs


def population_rates() -> dict[str, float]:
    """Response rate per channel across all contacts (prior when too little history)."""
    rates = {channel: PRIOR_RATE.get(channel, DEFAULT_PRIOR) for channel in Channel.values}
    for row in ContactEngagement.objects.values("channel").annotate(s=Sum("sent"), r=Sum("responses")):
        if row["s"] and row["s"] >= 50:
            rates[row["channel"]] = row["r"] / row["s"]
    return rates


def population_best_hour(*, default: int = 10) -> int:
    """The local hour most contacts engage at (the mode of their best hours)."""
    row = (
        ContactEngagement.objects.filter(best_hour__isnull=False)
        .values("best_hour")
        .annotate(n=Count("id"))
        .order_by("-n", "best_hour")
        .first()
    )
    return row["best_hour"] if row else default


def frequency_caps() -> tuple[tuple[int, int], dict[str, tuple[int, int]]]:
    """(global (day, week), {channel: (day, week)}), NO_CAP where unset."""
    global_cap = (NO_CAP, NO_CAP)
    per_channel = dict.fromkeys(Channel.values, (NO_CAP, NO_CAP))
    for cap in FrequencyCap.objects.all():
        pair = (cap.per_day or NO_CAP, cap.per_week or NO_CAP)
        if cap.channel:
            per_channel[cap.channel] = pair
        else:
            global_cap = pair
    return global_cap, per_channel


# --- enrollment ---------------------------------------------------------------------------
def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _rowcount(cursor) -> int:
    """Rows changed by the last statement (SQLite reports -1 for statements starting WITH)."""
    if cursor.rowcount >= 0:
        return cursor.rowcount
    cursor.execute("SELECT changes()")
    return cursor.fetchone()[0]


def _dt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


# Deterministic buckets (holdout, STO control) hash the contact id modulo a prime first, so ids
# in arithmetic progression (imports, every 1000th contact) do not all land in one bucket.
def campaign_enroll(*, campaign: OutreachCampaign, now: datetime | None = None) -> int:
    """Enroll the segment's contacts not yet enrolled (set-based); a deterministic
    `holdout_percent` of them goes to the control group. Returns how many were added."""
    now = now or timezone.now()
    audience_sql, params = _sql(segment_contacts(segment=campaign.segment).values("id"))
    table = CampaignEnrollment._meta.db_table
    sql = f"""
        INSERT INTO {table} (campaign_id, contact_id, state, position, step_entered_at, enrolled_at)
        SELECT %s, a.id,
               CASE WHEN ((a.id * 2654435761 + %s * 7919) %% 1000003) %% 100 < %s THEN 'holdout' ELSE 'active' END,
               1, %s, %s
        FROM ({audience_sql}) a
        WHERE NOT EXISTS (SELECT 1 FROM {table} e WHERE e.campaign_id = %s AND e.contact_id = a.id)
        ON CONFLICT DO NOTHING
    """
    args = [campaign.pk, campaign.pk, campaign.holdout_percent, _dt(now), _dt(now), *params, campaign.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return _rowcount(cursor)


# --- journeys -------------------------------------------------------------------------------
def _conversions(campaign: OutreachCampaign, code: str | None):
    """Subquery: the enrollment's contact converted (of type `code`) after enrolling."""
    return contact_converted(contact=OuterRef("contact_id"), code=code or None, since=OuterRef("enrolled_at"))


def _engaged(step: CampaignStep, branch_on: str, since):
    """Subquery: the contact did `branch_on` to this campaign's message for `step`."""
    field = {BranchOn.REPLY: "replied_at", BranchOn.CLICK: "clicked_at", BranchOn.OPEN: "opened_at"}
    rows = OutboxMessage.objects.filter(step=step, contact_id=OuterRef("contact_id"), message__isnull=False)
    if branch_on == BranchOn.OPEN:
        condition = (
            Q(message__opened_at__isnull=False)
            | Q(message__clicked_at__isnull=False)
            | Q(message__replied_at__isnull=False)
        )
        return Exists(rows.filter(condition))
    if branch_on == BranchOn.NO_RESPONSE:
        condition = (
            Q(message__opened_at__isnull=False)
            | Q(message__clicked_at__isnull=False)
            | Q(message__replied_at__isnull=False)
        )
        return ~Exists(rows.filter(condition))
    return Exists(rows.filter(**{f"message__{field[branch_on]}__isnull": False}))


def campaign_goal_reached(*, contact: Contact, conversion_type: str, now: datetime | None = None) -> int:
    """End the journeys of `contact` in running campaigns whose goal is `conversion_type`:
    their pending sends are cancelled. Returns the number of journeys ended."""
    now = now or timezone.now()
    with transaction.atomic():
        enrollments = CampaignEnrollment.objects.filter(
            contact=contact, state=EnrollmentState.ACTIVE, campaign__goal_conversion=conversion_type
        )
        campaign_ids = list(enrollments.values_list("campaign_id", flat=True))
        ended = enrollments.update(state=EnrollmentState.GOAL, finished_at=now)
        OutboxMessage.objects.filter(contact=contact, campaign_id__in=campaign_ids, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.CANCELLED, hold_reason=HoldReason.GOAL
        )
    return ended


def _goal_sweep(campaign: OutreachCampaign, now: datetime) -> int:
    """Set-based goal check: active journeys whose contact converted since enrolling end."""
    if not campaign.goal_conversion:
        return 0
    converted = _conversions(campaign, campaign.goal_conversion)
    ids = CampaignEnrollment.objects.filter(campaign=campaign, state=EnrollmentState.ACTIVE).filter(converted)
    contact_ids = ids.values("contact_id")
    OutboxMessage.objects.filter(campaign=campaign, contact_id__in=contact_ids, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.CANCELLED, hold_reason=HoldReason.GOAL
    )
    return ids.update(state=EnrollmentState.GOAL, finished_at=now)


def campaign_advance(*, campaign: OutreachCampaign, now: datetime | None = None) -> int:
    """Move journeys past finished sends, elapsed waits and decided branches (set-based, a few
    UPDATEs per step); repeated until nothing moves. Returns the number of moves."""
    now = now or timezone.now()
    steps = list(campaign.steps.order_by("position"))
    by_position = {step.position: step for step in steps}
    last = steps[-1].position if steps else 0
    moved_total = _goal_sweep(campaign, now)
    for _ in range(len(steps) + 1):
        moved = 0
        for step in steps:
            at_step = CampaignEnrollment.objects.filter(
                campaign=campaign, state=EnrollmentState.ACTIVE, position=step.position
            )
            nxt = step.position + 1
            if step.kind == StepKind.SEND:
                done = OutboxMessage.objects.filter(
                    step=step,
                    contact_id=OuterRef("contact_id"),
                    status__in=(OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED, OutboxStatus.CANCELLED),
                )
                moved += at_step.filter(Exists(done)).update(position=nxt, step_entered_at=now)
            elif step.kind == StepKind.WAIT:
                cutoff = now - timedelta(hours=step.wait_hours)
                moved += at_step.filter(step_entered_at__lte=cutoff).update(position=nxt, step_entered_at=now)
            else:
                moved += _branch(campaign, step, at_step, by_position, now)
        moved += CampaignEnrollment.objects.filter(
            campaign=campaign, state=EnrollmentState.ACTIVE, position__gt=last
        ).update(state=EnrollmentState.COMPLETED, finished_at=now)
        moved_total += moved
        if not moved:
            break
    return moved_total


def _branch(campaign, step, at_step, by_position, now) -> int:
    source = (
        CampaignStep.objects.filter(campaign=campaign, kind=StepKind.SEND, position__lt=step.position)
        .order_by("-position")
        .first()
    )
    yes = step.goto_position or step.position + 1
    no = step.else_position or step.position + 1
    elapsed = now - timedelta(hours=step.within_hours)
    if step.branch_on == BranchOn.CONVERSION:
        condition = _conversions(campaign, campaign.goal_conversion or None)
    elif source is None:
        return at_step.update(position=no, step_entered_at=now)
    else:
        condition = _engaged(source, step.branch_on, elapsed)
    if step.branch_on == BranchOn.NO_RESPONSE:
        # Silence is only known once the time is up; a response moves on at once.
        moved = at_step.filter(step_entered_at__lte=elapsed).filter(condition).update(position=yes, step_entered_at=now)
        return moved + at_step.exclude(condition).update(position=no, step_entered_at=now)
    moved = at_step.filter(condition).update(position=yes, step_entered_at=now)
    return moved + at_step.filter(step_entered_at__lte=elapsed).update(position=no, step_entered_at=now)


# --- planning a send step ---------------------------------------------------------------------
def _values(rows: list[tuple], types: str) -> tuple[str, list]:
    """A VALUES list usable in a CTE on PostgreSQL and SQLite; the first row carries casts."""
    params: list = []
    parts = []
    for index, row in enumerate(rows):
        cells = []
        for value, kind in zip(row, types, strict=True):
            params.append(value)
            if index == 0 and connection.vendor == "postgresql":
                cells.append(
                    {
                        "s": "%s::text",
                        "i": "%s::integer",
                        "f": "%s::double precision",
                        "t": "%s::timestamptz",
                        "d": "%s::numeric",
                    }[kind]
                )
            else:
                cells.append("%s")
        parts.append(f"({', '.join(cells)})")
    return "VALUES " + ", ".join(parts), params


def _step_channels(step: CampaignStep) -> list[str]:
    """Channels a send step may use: its fixed channel, or (auto) those it has a template for,
    without manual-only channels."""
    if step.channel != AUTO:
        return [step.channel]
    channels = sorted(set(step.templates.values_list("channel", flat=True)))
    return [c for c in channels if c not in MANUAL_ONLY]


def _spent_today(campaign: OutreachCampaign, day) -> Decimal:
    """Money the campaign already spent on `day`."""
    return CampaignSpend.objects.filter(campaign=campaign, day=day).aggregate(c=Sum("cost"))["c"] or Decimal("0")


def step_plan(*, step: CampaignStep, now: datetime | None = None) -> dict:
    """Plan `step` for every journey waiting at it in one INSERT … SELECT that writes the
    planned sends and the journeys held back. Returns {"planned": n, "held": n}."""
    now = now or timezone.now()
    with transaction.atomic():
        # Serialise planners of one step (duplicated beat tick): the anti-join on the outbox
        # then sees every row a concurrent run wrote, so the insert needs no ON CONFLICT (the
        # unique key still refuses a duplicate). NO KEY: FK checks on the step are not blocked.
        list(CampaignStep.objects.select_for_update(no_key=True).filter(pk=step.pk).values_list("pk", flat=True))
        built = step_plan_sql(step=step, now=now)
        if built is None:
            return {"planned": 0, "held": 0}
        sql, params, _channels, _window_channels, test = built
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Hashes and the per-contact ranking stay in memory; JIT compiling this
                # statement costs more than it saves.
                cursor.execute(f"SET LOCAL work_mem = '{PLAN_WORK_MEM}'")
                cursor.execute("SET LOCAL jit = off")
                cursor.execute(sql, params)
                total, held = cursor.fetchone()
            else:
                cursor.execute(sql, params)
                statuses = [row[0] for row in cursor.fetchall()]
                total, held = len(statuses), statuses.count(OutboxStatus.SKIPPED)
        if test is not None and total:
            # The arms the statement assigned are the experiment's exposures, held rows included
            # (intention to treat: an arm whose channel cannot reach a contact is part of its effect).
            planned = OutboxMessage.objects.filter(step=step, created_at=now).exclude(send_arm="")
            exposures_add_from(test=test, **_exposure_source(planned), now=now)
    return {"planned": total - held, "held": held}


def _exposure_source(planned) -> dict:
    sql, params = planned.order_by().values("contact_id", arm=F("send_arm")).query.sql_with_params()
    return {"source_sql": sql, "params": list(params)}


def step_plan_sql(*, step: CampaignStep, now: datetime):
    """The planning statement for a step: (sql, params, channels, window channels, the running
    send experiment whose arms it assigns or None), or None when there is nothing to plan. On
    PostgreSQL it returns one row (rows written, rows held); elsewhere the status of each row
    written. With a running send experiment each waiting contact gets its arm (the one it was
    exposed to before, else a deterministic weighted bucket of its id) and is planned in the arm's
    window, on its weekdays and channel."""
    campaign = step.campaign
    own_channels = _step_channels(step)
    arms = campaign.send_arms(fresh=True)
    testing = len(arms) > 1
    if not testing and arms[0].channel_for(step.pk):  # a rolled-out channel experiment's winner
        own_channels = [arms[0].channel_for(step.pk)]
    # Each arm's channels for this step: the channel an arm names, or the step's own.
    arm_channels = {arm.key: [arm.channel_for(step.pk)] if arm.channel_for(step.pk) else own_channels for arm in arms}
    channels = sorted({c for listed in arm_channels.values() for c in listed}, key=lambda c: (c not in own_channels, c))
    if not own_channels or not channels:
        return None
    zones = list(
        Contact.objects.filter(enrollments__campaign=campaign, enrollments__position=step.position)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    if not zones:
        return None
    start, end = arms[0].start, arms[0].end  # without an experiment: the campaign's (or the winner's)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=6)
    costs = channel_costs()
    rates = population_rates()
    (g_day, g_week), per_channel = frequency_caps()
    pop_hour = population_best_hour(default=start)

    # Budget: how many rows and how much money may still be planned today.
    remaining_volume = NO_CAP
    if campaign.daily_volume_cap is not None:
        planned_today = OutboxMessage.objects.filter(
            campaign=campaign, created_at__gte=day_start, status__in=ACTIVE_OUTBOX
        ).count()
        remaining_volume = max(campaign.daily_volume_cap - planned_today, 0)
    remaining_spend = Decimal(NO_CAP)
    if campaign.daily_spend_cap is not None:
        committed = OutboxMessage.objects.filter(
            campaign=campaign, created_at__gte=day_start, status__in=(OutboxStatus.PENDING, OutboxStatus.CLAIMED)
        ).aggregate(c=Sum("cost"))["c"] or Decimal("0")
        remaining_spend = max(campaign.daily_spend_cap - _spent_today(campaign, now.date()) - committed, Decimal("0"))

    # `deferred`: quiet hours moved the send (preferred hour outside the window, or to another day).
    tz_rows = [
        (index, name, hour, _dt(instant),
         int(not arm.start <= hour < arm.end or _local_day(instant, name) != _local_day(now, name)))
        for index, arm in enumerate(arms)
        for name, hour, instant in send_instants(zones=zones, start=arm.start, end=arm.end, now=now, days=arm.weekdays)
    ]  # fmt: skip
    tz_sql, tz_params = _values(tz_rows, "isiti")
    window_channels = [c for c in channels if c in WINDOW_CHANNELS]
    whatsapp_templated = step.templates.filter(channel=Channel.WHATSAPP).exclude(whatsapp_template="").exists()
    if not whatsapp_templated and Channel.WHATSAPP in channels:
        window_channels.append(Channel.WHATSAPP)
    # Money goes to SQL as float: SQLite would compare Decimal parameters as text.
    ch_rows = [
        (c, rates[c], float(costs[c]), per_channel[c][0], per_channel[c][1], int(c in window_channels),
         int(c in own_channels))
        for c in channels
    ]  # fmt: skip
    ch_sql, ch_params = _values(ch_rows, "sffiiii")
    # A running send-time or channel experiment: each waiting contact's arm (the one it was exposed
    # to before, else a deterministic weighted bucket), with the arm's window and channel.
    # A running send experiment: each waiting contact's arm (by its index in `arms`: the arm it was
    # exposed to before, else a deterministic weighted bucket of its id), with the arm's window and
    # channel. Everything but the arms' keys goes in as integer literals (and channel names checked
    # against the choices), so the join order stays the planner's usual hash joins.
    arm_params: list = []
    if testing:
        test_id = int(arms[0].test_id)
        total = sum(arm.weight for arm in arms) or 1.0
        bucket = f"((e.contact_id * 2246822519 + {test_id} * 3266489917) %% 1000033) %% 10000"
        edges, picks, exposed, reach = 0.0, [], [], []
        for index, arm in enumerate(arms):
            edges += arm.weight / total
            if index < len(arms) - 1:
                picks.append(f"WHEN {bucket} < {round(edges * 10_000)} THEN {index}")
            exposed.append(f"WHEN {int(arm.variant_id)} THEN {index}")
            channel = arm.channel_for(step.pk)
            if channel and channel not in Channel.values:
                raise ValueError(f"Unknown channel {channel!r} in a send experiment's arm.")
            reach.append(f"(w.aidx = {index} AND u.channel = '{channel}')" if channel
                         else f"(w.aidx = {index} AND u.own = 1)")  # fmt: skip
        exposure = ABTestExposure._meta.db_table
        arm_cols = f", COALESCE(xa.aidx, CASE {' '.join(picks)} ELSE {len(arms) - 1} END) AS aidx"
        arm_joins = f"""
        LEFT JOIN (SELECT x.contact_id, MIN(CASE x.variant_id {" ".join(exposed)} END) AS aidx FROM {exposure} x
                   WHERE x.test_id = {test_id} GROUP BY x.contact_id) xa ON xa.contact_id = e.contact_id"""
        starts = " ".join(f"WHEN {i} THEN {int(arm.start)}" for i, arm in enumerate(arms))
        ends = " ".join(f"WHEN {i} THEN {int(arm.end)}" for i, arm in enumerate(arms))
        cand_arm = f", w.aidx, CASE w.aidx {starts} END AS astart, CASE w.aidx {ends} END AS aend"
        usable_on = f"AND ({' OR '.join(reach)})"
        start_sql, end_sql, span_sql, tz_arm = "x.astart", "x.aend", "(aend - astart)", "AND t.aidx = x.aidx"
        akey_sql = f"CASE x.aidx {' '.join(f'WHEN {i} THEN %s' for i in range(len(arms)))} END"
        arm_params = [arm.key for arm in arms]
        pref_start = "astart"
    else:
        arm_cols, arm_joins, cand_arm = "", "", ""
        usable_on = ""
        start_sql, end_sql, span_sql, tz_arm, akey_sql, pref_start = (
            str(start),
            str(end),
            str(end - start),
            "",
            "''",
            str(start),
        )
    outbox = OutboxMessage._meta.db_table
    enrollment = CampaignEnrollment._meta.db_table
    contact = Contact._meta.db_table
    identity = ContactIdentity._meta.db_table
    consent = ContactConsent._meta.db_table
    engagement = ContactEngagement._meta.db_table
    suppression = SuppressionEntry._meta.db_table
    # Entries an erasure left as digests are matched by the identity's digest: computed only when
    # there are any (each costs a hash per audience row).
    if SuppressionEntry.objects.has_digests():
        usable_digest = f"{digest_sql('i.value', connection.vendor)} AS value_digest"
        digest_join = f"LEFT JOIN {suppression} sd ON sd.channel IN ('', u.channel) AND sd.value = u.value_digest"
        digest_clear = "AND sd.value IS NULL"
        suppressed_match = f"s.value IN (i.value, {digest_sql('i.value', connection.vendor)})"
    else:
        usable_digest, digest_join, digest_clear, suppressed_match = "NULL AS value_digest", "", "", "s.value = i.value"
    direct = DirectSend._meta.db_table  # sends by the API and agents count against the caps too
    direct_counted = ", ".join(f"'{status}'" for status in DIRECT_COUNTED)
    channel_in = ", ".join(["%s"] * len(channels))
    sto = int(campaign.sto_enabled)
    # Running totals only when a budget needs them (they order the whole audience).
    seq_sql = (
        "SUM(b.eligible) OVER (ORDER BY b.contact_id ROWS UNBOUNDED PRECEDING)" if remaining_volume < NO_CAP else "0"
    )
    running_sql = (
        "SUM(CASE WHEN b.eligible = 1 THEN b.cost ELSE 0 END) OVER (ORDER BY b.contact_id ROWS UNBOUNDED PRECEDING)"
        if remaining_spend < Decimal(NO_CAP)
        else "0"
    )
    insert = f"""INSERT INTO {outbox} (campaign_id, step_id, contact_id, channel, status, due_at, reason,
                          channel_score, hold_reason, sto_arm, claimed_by, attempts, fallback_from, variant_key,
                          send_arm, cost, error, created_at)"""
    # One row per (waiting contact, usable step channel) — or one row with no channel — then
    # the best row per contact: a planned send (eligible and under the caps), a 'skipped' row
    # naming the guard (nothing eligible), or nothing (held by a cap: planned another day).
    select = f"""
    tz(aidx, tzname, hour, due, deferred) AS ({tz_sql}),
    ch(channel, rate, cost, cap_day, cap_week, windowed, own) AS ({ch_sql}),
    waiting AS (
        SELECT e.contact_id, c.timezone{arm_cols}
        FROM {enrollment} e JOIN {contact} c ON c.id = e.contact_id{arm_joins}
        WHERE e.campaign_id = %s AND e.state = 'active' AND e.position = %s
          AND NOT EXISTS (SELECT 1 FROM {outbox} o
                          WHERE o.step_id = %s AND o.contact_id = e.contact_id AND o.campaign_id = %s)
    ),
    load AS (
        SELECT o.contact_id, o.channel,
               SUM(CASE WHEN o.due_at >= %s THEN 1 ELSE 0 END) AS day_n, COUNT(*) AS week_n
        FROM {outbox} o
        WHERE o.due_at >= %s AND o.status IN ('pending', 'claimed', 'sent')
        GROUP BY o.contact_id, o.channel
    ),
    direct_load AS (
        SELECT d.contact_id, d.channel,
               SUM(CASE WHEN d.due_at >= %s THEN 1 ELSE 0 END) AS day_n, COUNT(*) AS week_n
        FROM {direct} d
        WHERE d.due_at >= %s AND d.status IN ({direct_counted}) AND d.channel <> ''
        GROUP BY d.contact_id, d.channel
    ),
    load_all AS (
        SELECT contact_id, SUM(day_n) AS day_n, SUM(week_n) AS week_n
        FROM (SELECT contact_id, day_n, week_n FROM load
              UNION ALL SELECT contact_id, day_n, week_n FROM direct_load) AS both_loads
        GROUP BY contact_id
    ),
    usable AS (
        SELECT i.contact_id, i.channel, i.value, {usable_digest}, i.last_inbound_at, ch.rate, ch.cost, ch.cap_day,
               ch.cap_week, ch.windowed, ch.own
        FROM {identity} i JOIN ch ON ch.channel = i.channel
        WHERE i.is_valid
    ),
    cand AS (
        SELECT w.contact_id, w.timezone{cand_arm}, u.channel, u.cost, g.best_hour,
               CASE WHEN g.sent >= {MIN_HISTORY} THEN (g.responses * 1.0) / g.sent ELSE u.rate END AS score,
               CASE WHEN g.sent >= {MIN_HISTORY} THEN 'contact' ELSE 'population' END AS why,
               CASE WHEN cs.contact_id IS NOT NULL AND sa.value IS NULL AND sc.value IS NULL {digest_clear}
                         AND (u.windowed = 0 OR u.last_inbound_at >= %s) THEN 1 ELSE 0 END AS eligible,
               CASE WHEN COALESCE(l.day_n, 0) + COALESCE(dl.day_n, 0) >= u.cap_day
                      OR COALESCE(l.week_n, 0) + COALESCE(dl.week_n, 0) >= u.cap_week
                      OR COALESCE(la.day_n, 0) >= %s OR COALESCE(la.week_n, 0) >= %s
                    THEN 1 ELSE 0 END AS capped
        FROM waiting w
        LEFT JOIN usable u ON u.contact_id = w.contact_id {usable_on}
        LEFT JOIN {consent} cs ON cs.contact_id = w.contact_id AND cs.channel = u.channel AND cs.status = 'opted_in'
        LEFT JOIN {suppression} sa ON sa.channel = '' AND sa.value = u.value
        LEFT JOIN {suppression} sc ON sc.channel = u.channel AND sc.value = u.value
        {digest_join}
        LEFT JOIN {engagement} g ON g.contact_id = w.contact_id AND g.channel = u.channel
        LEFT JOIN load l ON l.contact_id = w.contact_id AND l.channel = u.channel
        LEFT JOIN direct_load dl ON dl.contact_id = w.contact_id AND dl.channel = u.channel
        LEFT JOIN load_all la ON la.contact_id = w.contact_id
    ),
    ranked AS (
        SELECT cand.*, ROW_NUMBER() OVER (
            PARTITION BY contact_id ORDER BY eligible DESC, capped, score DESC, cost, channel) AS rn
        FROM cand
    ),
    best AS (
        SELECT b.*, {seq_sql} AS seq, {running_sql} AS running_cost,
               CASE WHEN {sto} = 1 AND ((b.contact_id * 40503 + %s * 104729) %% 999983) %% 100 >= %s THEN 'sto'
                    WHEN {sto} = 1 THEN 'control' ELSE '' END AS arm
        FROM ranked b WHERE b.rn = 1 AND NOT (b.eligible = 1 AND b.capped = 1)
    ),
    timed AS (
        SELECT best.*,
               CASE WHEN arm = 'sto' THEN COALESCE(best_hour, %s) ELSE {pref_start} + (contact_id %% {span_sql}) END
                 AS pref
        FROM best
        WHERE eligible = 0 OR (seq <= %s AND running_cost <= %s)
    )
    {insert}
    SELECT %s, %s, x.contact_id,
           CASE WHEN x.eligible = 1 THEN x.channel ELSE %s END,
           CASE WHEN x.eligible = 1 THEN 'pending' ELSE 'skipped' END,
           CASE WHEN x.eligible = 1 THEN COALESCE(t.due, %s) ELSE %s END,
           CASE WHEN x.eligible = 0 THEN 'held' WHEN %s = 'auto' THEN x.why ELSE 'fixed' END,
           CASE WHEN x.eligible = 1 THEN x.score END,
           CASE WHEN x.eligible = 0 THEN
                    CASE WHEN EXISTS (SELECT 1 FROM {identity} i JOIN {suppression} s ON {suppressed_match}
                                      WHERE i.contact_id = x.contact_id AND i.channel IN ({channel_in}))
                              THEN 'suppressed'
                         WHEN EXISTS (SELECT 1 FROM {consent} c WHERE c.contact_id = x.contact_id
                                      AND c.channel IN ({channel_in}) AND c.status = 'unsubscribed')
                              THEN 'unsubscribed'
                         ELSE 'no_channel' END
                WHEN t.deferred = 1 OR x.pref < {start_sql} OR x.pref >= {end_sql} THEN 'quiet_hours'
                ELSE '' END,
           CASE WHEN x.eligible = 1 THEN x.arm ELSE '' END, '', 0, '[]', '',
           {akey_sql},
           CASE WHEN x.eligible = 1 THEN x.cost ELSE 0 END, '', %s
    FROM timed x
    LEFT JOIN tz t ON t.tzname = x.timezone {tz_arm} AND t.hour = (
        CASE WHEN x.pref < {start_sql} THEN {start_sql} WHEN x.pref >= {end_sql} THEN {end_sql} - 1 ELSE x.pref END)
    """
    params = [
        *tz_params,
        *ch_params,
        campaign.pk,
        step.position,
        step.pk,
        campaign.pk,
        _dt(day_start),
        _dt(week_start),
        _dt(day_start),
        _dt(week_start),
        _dt(now - MESSAGING_WINDOW),
        g_day,
        g_week,
        campaign.pk,
        campaign.sto_control_percent,
        pop_hour,
        remaining_volume,
        float(remaining_spend),
        campaign.pk,
        step.pk,
        own_channels[0],
        _dt(now),
        _dt(now),
        step.channel,
        *channels,
        *channels,
        *arm_params,
        _dt(now),
    ]
    if connection.vendor == "postgresql":
        # A data-modifying CTE: the counts come back without shipping the rows.
        ins_at = select.index(insert)
        sql = (
            f"WITH {select[:ins_at]}, ins AS ({select[ins_at:]} RETURNING status)\n"
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END), 0) FROM ins"
        )
    else:
        sql = f"WITH {select} RETURNING status"
    return sql, params, channels, window_channels, ABTest.objects.get(pk=arms[0].test_id) if testing else None


# --- the daily run ------------------------------------------------------------------------------
def campaign_plan(*, campaign: OutreachCampaign, now: datetime | None = None) -> dict:
    """One planning pass of a running campaign: enroll (first run or recurring), advance
    journeys, plan each send step, complete the campaign when every journey has ended."""
    now = now or timezone.now()
    enrolled = 0
    if campaign.recurring or not campaign.enrollments.exists():
        enrolled = campaign_enroll(campaign=campaign, now=now)
    moved = campaign_advance(campaign=campaign, now=now)
    planned = held = 0
    for step in campaign.steps.filter(kind=StepKind.SEND).order_by("position"):
        result = step_plan(step=step, now=now)
        planned += result["planned"]
        held += result["held"]
    if planned or held:
        moved += campaign_advance(campaign=campaign, now=now)
    if campaign.recurring:
        finished = campaign.ends_at is not None and campaign.ends_at <= now
    else:
        finished = not campaign.enrollments.filter(state=EnrollmentState.ACTIVE).exists()
    if finished and campaign.status == CampaignStatus.RUNNING:
        campaigns.campaign_complete(campaign=campaign, actor="planner")
    return {"enrolled": enrolled, "moved": moved, "planned": planned, "held": held}


def campaigns_plan(*, now: datetime | None = None, progress=None) -> dict:
    """Plan every running campaign (and start scheduled ones whose time has come)."""
    now = now or timezone.now()
    campaigns.campaign_start_due(now=now)
    totals = {"campaigns": 0, "enrolled": 0, "moved": 0, "planned": 0, "held": 0}
    for campaign in OutreachCampaign.objects.filter(status=CampaignStatus.RUNNING).select_related("segment"):
        result = campaign_plan(campaign=campaign, now=now)
        totals["campaigns"] += 1
        for key, value in result.items():
            totals[key] += value
        if progress:
            progress(campaign, result)
    return totals
