"""Every vectorised metric against a naive loop, scipy, or a worked example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from langgap.metrics.alignment import (
    derangement,
    pair_cosines,
    random_cosines,
    random_pair_cosines,
    rank_spearman,
)
from langgap.metrics.bitext import retrieval_correct, xsim_errors
from langgap.metrics.language import language_id_probe, neighbour_purity, purity_chance
from langgap.metrics.similarity import cos_sim_matrix, pairwise_cos_sim, topk_cosine
from langgap.metrics.sts import sts_spearman


def _cos(u, v):
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


@pytest.fixture
def pair():
    rng = np.random.default_rng(1)
    src = rng.standard_normal((40, 12))
    tgt = src + 0.9 * rng.standard_normal((40, 12))
    return src, tgt


def test_cos_sim_matrix_and_pairwise_match_loop(pair):
    a, b = pair
    m = cos_sim_matrix(a, b)
    for i in range(len(a)):
        for j in range(0, len(b), 7):
            assert m[i, j] == pytest.approx(_cos(a[i], b[j]), abs=1e-5)
        assert pairwise_cos_sim(a, b)[i] == pytest.approx(_cos(a[i], b[i]), abs=1e-5)
    assert np.allclose(pair_cosines(a, b), pairwise_cos_sim(a, b))


def test_topk_blocks_equal_full_sort(pair):
    a, b = pair
    v1, i1 = topk_cosine(a, b, 5, block=7)
    v2, i2 = topk_cosine(a, b, 5, block=1000)
    assert np.array_equal(i1, i2) and np.allclose(v1, v2)
    full = cos_sim_matrix(a, b)
    assert np.array_equal(i2[:, 0], full.argmax(axis=1))
    assert np.array_equal(i2, np.argsort(-full, axis=1, kind="stable")[:, :5])  # naive full sort


def test_topk_ties_go_to_the_lowest_index():
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [2.0, 0.0]])  # rows 1-3 tie at cosine 1
    assert topk_cosine(x, y, 1)[1].tolist() == [[1]]
    assert topk_cosine(x, y, 3)[1].tolist() == [[1, 2, 3]]


def test_random_cosines_match_naive_loop(pair):
    a, b = pair
    got = random_cosines(a, b)
    naive = [np.mean([_cos(a[i], b[j]) for j in range(len(b)) if j != i]) for i in range(len(a))]
    assert np.allclose(got, naive, atol=1e-5)


def test_rank_spearman_matches_scipy_loop(pair):
    a, b = pair
    got = rank_spearman(a, b)
    n = len(a)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        ra = [_cos(a[i], a[j]) for j in others]
        rb = [_cos(b[i], b[j]) for j in others]
        assert got[i] == pytest.approx(spearmanr(ra, rb).statistic, abs=1e-6)


def test_rank_spearman_with_ties_matches_scipy_loop(pair):
    a, b = pair
    a, b = a.copy(), b.copy()
    a[5] = a[3]  # duplicate sentences: tied similarities in every ranking
    b[5] = b[3]
    got = rank_spearman(a, b)
    for i in (0, 3, 5, 7):
        others = [j for j in range(len(a)) if j != i]
        ra = [_cos(a[i], a[j]) for j in others]
        rb = [_cos(b[i], b[j]) for j in others]
        assert got[i] == pytest.approx(spearmanr(ra, rb).statistic, abs=1e-5)


def test_row_ranks_equal_rankdata():
    from scipy.stats import rankdata

    from langgap.metrics.ranks import row_ranks

    m = np.random.default_rng(0).integers(0, 5, size=(30, 12)).astype(float)  # many ties
    m[0] = np.arange(12)  # a row without ties
    m[1] = 3.0  # a row that is one tie (every rank the average, 6.5)
    assert np.array_equal(row_ranks(m), rankdata(m, axis=1))


def test_rank_spearman_is_one_for_identical_geometry(pair):
    a, _ = pair
    rot = np.linalg.qr(np.random.default_rng(3).standard_normal((12, 12)))[0]
    assert np.allclose(rank_spearman(a, a @ rot), 1.0)


def _laser_naive(x, y, k, margin):
    """LASER xsim.py's candidate rescoring, transcribed as plain loops."""

    def cos(u, v):
        return _cos(u, v)

    n, m = len(x), len(y)
    sims = np.array([[cos(x[i], y[j]) for j in range(m)] for i in range(n)])
    knn_xy = [sorted(range(m), key=lambda j: -sims[i, j])[:k] for i in range(n)]
    avg_x = [np.mean([sims[i, j] for j in knn_xy[i]]) for i in range(n)]
    avg_y = [np.mean(sorted(sims[:, j], reverse=True)[:k]) for j in range(m)]
    best = []
    for i in range(n):
        scores = []
        for j in knn_xy[i]:
            b = (avg_x[i] + avg_y[j]) / 2
            scores.append(sims[i, j] / b if margin == "ratio" else sims[i, j] - b)
        best.append(knn_xy[i][int(np.argmax(scores))])
    return np.array(best) == np.arange(n)


