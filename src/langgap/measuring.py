"""``measure(encoder, tasks) -> Results``: load, embed each distinct text once, score.

With an :class:`~langgap.adapt.AdaptConfig`, every task is split by rows into fit and evaluation
rows; the raw model and the adapted one (``<task>+<method>``) are both scored on the evaluation
rows. No printing and no files: the CLI prints and :meth:`Results.save` writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from langgap.adapt import AdaptConfig, adapted_embed, check_pivot, choose_pivot, fit_corpus, split_rows
from langgap.against import TEACHER_LANGS, against_embed, score_against, teacher_texts
from langgap.data.corpora import Corpus, MiningSet
from langgap.encoders.cache import CachedEncoder
from langgap.encoders.precomputed import PrecomputedEncoder
from langgap.errors import InputError
from langgap.metrics.projection import project_2d
from langgap.metrics.registry import Budget
from langgap.results import Results, TaskResult, package_versions
from langgap.scoring import score, summarize
from langgap.tasks import Task, unique_names
from langgap.tokens import coverage_report, language_texts
from langgap.types import Encoder, LangEmbed, ProgressFn, describe_encoder

log = logging.getLogger(__name__)
Scored = tuple[TaskResult, Corpus, LangEmbed]


def load_tasks(tasks: Sequence[Task]) -> list[tuple[Task, Corpus]]:
    """Read and validate every task's data before any encoding starts (fail fast)."""
    return [(t, t.load()) for t in unique_names(list(tasks))]


def check_k(k: int, loaded: Sequence[tuple[Task, Corpus]]) -> None:
    """``k`` neighbours must exist in every task that scores with them (margin scoring, xSIM,
    mining): at most the rows of a parallel task, the sentences of a mining set's smaller side.

    Raises:
        InputError: ``k`` < 1 or more than a task has, naming the task.
    """
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    for task, corpus in loaded:
        if isinstance(corpus, MiningSet):
            rows, what = min(len(corpus.src), len(corpus.tgt)), "sentences on its smaller side"
        elif task.kind.parallel:
            rows, what = len(corpus), "rows"
        else:
            continue
        if k > rows:
            raise InputError(
                f"--k {k} is more than {task.name}'s {rows} {what}: the margin and xSIM would look at "
                "every candidate; give a smaller --k (4 is the usual)"
            )


def precomputed_encoder(folder: str | Path, loaded: Sequence[tuple[Task, Corpus]]) -> PrecomputedEncoder:
    """``--embeddings FOLDER``: an encoder reading one ``.npy`` per input file of the tasks.

    Raises:
        InputError: two input files share a stem (their ``.npy`` files would collide), or any
            check of :class:`~langgap.encoders.precomputed.PrecomputedEncoder` fails.
    """
    files: dict[str, list[list[str]]] = {}
    for _, corpus in loaded:
        for stem, cols in corpus.columns().items():
            if stem in files and files[stem] != cols:
                raise InputError(
                    f"two input files share the stem {stem!r}; --embeddings cannot tell their .npy apart"
                )
            files[stem] = cols
    return PrecomputedEncoder(folder, files)


def add_projection(res: TaskResult, corpus: Corpus, emb: LangEmbed, points: int, seed: int) -> None:
    """Store a 2-D projection of the first ``points`` sentences of every language in ``res.items``
    (``projection_xy`` (P, 2), ``projection_lang`` (P,) language index, ``projection_row`` (P,));
    nothing for a corpus without one (:meth:`projection_texts` is ``None``)."""
    texts = corpus.projection_texts()
    if texts is None:
        return
    n = min(points, len(next(iter(texts.values()))))
    x = np.concatenate([emb(lang, t[:n]) for lang, t in texts.items()])
    xy, method = project_2d(x, seed=seed)
    res.items["projection_xy"] = xy.astype(np.float32)
    res.items["projection_lang"] = np.repeat(np.arange(len(texts)), n)
    res.items["projection_row"] = np.tile(np.arange(n), len(texts))
    res.notes["projection"] = f"{method.upper()} of {n} sentences per language"


