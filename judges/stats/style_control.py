"""Style-controlled Bradley-Terry: ratings with answer length and markdown held fixed, as Arena-Hard v2 does.

A round that learned to add bullet lists can look better to a judge that likes lists. Arena-Hard v2
(lmarena/arena-hard-auto, ``show_result.py --control-features markdown length``) adds style covariates to the
Bradley-Terry fit, so that a model's rating is what is left once the judge's taste for style is accounted for:

    logit P(right better) = beta_right - beta_left + gamma . z

with, per compared pair of answers (right minus left, Arena-Hard's normalisation):

- length:  (L_r - L_l) / (L_r + L_l);
- headers, lists, bold: with density d = count / (L + 1), (d_r - d_l) / (d_r + d_l + 1);

each column then scaled over the fitted rows, so gamma is "logit per typical size of that style difference".
Arena-Hard centres each column and divides by its standard deviation; that is sound there because every row
is a model against the one baseline (the mean is absorbed by the baseline's strength), but across the rounds'
comparison graph it would make the fit depend on which checkpoint of a pair is stored first. The leaderboard
therefore divides by the root mean square without centring (``standardise``), which is orientation-free and
leaves beta as the strength at equal style; ``centre=True`` is Arena-Hard's rule, used to check the fit
against their code. Counts come from
``judges.stats.markdown`` (Arena-Hard's own counting rules); L is the answer's length in characters here
(Arena-Hard counts tiktoken tokens, which this project does not have for every model). A style column with no
variation (every answer pair alike) cannot be fitted and is dropped, and said.

The fit is the maximum-likelihood logistic regression with soft targets (a verdict p counts p as a win of the
right side and 1 - p as a loss, as in ``bradley_terry``), by Newton's method; Arena-Hard minimises the same
loss (the summed binary cross-entropy) with L-BFGS. ``tests/test_style_control.py`` checks the point estimates
against numbers their code produced on the same synthetic battles.

Answers whose text is unknown (judgments imported without answers) have no markdown counts: such items are
left out of the style-controlled fit and counted (``n_left_out_no_text``), never given zero counts.

Intervals: as ``bradley_terry``, a seeded Poisson(1) bootstrap over prompts (every item of a prompt moves
together; each row is its own unit when no prompts are given), refitted from the point estimate, with the
features standardised once on the full data (as Arena-Hard does). Ratings follow ``ANCHOR_RULE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from judges.stats.bradley_terry import elo_ratings
from judges.stats.markdown import markdown_counts

__all__ = [
    "FEATURES",
    "StyleControlled",
    "answer_style",
    "fit_style_bradley_terry",
    "standardise",
    "style_controlled",
    "style_features",
    "style_leaderboard",
]

FEATURES = ("length", "headers", "lists", "bold")
_BOOT_CHUNK = 100


def answer_style(text: str | None) -> tuple[float, float, float, float]:
    """(length in characters, headers, list items, bold spans) of one answer; NaNs when the text is unknown.

    >>> answer_style("## Plan\\n- **a**\\n- b"), answer_style(None)[0]
    ((19.0, 1.0, 2.0, 1.0), nan)
    """
    if not isinstance(text, str):
        return (np.nan, np.nan, np.nan, np.nan)
    c = markdown_counts(text)
    return (float(len(text)), float(c.headers), float(c.list_items), float(c.bold))


def style_features(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Arena-Hard v2's style differences, right minus left, before standardising.

    ``left``/``right``: (n, 4) arrays of (length, headers, lists, bold) per answer. By hand for lengths 100 and
    300 with 0 and 4 list items: length (300 - 100) / 400 = 0.5; densities 0 and 4 / 301, so lists =
    (4/301) / (4/301 + 1) = 4 / 305.

    >>> f = style_features(np.array([[100.0, 0, 0, 0]]), np.array([[300.0, 0, 4, 0]]))
    >>> float(f[0, 0]), bool(np.isclose(f[0, 2], 4 / 305)), float(f[0, 1])
    (0.5, True, 0.0)
    """
    left, right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    out = np.empty_like(left)
    out[:, 0] = (right[:, 0] - left[:, 0]) / (right[:, 0] + left[:, 0])
    d_left = left[:, 1:] / (left[:, :1] + 1.0)
    d_right = right[:, 1:] / (right[:, :1] + 1.0)
    out[:, 1:] = (d_right - d_left) / (d_right + d_left + 1.0)
    return out


