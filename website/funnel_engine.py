"""Pure-Python funnel semantics: the reference for the SQL version and the SQLite path.

A person (a contact when known, else an anonymous visitor) reaches step k when there is a
chain of their events e0 < e1 < ... < ek matching steps 0..k with ek - e0 <= window and e0
inside the analysed range. Modes:
- sequential: other events may occur between steps;
- strict: each step's event immediately follows the previous step's event (no other event);
- any_order: k+1 distinct steps occur within one window, in any order.
"""

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PersonEvent:
    """One event of one person: time, which steps it matches, breakdown value."""

    ts: datetime
    steps: frozenset[int]
    in_range: bool = True
    breakdown: str = ""


@dataclass
class PersonProgress:
    """How far one person got and when they first reached each step."""

    person: str
    visitor_id: str
    contact_id: int | None
    times: list[datetime] = field(default_factory=list)
    breakdown: str = ""

    @property
    def reached(self) -> int:
        return len(self.times)


def _sequential(events: Sequence[PersonEvent], n: int, window: timedelta, strict: bool):
    times: list[datetime | None] = [None] * n
    breakdown = ""
    best: list[datetime | None] = [None] * n  # best (latest) valid chain start per step so far
    for event in events:
        current: list[datetime | None] = [None] * n
        for k in sorted(event.steps):
            start = (event.ts if event.in_range else None) if k == 0 else best[k - 1]
            if start is None or event.ts - start > window:
                continue
            current[k] = start
            if times[k] is None:
                times[k] = event.ts
                if k == 0:
                    breakdown = event.breakdown
        if strict:
            best = current
        else:
            best = [max((s for s in (b, c) if s is not None), default=None) for b, c in zip(best, current, strict=True)]
    prefix = next((i for i, t in enumerate(times) if t is None), n)
    return [t for t in times[:prefix] if t is not None], breakdown


def _any_order(events: Sequence[PersonEvent], n: int, window: timedelta):
    best_times: list[datetime] = []
    breakdown = ""
    for first in events:
        if not first.steps or not first.in_range:
            continue
        seen: dict[int, datetime] = {}
        for event in events:  # events at the same instant as the start count too
            if first.ts <= event.ts <= first.ts + window:
                for k in event.steps:
                    seen.setdefault(k, event.ts)
        ordered = sorted(seen.values())
        if len(ordered) > len(best_times):
            best_times, breakdown = ordered, first.breakdown
    return best_times[:n], breakdown


def person_progress(
    events: Sequence[PersonEvent], *, n_steps: int, mode: str, window: timedelta
) -> tuple[list[datetime], str]:
    """Times at which a person first reached each step (a prefix), and their breakdown value."""
    if mode == "any_order":
        return _any_order(events, n_steps, window)
    return _sequential(events, n_steps, window, strict=mode == "strict")


@dataclass
class FunnelResult:
    """Per-step counts, conversion, drop-off and time to convert, overall and by breakdown."""

    steps: list[dict]
    dropped: list[list[dict]]
    breakdown: dict[str, list[int]]

    def as_dict(self) -> dict:
        return {"steps": self.steps, "breakdown": self.breakdown}


def _median_seconds(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(statistics.median(values), 3) if values else None


def aggregate(progress: Sequence[PersonProgress], *, n_steps: int, labels: Sequence[str]) -> FunnelResult:
    """Turn per-person progress into the funnel result shape shared by SQL and Python paths."""
    entered = [p for p in progress if p.reached]
    counts = [sum(1 for p in entered if p.reached > k) for k in range(n_steps)]
    steps = []
    for k in range(n_steps):
        previous = counts[k - 1] if k else counts[0]
        steps.append(
            {
                "index": k,
                "label": labels[k],
                "count": counts[k],
                "conversion": round(counts[k] / counts[0], 4) if counts[0] else 0.0,
                "conversion_from_previous": round(counts[k] / previous, 4) if previous else 0.0,
                "dropped": counts[k] - counts[k + 1] if k + 1 < n_steps else 0,
                "median_seconds_from_previous": _median_seconds(
                    (p.times[k] - p.times[k - 1]).total_seconds() for p in entered if k and p.reached > k
                ),
            }
        )
    dropped = [
        [
            {"person": p.person, "visitor_id": p.visitor_id, "contact_id": p.contact_id}
            for p in sorted(entered, key=lambda p: p.person)
            if p.reached == k + 1
        ]
        for k in range(n_steps - 1)
    ]
    breakdown: dict[str, list[int]] = {}
    for p in entered:
        row = breakdown.setdefault(p.breakdown or "(none)", [0] * n_steps)
        for k in range(p.reached):
            row[k] += 1
    return FunnelResult(steps=steps, dropped=dropped, breakdown=dict(sorted(breakdown.items())))
