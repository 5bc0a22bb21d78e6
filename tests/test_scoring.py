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


def test_mining_scorer_called_directly_uses_four_neighbours_as_measure_does():
    """``score_mining(name, corpus, emb)`` without ``k`` gives what ``langgap measure`` gives
    (``k=4``), on data where the number of neighbours changes the margins."""
    import inspect

    from langgap.data.corpora import DataFile, MiningSet
    from langgap.measuring import measure
    from langgap.scoring import score_mining

    rng = np.random.default_rng(2)
    src = [f"s{i}" for i in range(30)]
    tgt = [f"t{i}" for i in range(30)]
    vecs = dict(zip(src + tgt, rng.standard_normal((60, 8)), strict=True))
    for i in range(12):  # 12 gold pairs: a noisy copy
        vecs[f"t{i}"] = vecs[f"s{i}"] + 0.8 * rng.standard_normal(8)
    files = {side: DataFile(side, "", 30) for side in ("src", "tgt", "gold")}
    corpus = MiningSet("deu", "eng", src, tgt, [(i, i) for i in range(12)], files, "mine")

    def emb(lang, texts):
        return np.stack([vecs[t] for t in texts])

    default = score_mining("m", corpus, emb).metrics
    assert inspect.signature(measure).parameters["k"].default == 4
    assert default == score_mining("m", corpus, emb, k=4).metrics
    assert default != score_mining("m", corpus, emb, k=5).metrics  # k matters on this data


def test_mining_scorer_embeds_each_side_in_its_language_once_per_text_and_says_so():
    """Each side is embedded in its own language (a per-language transform needs it), identical
    texts once; the notes say what was mined and how many gold pairs merged texts made repeat."""
    from langgap.data.corpora import DataFile, MiningSet
    from langgap.scoring import score_mining

    rng = np.random.default_rng(0)
    vecs = {t: rng.standard_normal(6) for t in "abcdexyzwv"}
    calls = []

    def emb(lang, texts):
        calls.append((lang, list(texts)))
        return np.stack([vecs[t] for t in texts])

    files = {side: DataFile(side, "", 6) for side in ("src", "tgt", "gold")}
    src, tgt = list("abacde"), list("xyxzwv")
    res = score_mining("m", MiningSet("deu", "eng", src, tgt, [(0, 0), (1, 1), (2, 2)], files, "p"), emb, k=2)
    assert calls == [("deu", list("abcde")), ("eng", list("xyzwv"))]
    assert res.notes == {
        "mining": "2 gold pairs among 5 source and 5 target sentences; ratio margin over k=2 neighbours, "
        "forward retrieval, exact search; precision/recall/F1 at the F1-best threshold (BUCC 2018) and at "
        "langgap mine's default threshold",
        "mining_duplicates": "1 gold pairs repeat another one once identical texts are merged",
    }
    distinct = MiningSet("deu", "eng", list("abcde"), list("xyzwv"), [(0, 0), (1, 1)], files, "p")
    assert set(score_mining("m", distinct, emb, k=2).notes) == {"mining"}


def test_sample_tables_with_hyphenated_language_codes():
    """Language codes may contain "-" (``pt-BR``): the anchor/positive table of each pair is the
    mean cosine of that pair's languages, both ways."""
    import zlib

    from langgap.data.corpora import Sample
    from langgap.scoring import score_sample

    def emb(lang, texts):
        return np.stack(
            [np.random.default_rng(zlib.crc32(f"{lang}{t}".encode())).standard_normal(6) for t in texts]
        )

    langs = ("pt-BR", "eng", "zh-Hant")
    anchors = {lang: [f"a{i}" for i in range(12)] for lang in langs}
    positives = {lang: [f"p{i}" for i in range(12)] for lang in langs}
    res = score_sample("s", Sample(anchors, positives), emb)
    for la, lb in (("pt-BR", "eng"), ("pt-BR", "zh-Hant"), ("eng", "zh-Hant")):
        want = [float(np.mean([_cos(emb(x, [a])[0], emb(y, [p])[0]) for a, p in zip(anchors[x], positives[y], strict=True)]))
                for x, y in ((la, lb), (lb, la))]  # fmt: skip
        got = res.per_pair[f"{la}-{lb}"]
        assert (got["positive_cosine_src2tgt"], got["positive_cosine_tgt2src"]) == pytest.approx(want), (
            la,
            lb,
        )


def _cos(u, v):
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


def _meaning_plus_language(lang, texts):
    """A shared meaning per text plus a language part: margin retrieval depends on k, the probe's
    split on the seed."""
    import zlib

    def vec(key: str) -> np.ndarray:
        return np.random.default_rng(zlib.crc32(key.encode())).standard_normal(6)

    return np.stack([vec(f"{lang}{t}") + vec(t) for t in texts])


