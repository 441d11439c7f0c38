"""Bradley-Terry strengths over every checkpoint, with bootstrap intervals and Elo-style ratings.

Pairwise win rates only compare two models judged against each other; a leaderboard across all rounds
needs one scale. Bradley-Terry gives it: P(i beats j) = s_i / (s_i + s_j). We fit it by maximum
likelihood with every tie (and every soft preference) counted fractionally: a verdict p = P(j better)
adds 1 - p to i's wins over j and p to j's wins over i, so a tie is half a win for each side. This is the
definition evalica uses, and ``tests/test_bradley_terry.py`` reproduces its published LLMFAO scores.

The resampling unit is the prompt. Each (prompt, model pair) item is one observation (its verdicts in
both orders averaged, ``judges.stats.preferences.pair_preferences``), and a bootstrap resample redraws
prompts: every item of a prompt moves together (a Poisson(1) weight per prompt). Cells built without
prompts (``groups=None``, e.g. external votes) fall back to one Poisson weight per judgment.

Anchor rule (one rule for the CLI and the dashboard, ``anchor_rule(confidence)``): ratings are Elo-style,
400 * log10 odds, with the geometric mean of all strengths at 1000 unless an anchor checkpoint is named,
which is then at 1000 exactly (and its interval is a point).

Resamples without a maximum-likelihood solution (within the resample some model never lost or never won,
so its rating would be infinite) cannot be refitted; they are counted (``n_failed_resamples``) and left
out. Leaving them out narrows the interval towards the finite resamples, so when their share exceeds
``max_failed_share(confidence)`` = (1 - confidence) / 2 (25 of 1,000 at 95%), the share at which counting
them as infinite ratings would move an interval's end to infinity, the fit refuses (ValueError naming the
count) instead of reporting intervals that are too narrow.

Speed comes from aggregation: judgments collapse to (prompt, model pair) items and those to cells with
counts, built from integer codes (``pair_items``), never from names. A resample's fit depends on its cells
only through the pair totals N = M + M^T and each model's wins W (M the wins matrix), so two sparse maps
from prompt weights to N and to W are built once and reused by every resample; N, a sum of integers, is
computed in float32 while that is exact (below 2**24), which gives the float64 sums to the bit at half the
memory traffic. Poisson(1) prompt weights are drawn by inverting the Poisson CDF on the stream's uniforms,
and Newton iterations run on a chunk of resamples at once as a batch of small linear systems,
warm-started from the point estimate; resamples are processed in chunks so memory stays bounded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

if TYPE_CHECKING:
    from judges.stats.preferences import PairItems

__all__ = [
    "ANCHOR_RULE",
    "BradleyTerry",
    "PairCells",
    "anchor_rule",
    "average_win_rate",
    "bradley_terry",
    "elo_ratings",
    "fit_strengths",
    "leaderboard",
    "max_failed_share",
    "pair_cells",
    "pair_matrix",
]

_ELO_SCALE = 400.0
_ELO_BASE = 1000.0


def anchor_rule(confidence: float = 0.95) -> str:
    """The rule the CLI and the dashboard state beside every leaderboard, with the interval's own level.

    >>> anchor_rule(0.9).split("; ")[1]
    '90% intervals from resampling prompts'
    >>> anchor_rule(0.975).split("; ")[1]
    '97.5% intervals from resampling prompts'
    """
    return (
        f"Bradley-Terry over (prompt, model pair) items; {confidence * 100:.10g}% intervals from resampling "
        "prompts; rating 1000 = the geometric mean of all strengths unless an anchor checkpoint is named"
    )


ANCHOR_RULE = anchor_rule(0.95)  # the default level (kept for callers that state the default)


def max_failed_share(confidence: float) -> float:
    """The largest share of resamples without an MLE that a fit at ``confidence`` leaves out and reports.

    A resample without an MLE has some model at an infinite rating. Once more than (1 - confidence) / 2 of
    the resamples are such, counting them would put an interval's end at infinity; leaving them out would
    instead report a finite, too-narrow interval, so the fit refuses.

    >>> round(max_failed_share(0.95), 6), round(max_failed_share(0.9), 6)
    (0.025, 0.05)
    """
    return (1.0 - confidence) / 2.0


@dataclass(frozen=True)
class PairCells:
    """Judgments aggregated to distinct (left, right, preference) cells.

    ``left``/``right`` index ``models``; ``preference`` is P(right better) in [0, 1]; ``count`` how many
    judgments fell in the cell. ``group`` (optional) indexes the prompt each cell belongs to, the unit
    the bootstrap resamples; ``n_groups`` is the number of prompts.
    """

    models: tuple[str, ...]
    left: np.ndarray
    right: np.ndarray
    preference: np.ndarray
    count: np.ndarray
    group: np.ndarray | None = None
    n_groups: int = 0

    def __post_init__(self) -> None:
        sizes = {len(self.left), len(self.right), len(self.preference), len(self.count)}
        if self.group is not None:
            sizes.add(len(self.group))
        if len(sizes) != 1:
            raise ValueError(f"PairCells arrays differ in length: {sorted(sizes)}")
        if len(self.preference) and (np.nanmin(self.preference) < 0 or np.nanmax(self.preference) > 1):
            raise ValueError("PairCells.preference must lie in [0, 1]")


@dataclass(frozen=True)
class BradleyTerry:
    """A fitted Bradley-Terry leaderboard.

    strength sums to 1 over ``models``; rating is Elo-style (400 * log10 odds) with ``anchor`` at 1000,
    or the geometric mean of strengths at 1000 when no anchor is given. ci_low/ci_high bound the rating
    (percentile bootstrap); strength_ci_low/high bound the normalised strength. n counts the judgments
    (cells weighted by count) that involve each model. n_failed_resamples counts bootstrap resamples whose
    MLE did not exist (some model never lost or never won within the resample); they are left out.
    """

    models: tuple[str, ...]
    strength: np.ndarray
    rating: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    strength_ci_low: np.ndarray
    strength_ci_high: np.ndarray
    n: np.ndarray
    anchor: str | None
    n_boot: int
    n_failed_resamples: int
    confidence: float
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per model, strongest first, with the leaderboard JSON columns."""
        frame = pd.DataFrame(
            {
                "model": list(self.models),
                "strength": self.strength,
                "rating": self.rating,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "n": self.n.astype(int),
            }
        )
        return frame.sort_values("strength", ascending=False, kind="stable").reset_index(drop=True)


