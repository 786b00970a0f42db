"""Funnel computation: one SQL statement on PostgreSQL, the reference engine elsewhere.

PostgreSQL: events matching any step arrive per person in time order (index-only scans of
`website_event_funnel` merged, no sort, unless a breakdown join or strict mode needs every
event); step k keeps, per event, the latest start of a valid chain ending at step k-1
strictly before it (a window `max` for sequential, `lag` over all events for strict, a RANGE
window for any order).
The per-person result lands in a temporary table that the counts, medians, breakdown and
drop-off lists read.
"""

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from website.funnel_engine import FunnelResult, PersonEvent, PersonProgress, aggregate, person_progress

BREAKDOWNS = ("device", "browser", "source", "customer_type", "visitor_type")
DROPPED_LIMIT = 1000


@dataclass(frozen=True)
class FunnelSpec:
    """What to compute: steps, order mode, window, range of entry and optional breakdown."""

    site_id: int
    steps: list[dict]
    mode: str
    window: timedelta
    start: datetime
    end: datetime
    breakdown: str = ""
    labels: tuple[str, ...] = ()

    @classmethod
    def for_funnel(cls, funnel, *, start: datetime, end: datetime, breakdown: str = "") -> "FunnelSpec":
        return cls(
            site_id=funnel.site_id,
            steps=funnel.steps,
            mode=funnel.order_mode,
            window=funnel.window,
            start=start,
            end=end,
            breakdown=breakdown,
            labels=tuple(funnel.step_labels()),
        )


def validate_breakdown(breakdown: str) -> str:
    """'' or one of BREAKDOWNS or 'variant:<experiment key>'; raises ValueError otherwise."""
    if breakdown and breakdown not in BREAKDOWNS and not re.fullmatch(r"variant:[\w.-]{1,100}", breakdown):
        raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)} or variant:<experiment key>.")
    return breakdown


