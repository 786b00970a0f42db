"""Funnel computation: SQL on PostgreSQL, the reference engine (website.funnel_engine) elsewhere.

PostgreSQL: events of the step names come per person in (time, id) order from index-only scans
of `website_event_funnel`, merged, never sorted (unless a breakdown join or strict mode needs
every event). Sequential mode works one step at a time over only the events that can still
matter (see _sequential_sql); strict mode uses `lag` over all events, any-order a RANGE window.
One statement per part of the people returns the counts per breakdown value, the seconds between
steps (for the medians) and bounded drop-off lists; outside a caller's transaction the people are
split by person key over two connections (one per core) that share one snapshot.
"""

import json
import re
import statistics
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min

from madansara.contacts.models import Contact
from website.funnel_engine import FunnelResult, PersonEvent, PersonProgress, aggregate, person_progress
from website.models import WebsiteEvent, WebsiteSession

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
# People with more in-range step 0 events than this get step 1 by a running max, not by pairs.
HEAVY_STARTS = 64
FUNNEL_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {FUNNEL_INDEX} ON website_event"
    f" (site_id, name, ({PERSON_KEY}), occurred_at, id) INCLUDE (visitor_id, contact_id)"
)


def _step_name(step: dict) -> str:
    return "pageview" if step.get("url") else step["event"]


def _pk_range_sql(person_key: str, pk_range: tuple[int | None, int | None]) -> tuple[str, list]:
    """' AND lo <= key AND key < hi' for the bounds that are set (a part of the people)."""
    sql, params = "", []
    for op, bound in zip((">=", "<"), pk_range, strict=True):
        if bound is not None:
            sql += f" AND {person_key} {op} %s"
            params.append(bound)
    return sql, params


def _events_sql(spec: FunnelSpec, conditions: list[tuple[str, list]], pk_range) -> tuple[str, list]:
    """The events a funnel reads: (pk, visitor_id, contact_id, ts, id, bd, m0.., in_range).

    Without a join, one UNION ALL branch per step event name: each is an index-only scan of
    `website_event_funnel` in (person, time, id) order, so the planner merges the branches
    (Merge Append) instead of sorting millions of rows. Strict mode needs every event.
    """
    bd_expr, bd_join, bd_params = _breakdown_sql(spec)
    person_key = PERSON_KEY.replace("contact_id", "e.contact_id").replace("visitor_id", "e.visitor_id")
    part, part_params = _pk_range_sql(person_key, pk_range)
    head = f"SELECT {person_key} AS pk, e.visitor_id, e.contact_id, e.occurred_at AS ts, e.id, COALESCE({bd_expr}, '') AS bd"
    if spec.mode == "strict" or bd_join:
        flags = ", ".join(f"{sql} AS m{k}" for k, (sql, _) in enumerate(conditions))
        params = [p for _, step_params in conditions for p in step_params]
        sql = (
            f"{head}, {flags}, (e.occurred_at < %s) AS in_range FROM website_event e {bd_join}"
            f" WHERE e.site_id = %s AND e.occurred_at >= %s AND e.occurred_at < %s{part}"
        )
        params += [spec.end, *bd_params, spec.site_id, spec.start, spec.end + spec.window, *part_params]
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
            f" WHERE e.site_id = %s AND e.name = %s AND e.occurred_at >= %s AND e.occurred_at < %s{part} AND ({where})"
            f" ORDER BY pk, ts, e.id)"
        )
        params += [*flag_params, spec.end, spec.site_id, name, spec.start, spec.end + spec.window, *part_params]
        params += [p for k in mine for p in conditions[k][1]]
    return " UNION ALL ".join(branches), params


def _per_person_sql(spec: FunnelSpec, pk_range: tuple[int | None, int | None] = (None, None)) -> tuple[str, list]:
    """Per person: person, visitor_id, contact_id, bd, reached, and t0.. (not in any-order mode).

    `pk_range` restricts the query to people whose person key is in [lo, hi) (None: unbounded).
    """
    if spec.mode == "sequential":
        return _sequential_sql(spec, pk_range)
    n = len(spec.steps)
    conditions = [_step_sql(step) for step in spec.steps]
    base, all_params = _events_sql(spec, conditions, pk_range)
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


