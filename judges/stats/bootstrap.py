"""Seeded paired bootstrap over prompts, streamed in chunks.

"Paired" because the unit resampled is the prompt: both models' answers to a prompt (and both orders of
its judgment) stay together, so prompt difficulty cancels instead of inflating the interval. The same
seed always gives the same resamples whatever the chunk size (the generator's stream is consumed in
order), and the seed is reported next to every interval. Resamples are drawn ``chunk`` rows at a time so
that memory stays bounded: 100k prompts x 2,000 resamples never hold more than ``_CHUNK_ELEMENTS``
indices at once (benchmarks/bench_bootstrap_memory.py measures the peak).

The interval is the percentile interval read off the order statistics of the B resampled means:
lower = the ceil(B * alpha / 2)-th smallest, upper = the ceil(B * alpha / 2)-th largest
(alpha = 1 - confidence). ``judges.stats.significance`` uses the same order statistics for its p-value, so
"the interval excludes the null" and "p < alpha" are the same statement.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

__all__ = [
    "bootstrap_means",
    "interval_rank",
    "min_resamples",
    "percentile_interval",
    "resample_chunks",
    "resample_indices",
]

_CHUNK_ELEMENTS = 4_000_000  # indices per chunk: 32 MB of int64 plus the gathered float64 values


def resample_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) indices drawn with replacement from range(n) by a seeded PCG64 generator.

    Materialises every resample at once; ``resample_chunks`` yields the same rows a chunk at a time.

    >>> resample_indices(3, 2, seed=0).shape
    (2, 3)
    """
    return np.concatenate(
        [*resample_chunks(n, n_boot, seed, chunk=max(n_boot, 1))] or [np.empty((0, n), int)]
    )


def resample_chunks(n: int, n_boot: int, seed: int, *, chunk: int | None = None) -> Iterator[np.ndarray]:
    """The rows of ``resample_indices(n, n_boot, seed)`` in consecutive blocks of at most ``chunk`` rows.

    >>> a = np.concatenate(list(resample_chunks(5, 7, seed=3, chunk=2)))
    >>> bool((a == resample_indices(5, 7, seed=3)).all())
    True
    """
    if n < 0 or n_boot < 0:
        raise ValueError(f"n and n_boot must be >= 0, got n={n}, n_boot={n_boot}")
    rows = chunk if chunk is not None else max(1, _CHUNK_ELEMENTS // max(n, 1))
    rng = np.random.default_rng(seed)
    for start in range(0, n_boot, rows):
        size = min(rows, n_boot - start)
        yield rng.integers(0, n, size=(size, n)) if n else np.empty((size, 0), int)


def bootstrap_means(values: np.ndarray, *, n_boot: int, seed: int, chunk: int | None = None) -> np.ndarray:
    """Means of ``n_boot`` resamples of ``values`` (one value per prompt), computed chunk by chunk.

    >>> bootstrap_means(np.array([0.0, 1.0]), n_boot=4, seed=0).tolist()
    [1.0, 0.5, 0.0, 0.0]
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return np.full(n_boot, np.nan)
    parts = [values[idx].mean(axis=1) for idx in resample_chunks(len(values), n_boot, seed, chunk=chunk)]
    return np.concatenate(parts) if parts else np.empty(0)


def min_resamples(confidence: float) -> int:
    """The fewest resamples a reported interval and p-value may rest on: 10 resamples beyond each end of the
    interval, B = 20 / (1 - confidence). Then the smallest p-value the resamples can show, 2 / B, is a tenth
    of alpha (fewer, and `p < 2/B` can exceed alpha: the p-value could not say "significant" while the interval
    did, or an interval of 1 resample would exclude its own estimate).

    >>> min_resamples(0.95), min_resamples(0.90), min_resamples(0.99)
    (400, 200, 2000)
    """
    return math.ceil(round(20 / (1 - confidence), 6))


def interval_rank(n_samples: int, confidence: float) -> int:
    """1-based rank k of the interval's lower end among the sorted samples (upper end: k-th largest).

    k = ceil(B * (1 - confidence) / 2), at least 1.

    >>> interval_rank(2000, 0.95), interval_rank(1000, 0.95), interval_rank(10, 0.95)
    (50, 25, 1)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return max(1, math.ceil(n_samples * (1 - confidence) / 2 - 1e-9))


def percentile_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Central percentile interval of bootstrap samples (order statistics, see the module); NaNs ignored.

    >>> percentile_interval(np.arange(100.0), 0.9)  # k = ceil(100 * 0.05) = 5: 5th smallest and 5th largest
    (4.0, 95.0)
    """
    interval_rank(1, confidence)  # validates confidence even when there are no samples
    samples = np.asarray(samples, dtype=float)
    samples = np.sort(samples[~np.isnan(samples)])
    if len(samples) == 0:
        return (float("nan"), float("nan"))
    k = interval_rank(len(samples), confidence)
    return (float(samples[k - 1]), float(samples[len(samples) - k]))
