"""What a training run reads: ``--pairs`` (files, folders, globs, tables), ``--mono-pairs`` and a
``--multiway`` folder or table turned into pairs, with held-out rows; then the batch composer and
the evaluator (:func:`read_inputs`: all of it checked before any model is loaded).

A ``--pairs`` or ``--multiway`` spec may name a table (Parquet, JSONL, CSV, a saved Hugging Face
dataset, ``hf:OWNER/NAME``; columns as ``PATH#SRC,TGT``): see :mod:`langgap.data.sources`.

A multi-way folder (FLORES style, one ``<lang>.txt`` per language, line ``i`` the same sentence)
gives, for every language, its pairs with ``--pivot`` (``xxx``–pivot; with ``--all-pairs`` every
language pair). ``--holdout-rows h`` keeps a seeded share ``h`` of the rows out of training; the
run writes them to ``<out>/holdout/<lang>.txt`` (a multi-way folder to measure on) and records
their ids in ``config.json``, so training and evaluation never share a sentence.
"""

from __future__ import annotations

import glob
import logging
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from langgap import atomic
from langgap.data.corpora import Bitext, MultiWay
from langgap.data.readers import read_bitext, read_multiway, split_spec
from langgap.data.sources import table_source
from langgap.errors import InputError
from langgap.training.composer import BatchComposer
from langgap.training.config import DataConfig, EvalConfig, OptimConfig
from langgap.training.evaluate import Evaluator, build_evaluator
from langgap.training.guards import probe_texts
from langgap.training.overlap import Overlap, text_overlap
from langgap.training.pairs import read_mono_pairs

log = logging.getLogger(__name__)


def expand(spec: str) -> list[tuple[str | None, str]]:
    """``(languages, path)`` for a ``--pairs`` spec: a file (``deu,eng=PATH`` allowed), a folder
    (every ``*.tsv`` in it) or a glob (``tatoeba/*.tsv``), sorted."""
    langs, path = split_spec(spec)
    if table_source(path) is not None:  # a Parquet/JSONL/CSV file, a saved dataset, a Hub dataset
        return [(langs, path)]
    if Path(path).is_dir():
        found = sorted(str(p) for p in Path(path).glob("*.tsv"))
    elif any(c in path for c in "*?["):
        found = sorted(glob.glob(path))
    else:
        return [(langs, path)]
    if not found:
        raise InputError(f"--pairs {spec}: no .tsv file there")
    if langs is not None and len(found) > 1:
        raise InputError(
            f"--pairs {spec}: languages given for {len(found)} files; name them xxx-yyy.tsv instead"
        )
    return [(langs, p) for p in found]


def holdout_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``(training rows, held-out rows)`` of ``n`` rows: a seeded ``fraction`` held out."""
    if fraction <= 0:
        return np.arange(n), np.zeros(0, dtype=np.int64)
    perm = np.random.default_rng(np.random.SeedSequence([seed, n, 0x484F])).permutation(n)
    held = max(1, round(n * fraction))
    return np.sort(perm[held:]), np.sort(perm[:held])


def multiway_pairs(mw: MultiWay, pivot: str | None, all_pairs: bool) -> list[Bitext]:
    """Bitexts of a multi-way corpus: every language with ``pivot``, or every language pair."""
    langs = mw.languages
    if pivot is not None and pivot not in langs:
        what = f"{pivot}.txt" if table_source(mw.path) is None else f"column for language {pivot!r}"
        raise InputError(
            f"--pivot {pivot!r}: no {what} in {mw.path} (languages: {', '.join(langs[:8])}, ...)"
        )
    pairs = list(combinations(langs, 2)) if all_pairs else [(lang, pivot) for lang in langs if lang != pivot]
    return [Bitext(a, b, mw.texts[a], mw.texts[b], mw.files[a]) for a, b in pairs]  # type: ignore[arg-type,index]


def read_training(
    data: DataConfig, seed: int = 0
) -> tuple[list[Bitext], list[Bitext], MultiWay | None, np.ndarray]:
    """Cross-language and same-language bitexts of ``data``, the held-out part of ``--multiway``
    (``None`` without one; rows drawn with ``seed``) and the held-out row ids."""
    cross = [read_bitext(p, lg.split(",") if lg else None) for spec in data.pairs for lg, p in expand(spec)]
    mono = []
    for spec in data.mono_pairs:
        lang, path = split_spec(spec)
        mono.append(read_mono_pairs(path, lang))
    held_part, held = None, np.zeros(0, dtype=np.int64)
    if data.multiway:
        mw = read_multiway(data.multiway, data.langs or None)
        train_rows, held = holdout_split(len(mw), data.holdout_rows, seed)
        if len(train_rows) < 2:
            raise InputError(
                f"--holdout-rows {data.holdout_rows:g} holds out {len(held)} of the {len(mw)} rows of "
                f"{data.multiway}, leaving {len(train_rows)} to train on; give a smaller share"
            )
        if len(held):
            held_part = mw.subset(held)
        cross += multiway_pairs(mw.subset(train_rows) if len(held) else mw, data.pivot, data.all_pairs)
    if not cross and not mono:
        raise InputError(
            "no training data: give --pairs or --multiway (cross-language) and/or --mono-pairs files"
        )
    return cross, mono, held_part, held


def build_composer(data: DataConfig, optim: OptimConfig) -> BatchComposer:
    """The batch composer over ``data``'s training pairs (see :func:`read_training`)."""
    cross, mono, _, _ = read_training(data, optim.seed)
    return composer_for(data, optim, cross, mono)