def _stream_sql(spec: FunnelSpec, conditions: list[tuple[str, list]], wanted: list[int], **options) -> tuple[str, list]:
    """Events matching any step in `wanted`: (pk, ts, id, <extra>, m<k> for k in wanted, in_range).

    One UNION ALL branch per event name, each ordered by (pk, ts, id): without a join they are
    index-only scans of `website_event_funnel`, merged by a Merge Append instead of a sort.
    Options: extra (more columns), join and join_params, entries_only (only in-range events),
    pk_range (a part of the people), person_filter (a condition on the person key, `{key}`).
    """
    person_key = PERSON_KEY.replace("contact_id", "e.contact_id").replace("visitor_id", "e.visitor_id")
    part, part_params = _pk_range_sql(person_key, options.get("pk_range", (None, None)))
    part += options.get("person_filter", "").format(key=person_key)
    upto = spec.end if options.get("entries_only") else spec.end + spec.window
    branches, params = [], []
    for name in dict.fromkeys(_step_name(spec.steps[k]) for k in wanted):
        mine = [k for k in wanted if _step_name(spec.steps[k]) == name]
        flags = ", ".join(f"{conditions[k][0] if k in mine else 'false'} AS m{k}" for k in wanted)
        where = " OR ".join(conditions[k][0] for k in mine)
        branches.append(
            f"(SELECT {person_key} AS pk, e.occurred_at AS ts, e.id{options.get('extra', '')}, {flags},"
            f" (e.occurred_at < %s) AS in_range FROM website_event e {options.get('join', '')}"
            f" WHERE e.site_id = %s AND e.name = %s AND e.occurred_at >= %s AND e.occurred_at < %s{part} AND ({where})"
            f" ORDER BY pk, ts, e.id)"
        )
        params += [p for k in mine for p in conditions[k][1]]
        params += [spec.end, *options.get("join_params", ()), spec.site_id, name, spec.start, upto, *part_params]
        params += [p for k in mine for p in conditions[k][1]]
    return " UNION ALL ".join(branches), params


def _sequential_sql(spec: FunnelSpec, pk_range: tuple[int | None, int | None]) -> tuple[str, list]:
    """Sequential mode, one step at a time over only the events that can still matter.

    The latest start of any chain ending at an event of step k is the largest of the latest
    starts of chains ending at earlier step k-1 events, and the chain is valid when the event is
    within the window of that start (then so is every step between): windows only need checking
    at the last step. Per step:
    - people (entry t0, identity, breakdown): one aggregate over the in-range step 0 events;
    - v1, the valid step 1 events with their start r: a merge join of step 0 and step 1 events on
      the person key (pairs within the window; no window function over every event), or, for
      people with more than HEAVY_STARTS starts (pairs grow with the square), a running max;
    - v<k>, k >= 2: the valid step k-1 events and the step k events of the same people, in
      order, with a running max of r: two small sets.
    """
    n = len(spec.steps)
    conditions = [_step_sql(step) for step in spec.steps]
    window = f"interval '{int(spec.window.total_seconds())} seconds'"
    frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    bd_expr, bd_join, bd_params = _breakdown_sql(spec)
    entries, params = _stream_sql(
        spec,
        conditions,
        [0],
        extra=", e.visitor_id, e.contact_id" + (f", COALESCE({bd_expr}, '') AS bd" if spec.breakdown else ""),
        join=bd_join,
        join_params=bd_params,
        entries_only=True,
        pk_range=pk_range,
    )
    first_bd = "(array_agg(bd ORDER BY ts, id))[1]" if spec.breakdown else "''"
    heavy = f"SELECT pk FROM people WHERE starts > {HEAVY_STARTS}"
    # NOT IN stays a filter (a hashed subplan): the stream keeps its index order for the merge join.
    starts, start_params = _stream_sql(
        spec, conditions, [0], entries_only=True, pk_range=pk_range, person_filter=f" AND {{key}} NOT IN ({heavy})"
    )
    targets, target_params = _stream_sql(spec, conditions, [1], pk_range=pk_range)
    pairs, pair_params = _stream_sql(
        spec, conditions, [0, 1], pk_range=pk_range, person_filter=f" AND {{key}} = ANY (ARRAY({heavy}))"
    )
    params += start_params + target_params + pair_params
    ctes = [
        f"people AS (SELECT pk, {VISITOR} AS visitor_id, max(contact_id) AS contact_id, min(ts) AS t0,"
        f" {first_bd} AS bd, count(*) AS starts FROM ({entries}) s GROUP BY pk)",
        # Most people: pairs (start, step 1 event) within the window, merged on the person key.
        f"v1 AS (SELECT e1.pk, e1.ts, e1.id, max(e0.ts) AS r FROM ({starts}) e0 JOIN ({targets}) e1"
        f" ON e1.pk = e0.pk AND (e0.ts, e0.id) < (e1.ts, e1.id) AND e1.ts - e0.ts <= {window}"
        f" GROUP BY e1.pk, e1.ts, e1.id"
        # People with many starts (pairs would grow with the square): a running maximum instead.
        f" UNION ALL SELECT pk, ts, id, r FROM (SELECT pk, ts, id, m1,"
        f" max(CASE WHEN m0 AND in_range THEN ts END) OVER w AS r FROM ({pairs}) s"
        f" WINDOW w AS (PARTITION BY pk ORDER BY ts, id {frame})) l WHERE m1 AND ts - r <= {window})",
    ]
    for k in range(2, n):
        targets, target_params = _stream_sql(spec, conditions, [k], pk_range=pk_range)
        params += target_params
        # A target sorts before its own event as a source (src false < true): never its own predecessor.
        ctes.append(
            f"v{k} AS (SELECT pk, ts, id, r FROM (SELECT pk, ts, id, src, max(r) OVER w AS r FROM"
            f" (SELECT pk, ts, id, r, true AS src FROM v{k - 1} UNION ALL SELECT pk, ts, id, NULL, false"
            f" FROM ({targets}) e WHERE pk IN (SELECT pk FROM v{k - 1})) u"
            f" WINDOW w AS (PARTITION BY pk ORDER BY ts, id, src {frame})) l WHERE NOT src AND ts - r <= {window})"
        )
    valid = " UNION ALL ".join(f"SELECT pk, ts, {k} AS k FROM v{k}" for k in range(1, n))
    firsts = ", ".join(f"min(ts) FILTER (WHERE k = {k}) AS t{k}" for k in range(1, n))
    times = ", ".join(f"t{k}" for k in range(n))
    reached = " + ".join(["1", *(f"(t{k} IS NOT NULL)::int" for k in range(1, n))])
    sql = (
        f"WITH {', '.join(ctes)} SELECT pk, visitor_id, contact_id, {times}, bd, {reached} AS reached"
        f" FROM people LEFT JOIN (SELECT pk, {firsts} FROM ({valid}) v GROUP BY pk) later USING (pk)"
    )
    return sql, params


