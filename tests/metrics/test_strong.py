"""Strong alignment (LAReQA mAP) and the language preference rate against a naive loop."""

from __future__ import annotations

import numpy as np
import pytest

import langgap.metrics.strong as strong
from conftest import write_multiway
from langgap.comparison import compare
from langgap.measuring import measure
from langgap.metrics.language import purity_chance
from langgap.metrics.strong import language_preference, strong_alignment_ap
from langgap.tasks import multiway_task


def naive(per_lang: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One query at a time: sort the pool by (-cosine, index), walk it."""
    n_lang, n = len(per_lang), len(per_lang[0])
    x = np.concatenate(per_lang).astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x = x.astype(np.float32).astype(np.float64)  # the metric normalises in float32
    ap, lp = np.zeros(n), np.zeros(n)
    for q in range(n_lang * n):
        lang, row = divmod(q, n)
        cands = [c for c in range(n_lang * n) if c != q]
        scores = {c: float(np.float32(x[q] @ x[c])) for c in cands}
        order = sorted(cands, key=lambda c: (-scores[c], c))
        relevant = {row + n * b for b in range(n_lang) if b != lang}
        hits, precisions = 0, []
        for pos, c in enumerate(order, start=1):
            if c in relevant:
                hits += 1
                precisions.append(hits / pos)
        ap[row] += np.mean(precisions)
        lp[row] += float(order[0] // n == lang)
    return ap / n_lang, lp / n_lang


def _data(n_lang=3, n=20, gap=1.0, seed=0):
    rng = np.random.default_rng(seed)
    meaning = rng.standard_normal((n, 8))
    return [meaning + 0.8 * rng.standard_normal((n, 8)) + gap * rng.standard_normal(8) for _ in range(n_lang)]


@pytest.mark.parametrize("n_lang,n,gap,block", [(2, 15, 0.0, 512), (3, 20, 1.0, 512), (4, 12, 2.0, 7)])
def test_matches_a_naive_loop(monkeypatch, n_lang, n, gap, block):
    monkeypatch.setattr(strong, "_BLOCK", block)  # several blocks, one not full
    per_lang = _data(n_lang, n, gap)
    want_ap, want_lp = naive(per_lang)
    np.testing.assert_allclose(strong_alignment_ap(per_lang), want_ap, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(language_preference(per_lang), want_lp)


def test_ties_rank_the_lower_pool_index_first():
    """Duplicate vectors tie exactly; the order falls back to the pool index, as in the naive loop."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 4))
    b = a.copy()
    b[2] = b[3]  # two identical sentences in language b: their cosines with every query tie
    c = a[[1, 0, 2, 3, 4, 5]] + 1e-3 * rng.standard_normal((6, 4))
    per_lang = [a, b, c]
    want_ap, want_lp = naive(per_lang)
    np.testing.assert_allclose(strong_alignment_ap(per_lang), want_ap, rtol=1e-12)
    np.testing.assert_array_equal(language_preference(per_lang), want_lp)


def test_worked_extremes():
    rng = np.random.default_rng(2)
    m = rng.standard_normal((10, 16))
    same = [m + 1e-3 * rng.standard_normal(m.shape) for _ in range(3)]
    assert strong_alignment_ap(same) == pytest.approx(np.ones(10)) and not language_preference(same).any()
    # a huge per-language offset: every first hit is in the query's own language
    far = [m + 50.0 * rng.standard_normal(16) + rng.standard_normal(m.shape) for _ in range(3)]
    assert language_preference(far).mean() == 1.0 and strong_alignment_ap(far).mean() < 0.2
    # no signal at all: the rate is near its chance level (N - 1) / (L * N - 1)
    noise = [rng.standard_normal((200, 64)) for _ in range(3)]
    assert abs(language_preference(noise).mean() - purity_chance(3, 200)) < 0.05


def test_bad_input():
    with pytest.raises(ValueError, match=">= 2 languages"):
        strong_alignment_ap([np.ones((5, 3))])
    with pytest.raises(ValueError, match="equally many"):
        language_preference([np.ones((5, 3)), np.ones((4, 3))])


def test_reported_summarised_and_compared(tmp_path, toy):
    mw = multiway_task(write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 30))
    a, b = measure(toy(gap=2.0), [mw]), measure(toy(gap=0.0), [mw])
    ta = a.tasks[0]
    assert ta.items["strong_alignment_map"].shape == (30,) and ta.items["language_preference"].shape == (30,)
    assert ta.metrics["language_preference_chance"] == pytest.approx(purity_chance(3, 30))
    assert a.summary["language_preference"] > b.summary["language_preference"]
    assert a.summary["strong_alignment_map"] < b.summary["strong_alignment_map"]
    changes = {c.metric: c for c in compare(a, b, n_boot=200, n_perm=200).changes}
    assert changes["strong_alignment_map"].verdict == "better"  # B, with no gap, retrieves better
    assert (
        changes["language_preference"].verdict == "better"
        and not changes["language_preference"].greater_is_better
    )


def test_sampled_query_rows_equal_the_full_run_there_and_are_nan_elsewhere():
    """``rows``: only those sentences' versions are queries (the pool stays whole)."""
    per_lang = _data(3, 12, 1.0)
    rows = np.array([1, 4, 5, 10])
    full_ap, full_lp = strong_alignment_ap(per_lang), language_preference(per_lang)
    for fn, full in ((strong_alignment_ap, full_ap), (language_preference, full_lp)):
        got = fn(per_lang, rows=rows)
        np.testing.assert_allclose(got[rows], full[rows], rtol=0, atol=1e-12)
        assert np.isnan(np.delete(got, rows)).all()


def test_two_sentences_per_language_are_enough_and_fewer_are_refused_saying_why():
    rng = np.random.default_rng(4)
    per_lang = [rng.standard_normal((2, 5)) for _ in range(2)]
    want_ap, want_lp = naive(per_lang)
    np.testing.assert_allclose(strong_alignment_ap(per_lang), want_ap, rtol=1e-12)
    np.testing.assert_array_equal(language_preference(per_lang), want_lp)
    msg = r"^strong alignment needs >= 2 languages of equally many \(>= 2\) rows, got 2 x 1$"
    with pytest.raises(ValueError, match=msg):
        strong_alignment_ap([p[:1] for p in per_lang])


def test_only_the_sampled_sentences_versions_are_searched(monkeypatch):
    """The point of ``rows`` is the cost: L * len(rows) queries, not L * N (the values alone
    cannot show it: the rows left out are NaN either way)."""
    searched: list[int] = []
    blocks = strong._blocks

    def counting(per_lang, rows=None):
        for block in blocks(per_lang, rows):
            searched.extend(block[0].tolist())
            yield block

    monkeypatch.setattr(strong, "_blocks", counting)
    per_lang, rows = _data(3, 12, 1.0), np.array([1, 4, 5, 10])
    for fn in (strong_alignment_ap, language_preference):
        searched.clear()
        fn(per_lang, rows=rows)
        assert sorted(searched) == sorted((rows[None, :] + 12 * np.arange(3)[:, None]).ravel().tolist())