def composer_for(
    data: DataConfig, optim: OptimConfig, cross: list[Bitext], mono: list[Bitext]
) -> BatchComposer:
    """Batches of ``optim.batch_size`` pairs over ``cross`` and ``mono``, mixed as ``data`` says."""
    return BatchComposer(
        cross,
        mono,
        batch_size=optim.batch_size,
        cross_lingual_fraction=data.cross_lingual_fraction,
        seed=optim.seed,
        sampling_alpha=data.sampling_alpha,
        language_block=data.language_block,
    )


def write_holdout(out: Path, part: MultiWay) -> Path:
    """The held-out rows as a multi-way folder ``<out>/holdout`` (one ``<lang>.txt`` each)."""
    folder = out / "holdout"
    folder.mkdir(parents=True, exist_ok=True)
    for lang, texts in part.texts.items():
        atomic.write_text(folder / f"{lang}.txt", "".join(t + "\n" for t in texts))
    return folder


def pool_texts(composer: BatchComposer) -> list[str]:
    """Both sides of every training pair, in pool order."""
    pool = composer.pool.cross + composer.pool.mono
    return [t for p in pool for t in (p.text_a, p.text_b)]


def check_overlap(composer: BatchComposer, evaluator: Evaluator) -> list[Overlap]:
    """Evaluation texts that also occur in the training pairs, per file; a warning names each file."""
    rows = text_overlap(pool_texts(composer), evaluator.texts())
    for o in rows:
        if o.shared:
            log.warning(
                "%s: %d of its %d distinct texts (%.1f%%) also occur in the training pairs; "
                "its scores are optimistic",
                o.name,
                o.shared,
                o.texts,
                100 * o.share,
            )
    return rows


@dataclass
class Inputs:
    """What a run reads and checks before any model is loaded."""

    composer: BatchComposer
    evaluator: Evaluator
    overlap: list[Overlap]  # evaluation texts also in the training pairs, per file
    held_part: MultiWay | None  # the --multiway rows kept out of training
    held: np.ndarray  # their row ids


def read_inputs(data: DataConfig, optim: OptimConfig, evaluation: EvalConfig) -> Inputs:
    """The training pairs, their batch composer and the evaluator, whose collapse guard watches
    a seeded probe of the training sentences."""
    if data.mine_from:
        raise InputError(
            "--mine-from trains in rounds: langgap.training.mined.train_mined runs it, not train"
        )
    cross, mono, held_part, held = read_training(data, optim.seed)
    composer = composer_for(data, optim, cross, mono)
    evaluator = build_evaluator(evaluation, probe_texts(pool_texts(composer), optim.seed))
    return Inputs(composer, evaluator, check_overlap(composer, evaluator), held_part, held)