def _json_text(value) -> str:
    """How PostgreSQL's ->> renders a JSON scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _glob_like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def glob_regex(pattern: str) -> re.Pattern:
    """A URL pattern where * matches anything, as a compiled regular expression."""
    return re.compile("^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$")


def step_matches(step: dict, *, name: str, path: str, url: str, props: dict) -> bool:
    """Python twin of the SQL step condition."""
    if step.get("url"):
        target = url if "://" in step["url"] else path
        return name == "pageview" and bool(glob_regex(step["url"]).match(target))
    if name != step["event"]:
        return False
    return all(
        key in props and not isinstance(props[key], dict | list) and _json_text(props[key]) == _json_text(value)
        for key, value in (step.get("filters") or {}).items()
    )


def _step_sql(step: dict) -> tuple[str, list]:
    if step.get("url"):
        column = "e.url" if "://" in step["url"] else "e.path"
        return f"(e.name = 'pageview' AND {column} LIKE %s)", [_glob_like(step["url"])]
    sql, params = ["e.name = %s"], [step["event"]]
    for key, value in (step.get("filters") or {}).items():
        sql.append("e.props ->> %s = %s")
        params += [key, _json_text(value)]
    return "(" + " AND ".join(sql) + ")", params


def _breakdown_sql(spec: FunnelSpec) -> tuple[str, str, list]:
    """(expression, join clause, join params) for the breakdown value of an event."""
    session_join = "LEFT JOIN website_websitesession s ON s.site_id = e.site_id AND s.session_key = e.session_id"
    match spec.breakdown:
        case "":
            return "''", "", []
        case "device" | "browser":
            return f"e.{spec.breakdown}", "", []
        case "source":
            return "s.traffic_class", session_join, []
        case "customer_type":
            return "s.customer_type", session_join, []
        case "visitor_type":
            return "CASE WHEN s.is_returning THEN 'returning' ELSE 'new' END", session_join, []
    join = (
        "LEFT JOIN (SELECT DISTINCT ON (visitor_id) visitor_id, props ->> 'variant' AS variant"
        " FROM website_event WHERE site_id = %s AND name = '$exposure' AND props ->> 'experiment' = %s"
        " ORDER BY visitor_id, occurred_at) x ON x.visitor_id = e.visitor_id"
    )
    return "x.variant", join, [spec.site_id, spec.breakdown.split(":", 1)[1]]


PERSON = "CASE WHEN contact_id IS NOT NULL THEN 'c' || contact_id ELSE 'v' || visitor_id END AS person"
# The integer person key (even: contact id * 2; odd: 63-bit hash of the anonymous id). It is also
# the key expression of the index `website_event_funnel` (migration 0003): keep both textually equal.
PERSON_KEY = "CASE WHEN contact_id IS NOT NULL THEN contact_id * 2 ELSE hashtextextended(visitor_id, 0) | 1 END"
FUNNEL_INDEX = "website_event_funnel"
# A contact's smallest visitor id in code point order, as the reference engine's min(str).
VISITOR = 'min(visitor_id COLLATE "C")'
FUNNEL_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {FUNNEL_INDEX} ON website_event"
    f" (site_id, name, ({PERSON_KEY}), occurred_at, id) INCLUDE (visitor_id, contact_id)"
)


def _step_name(step: dict) -> str:
    return "pageview" if step.get("url") else step["event"]


def _events_sql(spec: FunnelSpec, conditions: list[tuple[str, list]]) -> tuple[str, list]:
    """The events a funnel reads: (pk, visitor_id, contact_id, ts, id, bd, m0.., in_range).

    Without a join, one UNION ALL branch per step event name: each is an index-only scan of
    `website_event_funnel` in (person, time, id) order, so the planner merges the branches
    (Merge Append) instead of sorting millions of rows. Strict mode needs every event.
    """
    bd_expr, bd_join, bd_params = _breakdown_sql(spec)
    person_key = PERSON_KEY.replace("contact_id", "e.contact_id").replace("visitor_id", "e.visitor_id")
    head = f"SELECT {person_key} AS pk, e.visitor_id, e.contact_id, e.occurred_at AS ts, e.id, COALESCE({bd_expr}, '') AS bd"
    if spec.mode == "strict" or bd_join:
        flags = ", ".join(f"{sql} AS m{k}" for k, (sql, _) in enumerate(conditions))
        params = [p for _, step_params in conditions for p in step_params]
        sql = (
            f"{head}, {flags}, (e.occurred_at < %s) AS in_range FROM website_event e {bd_join}"
            f" WHERE e.site_id = %s AND e.occurred_at >= %s AND e.occurred_at < %s"
        )
        params += [spec.end, *bd_params, spec.site_id, spec.start, spec.end + spec.window]
        if spec.mode != "strict":
            sql += " AND (" + " OR ".join(c for c, _ in conditions) + ")"
            params += [p for _, step_params in conditions for p in step_params]
        return sql, params
    branches, params = [], []
    for name in dict.fromkeys(_step_name(step) for step in spec.steps):
        mine = [k for k, step in enumerate(spec.steps) if _step_name(step) == name]
        flags, flag_params = [], []
        for k, (sql, step_params) in enumerate(conditions):
            flags.append(f"{sql if k in mine else 'false'} AS m{k}")
            flag_params += step_params if k in mine else []
        where = " OR ".join(conditions[k][0] for k in mine)
        # ORDER BY per branch: the planner then merges the ordered branches instead of sorting.
        branches.append(
            f"({head}, {', '.join(flags)}, (e.occurred_at < %s) AS in_range FROM website_event e"
            f" WHERE e.site_id = %s AND e.name = %s AND e.occurred_at >= %s AND e.occurred_at < %s AND ({where})"
            f" ORDER BY pk, ts, e.id)"
        )
        params += [*flag_params, spec.end, spec.site_id, name, spec.start, spec.end + spec.window]
        params += [p for k in mine for p in conditions[k][1]]
    return " UNION ALL ".join(branches), params


def _per_person_sql(spec: FunnelSpec) -> tuple[str, list]:
    n = len(spec.steps)
    conditions = [_step_sql(step) for step in spec.steps]
    base, all_params = _events_sql(spec, conditions)
    window = f"interval '{int(spec.window.total_seconds())} seconds'"
    if spec.mode == "any_order":
        best_bd = "(array_agg(bd ORDER BY reached DESC, ts, id))[1]" if spec.breakdown else "''"
        has = ", ".join(f"bool_or(m{k}) OVER w AS h{k}" for k in range(n))
        count = " + ".join(f"h{k}::int" for k in range(n))
        sql = (
            f"WITH base AS ({base}),"
            f" windows AS (SELECT *, {has} FROM base"
            f" WINDOW w AS (PARTITION BY pk ORDER BY ts RANGE BETWEEN CURRENT ROW AND {window} FOLLOWING)),"
            f" starts AS (SELECT pk, visitor_id, contact_id, ts, id, bd, {count} AS reached"
            f" FROM windows WHERE in_range),"
            f" people AS (SELECT {VISITOR} AS visitor_id, max(contact_id) AS contact_id, max(reached) AS reached,"
            f" {best_bd} AS bd FROM starts GROUP BY pk)"
            f" SELECT {PERSON}, * FROM people"
        )
        return sql, all_params
    if spec.mode == "sequential":
        return _sequential_sql(spec, base, window), all_params
    # strict: a step must follow the previous step's event directly, so every event stays in.
    keep = "pk, visitor_id, contact_id, ts, id, bd"
    later = [f"m{k}" for k in range(1, n)]
    layers = [f"l0 AS (SELECT {keep}, {', '.join(later)}, CASE WHEN m0 AND in_range THEN ts END AS p0 FROM base)"]
    for k in range(1, n):
        valid_prev = f"CASE WHEN ts - p{k - 1} <= {window} THEN p{k - 1} END"
        carried = ", ".join([keep, *later[k:], *(f"p{j}" for j in range(k))])
        layers.append(
            f"l{k} AS (SELECT {carried}, CASE WHEN m{k} THEN lag({valid_prev}) OVER w END AS p{k} FROM l{k - 1}"
            f" WINDOW w AS (PARTITION BY pk ORDER BY ts, id))"
        )
    return _people_sql(spec, base, layers, window, visitor=VISITOR), all_params


def _people_sql(spec: FunnelSpec, base: str, layers: list[str], window: str, *, visitor: str) -> str:
    n = len(spec.steps)
    first_bd = "(array_agg(bd ORDER BY ts, id) FILTER (WHERE p0 IS NOT NULL))[1]" if spec.breakdown else "''"
    times = ", ".join(f"min(ts) FILTER (WHERE p{k} IS NOT NULL AND ts - p{k} <= {window}) AS t{k}" for k in range(n))
    reached = " + ".join(f"(t{k} IS NOT NULL)::int" for k in range(n))
    return (
        f"WITH base AS ({base}), {', '.join(layers)},"
        f" people AS (SELECT {visitor} AS visitor_id, max(contact_id) AS contact_id, {times}, {first_bd} AS bd"
        f" FROM l{n - 1} GROUP BY pk)"
        f" SELECT {PERSON}, *, {reached} AS reached FROM people WHERE t0 IS NOT NULL"
    )


def _sequential_sql(spec: FunnelSpec, base: str, window: str) -> str:
    """Sequential mode: layer k keeps, per event of step k, the latest valid start of a chain
    ending at step k-1 before it (a running max over the person's events in time order).

    Layer k+1 only reads the events that can still matter: sources (a valid chain at step k),
    receivers (events of later steps), and carriers: each person's first valid event of every
    earlier step (their times) and a contact's last event (running minimum of the visitor id;
    an anonymous person has one visitor id on every event).
    """
    n = len(spec.steps)
    w = "WINDOW w AS (PARTITION BY pk ORDER BY ts, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"

    def valid(k: int) -> str:
        return f"CASE WHEN ts - p{k} <= {window} THEN p{k} END"

    keep = "pk, contact_id, ts, id, bd, vmin, last"
    layers = [
        f"l0 AS (SELECT pk, contact_id, ts, id, bd, {', '.join(f'm{k}' for k in range(1, n))},"
        f' CASE WHEN m0 AND in_range THEN ts END AS p0, visitor_id COLLATE "C" AS visitor_id FROM base)',
        f"l1 AS (SELECT pk, contact_id, ts, id, bd, {', '.join(f'm{k}' for k in range(1, n))}, p0,"
        f" CASE WHEN contact_id IS NULL THEN visitor_id"
        f" ELSE least(min(visitor_id) FILTER (WHERE contact_id IS NOT NULL) OVER w, visitor_id) END AS vmin,"
        f" contact_id IS NOT NULL AND lead(1, 1, 0) OVER w = 0 AS last,"
        f" p0 IS NOT NULL AND count(p0) OVER w = 0 AS c0,"
        f" CASE WHEN m1 THEN max(p0) OVER w END AS p1 FROM l0 {w})",
    ]
    for k in range(2, n):
        carriers = [f"c{j}" for j in range(k - 1)]
        needed = " OR ".join([*(f"m{j}" for j in range(k, n)), f"{valid(k - 1)} IS NOT NULL", *carriers, "last"])
        layers.append(
            f"l{k} AS (SELECT {keep}, {', '.join(f'm{j}' for j in range(k, n))}, {', '.join(f'p{j}' for j in range(k))},"
            f" {', '.join(carriers)}, {valid(k - 1)} IS NOT NULL AND count({valid(k - 1)}) OVER w = 0 AS c{k - 1},"
            f" CASE WHEN m{k} THEN max({valid(k - 1)}) OVER w END AS p{k} FROM l{k - 1} WHERE {needed} {w})"
        )
    return _people_sql(spec, base, layers, window, visitor="min(vmin)")


def _compute_postgres(spec: FunnelSpec, dropped_limit: int) -> FunnelResult:
    n = len(spec.steps)
    labels = list(spec.labels) or [str(k + 1) for k in range(n)]
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = _per_person_sql(spec)
        # Sorts (strict mode, breakdown joins) and window buffers get memory for this transaction.
        cursor.execute(
            "SELECT set_config('work_mem', %s, true)", [getattr(settings, "WEBSITE_FUNNEL_WORK_MEM", "256MB")]
        )
        # JIT compilation costs seconds and buys little for this sort-bound query.
        cursor.execute("SELECT set_config('jit', 'off', true)")
        # Inside an outer transaction ON COMMIT DROP waits for the outer commit: drop explicitly too.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.funnel_people")
        cursor.execute(f"CREATE TEMP TABLE funnel_people ON COMMIT DROP AS {sql}", params)
        counts = ", ".join(f"count(*) FILTER (WHERE reached > {k})" for k in range(n))
        cursor.execute(f"SELECT {counts} FROM funnel_people")
        totals = list(cursor.fetchone())
        medians: list[float | None] = [None] * n
        if spec.mode != "any_order" and n > 1:
            parts = ", ".join(
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t{k} - t{k - 1}))"
                f" FILTER (WHERE t{k} IS NOT NULL)"
                for k in range(1, n)
            )
            cursor.execute(f"SELECT {parts} FROM funnel_people")
            medians[1:] = [None if v is None else round(float(v), 3) for v in cursor.fetchone()]
        cursor.execute("SELECT bd, reached, count(*) FROM funnel_people WHERE reached > 0 GROUP BY bd, reached")
        breakdown: dict[str, list[int]] = {}
        for value, reached, count in cursor.fetchall():
            row = breakdown.setdefault(value or "(none)", [0] * n)
            for k in range(reached):
                row[k] += count
        # A bounded top-N per step; byte order (COLLATE "C") is the reference engine's str order.
        cursor.execute(
            " UNION ALL ".join(
                f"(SELECT reached, person, visitor_id, contact_id FROM funnel_people WHERE reached = {k}"
                f' ORDER BY person COLLATE "C" LIMIT %s)'
                for k in range(1, n)
            ),
            [dropped_limit] * (n - 1),
        )
        dropped: list[list[dict]] = [[] for _ in range(n - 1)]
        for reached, person, visitor_id, contact_id in cursor.fetchall():
            dropped[reached - 1].append({"person": person, "visitor_id": visitor_id, "contact_id": contact_id})
        cursor.execute("DROP TABLE pg_temp.funnel_people")
    steps = []
    for k in range(n):
        previous = totals[k - 1] if k else totals[0]
        steps.append(
            {
                "index": k,
                "label": labels[k],
                "count": totals[k],
                "conversion": round(totals[k] / totals[0], 4) if totals[0] else 0.0,
                "conversion_from_previous": round(totals[k] / previous, 4) if previous else 0.0,
                "dropped": totals[k] - totals[k + 1] if k + 1 < n else 0,
                "median_seconds_from_previous": medians[k],
            }
        )
    return FunnelResult(steps=steps, dropped=dropped, breakdown=dict(sorted(breakdown.items())))


def _python_events(spec: FunnelSpec):
    from website.models import WebsiteEvent, WebsiteSession

    events = WebsiteEvent.objects.filter(
        site_id=spec.site_id, occurred_at__gte=spec.start, occurred_at__lt=spec.end + spec.window
    )
    if spec.mode != "strict":
        names = {s["event"] for s in spec.steps if s.get("event")} | (
            {"pageview"} if any(s.get("url") for s in spec.steps) else set()
        )
        events = events.filter(name__in=names)
    rows = list(
        events.order_by("occurred_at", "id").values_list(
            "id",
            "occurred_at",
            "name",
            "visitor_id",
            "contact_id",
            "session_id",
            "path",
            "url",
            "props",
            "device",
            "browser",
        )
    )
    sessions: dict[str, tuple] = {}
    if spec.breakdown in ("source", "customer_type", "visitor_type"):
        keys = {row[5] for row in rows}
        for key, traffic_class, customer_type, returning in WebsiteSession.objects.filter(
            site_id=spec.site_id, session_key__in=keys
        ).values_list("session_key", "traffic_class", "customer_type", "is_returning"):
            sessions[key] = (traffic_class, customer_type, "returning" if returning else "new")
    variants: dict[str, str] = {}
    if spec.breakdown.startswith("variant:"):
        exposures = WebsiteEvent.objects.filter(
            site_id=spec.site_id, name="$exposure", props__experiment=spec.breakdown.split(":", 1)[1]
        ).order_by("-occurred_at")
        variants = {
            visitor: props.get("variant", "") for visitor, props in exposures.values_list("visitor_id", "props")
        }
    return rows, sessions, variants


def _compute_python(spec: FunnelSpec, dropped_limit: int = DROPPED_LIMIT) -> FunnelResult:
    rows, sessions, variants = _python_events(spec)
    by_person: dict[str, list[PersonEvent]] = defaultdict(list)
    identity: dict[str, tuple[str, int | None]] = {}
    for _id, ts, name, visitor_id, contact_id, session_id, path, url, props, device, browser in rows:
        person = f"c{contact_id}" if contact_id else f"v{visitor_id}"
        steps = frozenset(
            k
            for k, step in enumerate(spec.steps)
            if step_matches(step, name=name, path=path, url=url, props=props or {})
        )
        session = sessions.get(session_id, ("", "", ""))
        breakdown = {
            "device": device,
            "browser": browser,
            "source": session[0],
            "customer_type": session[1],
            "visitor_type": session[2],
        }.get(spec.breakdown, variants.get(visitor_id, ""))
        by_person[person].append(PersonEvent(ts, steps, spec.start <= ts < spec.end, breakdown or ""))
        known = identity.get(person)
        identity[person] = (min(known[0], visitor_id) if known else visitor_id, contact_id)
    progress = []
    for person, events in by_person.items():
        times, breakdown = person_progress(events, n_steps=len(spec.steps), mode=spec.mode, window=spec.window)
        if times:
            visitor_id, contact_id = identity[person]
            progress.append(PersonProgress(person, visitor_id, contact_id, times, breakdown))
    labels = list(spec.labels) or [str(k + 1) for k in range(len(spec.steps))]
    result = aggregate(progress, n_steps=len(spec.steps), labels=labels)
    if spec.mode == "any_order":
        for step in result.steps:
            step["median_seconds_from_previous"] = None
    result.dropped = [group[:dropped_limit] for group in result.dropped]
    return result


def funnel_compute(spec: FunnelSpec, *, dropped_limit: int = DROPPED_LIMIT) -> FunnelResult:
    """Compute a funnel: SQL on PostgreSQL, the reference engine elsewhere; drop-off lists keep
    at most `dropped_limit` people per step."""
    validate_breakdown(spec.breakdown)
    if connection.vendor == "postgresql":
        return _compute_postgres(spec, dropped_limit)
    return _compute_python(spec, dropped_limit)
