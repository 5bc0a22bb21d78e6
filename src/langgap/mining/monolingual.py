"""One round of mining from monolingual text: every language of a folder against a pivot.

A folder holds one unaligned text file per language (``hau.txt``, ``yor.txt``, ``eng.txt``: one
sentence per line, any sizes). :func:`mine_round` embeds every side with one encoder (each
distinct text once, through the embedding cache), mines each language against the pivot
(:func:`langgap.mining.mine`, ``x`` as the source: one candidate per ``x`` sentence), filters the
candidates (:mod:`langgap.mining.filters`) and, where known pairs are given, measures the kept
pairs against them. :func:`write_round` writes the round folder whole: ``<x>-<pivot>.tsv`` per
language with pairs (``langgap train --pairs`` reads them), ``mine.json``, and every candidate
with its score in ``candidates/<x>-<pivot>.tsv`` (``score<TAB>x<TAB>pivot``, best first, to try
other thresholds without mining again). No printing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from langgap import atomic
from langgap.data.names import check_code, languages_from_name
from langgap.data.readers import read_bitext
from langgap.errors import InputError
from langgap.metrics import mining as scores
from langgap.metrics.mining import PRF
from langgap.mining import Mined, check_k, mine
from langgap.mining.filters import Filtered, PairFilter, filter_pairs
from langgap.mining.sides import TEXT_MAX_LINES, Side, embed_sides, pair_name, text_side
from langgap.mining.write import candidate_lines, pair_lines, write_lines
from langgap.results import round_floats
from langgap.types import Encoder, ProgressFn

FORMAT = "langgap.mined/1"
Gold = set[tuple[int, int]]


def mono_files(folder: str | Path, pivot: str) -> dict[str, Path]:
    """``{language: path}`` of the folder's ``<language>.txt`` files, the pivot's last.

    Raises:
        InputError: not a folder, a file name that is not a language code, no ``<pivot>.txt``,
            or no language besides the pivot.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"--mine-from {folder}: not a folder (one <language>.txt per language)")
    files = {check_code(f"--mine-from {p}", p.stem): p for p in sorted(root.glob("*.txt"))}
    if pivot not in files:
        held = ", ".join(sorted(files)) or "no .txt file"
        raise InputError(f"--mine-from {folder}: no {pivot}.txt, the --pivot side ({held})")
    if len(files) < 2:
        raise InputError(f"--mine-from {folder}: only {pivot}.txt; add <language>.txt of another language")
    return {lang: path for lang, path in files.items() if lang != pivot} | {pivot: files[pivot]}


def read_sides(files: Mapping[str, Path], k: int) -> dict[str, Side]:
    """Each file's side (distinct lines), checked: readable UTF-8 without empty lines (file and
    line named), at least two distinct sentences, and at least ``k`` (the margin's neighbours)."""
    sides = {}
    for lang, path in files.items():
        side = text_side(path, lang, TEXT_MAX_LINES)
        if len(side) < 2:
            raise InputError(f"{path}: every line is the same sentence; mining needs different sentences")
        sides[lang] = side
    pivot = list(sides.values())[-1]
    for side in sides.values():
        if side is not pivot:
            check_k(k, side, pivot)
    return sides


def dev_language(path: str | Path, languages: Collection[str], pivot: str) -> str:
    """The language of known pairs ``<x>-<pivot>.tsv`` (or ``<pivot>-<x>.tsv``) among ``languages``."""
    langs = languages_from_name(path) or ("", "")
    lang = langs[0] if langs[1] == pivot else langs[1] if langs[0] == pivot else ""
    if lang not in languages or lang == pivot:
        raise InputError(
            f"--mine-dev {path}: name it <x>-{pivot}.tsv, x one of the --mine-from languages "
            f"({', '.join(x for x in languages if x != pivot)})"
        )
    return lang


def dev_gold(path: str | Path, side: Side, pivot: Side) -> Gold:
    """Known pairs ``<x>-<pivot>.tsv`` (or ``<pivot>-<x>.tsv``) as distinct indices of the sides.

    Raises:
        InputError: a name of other languages, or a text that is not a line of its side.
    """
    langs = languages_from_name(path)
    if langs not in ((side.name, pivot.name), (pivot.name, side.name)):
        raise InputError(f"--mine-dev {path}: name it {side.name}-{pivot.name}.tsv (its two languages)")
    pairs = read_bitext(path, langs)
    first, second = (pairs.src, pairs.tgt) if langs[0] == side.name else (pairs.tgt, pairs.src)
    ids, pivot_ids, gold = side.ids(), pivot.ids(), set()
    for no, (a, b) in enumerate(zip(first, second, strict=True), start=1):
        for text, known, owner in ((a, ids, side), (b, pivot_ids, pivot)):
            if text not in known:
                raise InputError(f"--mine-dev {path}:{no}: {text[:60]!r} is not a line of {owner.source}")
        gold.add((ids[a], pivot_ids[b]))
    return gold


