"""Semantic textual similarity: Spearman of embedding cosine against gold scores."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from langgap.metrics.similarity import pairwise_cos_sim
from langgap.types import FloatArray


def sts_spearman(emb1: FloatArray, emb2: FloatArray, gold: np.ndarray) -> tuple[float, np.ndarray]:
    """Spearman correlation between ``cos(emb1[i], emb2[i])`` and ``gold[i]``.

    Returns:
        ``(spearman, cosines)``: the correlation and the (N,) per-pair cosines.
    """
    cos = pairwise_cos_sim(emb1, emb2)
    rho = spearmanr(cos, np.asarray(gold)).statistic
    return float(rho), cos
