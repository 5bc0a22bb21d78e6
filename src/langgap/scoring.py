"""Per-kind scoring: turn a corpus and its embeddings into a :class:`TaskResult`.

Each function takes the corpus and ``emb``, a lookup ``emb(lang, texts)`` from a list of texts
of language ``lang`` to their (N, D) embeddings, and calls the pure metric functions in
:mod:`langgap.metrics`. The language lets a per-language transform (:mod:`langgap.adapt`) act on
the same text differently in two languages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from itertools import combinations

import numpy as np

from langgap.data.corpora import Bitext, Corpus, DataFile, MiningSet, MultiWay, Sample, STSSet
from langgap.kinds import TaskKind
from langgap.metrics import registry
from langgap.metrics.bitext import xsim_error
from langgap.metrics.mining import bucc_scores
from langgap.metrics.registry import Budget, LanguagesInput, PairInput
from langgap.metrics.similarity import pairwise_cos_sim, topk_cosine
from langgap.metrics.sts import sts_spearman
from langgap.results import TaskResult
from langgap.types import LangEmbed

Items = dict[str, np.ndarray]
# scorer(name, corpus, emb, k, seed, budget) -> TaskResult
Scorer = Callable[[str, Corpus, LangEmbed, int, int, "Budget | None"], TaskResult]


def pair_scores(
    a: np.ndarray, b: np.ndarray, k: int = 4, seed: int = 0, budget: Budget | None = None
) -> tuple[dict[str, float], Items]:
    """Every registered per-pair metric (:func:`~langgap.metrics.registry.pair_metrics`) for
    row-aligned embeddings ``a`` (source) and ``b`` (target): per-row outcomes and their means."""
    p = PairInput(a, b, k, seed, budget or Budget())
    items: Items = {m.key: m.pair(p) for m in registry.pair_metrics()}  # type: ignore[misc]
    metrics = {key: float(np.nanmean(v)) for key, v in items.items()}
    metrics["cosine_gap"] = metrics["pair_cosine"] - metrics["random_cosine"]
    return metrics, items


def language_scores(
    per_lang: list[np.ndarray], seed: int = 0, budget: Budget | None = None
) -> tuple[dict[str, float], Items]:
    """Every registered all-languages metric (language-ID probe, neighbour purity, ...) with the
    chance levels the registry defines for them."""
    n_lang, n = len(per_lang), len(per_lang[0])
    x = LanguagesInput(per_lang, seed, budget or Budget())
    metrics: dict[str, float] = {}
    items: Items = {}
    for m in registry.language_metrics():
        v = items[m.key] = m.languages(x)  # type: ignore[misc]
        metrics[m.key] = float(np.nanmean(v)) if np.isnan(v).any() else float(v.mean())
        if m.chance is not None and m.chance_fn is not None:
            metrics[m.chance] = m.chance_fn(n_lang, n)
    return metrics, items


def _files(*files: DataFile) -> list[dict[str, object]]:
    return [asdict(f) for f in files]


def _result(name: str, corpus: Corpus, languages: list[str], files: list[DataFile], **kw) -> TaskResult:
    main = corpus.kind.main_score
    return TaskResult(
        name,
        corpus.kind,
        languages,
        _files(*files),
        main_score=main,
        greater_is_better=registry.greater_is_better(main),
        **kw,
    )


def score_bitext(
    name: str, corpus: Bitext, emb: LangEmbed, k: int = 4, seed: int = 0, budget: Budget | None = None
) -> TaskResult:
    a, b = emb(corpus.src_lang, corpus.src), emb(corpus.tgt_lang, corpus.tgt)
    metrics, items = pair_scores(a, b, k, seed, budget)
    lang_m, lang_i = language_scores([a, b], seed, budget)
    metrics.update(lang_m)
    items.update(lang_i)
    return _result(
        name, corpus, [corpus.src_lang, corpus.tgt_lang], [corpus.file], metrics=metrics, items=items
    )


def score_sts(
    name: str, corpus: STSSet, emb: LangEmbed, k: int = 4, seed: int = 0, budget: Budget | None = None
) -> TaskResult:
    """Spearman of cosine against gold (``k`` and ``seed`` are unused: a uniform scorer signature)."""
    rho, cos = sts_spearman(emb(corpus.lang1, corpus.s1), emb(corpus.lang2, corpus.s2), corpus.scores)
    metrics = {
        "spearman": rho,
        "pair_cosine": float(cos.mean()),
        "cross_lingual": float(corpus.cross_lingual),
    }
    items = {"cosine": cos, "gold": corpus.scores}
    return _result(name, corpus, [corpus.lang1, corpus.lang2], [corpus.file], metrics=metrics, items=items)


def _multi(
    texts: dict[str, list[str]], emb: LangEmbed, k: int, seed: int, budget: Budget | None = None
) -> tuple[dict[str, float], dict, dict, Items]:
    """Shared by multi-way and sample: every language pair, xSIM per direction, language signal."""
    langs = list(texts)
    vecs = {lang: emb(lang, t) for lang, t in texts.items()}
    per_pair: dict[str, dict[str, float]] = {}
    items: Items = {}
    xsim_src = {lang: [] for lang in langs}  # type: dict[str, list[float]]
    xsim_tgt = {lang: [] for lang in langs}  # type: dict[str, list[float]]
    for la, lb in combinations(langs, 2):
        m, it = pair_scores(vecs[la], vecs[lb], k, seed, budget)
        # xSIM (LASER): ratio-margin retrieval error, one value per direction
        m["xsim_error_src2tgt"] = float(xsim_error(m["margin_accuracy_src2tgt"]))
        m["xsim_error_tgt2src"] = float(xsim_error(m["margin_accuracy_tgt2src"]))
        xsim_src[la].append(m["xsim_error_src2tgt"])
        xsim_tgt[lb].append(m["xsim_error_src2tgt"])
        xsim_src[lb].append(m["xsim_error_tgt2src"])
        xsim_tgt[la].append(m["xsim_error_tgt2src"])
        per_pair[f"{la}-{lb}"] = m
        items.update({f"{la}-{lb}/{key}": v for key, v in it.items()})
    per_language = {
        lang: {
            "xsim_error_as_source": float(np.mean(xsim_src[lang])),
            "xsim_error_as_target": float(np.mean(xsim_tgt[lang])),
            "xsim_error": float(np.mean(xsim_src[lang] + xsim_tgt[lang])),
        }
        for lang in langs
    }
    keys = next(iter(per_pair.values())).keys()
    metrics = {key: float(np.mean([m[key] for m in per_pair.values()])) for key in keys}
    metrics["xsim_error"] = (metrics.pop("xsim_error_src2tgt") + metrics.pop("xsim_error_tgt2src")) / 2
    lang_m, lang_i = language_scores([vecs[lang] for lang in langs], seed, budget)
    metrics.update(lang_m)
    items.update(lang_i)
    return metrics, per_pair, per_language, items


def score_multiway(
    name: str, corpus: MultiWay, emb: LangEmbed, k: int = 4, seed: int = 0, budget: Budget | None = None
) -> TaskResult:
    metrics, per_pair, per_language, items = _multi(corpus.texts, emb, k, seed, budget)
    return _result(
        name,
        corpus,
        corpus.languages,
        list(corpus.files.values()),
        metrics=metrics,
        per_pair=per_pair,
        per_language=per_language,
        items=items,
    )


def score_sample(
    name: str, corpus: Sample, emb: LangEmbed, k: int = 4, seed: int = 0, budget: Budget | None = None
) -> TaskResult:
    """Translation metrics on the anchors plus Jina AI's anchor/positive tables.

    ``positive_cosine`` for languages (a, b) is the mean ``cos(anchor_a[i], positive_b[i])``:
    the diagonal (a == b) is the same-language paraphrase cosine, the rest cross-language.
    """
    metrics, per_pair, per_language, items = _multi(corpus.anchors, emb, k, seed, budget)
    langs = corpus.languages
    anchors = {lang: emb(lang, corpus.anchors[lang]) for lang in langs}
    positives = {lang: emb(lang, corpus.positives[lang]) for lang in langs}
    table = {la: {lb: pairwise_cos_sim(anchors[la], positives[lb]) for lb in langs} for la in langs}
    for la in langs:
        per_language[la]["positive_cosine"] = float(table[la][la].mean())
        items[f"{la}/positive_cosine"] = table[la][la]
    for la, lb in combinations(langs, 2):  # the pairs of _multi (a key split at "-" breaks "pt-BR")
        pair = per_pair[f"{la}-{lb}"]
        pair["positive_cosine_src2tgt"] = float(table[la][lb].mean())
        pair["positive_cosine_tgt2src"] = float(table[lb][la].mean())
    mono = [table[la][la].mean() for la in langs]
    cross = [table[la][lb].mean() for la in langs for lb in langs if la != lb]
    metrics["positive_cosine_mono"] = float(np.mean(mono))
    metrics["positive_cosine_cross"] = float(np.mean(cross))
    metrics["positive_gap"] = metrics["positive_cosine_mono"] - metrics["positive_cosine_cross"]
    return _result(
        name,
        corpus,
        langs,
        list(corpus.files.values()),
        metrics=metrics,
        per_pair=per_pair,
        per_language=per_language,
        items=items,
    )


def _distinct(texts: list[str]) -> tuple[list[str], list[int]]:
    """The distinct texts in first-seen order and, per line, the index of its text among them."""
    index: dict[str, int] = {}
    rows = [index.setdefault(t, len(index)) for t in texts]
    return list(index), rows


def score_mining(
    name: str, corpus: MiningSet, emb: LangEmbed, k: int = 4, seed: int = 0, budget: Budget | None = None
) -> TaskResult:
    """BUCC-style mining as ``langgap mine`` does it by default (ratio margin over ``k``
    neighbours, forward retrieval, identical texts mined once), scored against the gold pairs.

    The k-NN search is exact (blocked, bounded memory); ``seed`` and ``budget`` are unused.
    """
    src, src_row = _distinct(corpus.src)
    tgt, tgt_row = _distinct(corpus.tgt)
    a, b = emb(corpus.src_lang, src), emb(corpus.tgt_lang, tgt)
    gold = list(dict.fromkeys((src_row[i], tgt_row[j]) for i, j in corpus.gold))
    metrics, items = bucc_scores(topk_cosine(a, b, k), topk_cosine(b, a, k), gold)
    res = _result(
        name,
        corpus,
        [corpus.src_lang, corpus.tgt_lang],
        list(corpus.files.values()),
        metrics=metrics,
        items=items,
    )
    res.notes["mining"] = (
        f"{len(gold):,} gold pairs among {len(src):,} source and {len(tgt):,} target sentences; ratio "
        f"margin over k={k} neighbours, forward retrieval, exact search; precision/recall/F1 at the "
        f"F1-best threshold (BUCC 2018) and at langgap mine's default threshold"
    )
    if len(gold) < len(corpus.gold):
        res.notes["mining_duplicates"] = (
            f"{len(corpus.gold) - len(gold)} gold pairs repeat another one once identical texts are merged"
        )
    return res


SCORERS: dict[TaskKind, Scorer] = {
    TaskKind.BITEXT: score_bitext,  # type: ignore[dict-item]
    TaskKind.MULTIWAY: score_multiway,  # type: ignore[dict-item]
    TaskKind.STS: score_sts,  # type: ignore[dict-item]
    TaskKind.SAMPLE: score_sample,  # type: ignore[dict-item]
    TaskKind.MINING: score_mining,  # type: ignore[dict-item]
}


def score(
    name: str, corpus: Corpus, emb: LangEmbed, k: int = 4, seed: int = 0, budget: Budget | None = None
) -> TaskResult:
    """Score one corpus with the scorer of its kind; a task too big for the exact quadratic
    metrics says in ``notes["sampled"]`` how many rows they saw."""
    budget = budget or Budget()
    res = SCORERS[corpus.kind](name, corpus, emb, k, seed, budget)
    rows = budget.rows(len(corpus), seed) if corpus.kind.parallel else None
    if rows is not None:
        res.notes["sampled"] = (
            f"ranking Spearman, the language-ID probe, neighbour purity and strong alignment saw a "
            f"seeded sample of {len(rows):,} of {len(corpus):,} rows (seed {seed}; exact up to "
            f"{budget.exact_rows:,} rows); every other metric saw all rows"
        )
    return res


def summarize(tasks: Sequence[TaskResult]) -> dict[str, float]:
    """The registered headline numbers (:data:`~langgap.metrics.registry.SUMMARIES`) of ``tasks``:
    for each, the mean over matching tasks of each of its keys, then the mean of those means."""
    out: dict[str, float] = {}
    for s in registry.SUMMARIES.values():
        if s.derive is not None:
            value = s.derive(out)
        else:
            means = [_mean_over(tasks, key, s) for key in s.of]
            value = None if None in means else sum(means) / len(means)  # type: ignore[arg-type]
        if value is not None:
            out[s.key] = value
    return out


def _mean_over(tasks: Sequence[TaskResult], key: str, s: registry.Summary) -> float | None:
    vals = [
        t.metrics[key]
        for t in tasks
        if key in t.metrics
        and (s.kinds is None or t.kind in s.kinds)
        and (s.where is None or t.metrics.get(s.where[0]) == s.where[1])
    ]
    return float(np.mean(vals)) if vals else None
