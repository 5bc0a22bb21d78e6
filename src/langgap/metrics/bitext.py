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
        best = idx[:, 0]
    elif scoring in ("ratio", "distance"):
        cos_xy, idx_xy = topk_cosine(src, tgt, k)  # (N, k)
        cos_yx, _ = topk_cosine(tgt, src, k)  # (M, k)
        avg_x = cos_xy.mean(axis=1)  # (N,)
        avg_y = cos_yx.mean(axis=1)  # (M,)
        denom = (avg_x[:, None] + avg_y[idx_xy]) / 2  # (N, k)
        scores = cos_xy / denom if scoring == "ratio" else cos_xy - denom  # (N, k)
        best = idx_xy[np.arange(n), scores.argmax(axis=1)]
    else:
        raise ValueError(f"unknown scoring {scoring!r}; expected cosine, ratio or distance")
    return best == np.arange(n)


def xsim_error(margin_accuracy: float | np.ndarray) -> float | np.ndarray:
    """LASER's xSIM error from ratio-margin retrieval accuracy: ``1 - accuracy``.

    The one definition langgap uses, on a mean accuracy or on per-row outcomes alike.
    """
    return 1.0 - margin_accuracy


def xsim_errors(src: FloatArray, tgt: FloatArray, k: int = 4) -> np.ndarray:
    """Per-row xSIM error (LASER's definition: ratio margin, k=4): 1.0 where source ``i`` does
    not retrieve target ``i``, else 0.0. The xSIM error rate is the mean."""
    return np.asarray(xsim_error(retrieval_correct(src, tgt, "ratio", k).astype(np.float64)))