@pytest.mark.parametrize("margin", ["ratio", "distance"])
def test_margin_retrieval_matches_naive_laser(pair, margin):
    a, b = pair
    assert np.array_equal(retrieval_correct(a, b, margin, 4), _laser_naive(a, b, 4, margin))
    assert np.array_equal(retrieval_correct(b, a, margin, 4), _laser_naive(b, a, 4, margin))


def test_cosine_retrieval_matches_naive_argmax(pair):
    a, b = pair
    naive = [int(np.argmax([_cos(a[i], b[j]) for j in range(len(b))])) == i for i in range(len(a))]
    assert retrieval_correct(a, b, "cosine").tolist() == naive


def test_margin_fixes_a_hub_worked_example():
    # target 3 is a "hub", close to every source: it steals source 0 under plain cosine
    # (0.55 > 0.5), but its neighbourhood mean is high, so the margin (k=2) prefers target 0:
    # ratio(x0, y0) = 0.5 / ((0.525 + 0.25) / 2) = 1.29 > ratio(x0, hub) = 0.55 / ((0.525 + 0.77) / 2) = 0.85
    x = np.eye(4)[:3]
    y0 = np.array([0.5, 0, 0, np.sqrt(0.75)])
    hub = np.array([0.55, 0.54, 0.53, -np.sqrt(1 - 0.875)])
    y = np.stack([y0, np.eye(4)[1], np.eye(4)[2], hub])
    assert retrieval_correct(x, y, "cosine").tolist() == [False, True, True]
    assert retrieval_correct(x, y, "ratio", k=2).tolist() == [True, True, True]
    assert retrieval_correct(x, y, "distance", k=2).tolist() == [True, True, True]
    assert xsim_errors(x, y, k=2).tolist() == [0.0, 0.0, 0.0]


def test_sts_spearman_matches_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((30, 8)), rng.standard_normal((30, 8))
    gold = rng.uniform(0, 5, 30)
    rho, cos = sts_spearman(a, b, gold)
    assert rho == pytest.approx(
        spearmanr([_cos(u, v) for u, v in zip(a, b, strict=True)], gold).statistic, abs=1e-9
    )
    assert np.allclose(cos, pairwise_cos_sim(a, b))


def _langs(n_lang, n, gap, seed=0):
    rng = np.random.default_rng(seed)
    meaning = rng.standard_normal((n, 24))
    return [
        meaning + gap * rng.standard_normal(24) + 0.3 * rng.standard_normal((n, 24)) for _ in range(n_lang)
    ]


def test_language_signal_near_chance_without_gap_and_high_with_gap():
    no_gap, gap = _langs(4, 80, 0.0), _langs(4, 80, 3.0)
    assert language_id_probe(no_gap).mean() < 0.45  # chance 0.25
    assert language_id_probe(gap).mean() > 0.95
    chance = purity_chance(4, 80)
    assert abs(neighbour_purity(no_gap).mean() - chance) < 0.1
    assert neighbour_purity(gap).mean() > 0.9