def pair_cells(
    left: np.ndarray | pd.Series | list,
    right: np.ndarray | pd.Series | list,
    preference: np.ndarray | pd.Series | list,
    models: list[str] | tuple[str, ...] | None = None,
    groups: np.ndarray | pd.Series | list | None = None,
) -> PairCells:
    """Aggregate judgments (left name, right name, P(right better)) into counted cells.

    NaN preferences (unscored) are dropped. Each pair is stored with left before right in ``models``
    order: (b, a, p) becomes (a, b, 1 - p), the same judgment. With ``groups`` (one prompt id per row)
    cells are kept apart per prompt, so that the bootstrap resamples prompts.

    >>> c = pair_cells(["a", "a", "b"], ["b", "b", "a"], [1.0, 1.0, 0.5])
    >>> c.models, c.count.tolist(), c.preference.tolist()
    (('a', 'b'), [1, 2], [0.5, 1.0])
    """
    pref = np.asarray(preference, dtype=float)
    n_rows = len(pref)
    left_codes, left_names = pd.factorize(
        left if isinstance(left, (pd.Series, np.ndarray)) else np.asarray(left)
    )
    right_codes, right_names = pd.factorize(
        right if isinstance(right, (pd.Series, np.ndarray)) else np.asarray(right)
    )
    if not len(left_codes) == len(right_codes) == n_rows:
        raise ValueError(
            f"left, right and preference differ in length: {len(left_codes)}, {len(right_codes)}, {n_rows}"
        )
    if models is None:
        models = sorted(set(left_names.tolist()) | set(right_names.tolist()))
    models = tuple(models)
    position = {m: i for i, m in enumerate(models)}
    missing = sorted({u for u in [*left_names.tolist(), *right_names.tolist()] if u not in position})
    if missing:
        raise ValueError(f"models not in the given model list: {missing[:5]}")
    li = np.array([position[u] for u in left_names.tolist()], dtype=np.int64)[left_codes]
    ri = np.array([position[u] for u in right_names.tolist()], dtype=np.int64)[right_codes]
    keep = ~np.isnan(pref)
    li, ri, pref = li[keep], ri[keep], pref[keep]
    gi, n_groups = None, 0
    if groups is not None:
        g_codes, g_names = pd.factorize(
            groups if isinstance(groups, (pd.Series, np.ndarray)) else np.asarray(groups)
        )
        if len(g_codes) != n_rows:
            raise ValueError(f"groups and preference differ in length: {len(g_codes)}, {n_rows}")
        gi = g_codes[keep]
        gi, g_names = pd.factorize(g_names[gi], sort=True)  # scored prompts only, numbered in sorted order
        n_groups = len(g_names)
    return _cells(models, li, ri, pref, gi, n_groups)


