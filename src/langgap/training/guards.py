"""The collapse guard: stop a run whose embeddings collapse to one point.

A distilled or contrastive student can drift to "every similarity is 1.0" (users of
sentence-transformers report it); its loss may still look fine. At every evaluation the guard
embeds a fixed probe of distinct training sentences and takes the mean cosine between different
ones; when it reaches ``threshold`` (0.98: e5-small's random pairs sit near 0.79, MiniLM's near
0.1-0.2, a collapsed space near 1) training stops with a clear message and the last good
checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from langgap.metrics.similarity import cos_sim_matrix
from langgap.types import Encoder

PROBE_SIZE = 64


class TrainingCollapsed(RuntimeError):
    """The probe sentences' embeddings became (nearly) identical."""


def probe_texts(texts: Sequence[str], seed: int = 0, size: int = PROBE_SIZE) -> list[str]:
    """A seeded sample of ``size`` distinct texts (all of them when fewer)."""
    distinct = list(dict.fromkeys(texts))
    if len(distinct) <= size:
        return distinct
    rng = np.random.default_rng(np.random.SeedSequence([seed, len(distinct), 0xC011]))
    return [distinct[i] for i in sorted(rng.choice(len(distinct), size=size, replace=False))]


class CollapseGuard:
    """Mean cosine between different probe sentences, against ``threshold``."""

    def __init__(self, texts: Sequence[str], threshold: float = 0.98) -> None:
        self.texts, self.threshold = list(texts), threshold

    def check(self, encoder: Encoder) -> dict[str, Any]:
        """The record an evaluation keeps: ``mean_cosine``, ``threshold``, ``collapsed``."""
        sims = cos_sim_matrix(encoder.encode(self.texts), encoder.encode(self.texts))  # (P, P)
        n = len(sims)
        mean = float((sims.sum() - np.trace(sims)) / max(n * (n - 1), 1))
        return {"mean_cosine": mean, "threshold": self.threshold, "collapsed": mean >= self.threshold}
