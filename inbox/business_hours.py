"""Business-hours arithmetic: SLA clocks run only inside a team's weekly schedule.

Schedules are wall-clock intervals in the schedule's time zone, so a DST change moves them in
UTC; all arithmetic is done on UTC instants (aware datetimes in one zone subtract by wall clock
in Python, which would be wrong across a DST change). No schedule at all means 24/7.
"""

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

MAX_DAYS = 800


def _parse_time(value: str) -> time | None:
    """'09:30' → 09:30; '24:00' → None (end of day)."""
    hours, minutes = (int(part) for part in value.split(":"))
    return None if hours == 24 else time(hours, minutes)


def _intervals_on(day: date, schedule: dict, holidays: set[str], tz) -> list[tuple[datetime, datetime]]:
    """The day's working intervals as UTC instants."""
    if day.isoformat() in holidays:
        return []
    result = []
    for start_s, end_s in schedule.get(str(day.weekday()), []):
        start_t, end_t = _parse_time(start_s), _parse_time(end_s)
        start = datetime.combine(day, start_t or time(0), tzinfo=tz)
        end = (
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            if end_t is None
            else datetime.combine(day, end_t, tzinfo=tz)
        )
        result.append((start.astimezone(UTC), end.astimezone(UTC)))
    return result


def _zone(hours):
    try:
        return zoneinfo.ZoneInfo(hours.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _is_always_open(hours) -> bool:
    return hours is None or not any((hours.schedule or {}).values())


def add_business_minutes(start: datetime, minutes: int, hours=None) -> datetime:
    """The instant `minutes` of business time after `start` (a BusinessHours or None: 24/7)."""
    if _is_always_open(hours):
        return start + timedelta(minutes=minutes)
    tz = _zone(hours)
    holidays = set(hours.holidays or [])
    remaining = timedelta(minutes=minutes)
    cursor = start.astimezone(UTC)
    day = cursor.astimezone(tz).date() - timedelta(days=1)
    for _ in range(MAX_DAYS):
        for seg_start, seg_end in _intervals_on(day, hours.schedule, holidays, tz):
            if seg_end <= cursor:
                continue
            begin = max(seg_start, cursor)
            available = seg_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = seg_end
        day += timedelta(days=1)
    raise ValueError("No business hours within the next two years: check the schedule and holidays.")


def business_minutes_between(start: datetime, end: datetime, hours=None) -> float:
    """Business minutes elapsed from `start` to `end` (0 when end <= start)."""
    if end <= start:
        return 0.0
    if _is_always_open(hours):
        return (end - start).total_seconds() / 60
    tz = _zone(hours)
    holidays = set(hours.holidays or [])
    start_u, end_u = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta()
    day = start_u.astimezone(tz).date() - timedelta(days=1)
    last = end_u.astimezone(tz).date()
    while day <= last:
        for seg_start, seg_end in _intervals_on(day, hours.schedule, holidays, tz):
            lo, hi = max(seg_start, start_u), min(seg_end, end_u)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 60