def _cells(
    models: tuple[str, ...],
    li: np.ndarray,
    ri: np.ndarray,
    pref: np.ndarray,
    gi: np.ndarray | None,
    n_groups: int,
) -> PairCells:
    """Scored judgments as codes (models[li], models[ri], P(right better), prompt gi) to counted cells."""
    swap = li > ri  # (b, a, p) is the same judgment as (a, b, 1 - p): fewer cells, fewer bootstrap draws
    li, ri = np.where(swap, ri, li), np.where(swap, li, ri)
    pref = np.where(swap, 1.0 - pref, pref)
    level_idx, levels = pd.factorize(pref, sort=True)  # sorted: cells (and resamples) ignore the rows' order
    k = len(models)
    code = (li.astype(np.int64) * k + ri) * len(levels) + level_idx
    if gi is not None:
        code = gi.astype(np.int64) * (k * k * len(levels)) + code
        if len(code) and bool(np.all(code[1:] > code[:-1])):  # already distinct and sorted (items)
            cells, count = code, np.ones(len(code), dtype=np.int64)
        else:
            cells, count = np.unique(code, return_counts=True)
        grp, rest = np.divmod(cells, k * k * len(levels))
        pair, lvl = np.divmod(rest, len(levels))
        return PairCells(models, pair // k, pair % k, np.asarray(levels, dtype=float)[lvl], count.astype(np.int64),
                         grp.astype(np.int64), n_groups)  # fmt: skip
    if k * k * len(levels) <= 50_000_000:
        counts = np.bincount(code, minlength=k * k * len(levels))
        cells = np.flatnonzero(counts)
        count = counts[cells]
    else:
        cells, count = np.unique(code, return_counts=True)
    pair, lvl = np.divmod(cells, len(levels))
    return PairCells(
        models, pair // k, pair % k, np.asarray(levels, dtype=float)[lvl], count.astype(np.int64)
    )


def _item_cells(items: PairItems) -> PairCells:
    """The cells ``pair_cells`` builds from ``pair_preferences``' frame (model_x, model_y, preference,
    groups=prompt_id), built from the items' codes: no names turned into text and back. As there, every
    model of the items is a model of the fit, a model seen only in unscored verdicts too."""
    keep = ~np.isnan(items.preference)
    prompt = items.prompt[keep]
    prompt_used = np.bincount(prompt, minlength=len(items.prompts)) > 0
    prompt_code = np.cumsum(prompt_used) - 1  # the scored prompts, numbered in sorted order
    models = tuple(str(m) for m in items.models)
    return _cells(models, items.x[keep], items.y[keep], items.preference[keep], prompt_code[prompt],
                  int(prompt_used.sum()))  # fmt: skip