def test_neighbour_purity_matches_naive_loop():
    per_lang = _langs(3, 15, 1.0)
    k = 4
    x = np.concatenate(per_lang)
    labels = np.repeat(np.arange(3), 15)
    naive = []
    for i in range(len(x)):
        sims = [(_cos(x[i], x[j]), j) for j in range(len(x)) if j != i]
        nn = [j for _, j in sorted(sims, key=lambda t: (-t[0], t[1]))[:k]]
        naive.append(np.mean(labels[nn] == labels[i]))
    naive = np.array(naive).reshape(3, 15).mean(axis=0)
    assert np.allclose(neighbour_purity(per_lang, k=k), naive)


def test_probe_rejects_too_little_data():
    with pytest.raises(ValueError, match="needs >= 2 languages"):
        language_id_probe([np.zeros((10, 3))])


@pytest.mark.parametrize("n_lang", [2, 3, 4])
def test_probe_cannot_memorise_content(n_lang):
    """No language signal, but room to memorise: D = 512 >= L * N embeddings, each its own noise.

    A probe that saw the test sentences (in any language) while fitting could learn every point's
    label; split by sentence it has only the language, which here is nothing: chance 1 / L.
    """
    n, d = 60, 512
    accuracies = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        meaning = rng.standard_normal((n, d))
        per_lang = [meaning + rng.standard_normal((n, d)) for _ in range(n_lang)]  # no language part
        accuracies.append(float(language_id_probe(per_lang, seed=seed).mean()))
    assert np.mean(accuracies) < 1 / n_lang + 0.1, accuracies


def test_xsim_errors_is_laser_ratio_margin_error_with_k_4_by_default(pair):
    """LASER's definition: per row 1.0 where the ratio-margin (k=4) best target is not row i."""
    a, b = pair
    by_k = {k: 1.0 - _laser_naive(a, b, k, "ratio") for k in (1, 4, 5)}
    assert len({tuple(v) for v in by_k.values()}) == 3  # k matters on this data
    assert xsim_errors(a, b).tolist() == by_k[4].tolist()
    assert xsim_errors(a, b, k=1).tolist() == by_k[1].tolist()
    assert xsim_errors(a, b).dtype == np.float64


