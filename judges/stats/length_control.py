"""Length-controlled win rate as AlpacaEval 2 defines it (Dubois et al. 2024, arXiv:2404.04475).

Judges prefer longer answers. A checkpoint that only learned to write more would show a rising raw win
rate with no gain in quality. The length-controlled win rate answers the counterfactual "what would the
preference be if both answers had the same length?". Two steps, as in AlpacaEval's code
(`alpaca_eval/metrics/glm_winrate.py`) and notebook (`notebooks/instruction_difficulty.ipynb`):

1. Instruction difficulty, jointly (``instruction_difficulty``): over every checkpoint m judged against
   the same baseline on the same prompts x, one soft-label logistic regression
   ``logit P(m better on x) = b_m + phi_m * tanh(d_mx / sd_m) + gamma_x``; gamma_x is prompt x's difficulty.
2. Each model's GLM (``lc_win_rate``): ``logit P = theta + phi * tanh(d_x / sd) + psi * gamma_x``, then
   ``lc_win_rate = mean_x sigmoid(theta + psi * gamma_x)``, the prediction at equal length.

d = length_model - length_baseline in characters; sd is its sample standard deviation (ddof 1) over the
fitted prompts, not centred (AlpacaEval). Fits are maximum likelihood by Newton's method with a tiny ridge
(``L2``) that only keeps them finite; the difficulties carry a N(0, 1 / DIFFICULTY_L2) prior, which pins
their location (b_m and gamma_x are otherwise only identified up to a shared shift) and keeps a prompt
every model lost finite. AlpacaEval's regularisation towards its "gamed" baselines is the same term here:
when the store holds the baseline's verbose/concise variants judged against it (``is_gamed_baseline``), their
rows enter every model's GLM with weight 0.2 / (number of variants) and no intercept (``GamedRows``); without
them a N(phi_bar, 1/10) prior on phi stands in. Differences from AlpacaEval (measured in docs/statistics.md):
no L1 penalty chosen by 5-fold cross-validation (it moves nothing measurably), and difficulty comes from the
checkpoints in the store rather than AlpacaEval's file fitted once on the models of early 2024, so a model's
lc_win_rate moves when checkpoints are added against the same baseline.

Warnings (``LengthControlled.warnings``): AlpacaEval's extreme-change rule (``is_extreme_change``); weak
identification when few prompts have the model on the minority side of equal length, where the length
term cannot be told from the intercept; non-convergence of either fit. None is silently used: each is a
field and a warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from judges.stats.bootstrap import percentile_interval, resample_chunks

__all__ = [
    "Difficulty",
    "GamedRows",
    "LengthControlled",
    "gamed_baseline_rows",
    "instruction_difficulty",
    "is_extreme_change",
    "is_gamed_baseline",
    "lc_win_rate",
    "lc_win_rate_against_baseline",
    "lc_win_rate_from_judgments",
]

L2 = 1e-6
DIFFICULTY_L2 = 1.0
LENGTH_PRIOR_PRECISION = 10.0
MIN_MODELS_FOR_DIFFICULTY = 2
WEAK_MINORITY_SHARE = 0.05
WEAK_MINORITY_COUNT = 10
GAMED_BASELINE_LAMBDA = 0.2  # AlpacaEval's regularize_to_baseline_lambda (length_controlled_v1)


@dataclass(frozen=True)
class GamedRows:
    """Rows of the baseline's own length-gamed variants judged against the baseline (AlpacaEval's regulariser).

    Each row enters every model's GLM with the length term ``tanh`` (its variant's own scale), its prompt's
    ``difficulty``, target ``preference`` and sample weight ``weight`` = GAMED_BASELINE_LAMBDA / number of
    variants, and without the intercept (AlpacaEval's ``not_gamed_baseline`` = 0): at equal length a variant
    of the baseline is the baseline. They share phi and psi with the model and so pull both towards the
    judge's length sensitivity measured on answers whose quality is the baseline's.
    """

    preference: np.ndarray
    tanh: np.ndarray
    difficulty: np.ndarray
    weight: np.ndarray
    variants: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.preference)


@dataclass(frozen=True)
class Difficulty:
    """Per-prompt instruction difficulty gamma (index prompt_id) from a joint fit over ``n_models`` models.

    length_coef_mean: the mean over those models of their length coefficients phi_m in the joint fit, the
    centre of the length prior of each model's own GLM.
    """

    difficulty: pd.Series
    n_models: int
    converged: bool
    n_iter: int
    length_coef_mean: float = 0.0


@dataclass(frozen=True)
class LengthControlled:
    """A length-controlled win rate and the fitted coefficients behind it.

    coef_length is phi (positive: longer answers win more); coef_difficulty is psi or None when no
    difficulty was used. length_sd is the scale of the length difference in characters. n counts the
    prompts fitted (scored, both lengths known). share_longer (share_shorter) is the share of them where the
    model's answer is longer (shorter). raw_win_rate is the plain mean preference over the same prompts.
    converged: the Newton fit (and the difficulty fit, when used) converged. weakly_identified: fewer than
    max(WEAK_MINORITY_COUNT, WEAK_MINORITY_SHARE * n) prompts on the minority side of equal length.
    extreme_change: AlpacaEval's rule flags lc vs raw. ci_low/ci_high: bootstrap interval over prompts
    (NaN when not asked for). n_gamed_rows: AlpacaEval gamed-baseline rows in the fit (0: none in the store;
    the phi prior stood in when a difficulty was used).
    """

    lc_win_rate: float
    raw_win_rate: float
    coef_intercept: float
    coef_length: float
    coef_difficulty: float | None
    length_sd: float
    n: int
    share_longer: float
    converged: bool = True
    n_models_for_difficulty: int = 0
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    n_gamed_rows: int = 0
    share_shorter: float = 0.0  # share of the fitted prompts where the model's answer is shorter

    @property
    def extrapolated(self) -> bool:
        """True when every fitted prompt has the model's answer strictly on one side of equal length, so the
        win rate at equal length lies outside the data. When every pair has equal length there is no length
        term and lc equals the raw mean: nothing is extrapolated."""
        return self.length_sd > 0 and (self.share_longer == 1.0 or self.share_shorter == 1.0)

    @property
    def weakly_identified(self) -> bool:
        minority = min(self.share_longer, 1.0 - self.share_longer) * self.n
        return self.length_sd > 0 and minority < max(WEAK_MINORITY_COUNT, WEAK_MINORITY_SHARE * self.n)

    @property
    def extreme_change(self) -> bool:
        return is_extreme_change(100 * self.raw_win_rate, 100 * self.lc_win_rate)

    @property
    def warnings(self) -> tuple[str, ...]:
        out = []
        if not self.converged:
            out.append("the length-controlled fit did not converge; do not use lc_win_rate")
        if self.extrapolated:
            out.append("every answer is on one side of equal length: lc_win_rate is an extrapolation")
        elif self.weakly_identified:
            out.append(
                f"weakly identified: only {100 * min(self.share_longer, 1 - self.share_longer):.1f}% of "
                f"{self.n} prompts have the model's answer on the minority side of equal length"
            )
        if self.extreme_change:
            out.append(
                f"extreme change (AlpacaEval's rule): lc {100 * self.lc_win_rate:.1f}% vs raw "
                f"{100 * self.raw_win_rate:.1f}%; this may be a failure of the GLM"
            )
        return tuple(out)


def is_extreme_change(
    prev_winrate: float, new_winrate: float, abs_diff: float = 10, rel_diff: float = 4
) -> bool:
    """AlpacaEval's ``get_is_extreme_changes`` (win rates in percent), both directions warned.

    Too small: new < min(prev - prev / rel_diff, prev - abs_diff); too large: new > max(prev + (100 - prev) /
    rel_diff, prev + abs_diff). At prev = 20: below 10 or above 40; at 50: below 37.5 or above 62.5.

    >>> is_extreme_change(20, 9.9), is_extreme_change(20, 39.9), is_extreme_change(50, 62.6)
    (True, False, True)
    """
    too_small = new_winrate < min(prev_winrate - prev_winrate / rel_diff, prev_winrate - abs_diff)
    too_large = new_winrate > max(prev_winrate + (100 - prev_winrate) / rel_diff, prev_winrate + abs_diff)
    return bool(too_small or too_large)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def _fit_soft_logistic(
    x: np.ndarray,
    y: np.ndarray,
    *,
    l2: np.ndarray,
    center: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    coef0: np.ndarray | None = None,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """(coefficients, converged) of a logistic regression with targets y in [0, 1], by Newton's method.

    The soft-label log-likelihood sum w y log s + w (1 - y) log(1 - s) is the one AlpacaEval optimises by
    duplicating every row with labels 1 and 0 weighted y and 1 - y. ``l2`` holds one ridge weight per
    coefficient, pulling it towards ``center`` (zeros by default). ``weights`` (B, n) fits B weighted problems at once (bootstrap resamples as counts per
    prompt) and returns (B, d) and (B,); without it one fit, shapes (d,) and ().
    """
    w = np.ones((1, len(y))) if weights is None else np.asarray(weights, dtype=float)
    d = x.shape[1]
    outer = (x[:, :, None] * x[:, None, :]).reshape(len(x), d * d)  # so each Hessian is one matrix product
    coef = np.zeros((len(w), d)) if coef0 is None else np.tile(coef0, (len(w), 1))
    mu = np.zeros(d) if center is None else center
    converged = np.zeros(len(w), dtype=bool)
    for _ in range(max_iter):
        s = _sigmoid(coef @ x.T)
        grad = (w * (y - s)) @ x - l2 * (coef - mu)
        hess = ((w * s * (1 - s)) @ outer).reshape(len(w), d, d) + np.diag(l2)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        step = np.where(np.isfinite(step), step, 0.0)
        big = np.abs(step).max(axis=1, keepdims=True)
        coef = coef + step * np.minimum(1.0, 10.0 / np.maximum(big, 1e-300))  # no wild first steps
        converged = big[:, 0] < 1e-10
        if converged.all():
            break
    converged &= np.isfinite(coef).all(axis=1)
    return (coef[0], converged[0]) if weights is None else (coef, converged)


def lc_win_rate(
    preference: np.ndarray | pd.Series,
    length_model: np.ndarray | pd.Series,
    length_baseline: np.ndarray | pd.Series,
    difficulty: np.ndarray | pd.Series | None = None,
    *,
    n_boot: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
    n_models_for_difficulty: int = 0,
    length_prior: tuple[float, float] | None = None,
    gamed: GamedRows | None = None,
) -> LengthControlled | None:
    """Length-controlled win rate from per-prompt preferences, answer lengths and (optionally) difficulty.

    ``length_prior`` = (mean, precision) puts a N(mean, 1 / precision) prior on phi (partial pooling
    towards the length sensitivity of the other checkpoints, ``lc_win_rate_against_baseline``); without
    it phi is plain maximum likelihood. ``gamed`` adds AlpacaEval's gamed-baseline rows (``GamedRows``; the
    length prior is then not used: those rows are the regulariser); they need ``difficulty`` when they carry one.

    Prompts with a NaN preference, length or difficulty are left out; returns None when none remain.
    With identical lengths everywhere the length term is dropped. With ``n_boot`` > 0, ci_low/ci_high are a
    percentile interval from the same seeded paired bootstrap over prompts as the raw win rate (the model
    refitted per resample; the length scale sd and the difficulties kept from the full sample).

    >>> lc = lc_win_rate(np.array([0.9, 0.9, 0.1, 0.1]), np.array([20, 30, 10, 0]), np.array([10, 10, 20, 20]))
    >>> round(lc.lc_win_rate, 6), lc.coef_length > 0, lc.converged  # symmetric lengths: the intercept is 0
    (0.5, True, True)
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
    order = np.lexsort((diff_x, delta, p) if diff_x is not None else (delta, p))  # resamples ignore row order
    p, delta = p[order], delta[order]
    diff_x = diff_x[order] if diff_x is not None else None
    n = len(p)
    if n == 0:
        return None
    sd = float(np.std(delta, ddof=1)) if n > 1 else 0.0
    columns = [np.ones(n)]
    if sd > 0:
        columns.append(np.tanh(delta / sd))
    if diff_x is not None:
        columns.append(diff_x)
    x = np.column_stack(columns)
    ridge, center = np.full(x.shape[1], L2), np.zeros(x.shape[1])
    y, w_fixed = p, np.zeros(0)
    if gamed is not None and len(gamed) and sd > 0:
        g_cols = [np.zeros(len(gamed)), gamed.tanh] + ([gamed.difficulty] if diff_x is not None else [])
        x, y, w_fixed = (
            np.vstack([x, np.column_stack(g_cols)]),
            np.concatenate([p, gamed.preference]),
            gamed.weight,
        )
    elif length_prior is not None and sd > 0:
        center[1], ridge[1] = length_prior[0], length_prior[1] + L2
    w_all = np.concatenate([np.ones(n), w_fixed])[None, :]
    coef_b, converged_b = _fit_soft_logistic(x, y, l2=ridge, center=center, weights=w_all)
    coef, converged = coef_b[0], converged_b[0]
    at_zero = coef[0] + (coef[-1] * diff_x if diff_x is not None else np.zeros(n))
    lc = float(np.mean(_sigmoid(at_zero)))
    low = high = float("nan")
    if n_boot > 0:
        parts = []
        for idx in resample_chunks(n, n_boot, seed, chunk=max(1, 2_000_000 // max(n, 1))):
            counts = _counts(idx, n)
            rows = np.hstack([counts, np.broadcast_to(w_fixed, (len(counts), len(w_fixed)))])
            boot, _ = _fit_soft_logistic(x, y, l2=ridge, center=center, weights=rows, coef0=coef)
            zero = boot[:, :1] + (boot[:, -1:] * diff_x[None, :] if diff_x is not None else 0.0)
            parts.append((counts / n * _sigmoid(np.broadcast_to(zero, counts.shape))).sum(axis=1))
        low, high = percentile_interval(np.concatenate(parts), confidence)
    return LengthControlled(
        lc_win_rate=lc,
        raw_win_rate=float(p.mean()),
        coef_intercept=float(coef[0]),
        coef_length=float(coef[1]) if sd > 0 else 0.0,
        coef_difficulty=float(coef[-1]) if diff_x is not None else None,
        length_sd=sd,
        n=n,
        share_longer=float((delta > 0).mean()),
        share_shorter=float((delta < 0).mean()),
        converged=bool(converged) and math.isfinite(lc),
        n_models_for_difficulty=n_models_for_difficulty,
        ci_low=low,
        ci_high=high,
        n_gamed_rows=len(w_fixed),
    )


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """(rows, n) how often each prompt is drawn in each resample row of ``idx``."""
    rows = len(idx)
    flat = (np.arange(rows)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(float)


def instruction_difficulty(frames: Mapping[str, pd.DataFrame], *, max_iter: int = 100) -> Difficulty:
    """Per-prompt difficulty from a joint fit over every model judged against one baseline (step 1 above).

    ``frames`` maps model -> its ``prompt_preferences`` frame against the common baseline (columns
    prompt_id, preference, length_model, length_baseline). Newton's method on the soft-label likelihood;
    the Hessian's prompt block is diagonal, so each step solves only a (2 models)-square system (Schur
    complement): 50 models x 1,000 prompts take well under a second.
    """
    parts = []
    for i, (_model, frame) in enumerate(sorted(frames.items())):
        f = frame.dropna(subset=["preference", "length_model", "length_baseline"])
        if f.empty:
            continue
        delta = (f["length_model"] - f["length_baseline"]).to_numpy(dtype=float)
        sd = float(np.std(delta, ddof=1)) if len(delta) > 1 else 0.0
        parts.append(pd.DataFrame({"m": i, "prompt_id": f["prompt_id"].to_numpy(),
                                   "t": np.tanh(delta / sd) if sd > 0 else np.zeros(len(delta)),
                                   "y": f["preference"].to_numpy(dtype=float)}))  # fmt: skip
    if not parts:
        return Difficulty(pd.Series(dtype=float), 0, True, 0, 0.0)
    data = pd.concat(parts, ignore_index=True)
    m_codes, m_names = pd.factorize(data["m"])
    x_codes, x_names = pd.factorize(data["prompt_id"])
    n_m, n_x = len(m_names), len(x_names)
    t, y = data["t"].to_numpy(), data["y"].to_numpy()
    b, phi, gamma = np.zeros(n_m), np.zeros(n_m), np.zeros(n_x)
    converged, n_iter = False, 0
    while n_iter < max_iter:
        n_iter += 1
        s = _sigmoid(b[m_codes] + phi[m_codes] * t + gamma[x_codes])
        r, w = y - s, s * (1 - s)
        g_m = np.concatenate([np.bincount(m_codes, r, n_m), np.bincount(m_codes, r * t, n_m)])
        g_m -= L2 * np.concatenate([b, phi])
        g_x = np.bincount(x_codes, r, n_x) - DIFFICULTY_L2 * gamma
        h_bb, h_bp, h_pp = (np.bincount(m_codes, w * v, n_m) for v in (np.ones_like(t), t, t * t))
        h_mm = np.zeros((2 * n_m, 2 * n_m))
        idx = np.arange(n_m)
        h_mm[idx, idx], h_mm[n_m + idx, n_m + idx] = h_bb + L2, h_pp + L2
        h_mm[idx, n_m + idx] = h_mm[n_m + idx, idx] = h_bp
        h_xx = np.bincount(x_codes, w, n_x) + DIFFICULTY_L2
        cell = m_codes * n_x + x_codes  # (model, prompt) cross terms, summed by bincount (np.add.at is slow)
        h_mx = np.concatenate([np.bincount(cell, w, n_m * n_x), np.bincount(cell, w * t, n_m * n_x)])
        h_mx = h_mx.reshape(2 * n_m, n_x)
        schur = h_mm - (h_mx / h_xx) @ h_mx.T
        step_m = np.linalg.solve(schur, g_m - (h_mx / h_xx) @ g_x)
        step_x = (g_x - h_mx.T @ step_m) / h_xx
        big = max(np.abs(step_m).max(), np.abs(step_x).max())
        scale = min(1.0, 10.0 / big) if big > 0 else 1.0
        b, phi, gamma = b + scale * step_m[:n_m], phi + scale * step_m[n_m:], gamma + scale * step_x
        if big < 1e-9:
            converged = True
            break
    ok = converged and bool(np.isfinite(gamma).all())
    gamma_series = pd.Series(gamma, index=pd.Index(x_names, name="prompt_id"), name="difficulty")
    return Difficulty(gamma_series, n_m, ok, n_iter, float(phi.mean()))


def is_gamed_baseline(name: str, baseline: str) -> bool:
    """AlpacaEval's rule for a length-gamed variant of the baseline: the name contains the baseline's name and
    "verbose" or "concise" (their notebook's ``fn_is_gamed_baseline``).

    >>> is_gamed_baseline("gpt4_1106_preview_verbose", "gpt4_1106_preview"), is_gamed_baseline("alpaca-7b_verbose", "gpt4")
    (True, False)
    """
    return baseline in name and ("verbose" in name or "concise" in name)


def gamed_baseline_rows(
    frames: Mapping[str, pd.DataFrame], baseline: str, difficulty: Difficulty | None
) -> GamedRows:
    """Every scored prompt of the baseline's gamed variants among ``frames`` (``is_gamed_baseline``) as
    ``GamedRows``: tanh of each variant's length difference over its own sd (ddof 1, not centred), weight
    GAMED_BASELINE_LAMBDA / number of variants. Prompts without a difficulty are left out when one is given.
    """
    variants = tuple(sorted(m for m in frames if is_gamed_baseline(m, baseline)))
    parts = []
    for m in variants:
        f = frames[m].dropna(subset=["preference", "length_model", "length_baseline"])
        delta = (f["length_model"] - f["length_baseline"]).to_numpy(dtype=float)
        sd = float(np.std(delta, ddof=1)) if len(delta) > 1 else 0.0
        gamma = (f["prompt_id"].map(difficulty.difficulty).to_numpy(dtype=float) if difficulty is not None
                 else np.zeros(len(f)))  # fmt: skip
        part = np.column_stack(
            [f["preference"].to_numpy(dtype=float), np.tanh(delta / sd) if sd > 0 else 0 * delta, gamma]
        )
        parts.append(part[~np.isnan(part).any(axis=1)])
    rows = np.vstack(parts) if parts else np.zeros((0, 3))
    weight = np.full(len(rows), GAMED_BASELINE_LAMBDA / max(len(variants), 1))
    return GamedRows(rows[:, 0], rows[:, 1], rows[:, 2], weight, variants)


def lc_win_rate_against_baseline(
    frames: Mapping[str, pd.DataFrame],
    model: str,
    *,
    n_boot: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
    difficulty: Difficulty | None = None,
    baseline: str | None = None,
) -> LengthControlled | None:
    """The length-controlled win rate of ``model`` the way the CLI and the dashboard report it.

    ``frames``: model -> ``prompt_preferences`` against one baseline, for every model this judge version
    compared with that baseline. Difficulty is estimated jointly when at least MIN_MODELS_FOR_DIFFICULTY
    models are there (pass ``difficulty`` to reuse one fit for many models); with fewer, one model's own
    preferences would be its difficulty, so the GLM is fitted without it (coef_difficulty None).

    With ``baseline`` named and its gamed variants among ``frames`` (``is_gamed_baseline``), their rows enter
    every model's GLM as AlpacaEval does (``gamed_baseline_rows``) instead of the phi prior.
    """
    if model not in frames:
        raise ValueError(f"no preferences of {model!r}; have {sorted(frames)}")
    if difficulty is None and len(frames) >= MIN_MODELS_FOR_DIFFICULTY:
        difficulty = instruction_difficulty(frames)
    own = frames[model]
    gamma = None if difficulty is None else own["prompt_id"].map(difficulty.difficulty).to_numpy(dtype=float)
    prior = (difficulty.length_coef_mean, LENGTH_PRIOR_PRECISION) if difficulty is not None else None
    gamed = gamed_baseline_rows(frames, baseline, difficulty) if baseline is not None else None
    lc = lc_win_rate(own["preference"], own["length_model"], own["length_baseline"], gamma, n_boot=n_boot,
                     seed=seed, confidence=confidence, length_prior=prior, gamed=gamed,
                     n_models_for_difficulty=difficulty.n_models if difficulty is not None else 0)  # fmt: skip
    if lc is not None and difficulty is not None and not difficulty.converged:
        from dataclasses import replace

        lc = replace(lc, converged=False)
    return lc


def lc_win_rate_from_judgments(
    judgments: pd.DataFrame,
    model: str,
    baseline: str,
    *,
    judge: str | None = None,
    n_boot: int = 0,
    seed: int = 0,
    confidence: float = 0.95,
) -> LengthControlled | None:
    """``lc_win_rate_against_baseline`` from raw judgments of one judge version (the CLI's and the dashboard's
    entry point): every checkpoint judged against ``baseline`` in ``judgments`` contributes to the difficulty.

    ``judgments`` has the columns ``prompt_preferences`` reads (with lengths); pass only the prompts the
    win rate covers (e.g. one category) so both use the same prompts.
    """
    from judges.stats.preferences import prompt_preferences

    against = judgments[(judgments["model_a"] == baseline) | (judgments["model_b"] == baseline)]
    others = sorted((set(against["model_a"]) | set(against["model_b"])) - {baseline})
    if model not in others:
        return None
    frames = {m: prompt_preferences(against, m, baseline, judge) for m in others}
    return lc_win_rate_against_baseline(
        frames, model, n_boot=n_boot, seed=seed, confidence=confidence, baseline=baseline
    )
