"""Thompson sampling on Gaussian posteriors (pure numpy, no Django)."""

import numpy as np

FLOOR = 0.01  # every arm keeps at least 1% of traffic


def thompson_weights(
    means, variances, counts, *, floor: float = FLOOR, draws: int = 20_000, seed: int | None = None
) -> list[float]:
    """Traffic weights = P(arm is best) under N(mean, variance/n) posteriors, floored per arm.

    Arms with fewer than two units get an uninformative share (equal split) until data arrives.
    """
    means = np.asarray(means, dtype=float)
    variances = np.asarray(variances, dtype=float)
    counts = np.asarray(counts, dtype=float)
    arms = len(means)
    if arms == 0:
        return []
    if floor * arms > 1:
        raise ValueError("the floor times the number of arms exceeds 100%")
    if (counts < 2).any():
        return [1.0 / arms] * arms
    sd = np.sqrt(np.maximum(variances, 0) / counts)
    rng = np.random.default_rng(seed)
    samples = means + sd * rng.standard_normal((draws, arms))
    wins = np.bincount(samples.argmax(axis=1), minlength=arms) / draws
    weights = floor + (1.0 - floor * arms) * wins
    return (weights / weights.sum()).tolist()