def pair_matrix(cells: PairCells) -> np.ndarray:
    """Wins matrix M: M[i, j] = wins of i over j, ties and soft verdicts counted fractionally.

    >>> pair_matrix(pair_cells(["a", "a"], ["b", "b"], [0.0, 0.5])).tolist()
    [[0.0, 1.5], [0.5, 0.0]]
    """
    k = len(cells.models)
    count = cells.count.astype(float)
    wins = np.bincount(
        cells.left * k + cells.right, weights=count * (1.0 - cells.preference), minlength=k * k
    )
    wins += np.bincount(cells.right * k + cells.left, weights=count * cells.preference, minlength=k * k)
    return wins.reshape(k, k)


def average_win_rate(wins: np.ndarray) -> np.ndarray:
    """Mean over opponents j (with at least one comparison) of M[i,j] / (M[i,j] + M[j,i]).

    This is evalica's ``average_win_rate``; a model with no comparisons gets NaN.

    >>> average_win_rate(np.array([[0.0, 3.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])).tolist()
    [0.625, 0.25, 0.5]
    """
    total = wins + wins.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(total > 0, wins / np.where(total > 0, total, 1.0), np.nan)
    np.fill_diagonal(rate, np.nan)
    seen = (~np.isnan(rate)).sum(axis=1)
    sums = np.nansum(rate, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen > 0, sums / np.maximum(seen, 1), np.nan)


def _log_likelihood(total: np.ndarray, won: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Bradley-Terry log-likelihood sum_ij M[i,j] log sigmoid(beta_i - beta_j), batched over leading axes,
    from what it depends on: pair totals N = M + M^T and wins W = M's row sums.

    With log sigmoid(d) = d/2 - log(2 cosh(d/2)) and the column sums of M being N's row sums minus W, it is
    sum_i (W_i - N_i / 2) beta_i - 1/2 sum_ij N_ij log(2 cosh((beta_i - beta_j) / 2)).
    One win of a over b at equal strength: log(1/2).

    >>> float(_log_likelihood(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1.0, 0.0]), np.zeros(2)))
    -0.6931471805599453
    """
    half = (beta[..., :, None] - beta[..., None, :]) / 2.0
    pull = ((won - total.sum(axis=-1) / 2.0) * beta).sum(axis=-1)
    return pull - 0.5 * (total * np.logaddexp(half, -half)).sum(axis=(-2, -1))


def fit_strengths(
    wins: np.ndarray, *, beta0: np.ndarray | None = None, tol: float = 1e-10, max_iter: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood log-strengths for one wins matrix (K, K) or a batch (B, K, K).

    Newton's method on the concave log-likelihood with the last model's log-strength pinned to 0, step
    halving when a step would lower the likelihood. Returns (beta, converged); beta is centred to mean 0.
    A batch member that has not converged after ``max_iter`` steps (its MLE does not exist) is returned
    with converged False.

    >>> beta, ok = fit_strengths(np.array([[0.0, 2.0], [1.0, 0.0]]))
    >>> round(float(np.exp(beta[0] - beta[1])), 12), bool(ok)
    (2.0, True)
    """
    wins = np.asarray(wins, dtype=float)
    single = wins.ndim == 2
    w = wins[None] if single else wins
    beta, converged = _newton(
        w + w.transpose(0, 2, 1), w.sum(axis=2), beta0=beta0, tol=tol, max_iter=max_iter
    )
    return (beta[0], converged[0]) if single else (beta, converged)


