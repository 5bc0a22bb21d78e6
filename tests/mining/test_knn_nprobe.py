"""nprobe measured by recall (langgap.knn.calibrate) and the search by list: the choice against
a naive loop over every nprobe with FAISS's own search, a case that needs every list, seeded
determinism, and search_by_list equal to ``IndexIVFFlat.search`` (empty lists, several threads,
query blocks of any size)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import blocks, clustered, share_found

from langgap import knn
from langgap.metrics.similarity import topk_cosine

faiss = pytest.importorskip("faiss")


def _clustered(n, d=32, clusters=100, seed=0, spread=0.5):
    return clustered(n, d, clusters, seed, spread)


def _faiss_search(index, queries, k, nprobe):
    """FAISS's own IVF search at nprobe, a query with fewer than k found searched over all lists."""
    index.nprobe = nprobe
    d, i = index.search(queries, k)
    short = (i < 0).any(axis=1)
    if short.any():
        index.nprobe = index.nlist
        d[short], i[short] = index.search(queries[short], k)
    return d, i


@pytest.fixture(scope="module")
def built():
    """5,000 clustered vectors in 128 lists, 400 sampled queries and their exact 4 neighbours."""
    db, q = _clustered(5_000), _clustered(400, seed=1)
    spec = knn.plan("ivf", 5_000, 32)
    index = knn._build(spec, blocks(db, 1024), 5_000, 32, seed=0)
    return db, q, spec, index, knn.exact_knn(blocks(db, 1024), q, 4)[1]


@pytest.mark.parametrize("target", [0.9, 0.99, 0.999])
def test_calibration_picks_the_smallest_nprobe_a_naive_loop_finds(built, target):
    db, q, spec, index, exact = built
    assert spec.nlist == 128
    cal = knn.calibrate(index, spec, q, exact, target=target)
    naive = {}
    for p in range(1, spec.nlist + 1):  # every nprobe in turn, FAISS's own search
        naive[p] = share_found(_faiss_search(index, q, 4, p)[1], exact)
        if naive[p] >= target:
            break
    assert cal.nprobe == p and cal.recall == pytest.approx(naive[p]) and cal.recall >= target
    for tried, recall in cal.tried:  # every recall it recorded is the naive one
        assert recall == pytest.approx(share_found(_faiss_search(index, q, 4, tried)[1], exact))
    doubling = [1 << j for j in range(8) if 1 << j < 2 * p]  # 1, 2, 4, ... up to the first that reaches
    assert [t for t, _ in cal.tried[: len(doubling)]] == doubling
    assert len(cal.tried) <= 2 * 7 + 1  # then bisection: about 2 log2(nlist) tries in all


def test_a_target_no_nprobe_short_of_all_lists_reaches_takes_them_all(built):
    """Target 1.01 is never reached: every power of two is tried, then nlist, which is taken;
    probing every list is exact search (recall 1 up to ties)."""
    db, q, spec, index, exact = built
    cal = knn.calibrate(index, spec, q, exact, target=1.01)
    assert cal.nprobe == spec.nlist == 128
    assert [p for p, _ in cal.tried] == [1, 2, 4, 8, 16, 32, 64, 128]
    assert cal.recall >= 0.999


@pytest.mark.parametrize(
    "curve, nlist, want",
    [
        (lambda p: min(1.0, p / 37), 100, 37),  # 36/37 < 0.99 <= 37/37
        (lambda p: 1.0, 100, 1),
        (lambda p: 0.5 if p < 100 else 1.0, 100, 100),  # every nprobe up to nlist needed
        (lambda p: 0.5, 100, 100),  # never reached: all lists
        (lambda p: 0.5 if p < 64 else 1.0, 64, 64),
        (lambda p: 0.5 if p < 3 else 1.0, 1, 1),
    ],
)
def test_choose_nprobe_is_the_first_reaching_the_target(curve, nlist, want):
    got, tried = knn.choose_nprobe(curve, nlist)
    naive = next((p for p in range(1, nlist + 1) if curve(p) >= 0.99), nlist)
    assert got == naive == want
    assert all(1 <= p <= nlist and r == curve(p) for p, r in tried)
    assert len({p for p, _ in tried}) == len(tried)  # no nprobe measured twice


