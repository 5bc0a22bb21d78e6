"""Cosine similarity: ``*_matrix`` (all pairs) vs ``pairwise_*`` (row i with row i)."""

from __future__ import annotations

import numpy as np

from langgap.types import FloatArray


def normalize(x: FloatArray, dtype: type[np.floating] = np.float32) -> np.ndarray:
    """L2-normalise rows in ``dtype`` (float32 unless asked); all-zero rows stay zero."""
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D array (N, D), got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def cos_sim_matrix(a: FloatArray, b: FloatArray) -> np.ndarray:
    """``out[i, j] = cos(a[i], b[j])``; shapes (N, D), (M, D) -> (N, M)."""
    return normalize(a) @ normalize(b).T  # (N, M)


def pairwise_cos_sim(a: FloatArray, b: FloatArray) -> np.ndarray:
    """``out[i] = cos(a[i], b[i])``; shapes (N, D), (N, D) -> (N,)."""
    if len(a) != len(b):
        raise ValueError(f"pairwise_cos_sim needs equal row counts, got {len(a)} and {len(b)}")
    return np.einsum("nd,nd->n", normalize(a), normalize(b))  # (N,)


MAX_BLOCK_ELEMENTS = 16_000_000  # similarities held at once by topk_cosine (64 MB of float32)


def topk_cosine(
    queries: FloatArray, corpus: FloatArray, k: int, *, block: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar corpus rows for each query, by cosine, in row blocks.

    Args:
        queries: (N, D); corpus: (M, D); k: clipped to M.
        block: queries per block, lowered for a large corpus so that a block holds at most
            ``MAX_BLOCK_ELEMENTS`` similarities (memory stays bounded at any N, M).
    Returns:
        ``(values, indices)``, each (N, k), sorted by decreasing cosine; equal cosines keep the
        lower index first (for k > 1, which of several values tied at the k-th place enter the
        top k is unspecified: their cosines are equal either way).
    """
    qn, cn = normalize(queries), normalize(corpus)
    k = min(k, len(cn))
    block = max(1, min(block, MAX_BLOCK_ELEMENTS // max(1, len(cn))))
    values = np.empty((len(qn), k), dtype=np.float32)
    indices = np.empty((len(qn), k), dtype=np.int64)
    for start in range(0, len(qn), block):
        sims = qn[start : start + block] @ cn.T  # (B, M)
        if k == 1:
            idx = sims.argmax(axis=1)[:, None]  # first maximum: ties go to the lowest j
        else:
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]  # (B, k) unordered
            vals = np.take_along_axis(sims, part, axis=1)
            # order the k by decreasing cosine, equal cosines by increasing index
            order = np.lexsort((part, -vals), axis=1)
            idx = np.take_along_axis(part, order, axis=1)
        indices[start : start + block] = idx
        values[start : start + block] = np.take_along_axis(sims, idx, axis=1)
    return values, indices
