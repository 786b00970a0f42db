"""The daily planner: enroll the audience, move journeys forward, plan the day's sends.

Everything here is set-based: one `INSERT … SELECT` plans a send step for a whole audience,
with consent, suppression, deduplication (ON CONFLICT on the outbox's unique key), frequency
caps, budget, channel selection and the send time (quiet hours + STO) applied in SQL. Time
zones are handled exactly (DST included) without database time-zone support: for every time
zone present in the audience, Python computes the UTC instant of each of the 24 local hours
(`send_instants`), and the SQL joins on (time zone, hour).
"""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from madansara.choices import Channel
from outreach.models import (
    AUTO,
    BranchOn,
    CampaignEnrollment,
    CampaignSpend,
    CampaignStatus,
    CampaignStep,
    ChannelCost,
    Contact,
    ContactConsent,
    ContactEngagement,
    ContactIdentity,
    EnrollmentState,
    FrequencyCap,
    HoldReason,
    OutboxMessage,
    OutboxStatus,
    OutreachCampaign,
    StepKind,
    SuppressionEntry,
)

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


# --- time -------------------------------------------------------------------------------
def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def send_instant(*, tzname: str, hour: int, start: int, end: int, now: datetime) -> datetime:
    """When to send for a preferred local `hour` (clamped to [start, end)): today at that hour,
    now if that hour has passed but the window is still open, else the next day's window start.
    Quiet hours defer a send to the window edge, never drop it. DST-exact."""
    zone = _zone(tzname)
    hour = min(max(hour, start), end - 1)
    local_now = now.astimezone(zone)
    day = local_now.date()
    for offset in range(3):
        d = day + timedelta(days=offset)
        candidate = datetime(d.year, d.month, d.day, hour, tzinfo=zone)
        window_end = datetime(d.year, d.month, d.day, tzinfo=zone) + timedelta(hours=end)
        if candidate >= now:
            return candidate.astimezone(timezone.UTC)
        if offset == 0 and now < window_end.astimezone(timezone.UTC) and local_now.hour >= start:
            return now
        hour = start if offset == 0 else hour
    return now  # unreachable: the next day always has the window


def _local_day(moment: datetime, tzname: str):
    return moment.astimezone(_zone(tzname)).date()


def in_quiet_hours(*, tzname: str, start: int, end: int, now: datetime) -> bool:
    """Is `now` outside the sending window [start, end) in the zone?"""
    return not (start <= now.astimezone(_zone(tzname)).hour < end)