def test_retrieval_defaults_are_cosine_and_four_neighbours_and_refusals_say_why():
    """``retrieval_correct(src, tgt)`` is nearest-neighbour retrieval; a margin without ``k`` uses
    4 neighbours (LASER's), on data where 5 would change rows; bad input is named in the error."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 8))
    b = a + 1.2 * rng.standard_normal((30, 8))
    assert retrieval_correct(a, b).tolist() == retrieval_correct(a, b, "cosine").tolist()
    for scoring in ("ratio", "distance"):
        four = retrieval_correct(a, b, scoring)
        assert four.tolist() == retrieval_correct(a, b, scoring, 4).tolist()
        assert four.tolist() != retrieval_correct(a, b, scoring, 5).tolist(), scoring
    with pytest.raises(ValueError, match=r"^need at least as many targets as sources, got 29 < 30$"):
        retrieval_correct(a, b[:29])
    with pytest.raises(ValueError, match=r"^unknown scoring 'margin'; expected cosine, ratio or distance$"):
        retrieval_correct(a, b, "margin")  # type: ignore[arg-type]


def test_pca_2d_equals_the_covariance_eigenvectors_with_a_fixed_sign():
    """The 2-D projection of the plots: the rows' coordinates on the two leading eigenvectors of
    the covariance of the L2-normalised rows (numpy's eigh), each axis signed so that its largest
    coordinate is positive; identical rows land on the origin."""
    from langgap.metrics.projection import pca_2d

    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 6)) * np.array([5.0, 3.0, 1.0, 0.5, 0.2, 0.1])
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    xc = xn - xn.mean(axis=0)
    values, vectors = np.linalg.eigh(xc.T @ xc)
    want = xc @ vectors[:, ::-1][:, :2]
    got = pca_2d(x)
    assert got.shape == (50, 2) and got.dtype == np.float64
    for axis in range(2):
        col = got[:, axis]
        assert col[np.abs(col).argmax()] > 0, axis
        np.testing.assert_allclose(
            np.abs(col), np.abs(want[:, axis]), atol=1e-6
        )  # normalize() works in float32
        np.testing.assert_allclose(col * np.sign(col @ want[:, axis]), want[:, axis], atol=1e-6)
    same = pca_2d(np.tile([[1.0, 2.0, 3.0]], (4, 1)))
    assert same.dtype == np.float64 and not same.any()


def test_project_2d_uses_umap_when_installed_and_pca_otherwise(monkeypatch):
    """``auto`` (the default) takes UMAP (cosine metric, seeded) when umap-learn imports, PCA when
    it does not; ``umap`` without umap-learn says how to install it; ``pca`` is always PCA."""
    import sys
    import types

    from langgap.metrics.projection import pca_2d, project_2d

    x = np.random.default_rng(0).standard_normal((20, 5))
    calls = []

    class FakeUMAP:
        def __init__(self, **kw):
            calls.append(kw)

        def fit_transform(self, rows):
            return np.asarray(rows)[:, :2] * 10

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    coords, method = project_2d(x)
    assert method == "umap" and calls == [{"n_components": 2, "metric": "cosine", "random_state": 0}]
    np.testing.assert_allclose(coords, x[:, :2] / np.linalg.norm(x, axis=1, keepdims=True) * 10, rtol=1e-6)
    assert project_2d(x, "umap", seed=3)[1] == "umap" and calls[-1]["random_state"] == 3
    coords, method = project_2d(x, "pca")
    assert method == "pca" and np.array_equal(coords, pca_2d(x))

    monkeypatch.setitem(sys.modules, "umap", None)  # import umap -> ImportError
    coords, method = project_2d(x)
    assert method == "pca" and np.array_equal(coords, pca_2d(x))
    with pytest.raises(
        ValueError, match=r"^UMAP asked for but umap-learn is not installed \(pip install umap-learn\)$"
    ):
        project_2d(x, "umap")


def test_random_cosines_take_two_rows_and_refuse_fewer_or_unequal_sets_saying_why():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 1.0], [1.0, 0.0]])
    # two rows: each row's only non-translation
    np.testing.assert_allclose(random_cosines(a, b), [1.0, np.sqrt(0.5)], atol=1e-12)
    for x, y, got in ((a[:1], b[:1], "1 and 1"), (a, np.vstack([b, b]), "2 and 4")):
        with pytest.raises(
            ValueError, match=rf"^random_cosines needs two aligned sets of >= 2 rows, got {got}$"
        ):
            random_cosines(x, y)


def test_random_pairs_default_to_seed_0_and_never_pair_a_row_with_itself():
    """The report's random-pair histogram is the same in every run (seed 0 unless asked)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
    assert derangement(8).tolist() == derangement(8, seed=0).tolist() != derangement(8, seed=1).tolist()
    for n in (2, 3, 8, 50):
        assert not (derangement(n) == np.arange(n)).any()
        assert sorted(derangement(n).tolist()) == list(range(n))
    np.testing.assert_array_equal(random_pair_cosines(a, b), random_pair_cosines(a, b, seed=0))
    assert not np.allclose(random_pair_cosines(a, b), random_pair_cosines(a, b, seed=1))
    np.testing.assert_allclose(random_pair_cosines(a, b), pairwise_cos_sim(a, b[derangement(8)]), atol=0)


def test_purity_chance_is_the_share_of_other_same_language_items():
    """Without language signal, a point's neighbours are drawn from the other L*N - 1 points,
    N - 1 of them in its language."""
    assert purity_chance(3, 10) == 9 / 29
    assert purity_chance(2, 2) == 1 / 3


def test_neighbour_purity_with_k_beyond_the_pool_counts_every_other_point():
    """k larger than the pool is cut to every other point: purity is then exactly the chance share."""
    rng = np.random.default_rng(5)
    per_lang = [rng.normal(size=(4, 8)) for _ in range(3)]  # 12 points
    for k in (11, 12, 50):
        np.testing.assert_allclose(neighbour_purity(per_lang, k=k), purity_chance(3, 4), atol=1e-12)
    assert not np.allclose(neighbour_purity(per_lang, k=10), purity_chance(3, 4))


def test_cosine_retrieval_from_knn_gives_full_ties_to_the_lowest_index():
    """Duplicate targets: a row whose k neighbours all tie is answered by the lowest index, as a
    naive argmax over every target; k = 1 needs no second search (no src/tgt)."""
    from langgap.metrics.bitext import correct_from_knn

    rng = np.random.default_rng(1)
    tgt = rng.normal(size=(300, 5))
    tied = np.sort(rng.choice(300, size=6, replace=False))
    tgt[tied] = tgt[tied[0]]  # six equal cosines, scattered
    src = tgt + 1e-3 * rng.normal(size=tgt.shape)
    src[tied] = tgt[tied[0]]
    want = cos_sim_matrix(src, tgt).argmax(axis=1) == np.arange(300)  # the first maximum
    assert want[tied[0]] and not want[tied[1:]].any()

    def without_the_lowest(xy: tuple[np.ndarray, np.ndarray], k: int) -> tuple[np.ndarray, np.ndarray]:
        """``xy`` as another partition may return it: which of more than k tied values enter the
        top k is unspecified (numpy's argpartition picks differently on AVX2 and AVX-512 builds),
        so the tied rows' top k may leave the lowest tied index out."""
        inds = xy[1].copy()
        inds[tied] = tied[-k:]  # equal cosines, ascending index, as topk_cosine orders them
        return xy[0], inds

    for k in (1, 2, 4, 6, 8):
        xy, yx = topk_cosine(src, tgt, k), topk_cosine(tgt, src, k)
        assert correct_from_knn(xy, yx, "cosine", src, tgt).tolist() == want.tolist(), k
        if 1 < k < len(tied):  # the case the second search is for: the top k misses the lowest index
            other = without_the_lowest(xy, k)
            assert (other[1][tied, 0] != tied[0]).all() and np.ptp(other[0][tied], axis=1).max() == 0
            assert correct_from_knn(other, yx, "cosine", src, tgt).tolist() == want.tolist(), k
    one = topk_cosine(src, tgt, 1)
    assert correct_from_knn(one, topk_cosine(tgt, src, 1), "cosine").tolist() == want.tolist()
    with pytest.raises(ValueError, match="^ties among all k neighbours need src and tgt to search again$"):
        correct_from_knn(topk_cosine(src, tgt, 4), topk_cosine(tgt, src, 4), "cosine")
    for given in ({"src": src}, {"tgt": tgt}):  # one of the two is not enough either
        with pytest.raises(ValueError, match="^ties among all k neighbours need src and tgt"):
            correct_from_knn(topk_cosine(src, tgt, 4), topk_cosine(tgt, src, 4), "cosine", **given)


def test_rank_spearman_takes_three_rows_and_refuses_fewer_or_unequal_sets_saying_why():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert np.isfinite(rank_spearman(a, b)).all()
    for x, y, got in ((a[:2], b[:2], "2 and 2"), (a, b[:2], "3 and 2"), (a[:2], b, "2 and 3")):
        with pytest.raises(
            ValueError, match=rf"^rank_spearman needs two aligned sets of >= 3 rows, got {got}$"
        ):
            rank_spearman(x, y)


def test_split_items_halves_with_seed_0_by_default():
    from langgap.metrics.language import split_items

    train, test = split_items(10)
    assert (train.tolist(), test.tolist()) == tuple(x.tolist() for x in split_items(10, 0.5, 0))
    assert len(train) == len(test) == 5 and sorted([*train, *test]) == list(range(10))
    assert split_items(10)[1].tolist() != split_items(10, seed=1)[1].tolist()


def _naive_probe(per_lang, seed=0):
    """sklearn's LogisticRegression(C=1) on the train sentences of every language, scored per test sentence."""
    from sklearn.linear_model import LogisticRegression

    from langgap.metrics.language import split_items
    from langgap.metrics.similarity import normalize

    train, test = split_items(len(per_lang[0]), 0.5, seed)
    x = np.concatenate([normalize(p)[train] for p in per_lang])
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(x, np.repeat(np.arange(len(per_lang)), len(train)))
    return np.mean([clf.predict(normalize(p)[test]) == lang for lang, p in enumerate(per_lang)], axis=0)


def test_probe_equals_a_c_1_logistic_regression_on_the_seed_0_split():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(40, 16))
    per_lang = [m + 0.3 * rng.normal(size=16) + 0.5 * rng.normal(size=m.shape) for _ in range(3)]
    got = language_id_probe(per_lang)
    np.testing.assert_array_equal(got, _naive_probe(per_lang))
    np.testing.assert_array_equal(language_id_probe(per_lang, seed=1), _naive_probe(per_lang, seed=1))
    assert (got != language_id_probe(per_lang, seed=1)).any()


