"""The index plan, pure arithmetic (no FAISS needed): sizes at their boundaries, the PQ shape,
the GPU count carried, and each kind described word for word."""

from __future__ import annotations

import pytest

from langgap.knn.planning import IVF_MIN_ROWS, Calibration, IndexSpec, ivf_lists, plan, pq_shape


def test_ivf_lists_and_pq_shape_at_their_small_ends():
    assert ivf_lists(20) == 1 and ivf_lists(39 * 3) == 3  # n // 39 bounds small indexes
    assert pq_shape(100, 4) == (1, 1)  # one sub-quantizer of 4 dimensions
    assert pq_shape(100, 12)[0] == 3  # the largest divisor up to dim / 4, not dim / 4 + 1
    assert pq_shape(100, 260)[0] == 52  # up to 64, not 65
    assert pq_shape(39 * 256, 384) == (64, 8) and pq_shape(39 * 255, 384)[1] == 7


def test_plan_at_the_ivf_boundary_and_with_gpus():
    assert plan("ivf", IVF_MIN_ROWS, 384).kind == "ivf" and plan("ivf", IVF_MIN_ROWS - 1, 384).kind == "flat"
    assert plan("ivf", 100_000, 384, gpus=2).gpus == 2 and plan("ivfpq", 100_000, 384, gpus=3).gpus == 3
    assert plan("flat", 10, 384, gpus=1).gpus == 1
    with pytest.raises(ValueError) as e:
        plan("hnsw", 10, 4)
    assert str(e.value) == "unknown index 'hnsw'; expected one of auto, flat, ivf, ivfpq"


def test_each_kind_described_word_for_word():
    assert IndexSpec("flat").describe() == "flat (exact inner product) on CPU"
    assert IndexSpec("flat", gpus=2).describe() == "flat (exact inner product) on 2 GPU(s)"
    assert IndexSpec("ivf", 28, 5).describe() == "ivf nlist=28 nprobe=5 on CPU"
    cal = Calibration(
        nprobe=5, recall=0.9912, tried=((1, 0.5), (5, 0.9912)), k=4, queries=1000, against="all lists"
    )
    assert IndexSpec("ivfpq", 28, 5, 16, 6, calibration=cal).describe() == (
        "ivfpq nlist=28 nprobe=5 (recall@4 0.991 against all lists, 1,000 sampled queries) m=16 bits=6 on CPU"
    )
