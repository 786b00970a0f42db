"""Multi-touch attribution over aggregated journey paths (pure: numpy only, no Django).

Every model splits the weight of each path (its conversions, or its converted value)
over the path's touches, so the credit of every model sums to the total attributed.
Paths are encoded once into flat numpy arrays and each model is a handful of
vectorised operations, which keeps a million journeys within seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MODELS", "Path", "attribute", "removal_effects"]

SCHUR_FROM_STATES = 200  # above this many Markov states, one inverse beats a solve per channel


@dataclass(frozen=True, slots=True)
class Path:
    """An aggregated path: ordered channels, journeys that converted / did not, their value."""

    channels: tuple[str, ...]
    conversions: float
    nulls: float = 0
    value: float = 0.0
    ages_days: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        if not self.channels:
            raise ValueError("a path needs at least one channel")
        if self.conversions < 0 or self.nulls < 0:
            raise ValueError("conversions and nulls cannot be negative")
        if self.ages_days is not None:
            object.__setattr__(self, "ages_days", tuple(float(a) for a in self.ages_days))
            if len(self.ages_days) != len(self.channels):
                raise ValueError("ages_days needs one age per channel")


@dataclass(frozen=True, slots=True)
class _Encoded:
    names: list[str]
    codes: np.ndarray  # channel index of every touch, paths concatenated
    starts: np.ndarray  # index of each path's first touch in `codes`
    lengths: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    values: np.ndarray

    @property
    def ends(self) -> np.ndarray:
        return self.starts + self.lengths

    @property
    def path_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    @property
    def position(self) -> np.ndarray:
        return np.arange(len(self.codes)) - np.repeat(self.starts, self.lengths)

    def credit(self, touch_share: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Sum share × path weight per channel (touch_share sums to 1 within each path)."""
        touch_weight = touch_share * weights[self.path_of_touch]
        return np.bincount(self.codes, weights=touch_weight, minlength=len(self.names))


def _encode(paths: Sequence[Path]) -> _Encoded:
    index: dict[str, int] = {}
    lengths = np.fromiter((len(p.channels) for p in paths), dtype=np.int64, count=len(paths))
    total = int(lengths.sum())
    codes = np.fromiter(
        (index.setdefault(c, len(index)) for p in paths for c in p.channels),
        dtype=np.int64,
        count=total,
    )
    starts = np.zeros(len(paths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])

    def column(attr: str) -> np.ndarray:
        return np.fromiter((getattr(p, attr) for p in paths), dtype=np.float64, count=len(paths))

    return _Encoded(
        names=list(index),
        codes=codes,
        starts=starts,
        lengths=lengths,
        conversions=column("conversions"),
        nulls=column("nulls"),
        values=column("value"),
    )


def _ages(paths: Sequence[Path], total: int) -> np.ndarray:
    if any(p.ages_days is None for p in paths):
        raise ValueError("time_decay needs ages_days on every path")
    return np.fromiter((a for p in paths for a in p.ages_days), dtype=np.float64, count=total)


# --- heuristic models: each returns credit per channel index ---------------------------


def _first_touch(enc: _Encoded, w: np.ndarray, paths: Sequence[Path]) -> np.ndarray:
    return np.bincount(enc.codes[enc.starts], weights=w, minlength=len(enc.names))


def _last_touch(enc: _Encoded, w: np.ndarray, paths: Sequence[Path]) -> np.ndarray:
    return np.bincount(enc.codes[enc.ends - 1], weights=w, minlength=len(enc.names))


def _last_non_direct(
    enc: _Encoded, w: np.ndarray, paths: Sequence[Path], *, direct: Iterable[str] = ("direct",)
) -> np.ndarray:
    direct_codes = [i for i, name in enumerate(enc.names) if name in set(direct)]
    touch = np.arange(len(enc.codes))
    candidate = np.where(np.isin(enc.codes, direct_codes), -1, touch)
    last = np.maximum.reduceat(candidate, enc.starts)
    # an all-direct path keeps its last touch, as analytics tools do
    last = np.where(last < 0, enc.ends - 1, last)
    return np.bincount(enc.codes[last], weights=w, minlength=len(enc.names))


def _linear(enc: _Encoded, w: np.ndarray, paths: Sequence[Path]) -> np.ndarray:
    share = 1.0 / enc.lengths[enc.path_of_touch]
    return enc.credit(share, w)