def test_probe_takes_four_sentences_and_refuses_three_saying_why():
    rng = np.random.default_rng(1)
    per_lang = [rng.normal(size=(4, 6)) for _ in range(2)]
    assert language_id_probe(per_lang).shape == (2,)
    with pytest.raises(
        ValueError, match=r"^language_id_probe needs >= 2 languages and >= 4 sentences, got 2 x 3$"
    ):
        language_id_probe([p[:3] for p in per_lang])


def test_split_items_keeps_at_least_one_test_item():
    from langgap.metrics.language import split_items

    train, test = split_items(4, test_fraction=0.1)
    assert len(test) == 1 and len(train) == 3


def test_pairwise_cosines_refuse_unequal_row_counts_saying_why():
    with pytest.raises(ValueError, match=r"^pairwise_cos_sim needs equal row counts, got 3 and 2$"):
        pairwise_cos_sim(np.ones((3, 2)), np.ones((2, 2)))


@pytest.mark.parametrize("k", [2, 3, 5, 17])
def test_topk_equals_a_full_sort_of_a_large_corpus(k):
    """Against a full (-cosine, index) sort of 2,000 corpus rows: argpartition must split at the
    k-th value exactly, or a row outside the top k slips in; values are the float32 cosines."""
    rng = np.random.default_rng(k)
    q, c = rng.normal(size=(40, 8)).astype(np.float32), rng.normal(size=(2000, 8)).astype(np.float32)
    sims = cos_sim_matrix(q, c)
    want = np.lexsort((np.broadcast_to(np.arange(2000), sims.shape), -sims), axis=1)[:, :k]
    values, idx = topk_cosine(q, c, k)
    np.testing.assert_array_equal(idx, want)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, np.take_along_axis(sims, want, axis=1))


def test_rank_correlation_is_pearson_along_the_last_axis_of_any_shape():
    """(..., K) inputs, not only rank rows (whose means are all (K + 1) / 2): np.corrcoef per row."""
    from langgap.metrics.ranks import rank_correlation

    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 3, 9)) + rng.normal(size=(2, 3, 1)) * 5  # rows with different means
    y = x + rng.normal(size=x.shape)
    want = np.array([[np.corrcoef(x[i, j], y[i, j])[0, 1] for j in range(3)] for i in range(2)])
    np.testing.assert_allclose(rank_correlation(x.copy(), y.copy()), want, rtol=1e-12)
    small = 1e-3 * x[0, 0]  # tiny spread: the denominator is far below 1, still a correlation
    np.testing.assert_allclose(
        rank_correlation(small[None].copy(), 1e-3 * y[0, :1].copy()), want[0, :1], rtol=1e-9
    )


def test_normalize_refuses_anything_but_a_matrix_saying_what_it_got():
    from langgap.metrics.similarity import normalize

    with pytest.raises(ValueError, match=r"^expected a 2-D array \(N, D\), got shape \(3,\)$"):
        normalize(np.ones(3))
