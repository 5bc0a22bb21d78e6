"""Scorers: every registered metric gets the task's embeddings, direction and settings.

The metric functions are tested against naive loops in ``tests/metrics``; here, that the scorer
hands each one the right arrays (source vs target, each language pair) and ``k``.
"""

from __future__ import annotations

import numpy as np
import pytest

from langgap.metrics.bitext import retrieval_correct
from langgap.scoring import pair_scores


@pytest.fixture
def pair():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((40, 12))
    return a, a + 1.0 * rng.standard_normal((40, 12))


def test_pair_scores_pass_direction_and_k_to_every_retrieval_metric(pair):
    a, b = pair
    outcomes = {}
    for k in (1, 2, 4):
        _, items = pair_scores(a, b, k)
        for scoring, prefix in (("cosine", ""), ("ratio", "margin_"), ("distance", "margin_distance_")):
            fwd, back = retrieval_correct(a, b, scoring, k), retrieval_correct(b, a, scoring, k)
            assert items[f"{prefix}accuracy_src2tgt"].tolist() == fwd.tolist(), (scoring, k)
            assert items[f"{prefix}accuracy_tgt2src"].tolist() == back.tolist(), (scoring, k)
            outcomes[scoring, k] = (tuple(fwd), tuple(back))
    # the data tells the settings apart: directions differ, and k changes both margins
    assert all(f != b_ for f, b_ in outcomes.values())
    for scoring in ("ratio", "distance"):
        assert len({outcomes[scoring, k] for k in (1, 2, 4)}) == 3