def send_instants(*, zones: list[str], start: int, end: int, now: datetime) -> list[tuple[str, int, datetime]]:
    """(zone, hour, utc instant) for each zone and each hour 0-23 (clamped into the window)."""
    return [
        (name, hour, send_instant(tzname=name, hour=hour, start=start, end=end, now=now))
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
    from outreach.selectors import segment_contacts

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
    from conversion.models import ConversionEvent

    events = ConversionEvent.objects.filter(contact_id=OuterRef("contact_id"), occurred_at__gte=OuterRef("enrolled_at"))
    if code:
        events = events.filter(conversion_type__code=code)
    return Exists(events)


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
    try:
        converted = _conversions(campaign, campaign.goal_conversion)
    except ImportError:
        return 0
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
    """Plan `step` for every journey waiting at it, in one INSERT … SELECT (plus one for the
    contacts held back). Returns {"planned": n, "held": n}."""
    now = now or timezone.now()
    built = step_plan_sql(step=step, now=now)
    if built is None:
        return {"planned": 0, "held": 0}
    sql, params, channels, window_channels = built
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        planned = _rowcount(cursor)
        held = _hold_unreachable(step=step, channels=channels, window_channels=window_channels, now=now)
    return {"planned": planned, "held": held}


def step_plan_sql(*, step: CampaignStep, now: datetime):
    """The planning INSERT … SELECT for a step: (sql, params, channels, window channels), or
    None when there is nothing to plan."""
    campaign = step.campaign
    channels = _step_channels(step)
    if not channels:
        return None
    zones = list(
        Contact.objects.filter(enrollments__campaign=campaign, enrollments__position=step.position)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    if not zones:
        return None
    start, end = campaign.window_start_hour, campaign.window_end_hour
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

    instants = send_instants(zones=zones, start=start, end=end, now=now)
    # `deferred`: quiet hours moved the send (preferred hour outside the window, or to another day).
    tz_rows = [
        (name, hour, _dt(instant), int(not start <= hour < end or _local_day(instant, name) != _local_day(now, name)))
        for name, hour, instant in instants
    ]
    tz_sql, tz_params = _values(tz_rows, "siti")
    # Money goes to SQL as float: SQLite would compare Decimal parameters as text.
    ch_rows = [(c, rates[c], float(costs[c]), per_channel[c][0], per_channel[c][1]) for c in channels]
    ch_sql, ch_params = _values(ch_rows, "sffii")

    outbox = OutboxMessage._meta.db_table
    enrollment = CampaignEnrollment._meta.db_table
    contact = Contact._meta.db_table
    identity = ContactIdentity._meta.db_table
    consent = ContactConsent._meta.db_table
    engagement = ContactEngagement._meta.db_table
    suppression = SuppressionEntry._meta.db_table
    window_since = _dt(now - MESSAGING_WINDOW)
    window_channels = [c for c in channels if c in WINDOW_CHANNELS]
    whatsapp_templated = step.templates.filter(channel=Channel.WHATSAPP).exclude(whatsapp_template="").exists()
    if not whatsapp_templated and Channel.WHATSAPP in channels:
        window_channels.append(Channel.WHATSAPP)
    window_in = ", ".join(["%s"] * len(window_channels)) or "''"
    sto = campaign.sto_enabled
    span = end - start
    # Window functions only when a budget needs them (they sort the whole audience).
    seq_sql = "ROW_NUMBER() OVER (ORDER BY r.contact_id)" if remaining_volume < NO_CAP else "0"
    running_sql = (
        "SUM(r.cost) OVER (ORDER BY r.contact_id ROWS UNBOUNDED PRECEDING)"
        if remaining_spend < Decimal(NO_CAP)
        else "0"
    )

    sql = f"""
    WITH tz(tzname, hour, due, deferred) AS ({tz_sql}),
    ch(channel, rate, cost, cap_day, cap_week) AS ({ch_sql}),
    waiting AS (
        SELECT e.contact_id, c.timezone
        FROM {enrollment} e JOIN {contact} c ON c.id = e.contact_id
        WHERE e.campaign_id = %s AND e.state = 'active' AND e.position = %s
          AND NOT EXISTS (SELECT 1 FROM {outbox} o
                          WHERE o.campaign_id = %s AND o.step_id = %s AND o.contact_id = e.contact_id)
    ),
    load AS (
        SELECT o.contact_id, o.channel,
               SUM(CASE WHEN o.due_at >= %s THEN 1 ELSE 0 END) AS day_n, COUNT(*) AS week_n
        FROM {outbox} o
        WHERE o.due_at >= %s AND o.status IN ('pending', 'claimed', 'sent')
          AND o.contact_id IN (SELECT contact_id FROM waiting)
        GROUP BY o.contact_id, o.channel
    ),
    load_all AS (
        SELECT contact_id, SUM(day_n) AS day_n, SUM(week_n) AS week_n FROM load GROUP BY contact_id
    ),
    cand AS (
        SELECT w.contact_id, w.timezone, i.channel, ch.cost,
               CASE WHEN g.sent >= {MIN_HISTORY} THEN (g.responses * 1.0) / g.sent ELSE ch.rate END AS score,
               CASE WHEN g.sent >= {MIN_HISTORY} THEN 'contact' ELSE 'population' END AS why,
               g.best_hour,
               CASE WHEN COALESCE(l.day_n, 0) >= ch.cap_day OR COALESCE(l.week_n, 0) >= ch.cap_week
                      OR COALESCE(la.day_n, 0) >= %s OR COALESCE(la.week_n, 0) >= %s
                    THEN 1 ELSE 0 END AS capped
        FROM waiting w
        JOIN {identity} i ON i.contact_id = w.contact_id AND i.is_valid
        JOIN ch ON ch.channel = i.channel
        JOIN {consent} cs ON cs.contact_id = w.contact_id AND cs.channel = i.channel AND cs.status = 'opted_in'
        LEFT JOIN {engagement} g ON g.contact_id = w.contact_id AND g.channel = i.channel
        LEFT JOIN load l ON l.contact_id = w.contact_id AND l.channel = i.channel
        LEFT JOIN load_all la ON la.contact_id = w.contact_id
        WHERE NOT EXISTS (SELECT 1 FROM {suppression} s
                          WHERE s.value = i.value AND (s.channel = '' OR s.channel = i.channel))
          AND (i.channel NOT IN ({window_in}) OR i.last_inbound_at >= %s)
    ),
    ranked AS (
        SELECT cand.*, ROW_NUMBER() OVER (
            PARTITION BY contact_id ORDER BY capped, score DESC, cost, channel) AS rn
        FROM cand
    ),
    chosen AS (
        SELECT r.*, {seq_sql} AS seq, {running_sql} AS running_cost,
               CASE WHEN {int(sto)} = 1
                         AND ((r.contact_id * 40503 + %s * 104729) %% 999983) %% 100 >= %s THEN 'sto'
                    WHEN {int(sto)} = 1 THEN 'control' ELSE '' END AS arm
        FROM ranked r WHERE r.rn = 1 AND r.capped = 0
    )
    INSERT INTO {outbox} (campaign_id, step_id, contact_id, channel, status, due_at, reason, channel_score,
                          hold_reason, sto_arm, claimed_by, attempts, fallback_from, variant_key, cost, error,
                          created_at)
    SELECT %s, %s, x.contact_id, x.channel, 'pending', COALESCE(t.due, %s), x.reason, x.score,
           CASE WHEN t.deferred = 1 OR x.pref < {start} OR x.pref >= {end} THEN 'quiet_hours' ELSE '' END, x.arm, '', 0, '[]', '', x.cost, '', %s
    FROM (
        SELECT chosen.*,
               CASE WHEN %s = 'auto' THEN why ELSE 'fixed' END AS reason,
               CASE WHEN arm = 'sto' THEN COALESCE(best_hour, %s)
                    ELSE {start} + (contact_id %% {span}) END AS pref
        FROM chosen
        WHERE seq <= %s AND running_cost <= %s
    ) x
    LEFT JOIN tz t ON t.tzname = x.timezone AND t.hour = (
        CASE WHEN x.pref < {start} THEN {start} WHEN x.pref >= {end} THEN {end - 1} ELSE x.pref END)
    WHERE x.contact_id IS NOT NULL
    ON CONFLICT DO NOTHING
    """
    params = [
        *tz_params,
        *ch_params,
        campaign.pk,
        step.position,
        campaign.pk,
        step.pk,
        _dt(day_start),
        _dt(week_start),
        g_day,
        g_week,
        *window_channels,
        window_since,
        campaign.pk,
        campaign.sto_control_percent,
        campaign.pk,
        step.pk,
        _dt(now),
        _dt(now),
        step.channel,
        pop_hour,
        remaining_volume,
        float(remaining_spend),
    ]
    return sql, params, channels, window_channels


def _hold_unreachable(*, step, channels, window_channels, now) -> int:
    """Journeys at `step` with no usable channel at all get a 'skipped' row naming the guard
    that held them back (so results report it and the journey moves on), in one INSERT …
    SELECT. Journeys held only by a frequency cap or the budget get no row: they are planned
    again on a later day."""
    campaign = step.campaign
    outbox = OutboxMessage._meta.db_table
    identity = ContactIdentity._meta.db_table
    consent = ContactConsent._meta.db_table
    suppression = SuppressionEntry._meta.db_table
    channel_in = ", ".join(["%s"] * len(channels))
    window_in = ", ".join(["%s"] * len(window_channels)) or "''"
    sql = f"""
        INSERT INTO {outbox} (campaign_id, step_id, contact_id, channel, status, due_at, reason, hold_reason,
                              sto_arm, claimed_by, attempts, fallback_from, variant_key, cost, error, created_at)
        SELECT %s, %s, e.contact_id, %s, 'skipped', %s, 'held',
               CASE WHEN EXISTS (SELECT 1 FROM {identity} i JOIN {suppression} s ON s.value = i.value
                                 WHERE i.contact_id = e.contact_id AND i.channel IN ({channel_in}))
                         THEN 'suppressed'
                    WHEN EXISTS (SELECT 1 FROM {consent} c WHERE c.contact_id = e.contact_id
                                 AND c.channel IN ({channel_in}) AND c.status = 'unsubscribed')
                         THEN 'unsubscribed'
                    ELSE 'no_channel' END,
               '', '', 0, '[]', '', 0, '', %s
        FROM {CampaignEnrollment._meta.db_table} e
        WHERE e.campaign_id = %s AND e.state = 'active' AND e.position = %s
          AND NOT EXISTS (SELECT 1 FROM {outbox} o
                          WHERE o.campaign_id = %s AND o.step_id = %s AND o.contact_id = e.contact_id)
          AND NOT EXISTS (
              SELECT 1 FROM {identity} i
              JOIN {consent} cs ON cs.contact_id = i.contact_id AND cs.channel = i.channel AND cs.status = 'opted_in'
              WHERE i.contact_id = e.contact_id AND i.is_valid AND i.channel IN ({channel_in})
                AND (i.channel NOT IN ({window_in}) OR i.last_inbound_at >= %s)
                AND NOT EXISTS (SELECT 1 FROM {suppression} s
                                WHERE s.value = i.value AND (s.channel = '' OR s.channel = i.channel)))
        ON CONFLICT DO NOTHING
    """
    params = [
        campaign.pk, step.pk, channels[0], _dt(now),
        *channels, *channels, _dt(now),
        campaign.pk, step.position, campaign.pk, step.pk,
        *channels, *window_channels, _dt(now - MESSAGING_WINDOW),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _rowcount(cursor)


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
        from outreach.services.campaigns import campaign_complete

        campaign_complete(campaign=campaign, actor="planner")
    return {"enrolled": enrolled, "moved": moved, "planned": planned, "held": held}


def campaigns_plan(*, now: datetime | None = None, progress=None) -> dict:
    """Plan every running campaign (and start scheduled ones whose time has come)."""
    from outreach.services.campaigns import campaign_start_due

    now = now or timezone.now()
    campaign_start_due(now=now)
    totals = {"campaigns": 0, "enrolled": 0, "moved": 0, "planned": 0, "held": 0}
    for campaign in OutreachCampaign.objects.filter(status=CampaignStatus.RUNNING).select_related("segment"):
        result = campaign_plan(campaign=campaign, now=now)
        totals["campaigns"] += 1
        for key, value in result.items():
            totals[key] += value
        if progress:
            progress(campaign, result)
    return totals
