"""The FAISS adapter: the index plan by size, flat search equal to exact numpy search, nprobe
measured by recall (the smallest meeting the target, against a naive loop; explicit nprobe wins;
seeded), search by list equal to FAISS's search, IVF recall on clustered data, the all-GPU wiring."""

from __future__ import annotations

import types

import numpy as np
import pytest
from helpers import blocks, clustered, share_found

from langgap import knn
from langgap.metrics.similarity import normalize, topk_cosine

pytest.importorskip("faiss")


def test_plan_by_size_and_option():
    assert knn.plan("auto", knn.FLAT_MAX_ROWS, 384).kind == "flat"
    ivf = knn.plan("auto", knn.FLAT_MAX_ROWS + 1, 384)
    assert ivf.kind == "ivf" and (ivf.nlist, ivf.nprobe) == (knn.ivf_lists(knn.FLAT_MAX_ROWS + 1), 0)
    assert knn.plan("auto", knn.FLAT_MAX_ROWS + 1, 384, gpus=2).kind == "flat"  # GPUs: flat further
    assert knn.plan("auto", knn.FLAT_MAX_ROWS_GPU + 1, 384, gpus=2).kind == "ivf"
    assert knn.plan("flat", 10**8, 384).kind == "flat"
    assert knn.plan("ivf", knn.IVF_MIN_ROWS - 1, 384).kind == "flat"  # too few to train on
    pq = knn.plan("ivfpq", 1_000_000, 384)
    assert (pq.kind, pq.pq_m, pq.pq_bits) == ("ivfpq", 64, 8)
    assert knn.ivf_lists(1_000_000) == 4000 and knn.ivf_lists(20_000) == 512
    assert knn.pq_shape(5_000, 100) == (25, 7) and knn.pq_shape(100, 16) == (4, 1)
    with pytest.raises(ValueError, match="unknown index 'hnsw'"):
        knn.plan("hnsw", 10, 4)
    assert "nlist=4000 nprobe=auto (recall >= 0.99) on CPU" in knn.plan("ivf", 1_000_000, 384).describe()


def test_flat_equals_exact_numpy_search():
    rng = np.random.default_rng(0)
    db = normalize(rng.standard_normal((500, 24)))
    q = normalize(rng.standard_normal((120, 24)))
    sims, inds, spec = knn.knn(blocks(db, 64), 500, blocks(q, 50), 120, 24, 5, knn.IndexSpec("flat"))
    ref_s, ref_i = topk_cosine(q, db, 5)
    np.testing.assert_array_equal(inds, ref_i)
    np.testing.assert_allclose(sims, ref_s, atol=1e-5)
    assert spec == knn.IndexSpec("flat")
    s1, i1, _ = knn.knn(blocks(db, 500), 500, blocks(q, 120), 120, 24, 50_000, knn.IndexSpec("flat"))
    assert i1.shape == (120, 500) and (i1 >= 0).all()  # k clipped to the database


def test_ivf_recall_on_clustered_data_at_the_measured_nprobe():
    """20,000 vectors, 512 lists, nprobe left to the calibration: with all 1,000 queries as its
    sample, the recall it records is the recall of the search (>= 0.99, measured 0.991 at 22)."""
    n = 20_000
    db, q = clustered(n), clustered(1_000, seed=1)
    exact = knn.knn(blocks(db, 4096), n, blocks(q, 1000), 1000, 32, 4, knn.IndexSpec("flat"))[1]
    spec = knn.plan("ivf", n, 32)
    assert (spec.nlist, spec.nprobe) == (512, 0)
    _, got, used = knn.knn(blocks(db, 4096), n, blocks(q, 300), 1000, 32, 4, spec)
    cal = used.calibration
    assert cal is not None and used.nprobe == cal.nprobe and 1 < cal.nprobe < 512
    assert (cal.k, cal.queries, cal.against, cal.target) == (4, 1000, "exact search", 0.99)
    assert share_found(got, exact) == pytest.approx(cal.recall) and cal.recall >= 0.99
    assert dict(cal.tried)[cal.nprobe - 1] < 0.99  # the one below falls short
    assert (
        f"nlist=512 nprobe={cal.nprobe} (recall@4 {cal.recall:.3f} against exact search, 1,000 sampled"
        in (used.describe())
    )