def score_adapted(
    name: str,
    corpus: Corpus,
    emb: LangEmbed,
    adapt: AdaptConfig,
    k: int = 4,
    seed: int = 0,
    budget: Budget | None = None,
) -> list[Scored]:
    """The raw model and ``adapt`` scored on the same evaluation rows of ``corpus``.

    Rows are split by :func:`~langgap.adapt.split_rows` (``seed``); the transform is fitted on
    the fit rows only. Returns ``(result, evaluated corpus, embedding lookup)`` for the raw and
    the adapted result, or only the raw one on all rows where the method does not apply
    (procrustes on STS, which has no parallel rows; any method on a mining set, whose rows do not
    split without leaking).
    """
    why = None
    if not corpus.kind.splittable:
        why = f"a {corpus.kind} set's gold pairs do not split from its distractors: raw model only"
    elif adapt.method == "procrustes" and not corpus.kind.parallel:
        why = (
            f"procrustes needs parallel rows and {corpus.kind.value.upper()} has none: raw model on all rows"
        )
    if why is not None:
        raw = score(name, corpus, emb, k, seed, budget)
        raw.notes["adapt_note"] = why
        return [(raw, corpus, emb)]
    fit, held = split_rows(len(corpus), adapt.fit_fraction, seed)
    if len(fit) < 2 or len(held) < 4:
        raise InputError(
            f"{name}: {len(corpus)} rows are too few for --adapt-fit-fraction {adapt.fit_fraction} "
            f"({len(fit)} fit and {len(held)} evaluation rows; need >= 2 and >= 4)"
        )
    fit_part, eval_corpus = corpus.subset(fit), corpus.subset(held)
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
    raw = score(name, eval_corpus, emb, k, seed, budget)
    raw.notes["adapt_split"] = (
        f"raw model on the {len(held)} evaluation rows of {len(corpus)} "
        f"(fit fraction {adapt.fit_fraction:g}, seed {seed}); compare with {adapted_name}"
    )
    raw.notes["adapt_eval_rows"] = str(len(held))
    adapted_emb = adapted_embed(emb, transforms)
    res = score(adapted_name, eval_corpus, adapted_emb, k, seed, budget)
    res.notes.update(notes)
    return [(raw, eval_corpus, emb), (res, eval_corpus, adapted_emb)]


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
    budget: Budget | None = None,
    against: Encoder | None = None,
    against_langs: Collection[str] = TEACHER_LANGS,
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
        budget: how many rows the quadratic metrics see in a big task (all up to
            ``exact_rows``, else a seeded sample; :class:`~langgap.metrics.registry.Budget`).
        against: a teacher whose space the encoder should share (:mod:`langgap.against`): it
            embeds the texts of ``against_langs`` (default English), the encoder the rest.
    Returns:
        :class:`Results` with one :class:`TaskResult` per task (two with ``adapt``).
    Raises:
        InputError: ``k`` < 1 or above a task's rows (:func:`check_k`), a ``budget`` that cannot bound a task, or bad data (file, line and problem) before any text is embedded.
    """
    budget = (budget or Budget()).check()
    t0 = time.perf_counter()
    loaded = [t if isinstance(t, tuple) else None for t in tasks]
    pairs = [p for p in loaded if p is not None] if all(loaded) else load_tasks(tasks)  # type: ignore[arg-type]
    check_k(k, pairs)
    if adapt is not None:
        check_pivot(adapt, [c for _, c in pairs])
        if against is not None:
            raise InputError("give --adapt or --against, not both")
    t_load = time.perf_counter()
    own = not isinstance(encoder, CachedEncoder)  # a cache opened here is closed here
    cached = CachedEncoder(encoder, cache_path=cache_path, progress=progress) if own else encoder
    try:
        emb, dim = embed_all(cached, [c for _, c in pairs])  # type: ignore[arg-type]
        if against is not None:
            texts = teacher_texts([c for _, c in pairs], against_langs)
            with CachedEncoder(against, cache_path=cache_path, progress=progress) as teacher:
                mixed = against_embed(emb, dim, teacher, texts, against_langs)
    finally:
        if own:
            cached.close()  # type: ignore[union-attr]
    t_enc = time.perf_counter()
    scored: list[Scored] = []
    for task, corpus in pairs:
        log.info("scoring %s", task.name)
        if against is not None:
            res = score_against(task.name, corpus, emb, mixed, against_langs, k, seed, budget)
            scored.append((res, corpus, mixed))
        elif adapt is None:
            scored.append((score(task.name, corpus, emb, k, seed, budget), corpus, emb))
        else:
            scored += score_adapted(task.name, corpus, emb, adapt, k, seed, budget)
    if projection_points:
        for res, corpus, lookup in scored:
            add_projection(res, corpus, lookup, projection_points, seed)
    results = [res for res, _, _ in scored]
    summary, run_config = summarize_run(results, k, seed, adapt)
    if against is not None:
        run_config["against"] = {"model": describe_encoder(against), "languages": sorted(against_langs)}
    run_config["budget"] = {"exact_rows": budget.exact_rows, "sample_rows": budget.sample_rows}
    model = describe_encoder(cached)
    tokens = tokenizer_coverage(cached, [c for _, c in pairs], str(model.get("name")))
    t_score = time.perf_counter()
    if model.get("dimension") in (None, -1) and dim:
        model["dimension"] = dim
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
        encoding=dict(cached.stats),  # type: ignore[union-attr]
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        coverage=tokens,
    )


def tokenizer_coverage(encoder: Encoder, corpora: Sequence[Corpus], model: str) -> dict[str, Any]:
    """The coverage report of the encoder's tokenizer on every language of ``corpora``, or
    ``{"skipped": why}`` for an encoder without one (an HTTP endpoint, precomputed arrays)."""
    tokenizer = getattr(encoder, "tokenizer", None)
    if tokenizer is None:
        return {
            "skipped": "the encoder has no tokenizer langgap can see (an endpoint or precomputed embeddings)"
        }
    texts = language_texts(corpora)
    return coverage_report(tokenizer, texts, model=model, max_length=getattr(encoder, "max_length", None))


def embed_all(encoder: Encoder, corpora: Sequence[Corpus]) -> tuple[LangEmbed, int]:
    """Embed every distinct text of ``corpora`` once; returns the lookup ``emb(lang, texts)`` and
    the dimension (0 when there are no texts)."""
    all_texts = list(dict.fromkeys(t for corpus in corpora for t in corpus.all_texts()))
    vectors = encoder.encode(all_texts)
    row = {t: i for i, t in enumerate(all_texts)}

    def emb(lang: str, texts: list[str]) -> np.ndarray:
        return vectors[[row[t] for t in texts]]

    return emb, int(vectors.shape[1]) if len(vectors) else 0


def summarize_run(
    results: list[TaskResult], k: int, seed: int, adapt: AdaptConfig | None
) -> tuple[dict[str, float], dict[str, Any]]:
    """The run's summary (adapted numbers as ``<key>+<method>``) and its scoring settings."""
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
    return summary, run_config