def _position_based(
    enc: _Encoded, w: np.ndarray, paths: Sequence[Path], *, first: float = 0.4, last: float = 0.4
) -> np.ndarray:
    if first < 0 or last < 0 or first + last > 1:
        raise ValueError("position_based needs first, last >= 0 and first + last <= 1")
    n = enc.lengths[enc.path_of_touch]
    pos = enc.position
    middle = (1.0 - first - last) / np.maximum(n - 2, 1)
    share = np.where(pos == 0, first, np.where(pos == n - 1, last, middle))
    ends_only = first + last
    two = np.where(pos == 0, first, last) / ends_only if ends_only else np.full(len(pos), 0.5)
    share = np.where(n == 2, two, share)
    share = np.where(n == 1, 1.0, share)
    return enc.credit(share, w)


def _time_decay(enc: _Encoded, w: np.ndarray, paths: Sequence[Path], *, half_life_days: float = 7.0) -> np.ndarray:
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    ages = _ages(paths, len(enc.codes))
    if (ages < 0).any():
        raise ValueError("ages_days cannot be negative")
    # relative to the freshest touch of the path, so large ages cannot underflow to 0/0
    freshest = np.minimum.reduceat(ages, enc.starts)[enc.path_of_touch]
    decay = np.exp2(-(ages - freshest) / half_life_days)
    share = decay / np.add.reduceat(decay, enc.starts)[enc.path_of_touch]
    return enc.credit(share, w)


def _shapley(enc: _Encoded, w: np.ndarray, paths: Sequence[Path]) -> np.ndarray:
    """Simplified Shapley value (Zhao et al. 2018): v(S) = conversions of paths whose
    channel set lies within S, which reduces to an equal split over each path's distinct
    channels."""
    k = len(enc.names)
    if k <= 62:  # each path's channel set as a bit mask: no sort needed
        masks = np.bitwise_or.reduceat(np.left_shift(np.int64(1), enc.codes), enc.starts)
        bits = (masks[:, None] >> np.arange(k)) & 1
        share = w / bits.sum(axis=1)
        return share @ bits
    pairs = np.unique(enc.path_of_touch * k + enc.codes)
    path, code = np.divmod(pairs, k)
    distinct = np.bincount(path, minlength=len(enc.lengths))
    return np.bincount(code, weights=w[path] / distinct[path], minlength=k)


# --- Markov ------------------------------------------------------------------------