def _newton(
    total: np.ndarray, won: np.ndarray, *, beta0: np.ndarray | None, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """``fit_strengths`` on what the likelihood depends on: pair totals N (B, K, K), symmetric, and wins W (B, K).

    The gradient of the log-likelihood is W_i - sum_j N_ij s_ij with s_ij = P(i beats j); its negative
    Hessian is the graph Laplacian weighted by N_ij s_ij (1 - s_ij).
    """
    b, k = won.shape
    beta = np.zeros((b, k)) if beta0 is None else np.broadcast_to(beta0, (b, k)).astype(float).copy()
    active = np.ones(b, dtype=bool)
    converged = np.zeros(b, dtype=bool)
    diag = np.arange(k)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        if len(idx) == b:  # views, not copies, while every member is still iterating
            na, wa, ba = total, won, beta.copy()
        else:
            na, wa, ba = total[idx], won[idx], beta[idx]
        s = np.subtract(ba[:, :, None], ba[:, None, :])
        np.negative(s, out=s)
        np.exp(s, out=s)
        s += 1.0
        np.reciprocal(s, out=s)  # s[i, j] = P(i beats j)
        grad = wa - np.einsum("bij,bij->bi", na, s)
        lap = s * s
        np.subtract(s, lap, out=lap)
        lap *= na  # n_ij s_ij (1 - s_ij): the curvature
        # the diagonal is the row sum; a 1e-12 ridge keeps a resample in which some model was never compared
        # solvable (its row is otherwise zero) without moving the fixed point, where the gradient is zero
        lap[:, diag, diag] = -lap.sum(axis=2) - 1e-12
        np.negative(lap, out=lap)  # the weighted graph Laplacian
        step = np.zeros_like(ba)
        step[:, :-1] = np.linalg.solve(lap[:, :-1, :-1], grad[:, :-1, None])[..., 0]
        # step halving only for members far from the optimum (cold start, non-existent MLE); near it the
        # Newton step of a concave likelihood is safe and the likelihood check would dominate the run time
        scale = np.ones(len(idx))
        far = np.flatnonzero(np.abs(step).max(axis=1) > 0.5)
        if len(far):
            ll_old = _log_likelihood(na[far], wa[far], ba[far])
            for _ in range(30):
                ll_new = _log_likelihood(na[far], wa[far], ba[far] + scale[far, None] * step[far])
                worse = ll_new < ll_old - 1e-12 * np.abs(ll_old)
                if not worse.any():
                    break
                scale[far] = np.where(worse, scale[far] / 2.0, scale[far])
        new = ba + scale[:, None] * step
        beta[idx] = new
        done = np.abs(scale[:, None] * step).max(axis=1) < tol
        converged[idx[done]] = True
        active[idx[done]] = False
    return beta - beta.mean(axis=1, keepdims=True), converged


def _strengths(beta: np.ndarray) -> np.ndarray:
    """Log-strengths to strengths that sum to 1 (overflow-safe softmax)."""
    e = np.exp(beta - beta.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def elo_ratings(strength: np.ndarray, anchor: int | None = None, *, base: float = _ELO_BASE) -> np.ndarray:
    """Elo-style ratings 400 * log10(s_i / s_ref) + base; s_ref is the anchor's strength, else the geometric mean.

    A 400-point gap means 10:1 odds, as in Elo and Chatbot Arena.

    >>> elo_ratings(np.array([10.0, 1.0]), anchor=1).tolist()
    [1400.0, 1000.0]
    """
    log_s = np.log10(strength)
    ref = log_s[..., anchor] if anchor is not None else log_s.mean(axis=-1)
    return base + _ELO_SCALE * (log_s - np.expand_dims(ref, -1))


def _check_mle_exists(wins: np.ndarray, models: tuple[str, ...]) -> None:
    """The MLE exists iff the directed graph 'i won something from j' is strongly connected."""
    n_comp, labels = connected_components(sparse.csr_matrix(wins > 0), directed=True, connection="strong")
    if n_comp > 1:
        sizes = np.bincount(labels)
        small = np.flatnonzero(labels == np.argmin(sizes))
        names = [models[i] for i in small[:5]]
        raise ValueError(
            f"Bradley-Terry maximum likelihood does not exist: the models split into {n_comp} groups that never "
            f"lose (or never win) against each other, e.g. {names}. Judge more pairs across the groups."
        )


_BOOT_CHUNK = 100  # resamples refitted at once: bounded memory, and the same intervals for any chunk count
_EXACT_FLOAT32 = 2.0**24  # every integer up to this is a float32


@dataclass(frozen=True)
class _ResampleMaps:
    """What every resample's fit needs, as linear maps from unit weights, built once and reused.

    A resample gives unit u (a prompt, or a cell when the cells carry no prompt) the weight w_u. The fit
    depends on the weighted cells only through the pair totals N_ij = M_ij + M_ji (``totals`` @ w, over
    the observed pairs ``left`` < ``right``) and each model's wins W_i = sum_j M_ij (``won`` @ w). Both
    are sparse, column-major: the product walks one unit's column at a time, on one thread (a dense BLAS
    product for ``won`` starts threads that spin between chunks: twice the CPU time, and slower under
    load on a shared machine). ``max_total`` is the largest row sum of
    ``totals``: a resample's pair total is at most its largest weight times it, so below 2**24 the totals,
    sums of integers, are exact in float32 (``totals32``) and equal to the float64 sums.
    """

    left: np.ndarray
    right: np.ndarray
    totals: sparse.csc_matrix
    totals32: sparse.csc_matrix
    max_total: float
    won: sparse.csc_matrix
    means: np.ndarray


def _resample_maps(cells: PairCells) -> _ResampleMaps:
    """The maps of ``_ResampleMaps`` for these cells: units are prompts (each weighted Poisson(1)) when the
    cells carry them, else the cells (Poisson(count): the sum of count Poisson(1) judgment weights)."""
    k = len(cells.models)
    count = cells.count.astype(float)
    if cells.group is None:  # a cell's weight replaces its count
        unit, n_units, means, per_unit = np.arange(len(count)), len(count), count, np.ones(len(count))
    else:  # a prompt's weight multiplies the counts of its cells
        unit, n_units, means, per_unit = cells.group, cells.n_groups, np.ones(cells.n_groups), count
    code = cells.left * k + cells.right
    if k * k <= 2**24:
        seen = np.zeros(k * k, dtype=bool)
        seen[code] = True
        pair_code, pair = np.flatnonzero(seen), (np.cumsum(seen) - 1)[code]
    else:
        pair_code, pair = np.unique(code, return_inverse=True)
    totals = _column_major(pair, unit, per_unit, (len(pair_code), n_units))
    model = np.concatenate([cells.left, cells.right])
    wins = np.concatenate([per_unit * (1.0 - cells.preference), per_unit * cells.preference])
    units = np.concatenate([unit, unit])
    if n_units * k <= 2**22:  # summed per (unit, model) in a dense array: no sort
        dense = np.bincount(units * k + model, weights=wins, minlength=n_units * k)
        nonzero = np.flatnonzero(dense)
        won = _column_major(nonzero % k, nonzero // k, dense[nonzero], (k, n_units))
    else:
        won = sparse.csc_matrix((wins, (model, units)), shape=(k, n_units))
    return _ResampleMaps(
        left=pair_code // k,
        right=pair_code % k,
        totals=totals,
        totals32=totals.astype(np.float32),
        max_total=float(np.bincount(pair, weights=per_unit, minlength=len(pair_code)).max(initial=0.0)),
        won=won,
        means=means,
    )


def _column_major(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]
) -> sparse.csc_matrix:
    """The sparse matrix with ``values`` at (rows, cols), duplicates summed; built directly, without
    scipy's sort, when the entries come ordered by column and row without repeats (cells do)."""
    key = cols.astype(np.int64) * shape[0] + rows
    if len(key) and not bool(np.all(key[1:] > key[:-1])):
        return sparse.csc_matrix((values, (rows, cols)), shape=shape)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=shape[1]))])
    return sparse.csc_matrix((values, rows, indptr), shape=shape)