@dataclass
class LanguageRound:
    """What one language's mining gave: the kept pairs and the numbers ``mine.json`` records."""

    lang: str
    side: Side
    kept: Filtered
    summary: dict[str, Any] = field(default_factory=dict)
    candidates: Mined | None = None  # every candidate before the filters (``candidates/`` of the round)


@dataclass
class Round:
    """One round's result: per language, and the pivot side they were mined against."""

    pivot: Side
    languages: dict[str, LanguageRound]
    settings: dict[str, Any]


def mine_language(
    side: Side, pivot: Side, settings: PairFilter, k: int, gold: Gold | None, calibrate: bool, how: str
) -> LanguageRound:
    """Mine ``side`` against ``pivot`` (ratio margin, forward), filter, measure against ``gold``;
    ``how`` says where ``settings.threshold`` came from (``given`` or ``default``)."""
    mined = mine(side, pivot, k=k, margin="ratio", mode="forward")
    if calibrate and gold is not None:
        settings = PairFilter(mined.calibrate(gold).threshold, settings.max_ratio, settings.cap)
        how = "calibrated"
    kept = filter_pairs(mined, settings)
    summary: dict[str, Any] = {
        "lines": side.lines,
        "distinct": len(side),
        "candidates": len(mined),
        "best_score": float(mined.scores[0]) if len(mined) else None,
        "threshold": {"value": settings.threshold, "from": how},
        "dropped": kept.dropped,
        "kept": len(kept),
    }
    if gold is not None:
        prf = scores.precision_recall_f1(kept.src_ids, kept.tgt_ids, kept.scores, gold, -np.inf)
        summary["dev"] = _prf(prf, len(gold))
    return LanguageRound(side.name, side, kept, summary, mined)


def _prf(prf: PRF, known: int) -> dict[str, float | int]:
    return {
        "precision": prf.precision,
        "recall": prf.recall,
        "f1": prf.f1,
        "kept": prf.kept,
        "correct": prf.correct,
        "known": known,
    }


def mine_round(
    sides: Mapping[str, Side],
    encoder: Encoder,
    settings: PairFilter,
    *,
    how: str = "given",
    k: int = 4,
    golds: Mapping[str, Gold] | None = None,
    calibrate: bool = False,
    cache_path: Path | None = None,
    progress: ProgressFn | None = None,
    on_language: Callable[[LanguageRound], None] | None = None,
) -> Round:
    """Embed ``sides`` (the pivot's last, :func:`read_sides`) and mine every language against the
    pivot (module docstring); ``on_language`` is called after each. ``how`` says where the
    threshold of ``settings`` came from (``given``, ``default``), as ``mine.json`` records it.

    Raises:
        InputError: no language kept a pair (the message gives the best score seen).
    """
    *langs, pivot_lang = sides
    pivot = sides[pivot_lang]
    stats = embed_sides(list(sides.values()), encoder, cache_path=cache_path, progress=progress)
    out: dict[str, LanguageRound] = {}
    for lang in langs:
        out[lang] = mine_language(sides[lang], pivot, settings, k, (golds or {}).get(lang), calibrate, how)
        if on_language is not None:
            on_language(out[lang])
    if not any(len(r.kept) for r in out.values()):
        best = max(out.values(), key=lambda r: r.summary["best_score"] or -np.inf)
        raise InputError(
            f"no language kept a mined pair: the best margin score was {best.summary['best_score']:.4f} "
            f"({best.lang}), the threshold {best.summary['threshold']['value']:.4f}; "
            "give a lower --mine-threshold or --mine-calibrate with --mine-dev"
        )
    described = {
        "k": k,
        "margin": "ratio",
        "mode": "forward",
        "max_ratio": settings.max_ratio,
        "cap": settings.cap,
    }
    return Round(pivot, out, described | {"encoded": stats})


def write_round(result: Round, folder: str | Path, extra: Mapping[str, Any]) -> dict[str, Any]:
    """Write the round folder whole (``<x>-<pivot>.tsv`` per language with pairs, ``mine.json``);
    returns what ``mine.json`` holds (``files``: the pairs files, relative to the folder)."""
    pivot = result.pivot
    meta: dict[str, Any] = {
        "format": FORMAT,
        **extra,
        "pivot": {"language": pivot.name, "path": pivot.source},
    }
    meta |= {"settings": result.settings, "languages": {}, "files": []}
    with atomic.staged_dir(Path(folder)) as tmp:
        for lang, r in result.languages.items():
            meta["languages"][lang] = {"path": r.side.source, **r.summary}
            name = pair_name(lang, pivot.name)
            if r.candidates is not None:  # score<TAB>x<TAB>pivot, best first: other thresholds, later
                (tmp / "candidates").mkdir(exist_ok=True)
                write_lines(tmp / "candidates" / name, candidate_lines(r.candidates))
            if not len(r.kept):
                continue
            write_lines(tmp / name, pair_lines(r.side.texts, pivot.texts, r.kept.src_ids, r.kept.tgt_ids))
            meta["files"].append(name)
        meta = round_floats(meta)
        atomic.write_text(tmp / "mine.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return meta