def test_the_measured_nprobe_is_seeded_and_recorded():
    db, q = _clustered(5_000), _clustered(3_000, seed=2)
    spec = knn.plan("ivf", 5_000, 32)

    def run(seed):
        return knn.knn(blocks(db, 999), 5_000, blocks(q, 1_234), 3_000, 32, 4, spec, seed=seed)

    a, b, other = run(0), run(0), run(5)
    assert a.spec == b.spec and a.spec.calibration is not None  # the calibration too
    np.testing.assert_array_equal(a.inds, b.inds)
    assert a.spec.calibration.queries == knn.CALIBRATION_QUERIES
    assert other.spec.calibration.tried != a.spec.calibration.tried  # another sample, other recalls


def test_ivfpq_is_calibrated_against_all_its_lists():
    db, q = _clustered(5_000, d=16), _clustered(500, d=16, seed=1)
    _, _, used = knn.knn(blocks(db, 4096), 5_000, blocks(q, 500), 500, 16, 4, knn.plan("ivfpq", 5_000, 16))
    cal = used.calibration
    assert cal is not None and cal.against == "all lists" and cal.recall >= 0.99
    assert "against all lists, 500 sampled queries" in used.describe()


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("nprobe", [1, 5, 128])
def test_search_by_list_equals_faiss_search(built, monkeypatch, threads, nprobe):
    db, q, spec, index, _ = built
    monkeypatch.setattr(faiss, "omp_get_max_threads", lambda: threads)  # lists shared by that many
    index.nprobe = nprobe
    want_d, want_i = index.search(q, 6)
    got_d, got_i = knn.search_by_list(index, q, 6, nprobe)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_allclose(got_d, want_d, rtol=1e-5, atol=1e-6)


def test_search_by_list_with_empty_lists_gives_minus_one_like_faiss():
    """Only the vectors of even lists are added: a query probing one odd list finds nothing."""
    db, q = _clustered(5_000), _clustered(300, seed=3)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(32), 32, 64, faiss.METRIC_INNER_PRODUCT)
    index.train(db)
    lists = index.quantizer.search(db, 1)[1][:, 0]
    index.add(np.ascontiguousarray(db[lists % 2 == 0]))
    for nprobe in (1, 2, 64):
        index.nprobe = nprobe
        want_d, want_i = index.search(q, 4)
        got_d, got_i = knn.search_by_list(index, q, 4, nprobe)
        np.testing.assert_array_equal(got_i, want_i)
        found = want_i >= 0
        np.testing.assert_allclose(got_d[found], want_d[found], rtol=1e-5, atol=1e-6)
        if nprobe != 2:  # at 1 probe some queries find nothing, at all 64 each finds 4
            assert (~found).any() == (nprobe == 1)


def test_query_blocks_of_any_size_give_the_same_neighbours(monkeypatch):
    """Queries arrive in blocks of 7 and 300 rows and are searched in pieces of 64 (and 1,000):
    the same neighbours as one block, FAISS's search at the same nprobe, and exact search."""
    db, q = _clustered(5_000), _clustered(700, seed=4)
    spec = knn.IndexSpec("ivf", nlist=128, nprobe=6)
    monkeypatch.setattr(knn, "QUERY_BLOCK", 64)
    small = knn.knn(blocks(db, 1000), 5_000, blocks(q, 7), 700, 32, 4, spec)
    monkeypatch.setattr(knn, "QUERY_BLOCK", 1000)
    whole = knn.knn(blocks(db, 1000), 5_000, blocks(q, 300), 700, 32, 4, spec)
    np.testing.assert_array_equal(small.inds, whole.inds)
    index = knn._build(spec, blocks(db, 1000), 5_000, 32, seed=0)
    np.testing.assert_array_equal(whole.inds, _faiss_search(index, q, 4, 6)[1])
    pieces = list(knn._pieces(blocks(q, 7), 64))
    assert [len(p) for p in pieces] == [64] * 10 + [60] and all(p.dtype == np.float32 for p in pieces)
    np.testing.assert_array_equal(np.concatenate(pieces), q.astype(np.float32))


def test_exact_knn_over_blocks_equals_numpy():
    db, q = _clustered(3_001), _clustered(50, seed=5)
    sims, inds = knn.exact_knn(blocks(db, 700), q, 5)
    ref_s, ref_i = topk_cosine(q, db, 5)
    np.testing.assert_array_equal(inds, ref_i)
    np.testing.assert_allclose(sims, ref_s, atol=1e-5)
    assert knn.recall_at_k(inds, ref_i) == 1.0
    assert knn.recall_at_k(np.array([[1, 2, -1]]), np.array([[2, 3, 1]])) == pytest.approx(2 / 3)