def _contacts_first_visitor(cursor, spec: FunnelSpec, people: list[dict]) -> None:
    """Set each contact's visitor_id to the smallest (code point order) visitor id on the events
    the reference engine reads: every event with a step's name in the funnel's time range."""
    if not people:
        return
    names = list(dict.fromkeys(_step_name(step) for step in spec.steps))
    cursor.execute(
        f'SELECT contact_id, min(visitor_id COLLATE "C") FROM website_event WHERE site_id = %s AND name = ANY(%s)'
        f" AND ({PERSON_KEY}) = ANY(%s) AND contact_id IS NOT NULL AND occurred_at >= %s AND occurred_at < %s"
        f" GROUP BY contact_id",
        [spec.site_id, names, [p["contact_id"] * 2 for p in people], spec.start, spec.end + spec.window],
    )
    visitors = dict(cursor.fetchall())
    for person in people:
        person["visitor_id"] = visitors[person["contact_id"]]


def _summary_sql(spec: FunnelSpec, per_person: str) -> str:
    """One statement over the per-person rows (kept in memory, read once per part): people per
    (breakdown value, steps reached), the seconds between consecutive steps of each person (for
    the medians), and a bounded top-N of the people who stopped at each step (byte order,
    COLLATE "C": the reference engine's str order)."""
    n = len(spec.steps)
    seconds = "'[]'::json"
    if spec.mode != "any_order":
        seconds = "(SELECT json_build_array({}) FROM fp)".format(
            ", ".join(
                f"json_agg(extract(epoch FROM t{k} - t{k - 1})::float8) FILTER (WHERE t{k} IS NOT NULL)"
                for k in range(1, n)
            )
        )
    # The order of the person ids ('c' || contact id, else 'v' || visitor id) without building them.
    order = 'contact_id IS NULL, contact_id::text COLLATE "C", visitor_id COLLATE "C"'
    dropped = " UNION ALL ".join(
        f"(SELECT reached, visitor_id, contact_id FROM fp WHERE reached = {k} ORDER BY {order} LIMIT %s)"
        for k in range(1, n)
    )
    return (
        f"WITH fp AS MATERIALIZED ({per_person})"
        f" SELECT (SELECT json_agg(json_build_array(bd, reached, people)) FROM"
        f" (SELECT bd, reached, count(*) AS people FROM fp WHERE reached > 0 GROUP BY bd, reached) g),"
        f" {seconds},"
        f" (SELECT json_agg(json_build_array(reached, {PERSON.removesuffix(' AS person')}, visitor_id, contact_id))"
        f" FROM ({dropped}) d)"
    )