def test_sample_positive_tables_per_language_and_their_gap_equal_a_naive_loop():
    """Each language's same-language paraphrase cosine (per language, with its items), the mono
    and cross means of the anchor/positive table and their gap; k = 4 and seed 0 unless asked."""
    from langgap.data.corpora import Sample
    from langgap.scoring import score_sample

    emb = _meaning_plus_language
    langs = ("deu", "eng", "fra")
    anchors = {lang: [f"a{i}" for i in range(12)] for lang in langs}
    positives = {lang: [f"a{i}" if i % 2 else f"p{i}" for i in range(12)] for lang in langs}
    res = score_sample("s", Sample(anchors, positives), emb)

    def table(x, y):  # mean cos(anchor_x[i], positive_y[i])
        return [_cos(emb(x, [a])[0], emb(y, [p])[0]) for a, p in zip(anchors[x], positives[y], strict=True)]

    for lang in langs:
        assert res.per_language[lang]["positive_cosine"] == pytest.approx(np.mean(table(lang, lang)))
        np.testing.assert_allclose(
            res.items[f"{lang}/positive_cosine"], table(lang, lang), atol=1e-6
        )  # float32
    mono = np.mean([np.mean(table(x, x)) for x in langs])
    cross = np.mean([np.mean(table(x, y)) for x in langs for y in langs if x != y])
    assert res.metrics["positive_cosine_mono"] == pytest.approx(mono)
    assert res.metrics["positive_cosine_cross"] == pytest.approx(cross)
    assert res.metrics["positive_gap"] == pytest.approx(mono - cross) and mono - cross > 0.05
    assert res.metrics == score_sample("s", Sample(anchors, positives), emb, k=4, seed=0).metrics
    k5 = score_sample("s", Sample(anchors, positives), emb, k=5).metrics
    assert k5["margin_accuracy_src2tgt"] != res.metrics["margin_accuracy_src2tgt"]
    seed1 = score_sample("s", Sample(anchors, positives), emb, seed=1).metrics
    assert seed1["language_id_accuracy"] != res.metrics["language_id_accuracy"]


def test_bitext_and_multiway_scorers_default_to_k_4_and_seed_0_and_name_their_languages():
    from langgap.data.corpora import Bitext, DataFile, MultiWay
    from langgap.scoring import score_bitext, score_multiway

    emb = _meaning_plus_language
    texts = [f"s{i}" for i in range(40)]
    files = {lang: DataFile(f"{lang}.txt", "0" * 64, 40) for lang in ("deu", "eng", "fra")}
    cases = [
        (score_bitext, Bitext("deu", "eng", texts, texts, files["deu"]), ["deu", "eng"]),
        (score_multiway, MultiWay({lang: texts for lang in files}, files, "mw"), ["deu", "eng", "fra"]),
    ]
    for scorer, corpus, langs in cases:
        res = scorer("t", corpus, emb)
        assert res.languages == langs
        assert res.metrics == scorer("t", corpus, emb, k=4, seed=0).metrics
        k5, seed1 = scorer("t", corpus, emb, k=5).metrics, scorer("t", corpus, emb, seed=1).metrics
        assert k5["margin_accuracy_src2tgt"] != res.metrics["margin_accuracy_src2tgt"], scorer
        assert seed1["language_id_accuracy"] != res.metrics["language_id_accuracy"], scorer


def test_multiway_xsim_is_the_mean_of_both_directions_and_the_budget_reaches_the_language_metrics():
    from langgap.data.corpora import DataFile, MultiWay
    from langgap.metrics.registry import Budget
    from langgap.scoring import language_scores, score_multiway

    texts = [f"s{i}" for i in range(40)]
    files = {lang: DataFile(f"{lang}.txt", "0" * 64, 40) for lang in ("deu", "eng", "fra")}
    corpus = MultiWay({lang: texts for lang in files}, files, "mw")
    res = score_multiway("t", corpus, _meaning_plus_language)
    both = [(p["xsim_error_src2tgt"] + p["xsim_error_tgt2src"]) / 2 for p in res.per_pair.values()]
    assert res.metrics["xsim_error"] == pytest.approx(np.mean(both)) and np.mean(both) > 0
    small = Budget(exact_rows=10, sample_rows=12)
    sampled = score_multiway("t", corpus, _meaning_plus_language, budget=small).metrics
    want, _ = language_scores([_meaning_plus_language(lang, texts) for lang in files], 0, small)
    assert {key: sampled[key] for key in want} == pytest.approx(want)
    assert sampled["neighbour_purity"] != res.metrics["neighbour_purity"]


def test_sts_scorer_reports_spearman_mean_cosine_and_whether_it_is_cross_lingual():
    from langgap.data.corpora import DataFile, STSSet
    from langgap.scoring import score_sts

    s1, s2 = [f"a{i}" for i in range(10)], [f"b{i}" for i in range(10)]
    gold = np.linspace(0, 5, 10)
    res = score_sts(
        "t", STSSet("en", "de", gold, s1, s2, DataFile("x.tsv", "0" * 64, 10)), _meaning_plus_language
    )
    cos = [
        _cos(u, v)
        for u, v in zip(_meaning_plus_language("en", s1), _meaning_plus_language("de", s2), strict=True)
    ]
    assert set(res.metrics) == {"spearman", "pair_cosine", "cross_lingual"}
    assert res.metrics["pair_cosine"] == pytest.approx(np.mean(cos), abs=1e-6)
    assert res.languages == ["en", "de"]