def test_explicit_nprobe_wins_and_trades_recall_for_time(monkeypatch):
    """An explicit nprobe replaces the measured one (clipped to nlist), with no calibration run;
    probing 1 list of 512 misses true neighbours."""
    assert knn.plan("ivf", 1_000_000, 384, nprobe=32).describe() == "ivf nlist=4000 nprobe=32 on CPU"
    assert knn.plan("ivfpq", 20_000, 384, nprobe=10_000).nprobe == 512
    assert knn.plan("ivf", 20_000, 384, nprobe=0).nprobe == 0
    with pytest.raises(ValueError, match="nprobe must be >= 0"):
        knn.plan("ivf", 20_000, 384, nprobe=-1)
    n = 20_000
    db, q = clustered(n), clustered(1_000, seed=1)
    exact = knn.knn(blocks(db, 4096), n, blocks(q, 1000), 1000, 32, 4, knn.IndexSpec("flat"))[1]
    monkeypatch.setattr(knn, "calibrate", lambda *a, **kw: pytest.fail("calibrated despite nprobe"))
    _, one, used = knn.knn(
        blocks(db, 4096), n, blocks(q, 1000), 1000, 32, 4, knn.plan("ivf", n, 32, nprobe=1)
    )
    assert used.nprobe == 1 and used.calibration is None and share_found(one, exact) < 0.99


def test_ivfpq_recall_on_clustered_data():
    """IVF-PQ (cosines from 4-byte codes of 16-d vectors, 7 bits each): recall@4 >= 0.4 (measured
    0.51; PQ trades recall for memory)."""
    n = 5_000
    db, q = clustered(n, d=16), clustered(500, d=16, seed=1)
    exact = knn.knn(blocks(db, 4096), n, blocks(q, 500), 500, 16, 4, knn.IndexSpec("flat"))[1]
    spec = knn.plan("ivfpq", n, 16)
    assert (spec.kind, spec.pq_m, spec.pq_bits) == ("ivfpq", 4, 7)
    got = knn.knn(blocks(db, 4096), n, blocks(q, 500), 500, 16, 4, spec)[1]
    assert share_found(got, exact) >= 0.4


def test_ivf_query_with_too_few_probed_vectors_is_searched_again():
    db, q = clustered(2_000, clusters=50), clustered(300, clusters=50, seed=2)
    spec = knn.IndexSpec("ivf", nlist=50, nprobe=1)
    sims, inds, _ = knn.knn(blocks(db, 2000), 2000, blocks(q, 300), 300, 32, 100, spec)
    assert (inds >= 0).all() and np.isfinite(sims).all()


def test_all_gpus_shard_the_index(monkeypatch):
    import faiss

    calls = []

    def to_gpus(index, co=None):
        calls.append(co)
        return index  # the CPU index stands in for its GPU clone

    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 2)
    monkeypatch.setattr(faiss, "index_cpu_to_all_gpus", to_gpus)
    monkeypatch.setattr(faiss, "GpuMultipleClonerOptions", types.SimpleNamespace, raising=False)
    assert knn.gpu_count() == 2
    spec = knn.plan("auto", 5_000, 32, knn.gpu_count())
    assert spec.gpus == 2 and spec.describe().endswith("on 2 GPU(s)")
    db = clustered(5_000)
    sims, inds, _ = knn.knn(blocks(db, 1000), 5000, blocks(db[:10], 10), 10, 32, 1, spec)
    assert len(calls) == 1 and calls[0].shard is True and inds[:, 0].tolist() == list(range(10))
