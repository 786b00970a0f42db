"""Send-time, weekday and channel advice for a campaign from the practices: pure, no database.

A campaign sends inside its window (window_start_hour..window_end_hour, the contact's local time),
on its weekdays (every day when none are set) and each send step on one channel; the practices on
`send_hour_local`, `weekday` and `channel` say which value works better. Lifts of one feature and
outcome share one baseline, so moving from the current value to another is read from two of them."""

from collections import Counter
from dataclasses import dataclass

from bestpractices.features import ORDERED_LEVELS, WEEKDAYS, hour_bucket
from bestpractices.models import LOWER_IS_BETTER, BestPractice
from outreach.models.campaigns import weekdays_said as days_said

# The window proposed for each part of the day; night is never proposed (quiet hours).
WINDOW_OF_HOURS = {"morning": (8, 12), "afternoon": (12, 18), "evening": (18, 22)}
HOURS_SAID = {
    "night": "at night",
    "morning": "in the morning",
    "afternoon": "in the afternoon",
    "evening": "in the evening",
}


def window_hours(start: int, end: int) -> str:
    """The send_hour_local value most of a window's hours fall in (the earlier one on a tie)."""
    counts = Counter(hour_bucket(hour) for hour in range(start, end))
    return max(ORDERED_LEVELS["send_hour_local"], key=lambda value: counts[value])


@dataclass(frozen=True)
class Move:
    """Moving from `current` to `target` changes the outcome by `lift` (relative); the interval
    compares the target with `versus` (the practice's baseline, or the current value)."""

    practice: BestPractice
    current: str
    target: str
    lift: float
    ci_low: float
    ci_high: float
    versus: str
    sends: int
    detail: str = ""  # said instead of the interval when the move rests on another value's estimate

    def evidence(self) -> dict:
        return {"outcome": self.practice.outcome, "lift": self.lift, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "versus": self.versus, "sends": self.sends}  # fmt: skip

    def said(self) -> str:
        if self.detail:
            return f"{self.practice.outcome} {self.lift:+.0%} ({self.detail}, {self.sends:,} sends)"
        return (
            f"{self.practice.outcome} {self.lift:+.0%} (CI {self.ci_low:+.0%} to {self.ci_high:+.0%} "
            f"vs {self.versus}, {self.sends:,} sends)"
        )


def _sends(practice: BestPractice) -> int:
    return practice.n + int((practice.evidence or {}).get("n_baseline", 0))


def best_move(practices: list[BestPractice], *, current: str, targets) -> Move | None:
    """The most helpful move from `current` to one of `targets`, given the current practices of one
    feature and outcome; made only on significant evidence: the target beats the baseline (its
    interval, against the baseline), or the current value loses to the baseline and the target is
    the baseline (the inverted interval, exact)."""
    if not practices:
        return None
    by_value = {p.value: p for p in practices}
    baseline = practices[0].baseline
    better = -1 if practices[0].outcome in LOWER_IS_BETTER else 1
    mine = by_value.get(current)
    moves = []
    for target in targets:
        theirs = by_value.get(target)
        if target == current:
            continue
        if theirs is not None and theirs.significant and theirs.helps:
            # the current value's own estimate when it has one (not significant: close to the baseline)
            lift = (1 + theirs.lift) / (1 + (mine.lift if mine is not None else 0.0)) - 1
            moves.append(Move(theirs, current, target, lift, theirs.ci_low, theirs.ci_high, baseline, _sends(theirs)))
        elif target == baseline and mine is not None and mine.significant and not mine.helps:
            invert = lambda x: 1 / (1 + x) - 1  # noqa: E731
            moves.append(
                Move(mine, current, target, invert(mine.lift), invert(mine.ci_high), invert(mine.ci_low), current,
                     _sends(mine))
            )  # fmt: skip
    helpful = [move for move in moves if better * move.lift > 0]
    return max(helpful, key=lambda move: better * move.lift, default=None)


def weekday_move(practices: list[BestPractice], *, current: list[int]) -> tuple[Move, list[int]] | None:
    """The weekdays to send on instead of `current` (weekday numbers, empty: every day), given the
    current practices on `weekday` for one outcome: leave out the days that significantly do worse
    than the baseline day, or keep only the days that significantly do better — whichever gains
    more, assuming equal sends per day (a day with no practice does as the baseline). The move's
    interval is that of the strongest practice it rests on, against the baseline day."""
    if not practices:
        return None
    by_day = {WEEKDAYS.index(p.value): p for p in practices if p.value in WEEKDAYS}
    better = -1 if practices[0].outcome in LOWER_IS_BETTER else 1
    factor = {d: 1 + (by_day[d].lift if d in by_day else 0.0) for d in range(7)}
    now_days = sorted(set(current)) or list(range(7))
    hurting = [d for d in now_days if d in by_day and by_day[d].significant and better * by_day[d].lift < 0]
    helping = [d for d in range(7) if d in by_day and by_day[d].significant and better * by_day[d].lift > 0]
    options = []
    if hurting and len(hurting) < len(now_days):
        options.append(([d for d in now_days if d not in hurting], hurting))
    if helping:
        options.append((helping, helping))
    mean = lambda days: sum(factor[d] for d in days) / len(days)  # noqa: E731
    best = None
    for days, reasons in options:
        if days == now_days:
            continue
        lift = mean(days) / mean(now_days) - 1
        if better * lift > 0 and (best is None or better * lift > better * best[1]):
            best = (days, lift, reasons)
    if best is None:
        return None
    days, lift, reasons = best
    strongest = max((by_day[d] for d in reasons), key=lambda p: abs(p.lift))
    detail = (
        f"{strongest.value.capitalize()} {strongest.lift:+.0%} vs {strongest.baseline.capitalize()}, "
        f"CI {strongest.ci_low:+.0%} to {strongest.ci_high:+.0%}"
    )
    move = Move(strongest, days_said(now_days), days_said(days), lift, strongest.ci_low, strongest.ci_high,
                strongest.baseline, _sends(strongest), detail)  # fmt: skip
    return move, days
