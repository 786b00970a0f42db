"""Pattern extraction and prediction: pure numpy/scipy on a SendTable, no database.

Method (also written into every patterns file, `method`):
- one logistic regression per outcome on one-hot features (main effects, ridge penalty RIDGE on
  every coefficient but the intercept), fitted by Newton-IRLS on the sends folded into distinct
  feature cells; sends whose outcome is missing are left out of that outcome's model;
- lift of a feature value = model-standardised (g-computation) rate ratio minus one: the outcome's
  rate over *all* measured sends with the feature set to the value, against the same sends with
  it set to the baseline value, every other feature as it was sent (so confounders are held);
- standard errors by the delta method on the log ratio (scaled by a quasi-binomial dispersion
  when cells are large enough to measure one);
- multiple testing: Bonferroni over every (feature, value, outcome) pattern, family-wise error
  rate ALPHA; `ci_low`/`ci_high` are the matching simultaneous intervals, so `significant` is
  exactly "the interval excludes zero".
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg, special, stats
from threadpoolctl import threadpool_limits

from bestpractices.features import (
    BOOLEAN_FEATURES,
    CONTRACT_FEATURES,
    DEFINITIONS,
    FEATURES,
    ORDERED_LEVELS,
    OUTCOMES,
    UNKNOWN,
)
from bestpractices.sends import MISSING, SendTable

FORMAT = "madansara.best-practices/1"
ALPHA = 0.05
RIDGE = 1.0
MAX_OPEN_LEVELS = 20
MIN_LEVEL_SENDS = 20
OTHER = "other"
MIN_MEASURED = 30
MAX_VIF = 10.0

CHUNK = 1 << 16


@dataclass
class Encoding:
    levels: dict[str, list]  # feature -> its values, in column order
    codes: np.ndarray  # cells x features: index into levels[feature]
    offsets: np.ndarray  # feature -> first column of its levels in the full one-hot matrix


def _ordered(feature: str, counts: dict) -> list:
    if feature in BOOLEAN_FEATURES:
        return [value for value in (False, True) if value in counts]
    if feature in ORDERED_LEVELS:
        known = [value for value in ORDERED_LEVELS[feature] if value in counts]
        return known + sorted(value for value in counts if value not in ORDERED_LEVELS[feature])
    return sorted(counts, key=lambda value: (-counts[value], value))


def encode(table: SendTable) -> Encoding:
    """Level codes of every cell; rare values of open features pooled as 'other'."""
    sends_per_cell = np.bincount(np.frombuffer(table.cell_of_send, dtype=np.int32), minlength=len(table.cells))
    codes = np.zeros((len(table.cells), len(FEATURES)), dtype=np.int16)
    levels: dict[str, list] = {}
    for j, feature in enumerate(FEATURES):
        column = [cell[j] for cell in table.cells]
        distinct = {value: i for i, value in enumerate(dict.fromkeys(column))}
        raw = np.fromiter(map(distinct.__getitem__, column), dtype=np.int32, count=len(column))
        weight = np.bincount(raw, weights=sends_per_cell, minlength=len(distinct))
        counts = {value: weight[i] for value, i in distinct.items()}
        order = _ordered(feature, counts)
        if feature not in BOOLEAN_FEATURES and feature not in ORDERED_LEVELS:
            kept = [v for v in order[:MAX_OPEN_LEVELS] if counts[v] >= MIN_LEVEL_SENDS and v != OTHER]
            order = kept + ([OTHER] if len(kept) < len(order) else [])
        index = {value: i for i, value in enumerate(order)}
        other = index.get(OTHER, 0)
        remap = np.array([index.get(value, other) for value in distinct], dtype=np.int16)
        codes[:, j] = remap[raw] if len(raw) else 0
        levels[feature] = order
    offsets = np.cumsum([0] + [len(levels[f]) for f in FEATURES])
    return Encoding(levels=levels, codes=codes, offsets=offsets)


def _chunks(n: int):
    for start in range(0, n, CHUNK):
        yield start, min(n, start + CHUNK)


def _dense(X: np.ndarray, start: int, stop: int) -> np.ndarray:
    return X[start:stop].astype(np.float64)


def _x_dot(X, beta):
    return np.concatenate([_dense(X, a, b) @ beta for a, b in _chunks(len(X))]) if len(X) else np.zeros(0)


def _xt_dot(X, v):
    out = np.zeros((X.shape[1],) + v.shape[1:])
    for a, b in _chunks(len(X)):
        out += _dense(X, a, b).T @ v[a:b]
    return out


def _gram(X, w):
    out = np.zeros((X.shape[1], X.shape[1]))
    for a, b in _chunks(len(X)):
        Xc = _dense(X, a, b)
        out += Xc.T @ (Xc * w[a:b, None])
    return out


def _loglik(eta, t, s, beta, penalty):
    return float(s @ eta - t @ np.logaddexp(0, eta) - 0.5 * penalty @ (beta * beta))


def logistic_fit(X: np.ndarray, t: np.ndarray, s: np.ndarray, *, ridge: float = RIDGE):
    """Ridge logistic regression on binomial cells (t trials, s successes; X's first column is
    the intercept). Returns (beta, eta, inverse penalised Hessian)."""
    penalty = np.full(X.shape[1], ridge)
    penalty[0] = 0.0
    beta = np.zeros(X.shape[1])
    rate = s.sum() / t.sum()
    beta[0] = math.log(rate / (1 - rate))
    eta = _x_dot(X, beta)
    loglik = _loglik(eta, t, s, beta, penalty)
    for _ in range(50):
        mu = special.expit(eta)
        hessian = _gram(X, t * mu * (1 - mu)) + np.diag(penalty)
        gradient = _xt_dot(X, s - t * mu) - penalty * beta
        step = linalg.solve(hessian, gradient, assume_a="pos")
        for _halving in range(20):
            new_eta = _x_dot(X, beta + step)
            new_loglik = _loglik(new_eta, t, s, beta + step, penalty)
            if new_loglik >= loglik - 1e-9 * abs(loglik):
                break
            step /= 2
        beta, eta, loglik = beta + step, new_eta, new_loglik
        if np.max(np.abs(step)) < 1e-7:
            break
    return beta, eta, linalg.inv(hessian)


def _dispersion(t, s, eta, n_params) -> float:
    """Quasi-binomial dispersion from cells with at least 10 sends (1 when too few to tell)."""
    big = t >= 10
    if big.sum() < max(50, 2 * n_params) or t[big].sum() < 0.5 * t.sum():
        return 1.0
    mu = special.expit(eta[big])
    pearson = ((s[big] - t[big] * mu) ** 2 / (t[big] * mu * (1 - mu))).sum()
    return max(1.0, pearson / max(1, big.sum() - n_params))


def _aliased_features(X, t, columns) -> set[str]:
    """Extra features (not the contract's) whose values the features before them nearly
    determine (variance inflation > MAX_VIF): e.g. body length when only email bodies are long.
    Left in, they would make the channel's effect unidentifiable; taken out, they cost nothing."""
    gram = _gram(X, t) / t.sum()
    means = gram[0]
    covariance = gram - np.outer(means, means)
    kept: list[int] = []
    aliased = set()
    for feature, by_level in columns.items():
        cols = list(by_level.values())
        trial = list(kept)
        for col in cols:
            variance = covariance[col, col]
            if trial and variance > 0:
                block = covariance[np.ix_(trial, trial)] + 1e-12 * np.eye(len(trial))
                explained = covariance[col, trial] @ linalg.solve(block, covariance[trial, col], assume_a="pos")
                if (variance - explained) < variance / MAX_VIF and feature not in CONTRACT_FEATURES:
                    aliased.add(feature)
                    break
            trial.append(col)
        else:
            kept = trial
    return aliased


@dataclass
class OutcomeFit:
    outcome: str
    features: list[str]  # features in the model
    columns: dict[str, dict[int, int]]  # feature -> level code -> column in X (reference absent)
    beta: np.ndarray
    covariance: np.ndarray
    trials: int
    successes: int


def _baseline(feature: str, present: np.ndarray, rates: np.ndarray, trials: np.ndarray, levels: list) -> int:
    """Booleans against False; other features against their middle level by adjusted rate among
    well-populated levels, so a level with its own effect is reported, not used as the yardstick."""
    if feature in BOOLEAN_FEATURES:
        return levels.index(False)
    total = trials.sum()
    candidates = [k for k in present if trials[k] >= max(30, 0.02 * total) and levels[k] not in (UNKNOWN, OTHER)]
    if not candidates:
        return int(present[np.argmax(trials[present])])
    candidates.sort(key=lambda k: rates[k])
    middle = {candidates[(len(candidates) - 1) // 2], candidates[len(candidates) // 2]}
    return max(middle, key=lambda k: trials[k])


def _evidence_counts(codes_of_send: np.ndarray, group_of_send: np.ndarray, n_levels: int) -> np.ndarray:
    has = group_of_send >= 0
    if not has.any():
        return np.zeros(n_levels, dtype=np.int64)
    keys = codes_of_send[has].astype(np.int64) * (int(group_of_send.max()) + 1) + group_of_send[has]
    distinct = np.unique(keys)
    return np.bincount(distinct // (int(group_of_send.max()) + 1), minlength=n_levels)


def _json_value(value):
    return value if isinstance(value, bool) else str(value)


def patterns_extract(table: SendTable, *, alpha: float = ALPHA) -> dict:
    """The patterns file (see the module doc for the method) of a SendTable."""
    # Small matrices, many calls: OpenBLAS threads only fight each other (10x slower on 2 cores).
    with threadpool_limits(limits=1, user_api="blas"):
        return _patterns_extract(table, alpha=alpha)


def _patterns_extract(table: SendTable, *, alpha: float) -> dict:
    encoding = encode(table)
    n_cells = len(table.cells)
    cell_of_send = np.frombuffer(table.cell_of_send, dtype=np.int32)
    width = int(encoding.offsets[-1])
    onehot = np.zeros((n_cells, width), dtype=np.uint8)
    for j in range(len(FEATURES)):
        onehot[np.arange(n_cells), encoding.offsets[j] + encoding.codes[:, j]] = 1
    campaigns = np.frombuffer(table.campaign_of_send, dtype=np.int32)
    experiments = np.frombuffer(table.experiment_of_send, dtype=np.int32)
    evidence = {}
    for j, feature in enumerate(FEATURES):
        level_of_send = encoding.codes[cell_of_send, j]
        n_levels = len(encoding.levels[feature])
        evidence[feature] = (
            _evidence_counts(level_of_send, campaigns, n_levels),
            _evidence_counts(level_of_send, experiments, n_levels),
        )

    outcome_names = [o for o in OUTCOMES if o in table.outcomes] + sorted(set(table.outcomes) - set(OUTCOMES))
    rows, models, summaries = [], {}, {}
    for outcome in outcome_names:
        y = np.frombuffer(table.outcomes[outcome], dtype=np.uint8)
        measured = y != MISSING
        t = np.bincount(cell_of_send[measured], minlength=n_cells).astype(np.float64)
        s = np.bincount(cell_of_send[y == 1], minlength=n_cells).astype(np.float64)
        trials, successes = int(t.sum()), int(s.sum())
        summaries[outcome] = {"n": trials, "rate": successes / trials if trials else None}
        if trials < MIN_MEASURED or successes in (0, trials):
            summaries[outcome]["modelled"] = False
            models[outcome] = {"intercept": _logit_or_none(successes, trials), "coefficients": {}, "unseen": {}}
            continue
        summaries[outcome]["modelled"] = True
        outcome_rows, model = _outcome_patterns(outcome, encoding, onehot, t, s, evidence)
        rows.extend(outcome_rows)
        models[outcome] = model

    m = max(1, len(rows))
    z_crit = float(stats.norm.isf(alpha / (2 * m)))
    for row in rows:
        log_ratio, se = row.pop("_log_ratio"), row.pop("_se")
        row["lift"] = math.expm1(log_ratio)
        row["ci_low"] = math.expm1(log_ratio - z_crit * se)
        row["ci_high"] = math.expm1(log_ratio + z_crit * se)
        p_value = float(2 * stats.norm.sf(abs(log_ratio) / se)) if se > 0 else (0.0 if log_ratio else 1.0)
        row["p_value"] = p_value
        row["p_adjusted"] = min(1.0, p_value * m)
        row["significant"] = row["p_adjusted"] < alpha
    return {
        "format": FORMAT,
        "method": {
            "model": f"logistic regression per outcome on one-hot features (main effects, ridge {RIDGE})",
            "lift": "g-computation: standardised rate with the value / standardised rate with the baseline - 1, "
            "over all sends measured for the outcome, other features as sent",
            "ci": "delta method on the log rate ratio (quasi-binomial dispersion when measurable); "
            f"simultaneous {1 - alpha:.0%} intervals over all {m} patterns",
            "multiple_testing": {
                "method": "bonferroni",
                "controls": "family-wise error rate",
                "error_rate": alpha,
                "tests": m,
                "critical_z": z_crit,
            },
            "missing_outcome": "not measured: the send is left out of that outcome's model",
            "baseline": "false for true/false features; otherwise the middle level by adjusted rate "
            "among levels with >= 2% of the sends",
        },
        "n_sends": table.n_sends,
        "skipped_lines": [{"line": line, "reason": reason} for line, reason in table.skipped[:100]],
        "outcomes": summaries,
        "features": {
            f: {"values": [_json_value(v) for v in encoding.levels[f]], "definition": DEFINITIONS[f]} for f in FEATURES
        },
        "patterns": rows,
        "model": {"features": list(FEATURES), "outcomes": models},
    }


def _logit_or_none(successes: int, trials: int):
    """The log-odds of an outcome too thin or too one-sided to model: the Jeffreys estimate
    (s + ½) / (n + 1), so 0 of 40 predicts 1.2%, not a certainty that the next send fails."""
    if not trials:
        return None
    rate = (successes + 0.5) / (trials + 1)
    return math.log(rate / (1 - rate))


def _outcome_patterns(outcome, encoding, onehot, t, s, evidence):
    rows_in = np.flatnonzero(t)
    t, s = t[rows_in], s[rows_in]
    codes = encoding.codes[rows_in]
    columns: dict[str, dict[int, int]] = {}
    level_trials: dict[str, np.ndarray] = {}
    selected = [0]  # placeholder for the intercept
    for j, feature in enumerate(FEATURES):
        n_levels = len(encoding.levels[feature])
        per_level = np.bincount(codes[:, j], weights=t, minlength=n_levels)
        present = np.flatnonzero(per_level)
        if len(present) < 2:
            continue
        reference = int(present[np.argmax(per_level[present])])
        level_trials[feature] = per_level
        columns[feature] = {}
        for k in present:
            if k != reference:
                columns[feature][int(k)] = len(selected)
                selected.append(int(encoding.offsets[j] + k))
    X = np.empty((len(rows_in), len(selected)), dtype=np.uint8)
    X[:, 0] = 1
    if len(selected) > 1:
        X[:, 1:] = onehot[rows_in][:, selected[1:]]
    aliased = _aliased_features(X, t, columns)
    if aliased:
        keep = [0] + [col for f, by_level in columns.items() if f not in aliased for col in by_level.values()]
        renumber = {old: new for new, old in enumerate(keep)}
        X = np.ascontiguousarray(X[:, keep])
        columns = {
            f: {k: renumber[c] for k, c in by_level.items()} for f, by_level in columns.items() if f not in aliased
        }
    beta, eta, inverse_hessian = logistic_fit(X, t, s)
    covariance = inverse_hessian * _dispersion(t, s, eta, X.shape[1])
    total = t.sum()

    # Standardised rates of every level of every modelled feature and their gradients, one pass.
    slots = []  # (feature, j, level code)
    for j, feature in enumerate(FEATURES):
        if feature in columns:
            slots.extend((feature, j, int(k)) for k in np.flatnonzero(level_trials[feature]))
    coef = {f: np.zeros(len(encoding.levels[f])) for f in columns}
    for feature, by_level in columns.items():
        for k, col in by_level.items():
            coef[feature][k] = beta[col]
    rates = np.zeros(len(slots))
    gradient = np.zeros((X.shape[1], len(slots)))
    for a, b in _chunks(len(X)):
        shifted = np.empty((b - a, len(slots)))
        for i, (feature, j, k) in enumerate(slots):
            shifted[:, i] = eta[a:b] - coef[feature][codes[a:b, j]] + coef[feature][k]
        p = special.expit(shifted)
        rates += t[a:b] @ p
        gradient += _dense(X, a, b).T @ (t[a:b, None] * p * (1 - p))
    rates /= total
    gradient /= total
    for i, (feature, _j, k) in enumerate(slots):
        block = list(columns[feature].values())
        scale = gradient[0, i]  # the intercept column's entry is the sum of p(1-p) weights
        gradient[block, i] = 0.0
        if k in columns[feature]:
            gradient[columns[feature][k], i] = scale

    rows = []
    by_feature: dict[str, dict[int, int]] = {}
    for i, (feature, _j, k) in enumerate(slots):
        by_feature.setdefault(feature, {})[k] = i
    for feature, slot_of in by_feature.items():
        levels = encoding.levels[feature]
        present = np.array(sorted(slot_of))
        level_rates = np.zeros(len(levels))
        for k, i in slot_of.items():
            level_rates[k] = rates[i]
        if feature in BOOLEAN_FEATURES and False not in [levels[k] for k in present]:
            continue
        base = _baseline(feature, present, level_rates, level_trials[feature], levels)
        campaigns, experiments = evidence[feature]
        for k in present:
            if k == base:
                continue
            i, ib = slot_of[k], slot_of[base]
            grad = gradient[:, i] / rates[i] - gradient[:, ib] / rates[ib]
            rows.append(
                {
                    "feature": feature,
                    "value": _json_value(levels[k]),
                    "baseline": _json_value(levels[base]),
                    "outcome": outcome,
                    "n": int(level_trials[feature][k]),
                    "n_baseline": int(level_trials[feature][base]),
                    "rate": float(rates[i]),
                    "baseline_rate": float(rates[ib]),
                    "evidence": {
                        "sends": int(level_trials[feature][k]),
                        "campaigns": int(campaigns[k]),
                        "experiments": int(experiments[k]),
                    },
                    "_log_ratio": float(math.log(rates[i]) - math.log(rates[ib])),
                    "_se": float(math.sqrt(max(0.0, grad @ covariance @ grad))),
                }
            )

    coefficients, unseen = {}, {}
    for feature in columns:
        levels = encoding.levels[feature]
        weights = level_trials[feature]
        coefficients[feature] = [[_json_value(levels[k]), float(coef[feature][k])] for k in np.flatnonzero(weights)]
        unseen[feature] = float(coef[feature] @ weights / weights.sum())
    model = {"intercept": float(beta[0]), "coefficients": coefficients, "unseen": unseen}
    return rows, model


class Predictor:
    """Predicted outcome probabilities of a send from a patterns file's `model`."""

    def __init__(self, patterns: dict):
        model = patterns.get("model") if isinstance(patterns, dict) else None
        if not model or "outcomes" not in model:
            raise ValueError("not a patterns file: it has no 'model' section")
        self.outcomes = []
        for outcome, params in model["outcomes"].items():
            if params.get("intercept") is None:
                continue
            tables = []
            for j, feature in enumerate(FEATURES):
                pairs = params["coefficients"].get(feature)
                if not pairs:
                    continue
                values = {_json_value(value): coef for value, coef in pairs}
                fallback = values.get(OTHER, params["unseen"].get(feature, 0.0))
                tables.append((j, values, fallback))
            self.outcomes.append((outcome, params["intercept"], tables))
        self._cache: dict[tuple, dict] = {}

    def predict(self, features: tuple) -> dict[str, float]:
        """{outcome: probability} for one send's feature tuple."""
        cached = self._cache.get(features)
        if cached is None:
            cached = {}
            for outcome, intercept, tables in self.outcomes:
                eta = intercept
                for j, values, fallback in tables:
                    eta += values.get(_json_value(features[j]), fallback)
                cached[outcome] = float(special.expit(eta))
            if len(self._cache) < 1_000_000:
                self._cache[features] = cached
        return cached


def table_subset(table: SendTable, *, feature: str, value) -> SendTable:
    """The sends of a table whose feature has this value (cells renumbered)."""
    j = FEATURES.index(feature)
    keep_cell = np.array([cell[j] == value for cell in table.cells], dtype=bool)
    cell_of_send = np.frombuffer(table.cell_of_send, dtype=np.int32)
    keep = keep_cell[cell_of_send] if len(cell_of_send) else np.zeros(0, dtype=bool)
    kept_cells = np.flatnonzero(keep_cell)
    renumber = np.full(len(table.cells), -1, dtype=np.int32)
    renumber[kept_cells] = np.arange(len(kept_cells), dtype=np.int32)
    subset = SendTable(cells=[table.cells[i] for i in kept_cells])
    subset.cell_of_send.frombytes(renumber[cell_of_send[keep]].tobytes())
    subset.campaign_of_send.frombytes(np.frombuffer(table.campaign_of_send, dtype=np.int32)[keep].tobytes())
    subset.experiment_of_send.frombytes(np.frombuffer(table.experiment_of_send, dtype=np.int32)[keep].tobytes())
    subset.campaign_names, subset.experiment_names = table.campaign_names, table.experiment_names
    subset.outcomes = {
        name: bytearray(np.frombuffer(column, dtype=np.uint8)[keep].tobytes())
        for name, column in table.outcomes.items()
    }
    return subset


def models_by_stratum(table: SendTable, *, feature: str = "customer_type", min_sends: int = 500) -> dict:
    """A model per value of a contact feature (enough sends only): message effects that differ
    between kinds of contacts, which one main-effects model cannot show. For personalised variants."""
    j = FEATURES.index(feature)
    counts: dict = {}
    sends_per_cell = np.bincount(np.frombuffer(table.cell_of_send, dtype=np.int32), minlength=len(table.cells))
    for cell, n in zip(table.cells, sends_per_cell, strict=True):
        counts[cell[j]] = counts.get(cell[j], 0) + int(n)
    return {
        _json_value(value): patterns_extract(table_subset(table, feature=feature, value=value))["model"]
        for value, n in counts.items()
        if n >= min_sends and value not in (UNKNOWN, OTHER)
    }
