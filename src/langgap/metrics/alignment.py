"""Alignment of translations: pair vs non-pair cosine, cross-lingual ranking Spearman."""

from __future__ import annotations

import numpy as np

from langgap.metrics.ranks import rank_correlation, row_ranks
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


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A fixed permutation of ``range(n)`` with no fixed point (n >= 2)."""
    perm = np.random.default_rng(seed).permutation(n)
    fixed = perm == np.arange(n)
    if fixed.any():  # rotate the fixed points among themselves, or swap a lone one with a neighbour
        idx = np.flatnonzero(fixed)
        perm[idx] = np.roll(perm[idx], 1) if len(idx) > 1 else perm[(idx + 1) % n]
        if len(idx) == 1:
            perm[(idx + 1) % n] = idx
    return perm


def random_pair_cosines(a: FloatArray, b: FloatArray, seed: int = 0) -> np.ndarray:
    """Cosine of each row with one non-translation partner: ``out[i] = cos(a[i], b[p[i]])`` for a
    fixed derangement ``p`` (:func:`derangement`), shape (N,): the "random pair" distribution the
    report's histograms set against the translation pairs."""
    return pairwise_cos_sim(a, b[derangement(len(b), seed)])


def _offdiag(m: np.ndarray) -> np.ndarray:
    """(N, N) -> (N, N-1): each row without its diagonal entry."""
    n = m.shape[0]
    return m[~np.eye(n, dtype=bool)].reshape(n, n - 1)


def rank_spearman(a: FloatArray, b: FloatArray, references: np.ndarray | None = None) -> np.ndarray:
    """Cross-lingual ranking Spearman per reference sentence.

    For reference ``i``, rank all other sentences ``j != i`` by ``cos(a[i], a[j])`` (language A)
    and by ``cos(b[i], b[j])`` (language B); ``out[i]`` is the Spearman correlation of the two
    rankings (ties get average ranks). A model whose geometry is the same in both languages
    scores 1.

    Args:
        a, b: (N, D) row-aligned embeddings of the same N sentences in two languages, N >= 3.
        references: sorted row ids to use as references (a seeded sample for big N; memory
            ``block * N``); ``None``: every row, from the full N x N matrices.
    Returns:
        (N,) Spearman per reference (NaN where a ranking is constant, and for rows that are no
        reference).
    """
    if len(a) != len(b) or len(a) < 3:
        raise ValueError(f"rank_spearman needs two aligned sets of >= 3 rows, got {len(a)} and {len(b)}")
    if references is None:
        ra = row_ranks(_offdiag(cos_sim_matrix(a, a)))  # (N, N-1)
        rb = row_ranks(_offdiag(cos_sim_matrix(b, b)))  # (N, N-1)
        return rank_correlation(ra, rb)  # (N,)
    an, bn = normalize(a), normalize(b)
    out = np.full(len(a), np.nan)
    for start in range(0, len(references), 256):
        refs = references[start : start + 256]  # (B,)
        keep = np.ones((len(refs), len(a)), dtype=bool)
        keep[np.arange(len(refs)), refs] = False  # each reference without itself: (B, N-1)
        ra = row_ranks((an[refs] @ an.T)[keep].reshape(len(refs), -1))
        rb = row_ranks((bn[refs] @ bn.T)[keep].reshape(len(refs), -1))
        out[refs] = rank_correlation(ra, rb)
    return out
