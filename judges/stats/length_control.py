"""Length-controlled win rate, after AlpacaEval 2 (Dubois et al. 2024, arXiv:2404.04475).

Judges prefer longer answers. A checkpoint that only learned to write more would show a rising raw win
rate with no gain in quality. The length-controlled win rate answers the counterfactual "what would
the preference be if both answers had the same length?": fit a logistic model of the per-prompt
preference on the length difference, then predict with the length difference set to zero.

Model (one fit per model/baseline pair, soft labels, maximum likelihood by Newton/IRLS):

    logit P(model better on prompt x) = theta + phi * tanh(d_x / sd(d)) [+ psi * difficulty_x]

d_x = length_model - length_baseline in characters; sd is the sample standard deviation (ddof 1) of d
over the fitted prompts, not centred (as AlpacaEval). difficulty_x is an optional per-prompt covariate
(AlpacaEval's instruction difficulty). lc_win_rate = mean over prompts of
sigmoid(theta [+ psi * difficulty_x]). docs/statistics.md lists how this differs from AlpacaEval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from judges.stats.bootstrap import percentile_interval, resample_indices

__all__ = ["LengthControlled", "lc_win_rate"]


@dataclass(frozen=True)
class LengthControlled:
    """A length-controlled win rate and the fitted coefficients behind it.

    coef_length is phi (positive: longer answers win more); coef_difficulty is psi or None when no
    difficulty was given. length_sd is the scale of the length difference in characters. n counts the
    prompts fitted (scored and with both lengths known). share_longer is the share of those prompts where
    the model's answer is longer; at 0 or 1 the prediction at equal length is an extrapolation and
    ``extrapolated`` is True. ci_low/ci_high: bootstrap interval of lc_win_rate (NaN when not asked for).
    """

    lc_win_rate: float
    coef_intercept: float
    coef_length: float
    coef_difficulty: float | None
    length_sd: float
    n: int
    share_longer: float
    ci_low: float = float("nan")
    ci_high: float = float("nan")

    @property
    def extrapolated(self) -> bool:
        """True when no fitted prompt had the model's answer on the other side of equal length."""
        return self.share_longer in (0.0, 1.0)


def _fit_soft_logistic(
    x: np.ndarray,
    y: np.ndarray,
    *,
    l2: np.ndarray,
    weights: np.ndarray | None = None,
    coef0: np.ndarray | None = None,
    max_iter: int = 100,
) -> np.ndarray:
    """Coefficients of a logistic regression with targets y in [0, 1] (soft labels), by Newton's method.

    The soft-label log-likelihood sum w y log s + w (1 - y) log(1 - s) is the one AlpacaEval optimises by
    duplicating every row with labels 1 and 0 weighted y and 1 - y. ``l2`` holds one ridge weight per
    coefficient (a Gaussian prior with variance 1 / l2). ``weights`` (B, n) fits B weighted problems at
    once (bootstrap resamples as counts per prompt) and returns (B, d); without it one fit, shape (d,).
    ``coef0`` is the starting point (zeros by default; the full-sample fit for resamples).
    """
    w = np.ones((1, len(y))) if weights is None else np.asarray(weights, dtype=float)
    d = x.shape[1]
    outer = (x[:, :, None] * x[:, None, :]).reshape(len(x), d * d)  # so each Hessian is one matrix product
    coef = np.zeros((len(w), d)) if coef0 is None else np.tile(coef0, (len(w), 1))
    for _ in range(max_iter):
        s = 1.0 / (1.0 + np.exp(-(coef @ x.T)))
        grad = (w * (y - s)) @ x - l2 * coef
        hess = ((w * s * (1 - s)) @ outer).reshape(len(w), d, d) + np.diag(l2)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        coef = coef + step
        if np.abs(step).max() < 1e-10:
            break
    return coef[0] if weights is None else coef


def lc_win_rate(
    preference: np.ndarray,
    length_model: np.ndarray,
    length_baseline: np.ndarray,
    difficulty: np.ndarray | None = None,
    *,
    length_l2: float = 1.0,
    l2: float = 1e-6,
    n_boot: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
) -> LengthControlled | None:
    """Length-controlled win rate from per-prompt preferences and answer lengths.

    Prompts with a NaN preference or an unknown length are left out; returns None when none remain.
    With identical lengths everywhere the length term is dropped and the result is the plain mean.
    ``length_l2`` is a ridge on phi alone (a N(0, 1) prior on the logit scale by default): negligible
    when the data pin phi down, decisive when they cannot separate it from theta (every answer of the
    model longer by about the same amount), where it returns the raw win rate rather than an
    extrapolation. ``l2`` is a tiny ridge on every coefficient that keeps the fit finite when all
    preferences are 0 or 1. With ``n_boot`` > 0, ci_low/ci_high are a percentile interval from the
    same seeded paired bootstrap over prompts as the raw win rate (the model refitted per resample, the
    length scale sd kept from the full sample).

    >>> lc = lc_win_rate(np.array([0.9, 0.9, 0.1, 0.1]), np.array([20, 30, 10, 0]), np.array([10, 10, 20, 20]))
    >>> round(lc.lc_win_rate, 6), lc.coef_length > 0
    (0.5, True)
    """
    p = np.asarray(preference, dtype=float)
    lm = np.asarray(length_model, dtype=float)
    lb = np.asarray(length_baseline, dtype=float)
    ok = ~(np.isnan(p) | np.isnan(lm) | np.isnan(lb))
    diff_x = None
    if difficulty is not None:
        diff_x = np.asarray(difficulty, dtype=float)
        ok &= ~np.isnan(diff_x)
        diff_x = diff_x[ok]
    p, delta = p[ok], (lm - lb)[ok]
    n = len(p)
    if n == 0:
        return None
    sd = float(np.std(delta, ddof=1)) if n > 1 else 0.0
    columns = [np.ones(n)]
    if sd > 0:
        columns.append(np.tanh(delta / sd))
    if diff_x is not None:
        columns.append(diff_x)
    ridge = np.full(len(columns), l2)
    if sd > 0:
        ridge[1] += length_l2
    x = np.column_stack(columns)
    coef = _fit_soft_logistic(x, p, l2=ridge)
    theta = coef[0]
    phi = float(coef[1]) if sd > 0 else 0.0
    psi = float(coef[-1]) if diff_x is not None else None
    at_zero = theta + (psi * diff_x if diff_x is not None else 0.0)
    lc = float(np.mean(1.0 / (1.0 + np.exp(-np.broadcast_to(at_zero, (n,))))))
    low = high = float("nan")
    if n_boot > 0:
        counts = _resample_counts(n, n_boot, seed)
        boot = _fit_soft_logistic(x, p, l2=ridge, weights=counts, coef0=coef)
        boot_zero = boot[:, :1] + (boot[:, -1:] * diff_x[None, :] if diff_x is not None else 0.0)
        boot_lc = (counts / n * (1.0 / (1.0 + np.exp(-np.broadcast_to(boot_zero, counts.shape))))).sum(axis=1)
        low, high = percentile_interval(boot_lc, confidence)
    return LengthControlled(
        lc_win_rate=lc,
        coef_intercept=float(theta),
        coef_length=phi,
        coef_difficulty=psi,
        length_sd=sd,
        n=n,
        share_longer=float((delta > 0).mean()),
        ci_low=low,
        ci_high=high,
    )


def _resample_counts(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) how often each prompt is drawn in each resample (the indices of ``resample_indices``)."""
    idx = resample_indices(n, n_boot, seed)
    flat = (np.arange(n_boot)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)