def _markov_chain(enc: _Encoded) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start distribution s, channel→channel matrix Q, channel→conversion vector r."""
    k = len(enc.names)
    journeys = enc.conversions + enc.nulls
    start = np.bincount(enc.codes[enc.starts], weights=journeys, minlength=k)
    src = np.ones(len(enc.codes), dtype=bool)
    src[enc.ends - 1] = False  # the last touch leads to conversion / null, not a channel
    frm, to = enc.codes[src], enc.codes[np.roll(src, 1)]
    weight = journeys[enc.path_of_touch[src]]
    moved = frm != to  # repeats collapse: a self-loop never changes absorption odds
    flows = np.bincount(frm[moved] * k + to[moved], weights=weight[moved], minlength=k * k)
    flows = flows.reshape(k, k)
    last = enc.codes[enc.ends - 1]
    to_conversion = np.bincount(last, weights=enc.conversions, minlength=k)
    to_null = np.bincount(last, weights=enc.nulls, minlength=k)
    out = flows.sum(axis=1) + to_conversion + to_null
    safe = np.where(out > 0, out, 1.0)
    total = start.sum()
    s = start / total if total > 0 else start
    return s, flows / safe[:, None], to_conversion / safe


def _conversion_probability(s: np.ndarray, q: np.ndarray, r: np.ndarray) -> float:
    """Exact absorption probability in `conversion` from start: s · (I − Q)⁻¹ r."""
    if not len(s):
        return 0.0
    return float(s @ np.linalg.solve(np.eye(len(s)) - q, r))


def _state_chain(enc: _Encoded, order: int) -> tuple[_Encoded, np.ndarray]:
    """Paths re-encoded over order-k states (the last k channels, repeats collapsed first; a path
    shorter than k is one state), and which channels each state contains."""
    keep = np.ones(len(enc.codes), dtype=bool)
    keep[1:] = enc.codes[1:] != enc.codes[:-1]
    keep[enc.starts] = True
    codes = enc.codes[keep]
    lengths = np.add.reduceat(keep.astype(np.int64), enc.starts)
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    pos = np.arange(len(codes)) - np.repeat(starts, lengths)
    n = np.repeat(lengths, lengths)
    # a state ends at every position >= k-1, or at the last touch of a path shorter than k
    ends_state = (pos >= order - 1) | ((n < order) & (pos == n - 1))
    base = len(enc.names) + 1
    key = np.zeros(len(codes), dtype=np.int64)
    for back in range(order):
        shifted = np.roll(codes + 1, back)
        key += np.where(pos >= back, shifted, 0) * base**back
    state_keys, state_codes = np.unique(key[ends_state], return_inverse=True)
    state_lengths = np.add.reduceat(ends_state.astype(np.int64), starts)
    state_starts = np.zeros(len(state_lengths), dtype=np.int64)
    np.cumsum(state_lengths[:-1], out=state_starts[1:])
    contains = np.zeros((len(state_keys), len(enc.names)), dtype=bool)
    rest = state_keys.copy()
    while rest.any():
        rest, digit = np.divmod(rest, base)
        has = digit > 0
        contains[np.nonzero(has)[0], digit[has] - 1] = True
    states = _Encoded(
        names=[str(k) for k in state_keys.tolist()],
        codes=state_codes.astype(np.int64),
        starts=state_starts,
        lengths=state_lengths,
        conversions=enc.conversions,
        nulls=enc.nulls,
        values=enc.values,
    )
    return states, contains


def _removal_effects(enc: _Encoded, order: int = 1) -> np.ndarray:
    if order < 1:
        raise ValueError("order must be 1 or more")
    if order == 1:
        chain, contains = enc, np.eye(len(enc.names), dtype=bool)
    else:
        chain, contains = _state_chain(enc, order)
    s, q, r = _markov_chain(chain)
    base = _conversion_probability(s, q, r)
    effects = np.zeros(len(enc.names))
    if base <= 0:
        return effects
    # many states (higher orders): invert once, then each removal is a Schur complement
    fundamental = np.linalg.inv(np.eye(len(s)) - q) if len(s) > SCHUR_FROM_STATES else None
    for c in range(len(enc.names)):
        # removing c sends every transition into a state holding c to null: drop those rows and columns
        keep = ~contains[:, c]
        if fundamental is None:
            without = _conversion_probability(s[keep], q[np.ix_(keep, keep)], r[keep])
        else:
            without = _probability_without(fundamental, s, r, keep)
        effects[c] = 1.0 - without / base
    return effects


def _probability_without(n: np.ndarray, s: np.ndarray, r: np.ndarray, keep: np.ndarray) -> float:
    """s_K · (I − Q_KK)⁻¹ r_K from N = (I − Q)⁻¹: (I − Q_KK)⁻¹ = N_KK − N_KR N_RR⁻¹ N_RK."""
    drop = ~keep
    if not drop.any():
        return float(s @ n @ r)
    s_k, r_k = s[keep], r[keep]
    coupling = np.linalg.solve(n[np.ix_(drop, drop)], n[np.ix_(drop, keep)] @ r_k)
    return float(s_k @ (n[np.ix_(keep, keep)] @ r_k) - s_k @ (n[np.ix_(keep, drop)] @ coupling))


def _markov(enc: _Encoded, w: np.ndarray, paths: Sequence[Path], *, order: int = 1) -> np.ndarray:
    """Credit proportional to removal effects; order > 1 uses the last `order` channels as the state."""
    effects = _removal_effects(enc, order)
    total = effects.sum()
    if total <= 0:
        return np.zeros(len(enc.names))
    return effects / total * w.sum()


MODELS: dict[str, Callable[..., np.ndarray]] = {
    "first_touch": _first_touch,
    "last_touch": _last_touch,
    "last_non_direct": _last_non_direct,
    "linear": _linear,
    "position_based": _position_based,
    "time_decay": _time_decay,
    "markov": _markov,
    "shapley": _shapley,
}


def attribute(paths: Iterable[Path], model: str, *, by: str = "conversions", **params) -> dict[str, float]:
    """Credit per channel under `model`, summing to total conversions (or value with by="value")."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if by not in ("conversions", "value"):
        raise ValueError('by must be "conversions" or "value"')
    paths = list(paths)
    if not paths:
        return {}
    enc = _encode(paths)
    weights = enc.conversions if by == "conversions" else enc.values
    credit = MODELS[model](enc, weights, paths, **params)
    return dict(zip(enc.names, credit.tolist(), strict=True))


def removal_effects(paths: Iterable[Path]) -> dict[str, float]:
    """First-order Markov removal effect per channel: 1 − P(conversion without it) / P(conversion)."""
    paths = list(paths)
    if not paths:
        return {}
    enc = _encode(paths)
    return dict(zip(enc.names, _removal_effects(enc).tolist(), strict=True))