_SLICE_BITS = 16  # the Poisson(1) inverse CDF is read from a table of 2**16 equal slices of [0, 1)
_LOOK_UP = 255  # in the table: a CDF value falls inside this slice, look the draw up exactly


@functools.cache
def _poisson_one_sampler() -> tuple[np.ndarray, np.ndarray]:
    """(cdf, table) for drawing Poisson(1) by inverting its CDF on uniform draws.

    cdf[k] = P(X <= k) for every k where that is below 1.0 in float64. A uniform u in slice b of [0, 1)
    has X = table[b] unless a CDF value falls inside the slice (table[b] = 255: 8 of the 65,536 slices,
    about 0.01% of draws), where X is looked up exactly; the result equals ``searchsorted(cdf, u, "right")``.

    >>> cdf, table = _poisson_one_sampler()
    >>> round(float(cdf[0]), 6), int(table[0]), int(table[-1]), int((table == 255).sum())
    (0.367879, 0, 255, 8)
    """
    pmf = np.exp(-1.0) / np.cumprod(np.r_[1.0, np.arange(1.0, 30.0)])
    cdf = np.cumsum(pmf)
    cdf = cdf[cdf < 1.0]
    edges = np.arange(2**_SLICE_BITS + 1) / 2**_SLICE_BITS
    low = np.searchsorted(cdf, edges[:-1], side="right")
    high = np.searchsorted(cdf, np.nextafter(edges[1:], 0.0), side="right")
    table = np.where(low == high, low, _LOOK_UP).astype(np.uint8)
    cdf.flags.writeable = table.flags.writeable = False  # built once (cached), shared by every call
    return cdf, table