def standardise(
    features: np.ndarray, weight: np.ndarray | None = None, *, centre: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(scaled columns, mask of the columns kept). Weights count rows (a row of weight 3 is three rows).

    ``centre=False`` (the leaderboard): each column divided by its root mean square sqrt(sum w f^2 / (sum w - 1)),
    which does not depend on which side of a pair is called left, so the fit is the same whichever way a pair is
    stored, and beta is the strength at equal style. ``centre=True`` (Arena-Hard v2, whose every row is model
    minus baseline): minus the weighted mean, over the ddof-1 standard deviation. Columns with no variation are
    dropped.

    >>> z, kept = standardise(np.array([[1.0, 0.0], [-1.0, 0.0]]))
    >>> z.round(6).tolist(), kept.tolist()
    ([[0.707107], [-0.707107]], [True, False])
    >>> standardise(np.array([[1.0, 5.0], [3.0, 5.0]]), centre=True)[0].round(6).tolist()
    [[-0.707107], [0.707107]]
    """
    f = np.asarray(features, dtype=float)
    w = np.ones(len(f)) if weight is None else np.asarray(weight, dtype=float)
    total = w.sum()
    mean = (w[:, None] * f).sum(axis=0) / total if centre else np.zeros(f.shape[1])
    scale = np.sqrt((w[:, None] * (f - mean) ** 2).sum(axis=0) / (total - 1.0))
    kept = scale > 1e-12 * np.maximum(1.0, np.abs(mean))
    return (f[:, kept] - mean[kept]) / scale[kept], kept


@dataclass(frozen=True)
class _Design:
    """Rows of the fit: left/right model indices, soft target, standardised features, row weights."""

    k: int
    left: np.ndarray
    right: np.ndarray
    target: np.ndarray
    z: np.ndarray
    count: np.ndarray

    def eta(self, theta: np.ndarray) -> np.ndarray:
        """Linear predictor for a batch of parameter vectors (B, K + F): (B, n). The last model's beta is 0."""
        beta = np.concatenate([theta[:, : self.k - 1], np.zeros((len(theta), 1))], axis=1)
        return beta[:, self.right] - beta[:, self.left] + theta[:, self.k - 1 :] @ self.z.T


def _loglik(d: _Design, theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    eta = d.eta(theta)
    return (w * (d.target * eta - np.logaddexp(0.0, eta))).sum(axis=1)


def _newton(
    d: _Design, w: np.ndarray, theta0: np.ndarray, *, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """Batched Newton on the concave log-likelihood for row weights ``w`` (B, n); returns (theta, converged)."""
    b, n = w.shape
    k, f = d.k, d.z.shape[1]
    diff = sparse.csr_matrix(  # n x K: +1 at the right model, -1 at the left
        (
            np.concatenate([np.ones(n), -np.ones(n)]),
            (np.tile(np.arange(n), 2), np.concatenate([d.right, d.left])),
        ),
        shape=(n, k),
    )
    pairs = sparse.csr_matrix(  # n -> K*K positions (left, right) and (right, left)
        (
            np.ones(2 * n),
            (np.concatenate([d.left * k + d.right, d.right * k + d.left]), np.tile(np.arange(n), 2)),
        ),
        shape=(k * k, n),
    )
    theta = np.broadcast_to(theta0, (b, k - 1 + f)).astype(float).copy()
    converged = np.zeros(b, dtype=bool)
    active = np.ones(b, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        th, wa = theta[idx], w[idx]
        p = 1.0 / (1.0 + np.exp(-d.eta(th)))
        resid = wa * (d.target - p)  # (B, n)
        curv = wa * p * (1.0 - p)
        grad = np.concatenate([(diff.T @ resid.T).T[:, : k - 1], resid @ d.z], axis=1)
        off = np.asarray((pairs @ curv.T).T).reshape(len(idx), k, k)
        h_mm = np.einsum("bij->bi", off)[:, :, None] * np.eye(k) - off  # weighted Laplacian
        h_mf = np.asarray(diff.T @ (curv.T[:, :, None] * d.z[:, None, :]).reshape(n, -1)).reshape(
            k, len(idx), f
        )
        h_mf = h_mf.transpose(1, 0, 2)
        h_ff = np.einsum("bn,nf,ng->bfg", curv, d.z, d.z)
        hess = np.concatenate(
            [
                np.concatenate([h_mm[:, : k - 1, : k - 1], h_mf[:, : k - 1]], axis=2),
                np.concatenate([h_mf[:, : k - 1].transpose(0, 2, 1), h_ff], axis=2),
            ],
            axis=1,
        )
        hess += 1e-12 * np.eye(k - 1 + f)  # a resample that never compared some model stays solvable
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        scale = np.ones(len(idx))
        far = np.flatnonzero(np.abs(step).max(axis=1) > 0.5)
        if len(far):
            ll_old = _loglik(d, th[far], wa[far])
            for _ in range(30):
                ll_new = _loglik(d, th[far] + scale[far, None] * step[far], wa[far])
                worse = ll_new < ll_old - 1e-12 * np.abs(ll_old)
                if not worse.any():
                    break
                scale[far] = np.where(worse, scale[far] / 2.0, scale[far])
        theta[idx] = th + scale[:, None] * step
        done = np.abs(scale[:, None] * step).max(axis=1) < tol
        converged[idx[done]] = True
        active[idx[done]] = False
    return theta, converged


def _split(theta: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(centred log-strengths (..., K), style coefficients (..., F)) from parameter vectors."""
    beta = np.concatenate([theta[..., : k - 1], np.zeros((*theta.shape[:-1], 1))], axis=-1)
    return beta - beta.mean(axis=-1, keepdims=True), theta[..., k - 1 :]


def fit_style_bradley_terry(
    left, right, preference, features, *, models, count=None, centre: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point fit: (centred log-strengths per model, coefficients of the kept style columns, kept mask).

    ``left``/``right``: model names per row; ``preference``: P(right better) in [0, 1]; ``features``: (n, F) raw
    style differences (``style_features``), scaled here (``standardise``; ``centre=True`` reproduces Arena-Hard
    v2, whose rows are all model minus baseline); ``count``: row weights (default 1).
    """
    d, kept = _design(left, right, preference, features, models, count, centre)
    theta, ok = _newton(d, d.count[None, :], np.zeros(d.k - 1 + d.z.shape[1]), tol=1e-12, max_iter=100)
    if not ok[0]:
        raise ValueError("style-controlled Bradley-Terry: Newton iterations did not converge (no MLE)")
    beta, gamma = _split(theta[0], d.k)
    return beta, gamma, kept


def _design(left, right, preference, features, models, count, centre=False) -> tuple[_Design, np.ndarray]:
    position = {m: i for i, m in enumerate(models)}
    li = np.array([position[str(m)] for m in left], dtype=np.int64)
    ri = np.array([position[str(m)] for m in right], dtype=np.int64)
    w = np.ones(len(li)) if count is None else np.asarray(count, dtype=float)
    z, kept = standardise(np.asarray(features, dtype=float), w, centre=centre)
    return _Design(len(models), li, ri, np.asarray(preference, dtype=float), z, w), kept


@dataclass(frozen=True)
class StyleControlled:
    """Ratings with style held fixed, and the style coefficients.

    ``rating``/``ci_low``/``ci_high``: Elo-style (``bradley_terry.ANCHOR_RULE``) from the style-controlled
    log-strengths, percentile bootstrap over prompts. ``coef``/``coef_ci_low``/``coef_ci_high``: per style
    feature (``features``; a dropped feature is NaN), logit per standard deviation of the difference: positive
    means the judge prefers the answer with more of it, whatever the models. ``n_items``: items fitted;
    ``n_left_out_no_text``: items left out because an answer's text is unknown.
    """

    models: tuple[str, ...]
    rating: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    features: tuple[str, ...]
    coef: np.ndarray
    coef_ci_low: np.ndarray
    coef_ci_high: np.ndarray
    dropped_features: tuple[str, ...]
    n_items: int
    n_left_out_no_text: int
    anchor: str | None
    n_boot: int
    n_failed_resamples: int
    confidence: float
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per model, highest style-controlled rating first."""
        frame = pd.DataFrame(
            {
                "model": list(self.models),
                "sc_rating": self.rating,
                "sc_ci_low": self.ci_low,
                "sc_ci_high": self.ci_high,
            }
        )
        return frame.sort_values("sc_rating", ascending=False, kind="stable").reset_index(drop=True)

    def coefficients(self) -> pd.DataFrame:
        """One row per style feature: feature, coef, ci_low, ci_high (NaN for a dropped feature)."""
        return pd.DataFrame(
            {
                "feature": list(self.features),
                "coef": self.coef,
                "ci_low": self.coef_ci_low,
                "ci_high": self.coef_ci_high,
            }
        )


def style_controlled(
    left,
    right,
    preference,
    features,
    *,
    models,
    count=None,
    groups=None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    anchor: str | None = None,
    n_left_out_no_text: int = 0,
) -> StyleControlled:
    """Fit with a seeded Poisson(1) bootstrap over ``groups`` (prompts; each row its own unit when None)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    models = tuple(models)
    if len(models) < 2:
        raise ValueError(f"style-controlled Bradley-Terry needs at least two models, got {list(models)}")
    anchor_idx = None
    if anchor is not None:
        if anchor not in models:
            raise ValueError(f"anchor {anchor!r} is not among the models {list(models)}")
        anchor_idx = models.index(anchor)
    if len(np.asarray(preference)) == 0:
        raise ValueError("style-controlled Bradley-Terry: no item with both answers' text")
    d, kept = _design(left, right, preference, features, models, count)
    theta, ok = _newton(d, d.count[None, :], np.zeros(d.k - 1 + d.z.shape[1]), tol=1e-12, max_iter=100)
    if not ok[0]:
        raise ValueError("style-controlled Bradley-Terry: Newton iterations did not converge (no MLE)")
    beta, gamma = _split(theta[0], d.k)
    rating = elo_ratings(np.exp(beta), anchor_idx)
    n_feat = len(FEATURES)
    coef = np.full(n_feat, np.nan)
    coef[kept] = gamma
    lo_r = hi_r = np.full(d.k, np.nan)
    lo_c = hi_c = np.full(n_feat, np.nan)
    failed = 0
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        if groups is None:
            unit, n_units = np.arange(len(d.count)), len(d.count)
        else:
            unit, names = pd.factorize(np.asarray(groups), sort=True)
            n_units = len(names)
        thetas, oks = [], []
        for start in range(0, n_boot, _BOOT_CHUNK):
            size = min(_BOOT_CHUNK, n_boot - start)
            weights = rng.poisson(1.0, size=(size, n_units)).astype(float)[:, unit] * d.count[None, :]
            t, o = _newton(d, weights, theta[0], tol=1e-6, max_iter=50)
            thetas.append(t)
            oks.append(o)
        boot = np.concatenate(thetas)[np.concatenate(oks)]
        failed = n_boot - len(boot)
        if len(boot):
            b_beta, b_gamma = _split(boot, d.k)
            q = [(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100]
            lo_r, hi_r = np.percentile(elo_ratings(np.exp(b_beta), anchor_idx), q, axis=0)
            lo_g, hi_g = np.percentile(b_gamma, q, axis=0)
            lo_c, hi_c = np.full(n_feat, np.nan), np.full(n_feat, np.nan)
            lo_c[kept], hi_c[kept] = lo_g, hi_g
    return StyleControlled(
        models=models,
        rating=rating,
        ci_low=lo_r,
        ci_high=hi_r,
        features=FEATURES,
        coef=coef,
        coef_ci_low=lo_c,
        coef_ci_high=hi_c,
        dropped_features=tuple(f for f, k in zip(FEATURES, kept, strict=True) if not k),
        n_items=len(d.count),
        n_left_out_no_text=n_left_out_no_text,
        anchor=anchor,
        n_boot=n_boot,
        n_failed_resamples=failed,
        confidence=confidence,
        seed=seed,
    )


def style_leaderboard(
    judgments: pd.DataFrame,
    answers: pd.DataFrame | None = None,
    *,
    anchor: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> StyleControlled:
    """The style-controlled leaderboard of one judge version: the single definition the CLI and dashboard use.

    ``judgments``: the columns ``bradley_terry.leaderboard`` reads; ``answers``: prompt_id, model_a, model_b,
    answer_a, answer_b (text, NaN when unknown, e.g. imported judgments), else the judgments' own answer
    columns. Items are (prompt, model pair) with both orders averaged (``pair_preferences``), as in
    the plain leaderboard; an item whose answers' texts are not both known is left out and counted.
    """
    from judges.stats.preferences import pair_preferences

    source = judgments if answers is None else answers
    text: dict[tuple[str, str], str] = {}
    for side in ("a", "b"):
        if f"answer_{side}" not in source:
            continue
        known = source[source[f"answer_{side}"].notna()]
        for pid, model, answer in zip(known["prompt_id"], known[f"model_{side}"], known[f"answer_{side}"]):
            text.setdefault((str(pid), str(model)), str(answer))
    items = pair_preferences(judgments)
    items = items[items["preference"].notna()].reset_index(drop=True)
    styles = {key: answer_style(t) for key, t in text.items()}
    nan4 = (np.nan,) * 4
    x = np.array([styles.get((str(p), str(m)), nan4) for p, m in zip(items["prompt_id"], items["model_x"])])
    y = np.array([styles.get((str(p), str(m)), nan4) for p, m in zip(items["prompt_id"], items["model_y"])])
    x, y = x.reshape(-1, 4), y.reshape(-1, 4)
    known = ~(np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1))
    items = items[known].reset_index(drop=True)
    models = sorted(set(items["model_x"]) | set(items["model_y"]))
    features = style_features(x[known], y[known])
    features[np.isnan(features)] = 0.0  # both answers empty: no length difference (0 / 0)
    return style_controlled(
        items["model_x"], items["model_y"], items["preference"], features, models=models,
        groups=items["prompt_id"], n_boot=n_boot, seed=seed, confidence=confidence, anchor=anchor,
        n_left_out_no_text=int((~known).sum()),
    )  # fmt: skip
