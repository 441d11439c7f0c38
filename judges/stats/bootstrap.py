"""Seeded paired bootstrap over prompts.

"Paired" because the unit resampled is the prompt: both models' answers to a prompt (and both orders of
its judgment) stay together, so prompt difficulty cancels instead of inflating the interval. The same
seed always gives the same interval, and the seed is reported next to it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_means", "percentile_interval", "resample_indices"]


def resample_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) indices drawn with replacement from range(n) by a seeded PCG64 generator.

    >>> resample_indices(3, 2, seed=0).shape
    (2, 3)
    """
    if n < 0 or n_boot < 0:
        raise ValueError(f"n and n_boot must be >= 0, got n={n}, n_boot={n_boot}")
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n)) if n else np.empty((n_boot, 0), int)


def bootstrap_means(values: np.ndarray, *, n_boot: int, seed: int) -> np.ndarray:
    """Means of ``n_boot`` resamples of ``values`` (one value per prompt).

    >>> bootstrap_means(np.array([0.0, 1.0]), n_boot=4, seed=0).tolist()
    [1.0, 0.5, 0.0, 0.0]
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.full(n_boot, np.nan)
    return values[resample_indices(len(values), n_boot, seed)].mean(axis=1)


def percentile_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Central percentile interval of bootstrap samples; NaN samples are ignored.

    >>> [round(x, 9) for x in percentile_interval(np.arange(101.0), 0.9)]
    [5.0, 95.0]
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    samples = np.asarray(samples, dtype=float)
    samples = samples[~np.isnan(samples)]
    if len(samples) == 0:
        return (float("nan"), float("nan"))
    alpha = (1 - confidence) / 2
    low, high = np.percentile(samples, [100 * alpha, 100 * (1 - alpha)])
    return (float(low), float(high))