def _poisson_weights(rng: np.random.Generator, means: np.ndarray, size: int) -> np.ndarray:
    """(units, size) integer Poisson weights: resample r's weights are column r, drawn resample after resample.

    Prompt weights are Poisson(1), drawn by inverting its CDF on the uniforms ``rng.random`` would give:
    those are (x >> 11) / 2**53 of the stream's 64-bit words x, so the top 16 bits of x are the slice of
    [0, 1) the uniform falls in (exact, the same draws as inverting ``rng.random((size, units))``; about
    7x faster than ``Generator.poisson``). Cell weights (judgments as the unit) have varying means and
    use ``Generator.poisson``.
    """
    if len(means) and np.all(means == 1.0):
        cdf, table = _poisson_one_sampler()
        words = rng.bit_generator.random_raw((size, len(means)))
        draws = table.take((words >> np.uint64(64 - _SLICE_BITS)).view(np.int64))
        exact = np.flatnonzero(draws == _LOOK_UP)
        uniform = (words.ravel()[exact] >> np.uint64(11)) * 2.0**-53
        draws.ravel()[exact] = np.searchsorted(cdf, uniform, side="right")
    else:
        draws = rng.poisson(means, size=(size, len(means)))
    return np.ascontiguousarray(draws.T)


def _resampled_statistics(maps: _ResampleMaps, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pair totals N (size, K, K), wins W (size, K)) of the resamples whose unit weights are ``draws``'s columns."""
    size, k = draws.shape[1], maps.won.shape[0]
    weights = draws.astype(np.float64)
    if float(draws.max(initial=0)) * maps.max_total < _EXACT_FLOAT32:  # integer sums, exact in float32
        pair_total = maps.totals32 @ draws.astype(np.float32)
    else:
        pair_total = maps.totals @ weights
    total = np.zeros((size, k, k))
    total[:, maps.left, maps.right] = pair_total.T
    total[:, maps.right, maps.left] = pair_total.T
    return total, np.ascontiguousarray((maps.won @ weights).T)


