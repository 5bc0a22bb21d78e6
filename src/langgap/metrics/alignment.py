"""Alignment of translations: pair vs non-pair cosine, cross-lingual ranking Spearman."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from langgap.metrics.similarity import cos_sim_matrix, normalize, pairwise_cos_sim
from langgap.types import FloatArray


def pair_cosines(a: FloatArray, b: FloatArray) -> np.ndarray:
    """Cosine of each translation pair: ``out[i] = cos(a[i], b[i])``, shape (N,)."""
    return pairwise_cos_sim(a, b)


def random_cosines(a: FloatArray, b: FloatArray) -> np.ndarray:
    """Mean cosine of each row with the non-translations: ``out[i] = mean_{j != i} cos(a[i], b[j])``.

    Exact (every non-translation pair, not a random draw) in O(N*D): the row sums of the
    cosine matrix are ``a_n[i] @ sum_j b_n[j]``.

    Args:
        a, b: (N, D) row-aligned embeddings, N >= 2.
    Returns:
        (N,) mean non-translation cosine per row of ``a``; its mean is the mean over all
        off-diagonal pairs.
    """
    an, bn = normalize(a), normalize(b)
    n = len(an)
    if n < 2 or len(bn) != n:
        raise ValueError(f"random_cosines needs two aligned sets of >= 2 rows, got {len(an)} and {len(bn)}")
    row_sums = an @ bn.sum(axis=0)  # (N,)
    diag = np.einsum("nd,nd->n", an, bn)  # (N,)
    return (row_sums - diag) / (n - 1)


def _offdiag(m: np.ndarray) -> np.ndarray:
    """(N, N) -> (N, N-1): each row without its diagonal entry."""
    n = m.shape[0]
    return m[~np.eye(n, dtype=bool)].reshape(n, n - 1)


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


def rank_spearman(a: FloatArray, b: FloatArray) -> np.ndarray:
    """Cross-lingual ranking Spearman per reference sentence.

    For reference ``i``, rank all other sentences ``j != i`` by ``cos(a[i], a[j])`` (language A)
    and by ``cos(b[i], b[j])`` (language B); ``out[i]`` is the Spearman correlation of the two
    rankings (ties get average ranks). A model whose geometry is the same in both languages
    scores 1.

    Args:
        a, b: (N, D) row-aligned embeddings of the same N sentences in two languages, N >= 3.
    Returns:
        (N,) Spearman per reference (NaN where a ranking is constant).
    """
    if len(a) != len(b) or len(a) < 3:
        raise ValueError(f"rank_spearman needs two aligned sets of >= 3 rows, got {len(a)} and {len(b)}")
    ra = row_ranks(_offdiag(cos_sim_matrix(a, a)))  # (N, N-1)
    rb = row_ranks(_offdiag(cos_sim_matrix(b, b)))  # (N, N-1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    num = (ra * rb).sum(axis=1)
    den = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
