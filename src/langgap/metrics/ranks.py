"""Ranks within rows and the Pearson correlation of ranks (Spearman), shared by the metrics.

:func:`row_ranks` ranks each row (ties averaged, as ``scipy.stats.rankdata``);
:func:`rank_correlation` is the Pearson correlation of two rank arrays along their last axis,
i.e. Spearman's rho when the inputs are ranks. Cross-lingual ranking Spearman
(:func:`langgap.metrics.alignment.rank_spearman`) and the STS statistic of the paired bootstrap
(:func:`langgap.metrics.stats.spearman_stat`) both reduce to it.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def row_ranks(m: np.ndarray) -> np.ndarray:
    """Ranks 1..K within each row of ``m`` (N, K), ties averaged (= ``rankdata(m, axis=1)``).

    One argsort per row; rows that hold ties (rare: duplicate sentences) fall back to scipy.
    """
    n, k = m.shape
    order = np.argsort(m, axis=1)  # (N, K); tie order does not matter, tied rows are redone below
    ranks = np.empty((n, k), dtype=np.float64)
    np.put_along_axis(ranks, order, np.arange(1, k + 1, dtype=np.float64)[None, :].repeat(n, 0), axis=1)
    ties = (np.diff(np.take_along_axis(m, order, axis=1), axis=1) == 0).any(axis=1)  # (N,)
    if ties.any():
        ranks[ties] = rankdata(m[ties], axis=1)
    return ranks


def rank_correlation(rx: np.ndarray, ry: np.ndarray) -> np.ndarray:
    """Pearson correlation of ``rx`` and ``ry`` along the last axis: (..., K), (..., K) -> (...).

    With ranks as inputs this is Spearman's rho. The inputs are centred in place (pass copies
    to keep them). NaN where either row is constant.
    """
    rx -= rx.mean(axis=-1, keepdims=True)
    ry -= ry.mean(axis=-1, keepdims=True)
    num = (rx * ry).sum(axis=-1)
    den = np.sqrt((rx * rx).sum(axis=-1) * (ry * ry).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