def test_pair_and_language_scores_default_to_k_4_seed_0_and_the_gap_is_pair_minus_random():
    from langgap.metrics.registry import Budget
    from langgap.scoring import language_scores, pair_scores

    texts = [f"s{i}" for i in range(40)]
    a, b = _meaning_plus_language("deu", texts), _meaning_plus_language("eng", texts)
    m, _ = pair_scores(a, b)
    assert m == pair_scores(a, b, 4, 0)[0] and m != pair_scores(a, b, 5, 0)[0]
    # the seed picks the rows a small budget samples for ranking Spearman (the random pairs are fixed)
    small = Budget(exact_rows=10, sample_rows=12)
    assert pair_scores(a, b, budget=small)[0] == pair_scores(a, b, 4, 0, small)[0]
    assert pair_scores(a, b, budget=small)[0] != pair_scores(a, b, 4, 1, small)[0]
    assert m["cosine_gap"] == m["pair_cosine"] - m["random_cosine"] and m["cosine_gap"] > 0
    lang = language_scores([a, b])[0]
    assert lang == language_scores([a, b], 0)[0] and lang != language_scores([a, b], 1)[0]


def _task(kind, metrics, main="x"):
    from langgap.results import TaskResult

    return TaskResult("t", kind, ["en", "de"], [], metrics=metrics, main_score=main)


def test_summaries_are_means_over_matching_tasks_then_over_keys_and_absent_ones_are_left_out():
    from langgap.kinds import TaskKind
    from langgap.scoring import summarize

    tasks = [
        _task(TaskKind.BITEXT, {"accuracy_src2tgt": 0.9, "accuracy_tgt2src": 0.7, "pair_cosine": 0.8}),
        _task(TaskKind.BITEXT, {"accuracy_src2tgt": 0.5, "accuracy_tgt2src": 0.3, "pair_cosine": 0.6}),
        _task(TaskKind.STS, {"spearman": 0.8, "cross_lingual": 0.0}),
        _task(TaskKind.STS, {"spearman": 0.5, "cross_lingual": 1.0}),
        _task(TaskKind.STS, {"spearman": 0.3, "cross_lingual": 1.0}),
    ]
    got = summarize(tasks)
    assert got["bitext_accuracy"] == pytest.approx(((0.9 + 0.5) / 2 + (0.7 + 0.3) / 2) / 2)
    assert got["bitext_pair_cosine"] == pytest.approx(0.7)
    assert got["sts_spearman_mono"] == pytest.approx(0.8) and got["sts_spearman_cross"] == pytest.approx(0.4)
    assert got["sts_gap"] == pytest.approx(0.4)  # derived from the two above
    assert "multiway_xsim_error" not in got and "bitext_margin_accuracy" not in got  # no task has them
    assert all(np.isfinite(v) for v in got.values())


def test_scorers_state_the_main_scores_direction_and_sts_names_its_items_and_languages():
    from langgap.data.corpora import DataFile, MultiWay, STSSet
    from langgap.scoring import score_multiway, score_sts

    texts = [f"s{i}" for i in range(12)]
    files = {lang: DataFile(f"{lang}.txt", "0" * 64, 12) for lang in ("deu", "eng")}
    mw = score_multiway("t", MultiWay({lang: texts for lang in files}, files, "mw"), _meaning_plus_language)
    assert mw.main_score == "xsim_error" and mw.greater_is_better is False
    sts = score_sts(
        "t",
        STSSet("en", "de", np.arange(12.0), texts, texts, DataFile("x", "0" * 64, 12)),
        _meaning_plus_language,
    )
    assert (
        sts.greater_is_better is True
        and set(sts.items) == {"cosine", "gold"}
        and sts.languages == ["en", "de"]
    )


def test_score_defaults_and_says_when_it_sampled_parallel_rows_only():
    from langgap.data.corpora import Bitext, DataFile, STSSet
    from langgap.metrics.registry import Budget
    from langgap.scoring import score

    texts = [f"s{i}" for i in range(40)]
    bitext = Bitext("deu", "eng", texts, texts, DataFile("b", "0" * 64, 40))
    res = score("t", bitext, _meaning_plus_language)
    assert res.metrics == score("t", bitext, _meaning_plus_language, 4, 0).metrics
    assert res.metrics != score("t", bitext, _meaning_plus_language, 5, 0).metrics
    assert res.metrics != score("t", bitext, _meaning_plus_language, 4, 1).metrics
    assert "sampled" not in res.notes
    small = Budget(exact_rows=10, sample_rows=12)
    note = score("t", bitext, _meaning_plus_language, budget=small, seed=3).notes["sampled"]
    assert "a seeded sample of 12 of 40 rows (seed 3; exact up to 10 rows)" in note
    sts = STSSet("en", "de", np.arange(40.0), texts, texts, DataFile("x", "0" * 64, 40))
    assert "sampled" not in score("t", sts, _meaning_plus_language, budget=small).notes  # not parallel
