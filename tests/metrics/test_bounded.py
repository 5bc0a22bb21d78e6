"""Big tasks in bounded memory: shared kNN, memory-bounded blocks, sampled quadratic metrics —
each against the exact path it replaces."""

from __future__ import annotations

import numpy as np
import pytest

import langgap.metrics.alignment as alignment
import langgap.metrics.similarity as similarity
from langgap.measuring import measure
from langgap.metrics.alignment import rank_spearman
from langgap.metrics.bitext import correct_from_knn, retrieval_correct
from langgap.metrics.language import language_id_probe, neighbour_purity
from langgap.metrics.registry import Budget
from langgap.metrics.similarity import topk_cosine
from langgap.metrics.strong import language_preference, strong_alignment_ap
from langgap.tasks import bitext_task


def _pair(n=300, d=16, seed=0, gap=1.0):
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, d))
    return (m + 0.7 * rng.standard_normal((n, d)) + gap * rng.standard_normal(d),
            m + 0.7 * rng.standard_normal((n, d)) + gap * rng.standard_normal(d))  # fmt: skip


@pytest.mark.parametrize("scoring", ["cosine", "ratio", "distance"])
def test_shared_knn_gives_the_same_retrieval(scoring):
    a, b = _pair()
    b[10:16] = b[9]  # 7 identical targets: more ties than k = 4 neighbours
    xy, yx = topk_cosine(a, b, 4), topk_cosine(b, a, 4)
    np.testing.assert_array_equal(
        correct_from_knn(xy, yx, scoring, a, b), retrieval_correct(a, b, scoring, 4)
    )
    np.testing.assert_array_equal(
        correct_from_knn(yx, xy, scoring, b, a), retrieval_correct(b, a, scoring, 4)
    )


def test_memory_bounded_blocks_change_nothing(monkeypatch):
    a, b = _pair(500)
    want = topk_cosine(a, b, 5)
    monkeypatch.setattr(similarity, "MAX_BLOCK_ELEMENTS", 7 * 500)  # blocks of 7 queries
    got = topk_cosine(a, b, 5)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)


def test_budget_rows_are_seeded_and_shared():
    b = Budget(exact_rows=100, sample_rows=30)
    assert b.rows(100) is None
    rows = b.rows(1000, seed=1)
    assert len(rows) == 30 and np.all(np.diff(rows) > 0) and np.array_equal(rows, b.rows(1000, seed=1))
    assert not np.array_equal(rows, b.rows(1000, seed=2))


def test_sampled_metrics_equal_the_exact_ones_on_their_rows():
    a, b = _pair(200)
    c = a + 0.5 * np.random.default_rng(3).standard_normal(a.shape)
    rows = Budget(exact_rows=50, sample_rows=40).rows(200)
    np.testing.assert_allclose(rank_spearman(a, b, rows)[rows], rank_spearman(a, b)[rows], rtol=1e-9)
    assert np.isnan(np.delete(rank_spearman(a, b, rows), rows)).all()
    for fn in (neighbour_purity, strong_alignment_ap, language_preference):
        full, part = fn([a, b, c]), fn([a, b, c], rows=rows)
        np.testing.assert_allclose(part[rows], full[rows], rtol=1e-9)
        assert np.isnan(np.delete(part, rows)).all()
    sub = [x[rows] for x in (a, b)]
    np.testing.assert_array_equal(
        language_id_probe([a, b], rows=rows, seed=5), language_id_probe(sub, seed=5)
    )


def test_a_big_task_never_builds_an_n_by_n_matrix(tmp_path, toy, monkeypatch):
    """Above the budget's exact size the quadratic metrics take their sampled paths (a full
    cosine matrix would fail here) and the result says how many rows they saw."""
    path = tmp_path / "deu-eng.tsv"
    path.write_text("".join(f"deu:{i}\teng:{i}\n" for i in range(400)), encoding="utf-8")

    def no_full_matrix(x, y):
        raise AssertionError(f"a {len(x)} x {len(y)} cosine matrix")

    monkeypatch.setattr(alignment, "cos_sim_matrix", no_full_matrix)
    res = measure(toy(dim=16, gap=1.0), [bitext_task(path)], budget=Budget(exact_rows=100, sample_rows=60))
    t = res.tasks[0]
    assert "seeded sample of 60 of 400 rows" in t.notes["sampled"]
    assert np.count_nonzero(~np.isnan(t.items["rank_spearman"])) == 60
    assert len(t.items["language_id_accuracy"]) == 30  # half of the 60 sampled sentences are tested
    assert np.isfinite(t.metrics["neighbour_purity"]) and t.items["accuracy_src2tgt"].shape == (400,)
    assert res.config["budget"] == {"exact_rows": 100, "sample_rows": 60}


@pytest.mark.parametrize("kind", ["multiway", "sample"])
def test_multi_language_tasks_hand_the_budget_to_their_quadratic_metrics(kind):
    """A multi-way or sample task above the budget's exact size samples the rows of its ranking
    Spearman in every language pair, as a bitext does (the budget reaches every scorer)."""
    import zlib

    from langgap.data.corpora import MultiWay, Sample
    from langgap.scoring import score

    def emb(lang, texts):
        return np.stack(
            [np.random.default_rng(zlib.crc32(f"{lang}{t}".encode())).standard_normal(8) for t in texts]
        )

    texts = {lang: [f"{lang}:{i}" for i in range(40)] for lang in ("deu", "eng", "fra")}
    if kind == "multiway":
        corpus = MultiWay(texts, {}, "mw")
    else:
        corpus = Sample(texts, {lang: [f"{t}+" for t in rows] for lang, rows in texts.items()})
    res = score("t", corpus, emb, budget=Budget(exact_rows=10, sample_rows=8))
    for pair in ("deu-eng", "deu-fra", "eng-fra"):
        assert np.count_nonzero(~np.isnan(res.items[f"{pair}/rank_spearman"])) == 8, pair
    assert "seeded sample of 8 of 40 rows" in res.notes["sampled"]
