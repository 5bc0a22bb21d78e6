"""Per-kind scoring: turn a corpus and its embeddings into a :class:`TaskResult`.

Each function takes the corpus and ``emb``, a lookup ``emb(lang, texts)`` from a list of texts
of language ``lang`` to their (N, D) embeddings, and calls the pure metric functions in
:mod:`langgap.metrics`. The language lets a per-language transform (:mod:`langgap.adapt`) act on
the same text differently in two languages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from itertools import combinations

import numpy as np

from langgap.data.corpora import Bitext, DataFile, MultiWay, Sample, STSSet
from langgap.metrics.alignment import pair_cosines, random_cosines, rank_spearman
from langgap.metrics.bitext import retrieval_correct
from langgap.metrics.language import language_id_probe, neighbour_purity, purity_chance
from langgap.metrics.similarity import pairwise_cos_sim
from langgap.metrics.sts import sts_spearman
from langgap.results import TaskResult

# emb(lang, texts) -> (N, D)
Embed = Callable[[str, list[str]], np.ndarray]
Items = dict[str, np.ndarray]


def derangement(n: int, seed: int = 0) -> np.ndarray:
    """A fixed permutation of ``range(n)`` with no fixed point (n >= 2)."""
    perm = np.random.default_rng(seed).permutation(n)
    fixed = perm == np.arange(n)
    if fixed.any():  # rotate the fixed points among themselves, or swap a lone one with a neighbour
        idx = np.flatnonzero(fixed)
        perm[idx] = np.roll(perm[idx], 1) if len(idx) > 1 else perm[(idx + 1) % n]
        if len(idx) == 1:
            perm[(idx + 1) % n] = idx
    return perm


def pair_scores(a: np.ndarray, b: np.ndarray, k: int = 4) -> tuple[dict[str, float], Items]:
    """All translation-pair metrics for row-aligned embeddings ``a`` (src) and ``b`` (tgt)."""
    items: Items = {
        "accuracy_src2tgt": retrieval_correct(a, b, "cosine"),
        "accuracy_tgt2src": retrieval_correct(b, a, "cosine"),
        "margin_accuracy_src2tgt": retrieval_correct(a, b, "ratio", k),
        "margin_accuracy_tgt2src": retrieval_correct(b, a, "ratio", k),
        "margin_distance_accuracy_src2tgt": retrieval_correct(a, b, "distance", k),
        "margin_distance_accuracy_tgt2src": retrieval_correct(b, a, "distance", k),
        "pair_cosine": pair_cosines(a, b),
        "random_cosine": random_cosines(a, b),
        "rank_spearman": rank_spearman(a, b),
        # one non-translation partner per row (a fixed derangement): the "random pair" distribution
        "random_pair_cosine": pairwise_cos_sim(a, b[derangement(len(b))]),
    }
    metrics = {key: float(np.nanmean(v)) for key, v in items.items()}
    metrics["cosine_gap"] = metrics["pair_cosine"] - metrics["random_cosine"]
    return metrics, items


def language_scores(per_lang: list[np.ndarray], seed: int = 0) -> tuple[dict[str, float], Items]:
    """Language-ID probe and neighbour purity, with their chance levels."""
    probe = language_id_probe(per_lang, seed=seed)
    purity = neighbour_purity(per_lang)
    n_lang, n = len(per_lang), len(per_lang[0])
    metrics = {
        "language_id_accuracy": float(probe.mean()),
        "language_id_chance": 1.0 / n_lang,
        "neighbour_purity": float(purity.mean()),
        "neighbour_purity_chance": purity_chance(n_lang, n),
    }
    return metrics, {"language_id_accuracy": probe, "neighbour_purity": purity}


def _files(*files: DataFile) -> list[dict[str, object]]:
    return [asdict(f) for f in files]


def score_bitext(name: str, corpus: Bitext, emb: Embed, k: int = 4, seed: int = 0) -> TaskResult:
    a, b = emb(corpus.src_lang, corpus.src), emb(corpus.tgt_lang, corpus.tgt)
    metrics, items = pair_scores(a, b, k)
    lang_m, lang_i = language_scores([a, b], seed)
    metrics.update(lang_m)
    items.update(lang_i)
    return TaskResult(
        name,
        "bitext",
        [corpus.src_lang, corpus.tgt_lang],
        _files(corpus.file),
        metrics,
        main_score="accuracy_src2tgt",
        items=items,
    )


def score_sts(name: str, corpus: STSSet, emb: Embed) -> TaskResult:
    rho, cos = sts_spearman(emb(corpus.lang1, corpus.s1), emb(corpus.lang2, corpus.s2), corpus.scores)
    metrics = {
        "spearman": rho,
        "pair_cosine": float(cos.mean()),
        "cross_lingual": float(corpus.cross_lingual),
    }
    return TaskResult(
        name,
        "sts",
        [corpus.lang1, corpus.lang2],
        _files(corpus.file),
        metrics,
        main_score="spearman",
        items={"cosine": cos, "gold": corpus.scores},
    )


def _multi(
    texts: dict[str, list[str]], emb: Embed, k: int, seed: int
) -> tuple[dict[str, float], dict, dict, Items]:
    """Shared by multi-way and sample: every language pair, xSIM per direction, language signal."""
    langs = list(texts)
    vecs = {lang: emb(lang, t) for lang, t in texts.items()}
    per_pair: dict[str, dict[str, float]] = {}
    items: Items = {}
    xsim_src = {lang: [] for lang in langs}  # type: dict[str, list[float]]
    xsim_tgt = {lang: [] for lang in langs}  # type: dict[str, list[float]]
    for la, lb in combinations(langs, 2):
        m, it = pair_scores(vecs[la], vecs[lb], k)
        # xSIM (LASER): ratio-margin retrieval error, one value per direction
        m["xsim_error_src2tgt"] = 1.0 - m["margin_accuracy_src2tgt"]
        m["xsim_error_tgt2src"] = 1.0 - m["margin_accuracy_tgt2src"]
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
    lang_m, lang_i = language_scores([vecs[lang] for lang in langs], seed)
    metrics.update(lang_m)
    items.update(lang_i)
    return metrics, per_pair, per_language, items


def score_multiway(name: str, corpus: MultiWay, emb: Embed, k: int = 4, seed: int = 0) -> TaskResult:
    metrics, per_pair, per_language, items = _multi(corpus.texts, emb, k, seed)
    return TaskResult(
        name,
        "multiway",
        corpus.languages,
        _files(*corpus.files.values()),
        metrics,
        main_score="xsim_error",
        greater_is_better=False,
        per_pair=per_pair,
        per_language=per_language,
        items=items,
    )


def score_sample(name: str, corpus: Sample, emb: Embed, k: int = 4, seed: int = 0) -> TaskResult:
    """Translation metrics on the anchors plus Jina AI's anchor/positive tables.

    ``positive_cosine`` for languages (a, b) is the mean ``cos(anchor_a[i], positive_b[i])``:
    the diagonal (a == b) is the same-language paraphrase cosine, the rest cross-language.
    """
    metrics, per_pair, per_language, items = _multi(corpus.anchors, emb, k, seed)
    langs = corpus.languages
    anchors = {lang: emb(lang, corpus.anchors[lang]) for lang in langs}
    positives = {lang: emb(lang, corpus.positives[lang]) for lang in langs}
    table = {la: {lb: pairwise_cos_sim(anchors[la], positives[lb]) for lb in langs} for la in langs}
    for la in langs:
        per_language[la]["positive_cosine"] = float(table[la][la].mean())
        items[f"{la}/positive_cosine"] = table[la][la]
    for pair in per_pair:
        la, lb = pair.split("-", 1)
        per_pair[pair]["positive_cosine_src2tgt"] = float(table[la][lb].mean())
        per_pair[pair]["positive_cosine_tgt2src"] = float(table[lb][la].mean())
    mono = [table[la][la].mean() for la in langs]
    cross = [table[la][lb].mean() for la in langs for lb in langs if la != lb]
    metrics["positive_cosine_mono"] = float(np.mean(mono))
    metrics["positive_cosine_cross"] = float(np.mean(cross))
    metrics["positive_gap"] = metrics["positive_cosine_mono"] - metrics["positive_cosine_cross"]
    return TaskResult(
        name,
        "sample",
        langs,
        _files(*corpus.files.values()),
        metrics,
        main_score="pair_cosine",
        per_pair=per_pair,
        per_language=per_language,
        items=items,
    )