def _bootstrap_fits(
    maps: _ResampleMaps, beta: np.ndarray, k: int, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson-bootstrap refits, ``_BOOT_CHUNK`` resamples at a time from one seeded stream."""
    rng = np.random.default_rng(seed)
    betas, oks = [], []
    for start in range(0, n_boot, _BOOT_CHUNK):
        size = min(_BOOT_CHUNK, n_boot - start)
        total, won = _resampled_statistics(maps, _poisson_weights(rng, maps.means, size))
        # warm start at the point estimate; Newton converges quadratically, so after a step below 1e-4 the
        # remaining error in a log-strength is of order 1e-8 (about 2e-6 rating points), far below any interval
        b, ok = _newton(total, won, beta0=beta, tol=1e-4, max_iter=50)
        betas.append(b)
        oks.append(ok)
    if not betas:
        return np.empty((0, k)), np.empty(0, dtype=bool)
    return np.concatenate(betas), np.concatenate(oks)


def bradley_terry(
    cells: PairCells,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    anchor: str | None = None,
) -> BradleyTerry:
    """Fit Bradley-Terry strengths with a seeded Poisson bootstrap over prompts (or judgments).

    Each bootstrap resample reweights every prompt by Poisson(1) (cells with ``group``), else every
    judgment (a cell of count c gets weight Poisson(c)). Intervals are percentiles of the ratings (and
    strengths) over resamples. Raises ValueError when the point-estimate MLE does not exist, or when more
    than ``max_failed_share(confidence)`` of the resamples have none (their intervals would be too narrow).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    models = cells.models
    k = len(models)
    if k < 2:
        raise ValueError(f"Bradley-Terry needs at least two models, got {list(models)}")
    anchor_idx = None
    if anchor is not None:
        if anchor not in models:
            raise ValueError(f"anchor {anchor!r} is not among the models {list(models)}")
        anchor_idx = models.index(anchor)
    count = cells.count.astype(float)
    wins = pair_matrix(cells)
    _check_mle_exists(wins, models)
    beta, ok = fit_strengths(wins)
    if not ok:
        raise ValueError("Bradley-Terry Newton iterations did not converge")
    strength = _strengths(beta)
    rating = elo_ratings(strength, anchor_idx)
    n = np.bincount(cells.left, weights=count, minlength=k) + np.bincount(
        cells.right, weights=count, minlength=k
    )

    lo_r = hi_r = lo_s = hi_s = np.full(k, np.nan)
    failed = 0
    if n_boot > 0:
        boot_beta, boot_ok = _bootstrap_fits(_resample_maps(cells), beta, k, n_boot, seed)
        failed = int((~boot_ok).sum())
        if failed > max_failed_share(confidence) * n_boot:
            raise ValueError(
                f"{failed} of {n_boot} Bradley-Terry bootstrap resamples ({failed / n_boot:.1%}) have no "
                f"maximum-likelihood solution (some model never lost or never won within them); a "
                f"{confidence * 100:.10g}% interval can leave out at most {max_failed_share(confidence):.1%} "
                "without being too narrow. Judge more prompts or more pairs per model."
            )
        boot_s = _strengths(boot_beta[boot_ok])
        boot_r = elo_ratings(boot_s, anchor_idx)
        q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
        if len(boot_s):
            lo_r, hi_r = np.percentile(boot_r, q, axis=0)
            lo_s, hi_s = np.percentile(boot_s, q, axis=0)
    return BradleyTerry(
        models=models,
        strength=strength,
        rating=rating,
        ci_low=lo_r,
        ci_high=hi_r,
        strength_ci_low=lo_s,
        strength_ci_high=hi_s,
        n=n,
        anchor=anchor,
        n_boot=n_boot,
        n_failed_resamples=failed,
        confidence=confidence,
        seed=seed,
    )


def leaderboard(
    judgments: pd.DataFrame,
    *,
    anchor: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BradleyTerry:
    """The leaderboard of one (judge, judge_version): the single definition the CLI and the dashboard use.

    ``judgments`` has columns judge, prompt_id, model_a, model_b, preference (and judge_version, order).
    Verdicts are combined per (prompt, model pair) item (both orders averaged), items are fitted with
    their soft preferences, and the bootstrap resamples prompts (``anchor_rule``). Raises ValueError for
    several judges or versions, fewer than two models, or a non-existent MLE.
    """
    from judges.stats.preferences import pair_items

    judges = sorted(map(str, judgments["judge"].dropna().unique())) if "judge" in judgments else []
    if len(judges) > 1:
        raise ValueError(
            f"several judges {judges}; a leaderboard is one judge's (pooling counts pairs twice)"
        )
    cells = _item_cells(pair_items(judgments))
    return bradley_terry(cells, n_boot=n_boot, seed=seed, confidence=confidence, anchor=anchor)
