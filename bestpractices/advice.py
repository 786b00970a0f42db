"""Send-time and channel advice for a campaign from the practices: pure, no database.

A campaign sends inside its window (window_start_hour..window_end_hour, the contact's local time)
and each send step on one channel; the practices on `send_hour_local` and `channel` say which value
works better. Lifts of one feature and outcome share one baseline, so moving from the current value
to another is read from two of them."""

from collections import Counter
from dataclasses import dataclass

from bestpractices.features import ORDERED_LEVELS, hour_bucket
from bestpractices.models import LOWER_IS_BETTER, BestPractice

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

    def evidence(self) -> dict:
        return {"outcome": self.practice.outcome, "lift": self.lift, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "versus": self.versus, "sends": self.sends}  # fmt: skip

    def said(self) -> str:
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
