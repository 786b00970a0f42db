"""Experiment statistics over summary statistics: pure numpy/scipy, no Django.

Formulas follow GrowthBook's open-source engine (gbstats 0.8.0) so numbers agree to
1e-6 relative; fixtures in ``abtesting/tests/fixtures`` prove it. Every comparison
function is vectorised: pass arrays in ``Proportion``/``Mean`` and every field of the
returned ``Estimate`` becomes an array (errors as an object array of ``str | None``).
Scalars in, scalars out (``None`` in place of numbers when ``error`` is set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import optimize, special

ERROR_EMPTY_ARM = "An arm has no units yet."
ERROR_ZERO_BASELINE = "The control mean is zero, so the lift cannot be estimated."
ERROR_ZERO_VARIANCE = "An arm has zero variance, so its uncertainty is unknown."

Alternative = Literal["two-sided", "greater", "less"]


@dataclass(frozen=True)
class Proportion:
    """Binary metric: ``conversions`` of ``n`` units; variance p(1-p)."""

    n: Any
    conversions: Any

    @property
    def units(self) -> np.ndarray:
        return np.asarray(self.n, dtype=float)

    @property
    def mean(self) -> np.ndarray:
        n = self.units
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, np.asarray(self.conversions, dtype=float) / n, 0.0)

    @property
    def variance(self) -> np.ndarray:
        p = self.mean
        return p * (1.0 - p)


@dataclass(frozen=True)
class Mean:
    """Continuous metric from n, sum and sum of squares; sample variance (n-1)."""

    n: Any
    total: Any
    sum_squares: Any

    @property
    def units(self) -> np.ndarray:
        return np.asarray(self.n, dtype=float)

    @property
    def mean(self) -> np.ndarray:
        n = self.units
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, np.asarray(self.total, dtype=float) / n, 0.0)

    @property
    def variance(self) -> np.ndarray:
        n = self.units
        total = np.asarray(self.total, dtype=float)
        squares = np.asarray(self.sum_squares, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 1, (squares - total**2 / n) / (n - 1), 0.0)


@dataclass(frozen=True)
class Cuped:
    """CUPED: a post-period metric adjusted by a pre-period covariate of the same units.

    ``sum_products`` is Σ post·pre over units. Only meaningful when both arms are Cuped;
    theta is estimated from both arms together (as gbstats' regression adjustment).
    """

    post: Proportion | Mean
    pre: Proportion | Mean
    sum_products: Any

    @property
    def n(self):
        return self.post.n

    @property
    def units(self) -> np.ndarray:
        return self.post.units

    def covariance(self) -> np.ndarray:
        n = self.units
        products = np.asarray(self.sum_products, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (products - _sum(self.post) * _sum(self.pre) / n) / (n - 1)
        return np.where(n > 1, value, 0.0)


Statistic = Proportion | Mean | Cuped


def _sum(stat) -> np.ndarray:
    return np.asarray(stat.conversions if isinstance(stat, Proportion) else stat.total, dtype=float)


def _joint(a, b):
    n = a.units + b.units
    if isinstance(a, Proportion):
        return Proportion(n, _sum(a) + _sum(b))
    return Mean(n, _sum(a) + _sum(b), np.asarray(a.sum_squares, float) + np.asarray(b.sum_squares, float))


def _moments(control, treatment):
    """(mean, unadjusted mean, variance) of each arm; CUPED arms share one theta."""
    if not (isinstance(control, Cuped) and isinstance(treatment, Cuped)):
        if isinstance(control, Cuped) or isinstance(treatment, Cuped):
            raise TypeError("CUPED needs pre-period data in both arms")
        return (control.mean, control.mean, control.variance), (treatment.mean, treatment.mean, treatment.variance)
    post, pre = _joint(control.post, treatment.post), _joint(control.pre, treatment.pre)
    joint = Cuped(post, pre, np.asarray(control.sum_products, float) + np.asarray(treatment.sum_products, float))
    usable = (pre.variance != 0) & (post.variance != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(usable, joint.covariance() / pre.variance, 0.0)
    out = []
    for arm in (control, treatment):
        adjusted_variance = np.where(
            arm.units > 1,
            arm.post.variance + theta**2 * arm.pre.variance - 2 * theta * arm.covariance(),
            0.0,
        )
        # theta == 0 means plain analysis of the post-period metric (gbstats falls back the same way)
        variance = np.where(theta == 0, arm.post.variance, adjusted_variance)
        out.append((arm.post.mean - theta * arm.pre.mean, arm.post.mean, variance))
    return out[0], out[1]


@dataclass(frozen=True)
class Estimate:
    """Effect of treatment over control (relative lift or absolute difference)."""

    expected: Any
    ci: tuple[Any, Any] | None
    p_value: Any = None
    chance_to_win: Any = None
    risk: tuple[Any, Any] | None = None  # expected loss of choosing (control, treatment)
    error: Any = None

    @property
    def is_vector(self) -> bool:
        return isinstance(self.expected, np.ndarray)

    def row(self, i: int) -> Estimate:
        """The scalar estimate of comparison ``i`` of a vectorised result."""
        return _finish(
            {
                "expected": self.expected[i],
                "ci": None if self.ci is None else (self.ci[0][i], self.ci[1][i]),
                "p_value": None if self.p_value is None else self.p_value[i],
                "chance_to_win": None if self.chance_to_win is None else self.chance_to_win[i],
                "risk": None if self.risk is None else (self.risk[0][i], self.risk[1][i]),
                "error": self.error[i],
            },
            scalar=True,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form of a scalar estimate (infinite bounds become None)."""

        def clean(x):
            return None if x is None or not math.isfinite(x) else float(x)

        return {
            "expected": clean(self.expected),
            "ci": None if self.ci is None else [clean(self.ci[0]), clean(self.ci[1])],
            "p_value": clean(self.p_value),
            "chance_to_win": clean(self.chance_to_win),
            "risk": None if self.risk is None else [clean(self.risk[0]), clean(self.risk[1])],
            "error": self.error,
        }


def frequentist(
    control: Statistic,
    treatment: Statistic,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    alternative: Alternative = "two-sided",
) -> Estimate:
    """Welch t-test (Welch-Satterthwaite df, delta method for relative lift)."""
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"unknown alternative {alternative!r}")
    scalar = _is_scalar(control, treatment)
    point, variance, dof, error = _difference(control, treatment, relative, bayesian=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(variance)
        z = point / se
        if alternative == "two-sided":
            p_value = 2.0 * (1.0 - special.stdtr(dof, np.abs(z)))
            width = special.stdtrit(dof, 1.0 - alpha / 2.0) * se
            ci = (point - width, point + width)
        else:
            width = special.stdtrit(dof, 1.0 - alpha) * se
            if alternative == "greater":
                p_value = 1.0 - special.stdtr(dof, z)
                ci = (point - width, np.full_like(point, np.inf))
            else:
                p_value = special.stdtr(dof, z)
                ci = (np.full_like(point, -np.inf), point + width)
    fields = {"expected": point, "ci": ci, "p_value": p_value, "error": error}
    return _finish(_mask(fields, error), scalar=scalar)


def sequential(
    control: Statistic,
    treatment: Statistic,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    tuning: float = 5000,
) -> Estimate:
    """Always-valid two-sided inference: asymptotic confidence sequences (arXiv:2103.06476)."""
    scalar = _is_scalar(control, treatment)
    point, variance, _dof, error = _difference(control, treatment, relative, bayesian=False)
    total_n = control.units + treatment.units
    rho2 = (-2.0 * np.log(alpha) + np.log(-2.0 * np.log(alpha) + 1.0)) / tuning  # eq. 161
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s2 = variance * total_n
        n_rho2_1 = total_n * rho2 + 1.0
        width = np.sqrt(s2) * np.sqrt(  # eq. 9
            2.0 * n_rho2_1 * np.log(np.sqrt(n_rho2_1) / alpha) / (total_n**2 * rho2)
        )
        st2 = point**2 * total_n / variance
        # p = min(1, 1/e-value), eq. 155, computed in log space to avoid overflow
        log_evalue = rho2 * st2 / (2.0 * n_rho2_1) - 0.5 * np.log(n_rho2_1)
        p_value = np.minimum(np.exp(-log_evalue), 1.0)
        ci = (point - width, point + width)
    fields = {
        "expected": point,
        "ci": ci,
        "p_value": p_value,
        "error": error,
    }
    return _finish(_mask(fields, error), scalar=scalar)


def bayesian(
    control: Statistic,
    treatment: Statistic,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    prior_mean: float = 0.0,
    prior_variance: float | None = None,
) -> Estimate:
    """Gaussian posterior on the effect: credible interval, chance to win, expected loss."""
    scalar = _is_scalar(control, treatment)
    data_mean, data_variance, _dof, error = _difference(control, treatment, relative, bayesian=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        if prior_variance is None:
            post_mean = data_mean
            post_sd = np.sqrt(data_variance)
        else:
            precision = 1.0 / data_variance + 1.0 / prior_variance
            post_mean = (data_mean / data_variance + prior_mean / prior_variance) / precision
            post_sd = np.sqrt(1.0 / precision)
        z_low = special.ndtri(alpha / 2.0)
        ci = (post_mean + z_low * post_sd, post_mean - z_low * post_sd)
        zscore = post_mean / post_sd
        chance_to_win = special.ndtr(zscore)
        density = np.exp(-0.5 * zscore**2) / math.sqrt(2.0 * math.pi)
        # E[max(effect, 0)] and E[max(-effect, 0)] for effect ~ N(post_mean, post_sd)
        risk_control = post_mean * special.ndtr(zscore) + post_sd * density
        risk_treatment = post_sd * density - post_mean * special.ndtr(-zscore)
    fields = {
        "expected": post_mean,
        "ci": ci,
        "chance_to_win": chance_to_win,
        "risk": (risk_control, risk_treatment),
        "error": error,
    }
    return _finish(_mask(fields, error), scalar=scalar)


def srm_p_value(counts, weights) -> float:
    """Chi-square goodness-of-fit p-value of observed arm counts vs expected weights."""
    counts = np.asarray(counts, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = counts.sum()
    if total <= 0:
        return 1.0
    live = weights > 0
    expected = weights[live] / weights.sum() * total
    statistic = float(((counts[live] - expected) ** 2 / expected).sum())
    return float(special.chdtrc(len(counts) - 1, statistic))


def adjust_p_values(p_values, *, method: str = "holm") -> list[float]:
    """Family-wise (Holm-Bonferroni) or false-discovery-rate (Benjamini-Hochberg) adjustment."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adjusted = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    else:
        raise ValueError(f"unknown method {method!r}")
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out.tolist()


def sample_size_per_arm(baseline_rate: float, relative_mde: float, *, alpha: float = 0.05, power: float = 0.8) -> int:
    """Units per arm for a two-sided two-proportion z-test on Cohen's h (as statsmodels)."""
    effect = _cohens_h(baseline_rate, relative_mde)
    z_alpha = special.ndtri(1.0 - alpha / 2.0)

    def shortfall(n: float) -> float:
        shift = effect * math.sqrt(n / 2.0)
        return special.ndtr(shift - z_alpha) + special.ndtr(-shift - z_alpha) - power

    first_guess = 2.0 * ((z_alpha + special.ndtri(power)) / effect) ** 2
    upper = max(first_guess * 4.0, 10.0)
    return math.ceil(optimize.brentq(shortfall, 1e-6, upper, xtol=1e-10, rtol=1e-14))


def minimum_detectable_effect(
    baseline_rate: float, n_per_arm: int, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest relative lift that ``n_per_arm`` units per arm detect with ``power``."""
    if not 0 < baseline_rate < 1 or n_per_arm < 2:
        raise ValueError("baseline_rate must be in (0, 1) and n_per_arm >= 2")
    h = (special.ndtri(1.0 - alpha / 2.0) + special.ndtri(power)) / math.sqrt(n_per_arm / 2.0)
    target = math.asin(math.sqrt(baseline_rate)) + h / 2.0
    if target >= math.pi / 2.0:
        return math.inf
    return math.sin(target) ** 2 / baseline_rate - 1.0


def _cohens_h(baseline_rate: float, relative_mde: float) -> float:
    treated = baseline_rate * (1.0 + relative_mde)
    if not 0 < baseline_rate < 1 or not 0 < treated < 1 or relative_mde == 0:
        raise ValueError("baseline_rate and the treated rate must lie in (0, 1), mde != 0")
    return abs(2.0 * math.asin(math.sqrt(treated)) - 2.0 * math.asin(math.sqrt(baseline_rate)))


def _is_scalar(control: Statistic, treatment: Statistic) -> bool:
    return np.ndim(control.n) == 0 and np.ndim(treatment.n) == 0


def _difference(control, treatment, relative, *, bayesian):
    """Point estimate, its variance, Welch df and per-row error, gbstats-style."""
    (mean_a, raw_a, var_a), (mean_b, raw_b, var_b) = _moments(control, treatment)
    n_a, n_b = control.units, treatment.units
    mean_a, raw_a, mean_b, raw_b, var_a, var_b, n_a, n_b = np.broadcast_arrays(
        mean_a, raw_a, mean_b, raw_b, var_a, var_b, n_a, n_b
    )
    error = np.full(mean_a.shape, None, dtype=object)
    zero_variance = (var_a <= 0) | (var_b <= 0)
    error[zero_variance] = ERROR_ZERO_VARIANCE
    zero_baseline = (mean_a == 0) | (raw_a == 0)
    if bayesian:
        error[(n_a == 0) | (n_b == 0)] = ERROR_EMPTY_ARM
        if relative:
            error[zero_baseline] = ERROR_ZERO_BASELINE
    else:
        # gbstats' t-test rejects a zero control mean on both scales
        error[zero_baseline] = ERROR_ZERO_BASELINE
        error[(n_a == 0) | (n_b == 0)] = ERROR_EMPTY_ARM
    with np.errstate(divide="ignore", invalid="ignore"):
        if relative:
            # lift over the unadjusted control mean; delta method on unadjusted means (gbstats)
            point = (mean_b - mean_a) / raw_a
            variance = var_b / (raw_a**2 * n_b) + var_a * raw_b**2 / (raw_a**4 * n_a)
        else:
            point = mean_b - mean_a
            variance = var_b / n_b + var_a / n_a
        dof = (var_b / n_b + var_a / n_a) ** 2 / (var_b**2 / (n_b**2 * (n_b - 1)) + var_a**2 / (n_a**2 * (n_a - 1)))
    return point, variance, dof, error


def _mask(fields: dict, error: np.ndarray) -> dict:
    bad = np.not_equal(error, None)
    if not bad.any():
        return fields

    def blank(value):
        if value is None:
            return None
        if isinstance(value, tuple):
            return tuple(blank(v) for v in value)
        return np.where(bad, np.nan, value)

    return {key: value if key == "error" else blank(value) for key, value in fields.items()}


def _finish(fields: dict, *, scalar: bool) -> Estimate:
    if not scalar:
        return Estimate(**fields)

    def to_scalar(value):
        if value is None:
            return None
        if isinstance(value, tuple):
            return tuple(to_scalar(v) for v in value)
        number = float(np.asarray(value).reshape(-1)[0])
        return None if math.isnan(number) else number

    error = fields["error"]
    error = error if isinstance(error, str) or error is None else np.asarray(error).reshape(-1)[0]
    out = {key: to_scalar(value) for key, value in fields.items() if key != "error"}
    if error is not None:
        out = dict.fromkeys(out)
    return Estimate(**out, error=error)
