"""``measure(encoder, tasks) -> Results``: load, embed each distinct text once, score.

With an :class:`~langgap.adapt.AdaptConfig`, every task is split by rows into fit and evaluation
rows; the raw model and the adapted one (``<task>+<method>``) are both scored on the evaluation
rows. No printing and no files: the CLI prints and :meth:`Results.save` writes.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from langgap.adapt import (
    AdaptConfig,
    LangEmbed,
    adapted_embed,
    choose_pivot,
    columns_by_language,
    fit_corpus,
    split_rows,
    subset,
)
from langgap.data.corpora import Bitext, MultiWay, Sample, STSSet
from langgap.encoders.cache import CachedEncoder
from langgap.errors import InputError, did_you_mean
from langgap.metrics.projection import project_2d
from langgap.results import Results, TaskResult
from langgap.scoring import score_bitext, score_multiway, score_sample, score_sts
from langgap.tasks import Corpus, Task, unique_names
from langgap.types import Encoder, ProgressFn, describe_encoder

log = logging.getLogger(__name__)


def corpus_texts(corpus: Corpus) -> list[str]:
    """Every text a corpus will ask embeddings for."""
    if isinstance(corpus, Bitext):
        return corpus.src + corpus.tgt
    if isinstance(corpus, STSSet):
        return corpus.s1 + corpus.s2
    if isinstance(corpus, MultiWay):
        return [t for texts in corpus.texts.values() for t in texts]
    return [t for lang in corpus.languages for t in corpus.anchors[lang] + corpus.positives[lang]]


def corpus_columns(corpus: Corpus) -> dict[str, list[list[str]]]:
    """``{file stem: columns}``: how a corpus maps onto ``--embeddings`` ``.npy`` files."""
    if isinstance(corpus, Bitext):
        return {Path(corpus.file.path).stem: [corpus.src, corpus.tgt]}
    if isinstance(corpus, STSSet):
        return {Path(corpus.file.path).stem: [corpus.s1, corpus.s2]}
    if isinstance(corpus, MultiWay):
        return {lang: [texts] for lang, texts in corpus.texts.items()}
    return {lang: [corpus.anchors[lang], corpus.positives[lang]] for lang in corpus.languages}


def load_tasks(tasks: Sequence[Task]) -> list[tuple[Task, Corpus]]:
    """Read and validate every task's data before any encoding starts (fail fast)."""
    return [(t, t.load()) for t in unique_names(list(tasks))]


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in (
        "langgap",
        "numpy",
        "scipy",
        "scikit-learn",
        "torch",
        "transformers",
        "sentence-transformers",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def summarize(tasks: list[TaskResult]) -> dict[str, float]:
    """Headline numbers across tasks: bitext accuracy, xSIM, STS mono vs cross (the STS gap)."""
    out: dict[str, float] = {}

    def mean(kind: str, key: str, where=lambda t: True) -> float | None:
        vals = [t.metrics[key] for t in tasks if t.kind == kind and key in t.metrics and where(t)]
        return float(np.mean(vals)) if vals else None

    pairs = {
        "bitext_accuracy": [mean("bitext", "accuracy_src2tgt"), mean("bitext", "accuracy_tgt2src")],
        "bitext_margin_accuracy": [
            mean("bitext", "margin_accuracy_src2tgt"),
            mean("bitext", "margin_accuracy_tgt2src"),
        ],
    }
    for key, vals in pairs.items():
        if vals[0] is not None and vals[1] is not None:
            out[key] = (vals[0] + vals[1]) / 2
    for key, value in {
        "bitext_pair_cosine": mean("bitext", "pair_cosine"),
        "bitext_random_cosine": mean("bitext", "random_cosine"),
        "multiway_xsim_error": mean("multiway", "xsim_error"),
        "sts_spearman_mono": mean("sts", "spearman", lambda t: t.metrics["cross_lingual"] == 0),
        "sts_spearman_cross": mean("sts", "spearman", lambda t: t.metrics["cross_lingual"] == 1),
    }.items():
        if value is not None:
            out[key] = value
    for key in (
        "pair_cosine",
        "random_cosine",
        "positive_cosine_mono",
        "positive_cosine_cross",
        "positive_gap",
    ):
        value = mean("sample", key)
        if value is not None:
            out[f"sample_{key}"] = value
    for key in ("language_id_accuracy", "neighbour_purity"):
        found = [t.metrics[key] for t in tasks if key in t.metrics]
        if found:
            out[key] = float(np.mean(found))
    if "sts_spearman_mono" in out and "sts_spearman_cross" in out:
        out["sts_gap"] = out["sts_spearman_mono"] - out["sts_spearman_cross"]
    return out


def add_projection(
    res: TaskResult,
    corpus: Bitext | MultiWay | Sample,
    emb: LangEmbed,
    points: int,
    seed: int,
) -> None:
    """Store a 2-D projection of the first ``points`` sentences of every language in ``res.items``
    (``projection_xy`` (P, 2), ``projection_lang`` (P,) language index, ``projection_row`` (P,))."""
    if isinstance(corpus, Bitext):
        texts = {corpus.src_lang: corpus.src, corpus.tgt_lang: corpus.tgt}
        if corpus.src_lang == corpus.tgt_lang:
            return
    else:
        texts = corpus.texts if isinstance(corpus, MultiWay) else corpus.anchors
    n = min(points, len(next(iter(texts.values()))))
    x = np.concatenate([emb(lang, t[:n]) for lang, t in texts.items()])
    xy, method = project_2d(x, seed=seed)
    res.items["projection_xy"] = xy.astype(np.float32)
    res.items["projection_lang"] = np.repeat(np.arange(len(texts)), n)
    res.items["projection_row"] = np.tile(np.arange(n), len(texts))
    res.notes["projection"] = f"{method.upper()} of {n} sentences per language"


def score_task(name: str, corpus: Corpus, emb: LangEmbed, k: int = 4, seed: int = 0) -> TaskResult:
    """Score one corpus by its kind."""
    if isinstance(corpus, Bitext):
        return score_bitext(name, corpus, emb, k, seed)
    if isinstance(corpus, STSSet):
        return score_sts(name, corpus, emb)
    if isinstance(corpus, MultiWay):
        return score_multiway(name, corpus, emb, k, seed)
    return score_sample(name, corpus, emb, k, seed)


def score_adapted(
    name: str, corpus: Corpus, emb: LangEmbed, adapt: AdaptConfig, k: int = 4, seed: int = 0
) -> list[tuple[TaskResult, Corpus, LangEmbed]]:
    """The raw model and ``adapt`` scored on the same evaluation rows of ``corpus``.

    Rows are split by :func:`~langgap.adapt.split_rows` (``seed``); the transform is fitted on
    the fit rows only. Returns ``(result, evaluated corpus, embedding lookup)`` for the raw and
    the adapted result, or only the raw one on all rows where the method does not apply
    (procrustes on STS, which has no parallel rows).
    """
    if adapt.method == "procrustes" and isinstance(corpus, STSSet):
        raw = score_task(name, corpus, emb, k, seed)
        raw.notes["adapt_note"] = "procrustes needs parallel rows and STS has none: raw model on all rows"
        return [(raw, corpus, emb)]
    fit, held = split_rows(len(corpus), adapt.fit_fraction, seed)
    if len(fit) < 2 or len(held) < 4:
        raise InputError(
            f"{name}: {len(corpus)} rows are too few for --adapt-fit-fraction {adapt.fit_fraction} "
            f"({len(fit)} fit and {len(held)} evaluation rows; need >= 2 and >= 4)"
        )
    fit_part, eval_corpus = subset(corpus, fit), subset(corpus, held)
    notes = {
        "adapt": adapt.method,
        "adapt_fit_fraction": f"{adapt.fit_fraction:g}",
        "adapt_seed": str(seed),
        "adapt_fit_rows": str(len(fit)),
        "adapt_eval_rows": str(len(held)),
    }
    pivot = None
    if adapt.method == "procrustes":
        pivot, why = choose_pivot(corpus, adapt.pivot)
        notes["adapt_pivot"] = pivot
        notes["adapt_pivot_note"] = why
    transforms = fit_corpus(fit_part, emb, adapt.method, pivot)
    adapted_name = f"{name}+{adapt.method}"
    raw = score_task(name, eval_corpus, emb, k, seed)
    raw.notes["adapt_split"] = (
        f"raw model on the {len(held)} evaluation rows of {len(corpus)} "
        f"(fit fraction {adapt.fit_fraction:g}, seed {seed}); compare with {adapted_name}"
    )
    raw.notes["adapt_eval_rows"] = str(len(held))
    adapted_emb = adapted_embed(emb, transforms)
    res = score_task(adapted_name, eval_corpus, adapted_emb, k, seed)
    res.notes.update(notes)
    return [(raw, eval_corpus, emb), (res, eval_corpus, adapted_emb)]


def check_pivot(adapt: AdaptConfig, corpora: Sequence[Corpus]) -> None:
    """A requested pivot must be a language of at least one task (a typo otherwise)."""
    if adapt.method != "procrustes" or adapt.pivot is None:
        return
    langs = {lang for c in corpora for lang in columns_by_language(c)}
    if adapt.pivot not in langs:
        raise InputError(
            f"--adapt-pivot {adapt.pivot!r} is a language of no task"
            f"{did_you_mean(adapt.pivot, langs)}; languages: {', '.join(sorted(langs))}"
        )


def measure(
    encoder: Encoder,
    tasks: Sequence[Task] | Sequence[tuple[Task, Corpus]],
    *,
    k: int = 4,
    seed: int = 0,
    cache_path: str | Path | None = None,
    progress: ProgressFn | None = None,
    config: dict | None = None,
    projection_points: int = 100,
    adapt: AdaptConfig | None = None,
) -> Results:
    """Measure the language gap of ``encoder`` on ``tasks``.

    Args:
        encoder: any :class:`~langgap.types.Encoder`.
        tasks: task declarations, or ``(task, corpus)`` pairs already loaded with :func:`load_tasks`.
        k: neighbourhood size for margin scoring and xSIM (Artetxe & Schwenk use 4).
        seed: seed of the language-ID probe's train/test split and of the ``adapt`` row split.
        cache_path: SQLite embedding cache (``None``: no disk cache; texts still embedded once).
        progress: ``progress(done, total)`` while encoding, in texts.
        config: extra settings to record in the results (the CLI passes its options).
        projection_points: sentences per language kept as 2-D coordinates for the report's
            language plot (0: none).
        adapt: a zero-training baseline (:mod:`langgap.adapt`) to report beside the raw model:
            each task then yields ``<task>`` (raw) and ``<task>+<method>``, both on the same
            evaluation rows; the summary gets the adapted numbers as ``<key>+<method>``.
    Returns:
        :class:`Results` with one :class:`TaskResult` per task (two with ``adapt``).
    """
    t0 = time.perf_counter()
    loaded = [t if isinstance(t, tuple) else None for t in tasks]
    pairs = [p for p in loaded if p is not None] if all(loaded) else load_tasks(tasks)  # type: ignore[arg-type]
    if adapt is not None:
        check_pivot(adapt, [c for _, c in pairs])
    t_load = time.perf_counter()

    cached = (
        encoder
        if isinstance(encoder, CachedEncoder)
        else CachedEncoder(encoder, cache_path=cache_path, progress=progress)
    )
    all_texts = list(dict.fromkeys(t for _, corpus in pairs for t in corpus_texts(corpus)))
    vectors = cached.encode(all_texts)
    row = {t: i for i, t in enumerate(all_texts)}
    t_enc = time.perf_counter()

    def emb(lang: str, texts: list[str]) -> np.ndarray:
        return vectors[[row[t] for t in texts]]

    scored: list[tuple[TaskResult, Corpus, LangEmbed]] = []
    for task, corpus in pairs:
        log.info("scoring %s", task.name)
        if adapt is None:
            scored.append((score_task(task.name, corpus, emb, k, seed), corpus, emb))
        else:
            scored += score_adapted(task.name, corpus, emb, adapt, k, seed)
    for res, corpus, lookup in scored:
        if projection_points and isinstance(corpus, MultiWay | Sample | Bitext):
            add_projection(res, corpus, lookup, projection_points, seed)
    results = [res for res, _, _ in scored]
    summary = summarize([r for r in results if "adapt" not in r.notes])
    run_config: dict[str, Any] = {"k": k, "seed": seed}
    if adapt is not None:
        adapted = summarize([r for r in results if "adapt" in r.notes])
        summary.update({f"{key}+{adapt.method}": v for key, v in adapted.items()})
        run_config["adapt"] = {
            "method": adapt.method,
            "fit_fraction": adapt.fit_fraction,
            "pivot": adapt.pivot or "auto",
            "seed": seed,
        }
    t_score = time.perf_counter()
    model = describe_encoder(cached)
    if model.get("dimension") in (None, -1) and len(vectors):
        model["dimension"] = int(vectors.shape[1])
    return Results(
        model=model,
        tasks=results,
        summary=summary,
        config={**run_config, **(config or {})},
        versions=package_versions(),
        timing={
            "load": t_load - t0,
            "encode": t_enc - t_load,
            "score": t_score - t_enc,
            "total": t_score - t0,
        },
        encoding=dict(cached.stats),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
