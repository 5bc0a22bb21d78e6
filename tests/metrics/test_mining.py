"""Mining metrics against naive loops over a dense cosine matrix: margins, candidate scores,
the four retrieval modes (LASER's semantics) and the BUCC precision/recall/F1 and threshold."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.metrics import mining as mi
from langgap.metrics.similarity import cos_sim_matrix, topk_cosine


def _data(n=40, m=50, d=8, seed=0):
    rng = np.random.default_rng(seed)
    meaning = rng.standard_normal((max(n, m), d))
    src = meaning[:n] + 0.6 * rng.standard_normal((n, d))
    tgt = meaning[:m] + 0.6 * rng.standard_normal((m, d))
    return src.astype(np.float32), tgt.astype(np.float32)


def _margin(a, b, margin):
    return {"ratio": a / b, "distance": a - b, "absolute": a}[margin]


def _naive_best(src, tgt, k, margin):
    """LASER's mine_bitexts.py spelled out on a dense matrix: for each row its k nearest on the
    other side, the mean of their cosines, every candidate scored one by one."""
    c = cos_sim_matrix(src, tgt).astype(np.float64)  # (N, M)
    n, m = c.shape
    fwd_nn = [sorted(range(m), key=lambda j: (-c[i, j], j))[:k] for i in range(n)]
    bwd_nn = [sorted(range(n), key=lambda i: (-c[i, j], i))[:k] for j in range(m)]
    fwd_mean = [sum(c[i, j] for j in fwd_nn[i]) / k for i in range(n)]
    bwd_mean = [sum(c[i, j] for i in bwd_nn[j]) / k for j in range(m)]
    fwd = []
    for i in range(n):
        scored = [
            (_margin(c[i, j], (fwd_mean[i] + bwd_mean[j]) / 2, margin), -r, j)
            for r, j in enumerate(fwd_nn[i])
        ]
        best = max(scored)
        fwd.append((best[2], best[0]))
    bwd = []
    for j in range(m):
        scored = [
            (_margin(c[i, j], (bwd_mean[j] + fwd_mean[i]) / 2, margin), -r, i)
            for r, i in enumerate(bwd_nn[j])
        ]
        best = max(scored)
        bwd.append((best[2], best[0]))
    return fwd, bwd


def _best(src, tgt, k, margin):
    s_xy, i_xy = topk_cosine(src, tgt, k)
    s_yx, i_yx = topk_cosine(tgt, src, k)
    fb, fs = mi.best_candidates(s_xy, i_xy, s_xy.mean(1), s_yx.mean(1), margin)
    bb, bs = mi.best_candidates(s_yx, i_yx, s_yx.mean(1), s_xy.mean(1), margin)
    return fb, fs, bb, bs


def test_margin_functions():
    a, b = np.array([0.8, 0.5]), np.array([0.5, 0.5])
    np.testing.assert_allclose(mi.margin_score(a, b, "ratio"), [1.6, 1.0])
    np.testing.assert_allclose(mi.margin_score(a, b, "distance"), [0.3, 0.0])
    np.testing.assert_allclose(mi.margin_score(a, b, "absolute"), [0.8, 0.5])
    row, col = np.array([[0.8, 0.6]], dtype=np.float32), np.array([[0.5], [0.4]], dtype=np.float32)
    for margin in mi.MARGINS:  # broadcast like the others; float64 whatever the input precision
        out = mi.margin_score(row, col, margin)
        assert out.shape == (2, 2) and out.dtype == np.float64, margin
    assert mi.margin_score(row, col, "absolute").tolist() == [[0.800000011920929, 0.6000000238418579]] * 2
    with pytest.raises(
        ValueError, match="^unknown margin 'ratoi'; expected one of ratio, distance, absolute$"
    ):
        mi.margin_score(a, b, "ratoi")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="^unknown retrieval mode 'both'; expected one of forward, backward, "
    ):
        mi.retrieve(np.arange(2), a, np.arange(2), a, "both")  # type: ignore[arg-type]


@pytest.mark.parametrize("margin", mi.MARGINS)
@pytest.mark.parametrize("k", [1, 4])
def test_best_candidates_match_laser_loop(margin, k):
    src, tgt = _data()
    fb, fs, bb, bs = _best(src, tgt, k, margin)
    fwd, bwd = _naive_best(src, tgt, k, margin)
    assert fb.tolist() == [j for j, _ in fwd] and bb.tolist() == [i for i, _ in bwd]
    assert fb.dtype == bb.dtype == np.int64 and fs.dtype == bs.dtype == np.float64
    np.testing.assert_allclose(fs, [s for _, s in fwd], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bs, [s for _, s in bwd], rtol=1e-5, atol=1e-6)


def test_candidate_scores_worked_example():
    sims = np.array([[0.9, 0.5]])
    inds = np.array([[1, 0]])
    # own mean 0.7; the other side's means 0.4 (row 0) and 0.5 (row 1)
    out = mi.candidate_scores(sims, inds, np.array([0.7]), np.array([0.4, 0.5]), "ratio")
    np.testing.assert_allclose(out, [[0.9 / 0.6, 0.5 / 0.55]])


def _naive_retrieve(fb, fs, bb, bs, mode):
    fwd = [(float(fs[i]), 0, i, i, int(fb[i])) for i in range(len(fb))]
    bwd = [(float(bs[j]), 1, j, int(bb[j]), j) for j in range(len(bb))]
    if mode == "forward":
        cands = fwd
    elif mode == "backward":
        cands = bwd
    elif mode == "intersection":
        cands = [c for c in fwd if int(bb[c[4]]) == c[3]]
    else:
        cands = fwd + bwd
    cands = sorted(cands, key=lambda c: (-c[0], c[1], c[2]))
    if mode == "max":
        seen_s, seen_t, kept = set(), set(), []
        for c in cands:
            if c[3] not in seen_s and c[4] not in seen_t:
                seen_s.add(c[3])
                seen_t.add(c[4])
                kept.append(c)
        cands = kept
    return [c[3] for c in cands], [c[4] for c in cands], [c[0] for c in cands]


@pytest.mark.parametrize("mode", mi.MODES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_retrieval_modes_match_naive_loops(mode, seed):
    src, tgt = _data(seed=seed)
    fb, fs, bb, bs = _best(src, tgt, 4, "ratio")
    s, t, sc = mi.retrieve(fb, fs, bb, bs, mode)
    ns, nt, nsc = _naive_retrieve(fb, fs, bb, bs, mode)
    assert s.tolist() == ns and t.tolist() == nt
    np.testing.assert_allclose(sc, nsc)
    assert np.all(np.diff(sc) <= 0)
    if mode in ("max", "intersection"):
        assert len(set(s.tolist())) == len(s) and len(set(t.tolist())) == len(t)
    if mode == "forward":
        assert sorted(s.tolist()) == list(range(len(src)))  # one best target per source


def test_max_takes_each_side_once_with_ties():
    # forward: 0->0 (0.9), 1->0 (0.8); backward: 0<-1 (0.8), 1<-1 (0.7)
    s, t, sc = mi.retrieve([0, 0], [0.9, 0.8], [0, 1], [0.9, 0.7], "max")
    assert list(zip(s.tolist(), t.tolist(), strict=True)) == [(0, 0), (1, 1)]
    np.testing.assert_allclose(sc, [0.9, 0.7])
    s, t, _ = mi.retrieve([0, 0], [0.9, 0.8], [0, 1], [0.9, 0.7], "intersection")
    assert list(zip(s.tolist(), t.tolist(), strict=True)) == [(0, 0)]
    with pytest.raises(ValueError, match="unknown retrieval mode 'fwd'"):
        mi.retrieve([0], [1.0], [0], [1.0], "fwd")  # type: ignore[arg-type]


def _naive_prf(src, tgt, scores, gold, t):
    kept = [(i, j) for i, j, s in zip(src, tgt, scores, strict=True) if s >= t]
    correct = sum((i, j) in gold for i, j in kept)
    p = correct / len(kept) if kept else 0.0
    r = correct / len(gold)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _planted(seed, n=60):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 30, n)
    tgt = rng.integers(0, 30, n)
    scores = np.round(rng.uniform(0.9, 1.3, n), 2)  # rounded: ties
    gold = {(int(i), int(j)) for i, j in zip(src[: n // 3], tgt[: n // 3], strict=True)}
    scores[: n // 3] += 0.1  # gold pairs score higher on the whole
    gold |= {(100, 100), (101, 101)}  # gold pairs never mined count against recall
    return src, tgt, scores, gold


@pytest.mark.parametrize("seed", range(5))
def test_precision_recall_f1_and_best_threshold_match_naive(seed):
    src, tgt, scores, gold = _planted(seed)
    for t in [0.0, 1.0, 1.1, 1.25, 9.0]:
        got = mi.precision_recall_f1(src, tgt, scores, gold, t)
        np.testing.assert_allclose((got.precision, got.recall, got.f1), _naive_prf(src, tgt, scores, gold, t))
    best = mi.best_f1_threshold(src, tgt, scores, gold)
    # naive: every distinct score as a cut (keep score >= s), the highest threshold on equal F1
    f1s = {float(s): _naive_prf(src, tgt, scores, gold, s)[2] for s in sorted(set(scores.tolist()))}
    top = max(f1s.values())
    cut = max(s for s, f in f1s.items() if f == top)
    assert best.f1 == pytest.approx(top)
    lower = [s for s in f1s if s < cut]
    assert (max(lower) if lower else -np.inf) < best.threshold <= cut
    again = mi.precision_recall_f1(src, tgt, scores, gold, best.threshold)
    assert (again.f1, again.kept, again.correct) == pytest.approx((best.f1, best.kept, best.correct))


def test_best_threshold_worked_example_and_no_gold():
    src, tgt = np.arange(4), np.arange(4)
    scores = np.array([1.3, 1.2, 1.1, 1.0])
    gold = {(0, 0), (1, 1)}
    best = mi.best_f1_threshold(src, tgt, scores, gold)
    assert best.threshold == pytest.approx(1.15) and best.f1 == 1.0 and best.kept == 2
    none = mi.best_f1_threshold(src, tgt, scores, {(7, 7)})
    assert none.f1 == 0.0 and none.threshold == float("inf") and none.kept == 0
    every = mi.best_f1_threshold(src, tgt, scores, {(i, i) for i in range(4)})
    assert every.threshold == 1.0 and every.recall == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_bucc_scores_match_laser_loop_and_naive_prf(seed):
    """The BUCC evaluation of a planted set against the LASER loop on a dense matrix and the
    naive P/R/F1; the statistics compare resamples give the same numbers on all gold pairs."""
    from langgap.metrics.stats import f1_stat, mean_stat, precision_stat, statistic

    src, tgt = _data(40, 50, seed=seed)
    gold = [
        (i, i) for i in range(0, 40, 2)
    ]  # every other source translates its row; the rest are distractors
    metrics, items = mi.bucc_scores(topk_cosine(src, tgt, 4), topk_cosine(tgt, src, 4), gold)
    fwd, _ = _naive_best(src, tgt, 4, "ratio")
    s = np.arange(40)
    t = np.array([j for j, _ in fwd])
    sc = np.array([v for _, v in fwd])
    gold_set = set(gold)
    f1s = {float(x): _naive_prf(s, t, sc, gold_set, x) for x in sorted(set(sc.tolist()))}
    best = max(f1s.values(), key=lambda prf: prf[2])
    assert metrics["mining_f1"] == pytest.approx(best[2])
    assert (metrics["mining_precision"], metrics["mining_recall"]) == pytest.approx(best[:2])
    fixed = _naive_prf(s, t, sc, gold_set, mi.DEFAULT_THRESHOLDS["ratio"])
    got = (
        metrics["mining_precision_default"],
        metrics["mining_recall_default"],
        metrics["mining_f1_default"],
    )
    assert got == pytest.approx(fixed)
    assert metrics["mining_threshold_default"] == mi.DEFAULT_THRESHOLDS["ratio"]
    assert metrics["mining_gold_pairs"] == 20 and metrics["mining_candidates"] == 40
    for name, suffix in (("best", ""), ("default", "_default")):
        found, fp = items[f"gold_found_{name}"], items[f"false_positive_share_{name}"]
        assert found.shape == fp.shape == (20,)
        assert statistic(f1_stat, (found, fp)) == pytest.approx(metrics[f"mining_f1{suffix}"])
        assert statistic(precision_stat, (found, fp)) == pytest.approx(metrics[f"mining_precision{suffix}"])
        assert statistic(mean_stat, found) == pytest.approx(metrics[f"mining_recall{suffix}"])


def test_bucc_scores_other_threshold_and_unreachable_gold():
    src, tgt = _data(30, 30, seed=5)
    gold = [(i, i) for i in range(10)]
    fwd, bwd = topk_cosine(src, tgt, 4), topk_cosine(tgt, src, 4)
    _, mined_tgt, _ = mi.mine_from_knn(fwd, bwd, "ratio", "forward")  # sources 0..29 in score order
    m, _ = mi.bucc_scores(fwd, bwd, gold, threshold=-1.0)  # every candidate kept
    assert m["mining_threshold_default"] == -1.0 and m["mining_candidates"] == 30
    assert m["mining_precision_default"] == pytest.approx(m["mining_recall_default"] * 10 / 30)
    # a gold pair no source retrieves: nothing found at any threshold, F1 0, threshold unknown
    far = (0, int(np.setdiff1d(np.arange(30), mined_tgt)[0]))
    m, items = mi.bucc_scores(fwd, bwd, [far], threshold=9.0)
    assert m["mining_f1"] == m["mining_recall_default"] == m["mining_f1_default"] == 0.0
    assert np.isnan(m["mining_threshold"]) and not items["gold_found_best"].any()
    with pytest.raises(ValueError, match="^gold pairs must be distinct$"):
        mi.bucc_scores(fwd, bwd, [(0, 0), (0, 0)])


def test_gold_outcomes_keep_a_score_equal_to_the_threshold_and_share_false_positives():
    """A pair whose score equals the threshold is kept (as in precision_recall_f1); the false
    positives are spread over the gold pairs, one gold pair carrying them all."""
    src, tgt, scores = np.array([0, 1, 2]), np.array([0, 2, 1]), np.array([0.5, 0.7, 0.4])
    hits, fp = mi.gold_outcomes(src, tgt, scores, [(0, 0)], threshold=0.5)
    assert hits.tolist() == [True] and fp.tolist() == [1.0]  # (1, 2) kept and wrong; (2, 1) dropped
    prf = mi.precision_recall_f1(src, tgt, scores, {(0, 0)}, 0.5)
    assert (prf.kept, prf.correct, prf.precision, prf.recall) == (2, 1, 0.5, 1.0)
    hits, fp = mi.gold_outcomes(src, tgt, scores, [(0, 0), (2, 1)], threshold=0.4)
    assert hits.tolist() == [True, True] and fp.tolist() == [0.5, 0.5]
    hits, fp = mi.gold_outcomes(src, tgt, scores, [], threshold=0.4)
    assert hits.dtype == bool and hits.shape == fp.shape == (0,)


def test_mining_metrics_without_gold_pairs_and_with_unequal_sides():
    """No gold pair: recall 0 (not a division by zero); sources, targets and scores of unequal
    lengths are refused, whichever is shorter."""
    src, tgt, scores = np.arange(3), np.arange(3), np.array([0.9, 0.8, 0.7])
    none = mi.precision_recall_f1(src, tgt, scores, set(), 0.75)
    assert (none.kept, none.correct, none.precision, none.recall, none.f1) == (2, 0, 0.0, 0.0, 0.0)
    for a, b, c in ((src, tgt[:2], scores), (src[:2], tgt, scores), (src, tgt, scores[:1])):
        message = (
            f"^mined pairs need as many sources, targets and scores: got {len(a)}, {len(b)} and {len(c)}$"
        )
        with pytest.raises(ValueError, match=message):
            mi.precision_recall_f1(a, b, c, {(0, 0)}, 0.5)
        with pytest.raises(ValueError, match=message):
            mi.best_f1_threshold(a, b, c, {(0, 0)})
        with pytest.raises(ValueError, match=message):
            mi.gold_outcomes(a, b, c, [(0, 0)], 0.5)


def test_best_threshold_with_one_gold_pair_ties_and_single_precision_scores():
    """The F1-best cut when the only gold pair is the last candidate, when equal scores must be kept
    or dropped together (a cut inside a tie would look better), and its midpoint in float64."""
    one = mi.best_f1_threshold(np.arange(2), np.array([1, 1]), np.array([0.9, 0.8]), {(1, 1)})
    assert (one.kept, one.correct, one.precision, one.recall) == (2, 1, 0.5, 1.0)
    assert one.f1 == pytest.approx(2 / 3) and one.threshold == 0.8
    single = mi.best_f1_threshold(np.arange(1), np.arange(1), np.array([0.7]), {(0, 0)})
    assert (single.kept, single.f1, single.threshold) == (1, 1.0, 0.7)
    tie = mi.best_f1_threshold(np.arange(2), np.arange(2), np.array([0.9, 0.9]), {(0, 0)})
    assert (tie.kept, tie.correct, tie.threshold) == (2, 1, 0.9) and tie.f1 == pytest.approx(2 / 3)
    lower_tie = mi.best_f1_threshold(np.arange(3), np.arange(3), np.array([1.0, 0.9, 0.9]), {(0, 0), (1, 1)})
    assert (lower_tie.kept, lower_tie.correct) == (3, 2) and lower_tie.f1 == pytest.approx(0.8)
    assert lower_tie.threshold == 0.9
    s32 = np.array([0.91, 0.83, 0.8], dtype=np.float32)
    half = mi.best_f1_threshold(np.arange(3), np.arange(3), s32, {(0, 0), (1, 1)})
    assert half.kept == 2 and half.threshold == (np.float64(s32[1]) + np.float64(s32[2])) / 2
    none = mi.best_f1_threshold(np.arange(2), np.arange(2), np.array([0.9, 0.8]), {(5, 5)})
    assert (none.kept, none.correct, none.precision, none.recall, none.f1) == (0, 0, 0.0, 0.0, 0.0)
    second_last = mi.best_f1_threshold(
        np.arange(3), np.arange(3), np.array([0.9, 0.8, 0.7]), {(0, 0), (1, 1)}
    )
    assert second_last.threshold == pytest.approx(0.75) and second_last.kept == 2


def test_best_threshold_between_scores_one_ulp_apart_keeps_only_the_better_one():
    """When the midpoint rounds onto the next lower score, the threshold is the kept score itself,
    so that keeping ``score >= threshold`` keeps what the F1 was computed on."""
    below = np.nextafter(0.9, 0.0)
    assert (0.9 + below) / 2 == below  # the case: the midpoint is not between them
    scores = np.array([0.9, below])
    best = mi.best_f1_threshold(np.arange(2), np.arange(2), scores, {(0, 0)})
    assert best.threshold == 0.9 and (best.kept, best.f1) == (1, 1.0)
    again = mi.precision_recall_f1(np.arange(2), np.arange(2), scores, {(0, 0)}, best.threshold)
    assert (again.kept, again.f1) == (1, 1.0)


def test_equal_scores_keep_source_order_and_empty_sets_mine_nothing():
    """Pairs of equal score stay in source order (forward), then target order (backward), however
    many tie (numpy's default sort reorders ties beyond 16 items); no sentence: no pair, any mode."""
    n = 60
    score = np.repeat([0.5, 0.9, 0.7], n // 3)  # 20 ties of each score
    best = (np.arange(n) * 7) % n
    src, tgt, got = mi.retrieve(best, score, best, score, "forward")
    assert got.tolist() == sorted(score.tolist(), reverse=True)
    for value in (0.9, 0.7, 0.5):
        assert src[got == value].tolist() == sorted(src[got == value].tolist()), value
    src, tgt, _ = mi.retrieve(best, score, best, score, "backward")
    assert tgt[:20].tolist() == list(range(20, 40))
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
    for mode in mi.MODES:
        out = mi.retrieve(empty_i, empty_f, empty_i, empty_f, mode)
        assert [len(x) for x in out] == [0, 0, 0], mode