def _part_compute(cursor, spec: FunnelSpec, pk_range: tuple, dropped_limit: int) -> tuple[list, list, list]:
    """(groups, seconds between steps, dropped rows) for the people whose key is in pk_range."""
    sql, params = _per_person_sql(spec, pk_range)
    # For this transaction, in one round trip: memory for sorts (strict mode, breakdown joins) and
    # window buffers; no JIT (it costs seconds and buys little for this sort-bound query); no
    # parallel workers (the plan reads the events in index order, workers would only add a sort).
    cursor.execute(
        "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true),"
        " set_config('max_parallel_workers_per_gather', '0', true)",
        [settings.WEBSITE_FUNNEL_WORK_MEM],
    )
    cursor.execute(_summary_sql(spec, sql), [*params, *[dropped_limit] * (len(spec.steps) - 1)])
    return tuple((json.loads(v) if isinstance(v, str) else v) or [] for v in cursor.fetchone())


def _part_in_thread(spec: FunnelSpec, pk_range: tuple, dropped_limit: int, snapshot: str):
    """One part on this thread's own connection, in the caller's snapshot (same data seen)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            return _part_compute(cursor, spec, pk_range, dropped_limit)
    finally:
        connection.close()


def _split_key() -> int | None:
    """Where to cut the people in two parts of about equal size, or None to use one connection.

    Anonymous keys are odd hashes spread evenly over the signed 64-bit range and contact keys
    are contact id * 2 (small and positive), so the middle contact key cuts both populations in
    halves: [-2^63, key) holds the negative hashes and the lower contacts.
    """
    if settings.WEBSITE_FUNNEL_CONNECTIONS < 2 or connection.in_atomic_block:
        return None  # another connection would not see this transaction's rows

    bounds = Contact.objects.aggregate(low=Min("pk"), high=Max("pk"))
    return (bounds["low"] or 0) + (bounds["high"] or 0)


def _compute_postgres(spec: FunnelSpec, dropped_limit: int) -> FunnelResult:
    n = len(spec.steps)
    labels = list(spec.labels) or [str(k + 1) for k in range(n)]
    split = _split_key()
    with transaction.atomic(), connection.cursor() as cursor:
        if split is None:
            parts = [_part_compute(cursor, spec, (None, None), dropped_limit)]
        else:
            # Two connections, one per core: this one and a thread's, sharing one snapshot.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            with ThreadPoolExecutor(max_workers=1) as pool:
                other = pool.submit(_part_in_thread, spec, (split, None), dropped_limit, snapshot)
                parts = [_part_compute(cursor, spec, (None, split), dropped_limit), other.result()]
        dropped: list[list[dict]] = [[] for _ in range(n - 1)]
        for reached, person, visitor_id, contact_id in (row for part in parts for row in part[2]):
            dropped[reached - 1].append({"person": person, "visitor_id": visitor_id, "contact_id": contact_id})
        dropped = [sorted(group, key=lambda p: p["person"])[:dropped_limit] for group in dropped]
        if spec.mode != "strict":
            _contacts_first_visitor(cursor, spec, [p for group in dropped for p in group if p["contact_id"]])
    breakdown: dict[str, list[int]] = {}
    totals = [0] * n
    for value, reached, count in (row for part in parts for row in part[0]):
        row = breakdown.setdefault(value or "(none)", [0] * n)
        for k in range(reached):
            row[k] += count
            totals[k] += count
    medians: list[float | None] = [None] * n
    for k in range(1, n if spec.mode != "any_order" else 1):
        seconds = [v for part in parts for v in part[1][k - 1] or ()]
        medians[k] = round(statistics.median(seconds), 3) if seconds else None
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
