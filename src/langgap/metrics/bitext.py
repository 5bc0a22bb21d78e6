"""Bitext mining: cosine and margin-based retrieval accuracy, and xSIM error.

Gold alignment is the identity: ``tgt[i]`` translates ``src[i]``. A retrieval is correct when
the best-scoring target of source ``i`` is row ``i`` (index-based, as mteb; duplicate texts in
other rows count as errors).

Margin scoring (Artetxe & Schwenk 2019, "Margin-based Parallel Corpus Mining with Multilingual
Sentence Embeddings"), as in LASER's ``xsim.py``: for source ``x`` the ``k`` nearest targets by
cosine are the candidates, each rescored as

    score(x, y) = margin(cos(x, y), (mean_{z in NN_k(x)} cos(x, z) + mean_{z in NN_k(y)} cos(y, z)) / 2)

with ``margin(a, b) = a / b`` (ratio) or ``a - b`` (distance); NN_k(x) are x's k nearest
targets and NN_k(y) y's k nearest sources.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from langgap.metrics.similarity import topk_cosine
from langgap.types import FloatArray

Scoring = Literal["cosine", "ratio", "distance"]


def retrieval_correct(
    src: FloatArray, tgt: FloatArray, scoring: Scoring = "cosine", k: int = 4
) -> np.ndarray:
    """Per source row, whether its best target (by ``scoring``) is its translation.

    Args:
        src: (N, D) source embeddings; tgt: (M, D) target embeddings, ``tgt[i]`` gold for ``src[i]``
            (M >= N).
        scoring: ``cosine`` (nearest neighbour), ``ratio`` or ``distance`` margin.
        k: neighbourhood size for the margin (ignored for cosine).
    Returns:
        (N,) bool.
    """
    n = len(src)
    if len(tgt) < n:
        raise ValueError(f"need at least as many targets as sources, got {len(tgt)} < {n}")
    if scoring == "cosine":
        _, idx = topk_cosine(src, tgt, 1)
        return idx[:, 0] == np.arange(n)
    if scoring not in ("ratio", "distance"):
        raise ValueError(f"unknown scoring {scoring!r}; expected cosine, ratio or distance")
    return correct_from_knn(topk_cosine(src, tgt, k), topk_cosine(tgt, src, k), scoring)


Knn = tuple[np.ndarray, np.ndarray]  # (values, indices), each (N, k), by decreasing cosine


def correct_from_knn(
    xy: Knn, yx: Knn, scoring: Scoring, src: FloatArray | None = None, tgt: FloatArray | None = None
) -> np.ndarray:
    """:func:`retrieval_correct` from the two kNN lists (``topk_cosine(src, tgt, k)`` and
    ``topk_cosine(tgt, src, k)``), so that every scoring and direction shares one search.

    ``cosine`` takes the first neighbour; when all k neighbours of a row tie (k+1 or more equal
    cosines, e.g. duplicate texts) the row is searched again with ``k = 1`` (which keeps the lowest
    index), which needs ``src`` and ``tgt``.
    """
    cos_xy, idx_xy = xy
    n = len(cos_xy)
    if scoring == "cosine":
        best = idx_xy[:, 0].copy()
        tied = np.flatnonzero(cos_xy[:, 0] == cos_xy[:, -1]) if cos_xy.shape[1] > 1 else np.zeros(0, int)
        if len(tied):
            if src is None or tgt is None:
                raise ValueError("ties among all k neighbours need src and tgt to search again")
            best[tied] = topk_cosine(np.asarray(src)[tied], tgt, 1)[1][:, 0]
        return best == np.arange(n)
    avg_x = cos_xy.mean(axis=1)  # (N,)
    avg_y = yx[0].mean(axis=1)  # (M,)
    denom = (avg_x[:, None] + avg_y[idx_xy]) / 2  # (N, k)
    scores = cos_xy / denom if scoring == "ratio" else cos_xy - denom  # (N, k)
    return idx_xy[np.arange(n), scores.argmax(axis=1)] == np.arange(n)


def xsim_error(margin_accuracy: float | np.ndarray) -> float | np.ndarray:
    """LASER's xSIM error from ratio-margin retrieval accuracy: ``1 - accuracy``.

    The one definition langgap uses, on a mean accuracy or on per-row outcomes alike.
    """
    return 1.0 - margin_accuracy


def xsim_errors(src: FloatArray, tgt: FloatArray, k: int = 4) -> np.ndarray:
    """Per-row xSIM error (LASER's definition: ratio margin, k=4): 1.0 where source ``i`` does
    not retrieve target ``i``, else 0.0. The xSIM error rate is the mean."""
    return np.asarray(xsim_error(retrieval_correct(src, tgt, "ratio", k).astype(np.float64)))
