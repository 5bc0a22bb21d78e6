"""The two sides of mining: distinct texts, where each line went, and their unit vectors.

A side comes from an embed folder (:func:`shard_side`: the manifest's input file gives the
texts, memory-mapped shards the vectors) or from a text file (:func:`text_side`, vectors added
later with :func:`attach`). Identical lines are mined once (LASER's ``--unify``): ``texts``
holds each distinct text at its first occurrence and ``inverse[line]`` its distinct index.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from langgap.data.names import check_code
from langgap.data.readers import languages_from_name, read_bitext
from langgap.encoders.cache import CachedEncoder
from langgap.encoders.shards import MANIFEST, ShardSet, read_lines, scan_input
from langgap.errors import InputError
from langgap.knn import Blocks
from langgap.metrics.similarity import normalize
from langgap.types import Encoder, ProgressFn

MATCHING = ("name", "prompt", "max_length", "cache_key")  # what two embed folders must share
TEXT_MAX_LINES = 1_000_000  # text files embedded in memory; bigger ones: langgap embed


@dataclass
class Side:
    """One side: ``texts`` (U distinct), ``inverse`` (N lines -> distinct index), and once
    vectors are known ``dim`` and ``blocks`` (unit-norm float32 blocks of the U distinct rows)."""

    name: str  # the language: the file stem (swh.txt, emb/swh -> swh) unless given
    source: str  # the path, for messages
    texts: list[str]
    inverse: np.ndarray
    model: dict[str, Any] | None = None  # an embed folder's manifest model
    dim: int = 0
    blocks: Blocks | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def lines(self) -> int:
        return len(self.inverse)

    def ids(self) -> dict[str, int]:
        """Text -> distinct index."""
        return {t: i for i, t in enumerate(self.texts)}


def distinct(lines: Iterable[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(texts, inverse, first)``: the distinct texts in order of first occurrence, each line's
    distinct index, and each distinct text's first line (0-based)."""
    index: dict[str, int] = {}
    inverse: list[int] = []
    first: list[int] = []
    for no, text in enumerate(lines):
        i = index.setdefault(text, len(index))
        if i == len(first):
            first.append(no)
        inverse.append(i)
    return list(index), np.asarray(inverse, dtype=np.int64), np.asarray(first, dtype=np.int64)


def _check_tabs(texts: list[str], source: str, inverse: np.ndarray) -> None:
    for i, t in enumerate(texts):
        if "\t" in t:
            line = int(np.argmax(inverse == i)) + 1
            raise InputError(f"{source}:{line}: holds a tab; mined pairs are written as tab-separated text")


def read_texts(path: str | Path, max_lines: int) -> list[str]:
    """The lines of a text file, checked like ``langgap embed``'s input (readable, not empty,
    UTF-8, no empty line) and at most ``max_lines`` of them."""
    _, lines, _ = scan_input(path, rows_per_shard=1 << 40)
    if lines > max_lines:
        raise InputError(
            f"{path}: {lines:,} lines; text files up to {max_lines:,} lines are embedded in memory, "
            "embed bigger ones with langgap embed and mine the folders"
        )
    return read_lines(path, 0, lines)


def text_side(path: str | Path, name: str | None, max_lines: int) -> Side:
    """A text file's side (no vectors yet: see :func:`attach`)."""
    texts, inverse, _ = distinct(read_texts(path, max_lines))
    _check_tabs(texts, str(path), inverse)
    return Side(name or Path(path).stem, str(path), texts, inverse)


def attach(side: Side, vectors: np.ndarray) -> None:
    """Give a text side its vectors: (U, D), row ``i`` for ``side.texts[i]``."""
    if vectors.ndim != 2 or len(vectors) != len(side):
        raise ValueError(f"{side.source}: expected {len(side)} vectors, got shape {vectors.shape}")
    unit = normalize(vectors)
    side.dim = int(unit.shape[1])
    side.blocks = lambda: (unit[i : i + 65536] for i in range(0, len(unit), 65536))


def _distinct_blocks(shards: ShardSet, first: np.ndarray) -> Iterator[np.ndarray]:
    keep = np.zeros(len(shards), dtype=bool)
    keep[first] = True  # (N,) the first line of every distinct text
    for start, block in shards.blocks():
        yield normalize(block[keep[start : start + len(block)]])


def shard_side(folder: str | Path, name: str | None) -> Side:
    """An embed folder's side; its input must still have the manifest's sha256.

    Raises:
        InputError: no manifest, a missing or incomplete shard, shards of different dimension,
            a changed or missing input file, a text with a tab.
    """
    shards = ShardSet(folder)
    shards.check_input()
    texts, inverse, first = distinct(shards.texts())
    if len(inverse) != len(shards):
        raise InputError(f"{folder}: {len(inverse)} input lines, the manifest says {len(shards)}")
    _check_tabs(texts, str(shards.manifest.input["path"]), inverse)
    side = Side(name or shards.name, str(folder), texts, inverse, dict(shards.manifest.model))
    side.dim = shards.dim
    side.blocks = lambda: _distinct_blocks(shards, first)
    return side


def check_pair(src: Side, tgt: Side) -> None:
    """Two embed folders must come from one model, prompt, max length and cache key, and share
    the dimension; raises :class:`InputError` naming the first difference."""
    if src.model is not None and tgt.model is not None:
        for key in MATCHING:
            a, b = src.model.get(key), tgt.model.get(key)
            if a != b:
                raise InputError(
                    f"{src.source} and {tgt.source} were embedded differently ({key} {a!r} vs {b!r}); "
                    "embed both with the same model and prompt"
                )
    if src.dim and tgt.dim and src.dim != tgt.dim:
        raise InputError(
            f"{src.source} has dimension {src.dim}, {tgt.source} {tgt.dim}; embed both with one model"
        )


def open_sides(
    src: str | Path, tgt: str | Path, src_lang: str | None = None, tgt_lang: str | None = None
) -> tuple[Side, Side]:
    """Both sides of a mining run, checked before any model is loaded: two embed folders of one
    model and dimension (vectors attached), or two text files (:func:`embed_sides` adds theirs).

    Raises:
        InputError: an embed folder paired with a text file, or any problem of either side.
    """
    for option, lang in (("--src-lang", src_lang), ("--tgt-lang", tgt_lang)):
        if lang is not None:
            check_code(option, lang)  # the same rule as measure's deu,eng=PATH
    src, tgt = Path(src), Path(tgt)
    folders = [p.is_dir() for p in (src, tgt)]
    if src.resolve() == tgt.resolve():
        raise InputError(f"SRC and TGT are both {src}: mining needs two sides")
    if folders[0] != folders[1]:  # two folders: shard_side reads (and checks) their manifests
        folder, text = (src, tgt) if folders[0] else (tgt, src)
        if not (folder / MANIFEST).is_file():
            raise InputError(f"{folder} is a folder without {MANIFEST}: not a langgap embed folder")
        raise InputError(
            f"{folder} is an embed folder and {text} a text file: give two embed folders or two text files"
        )
    if folders[0]:
        sides = shard_side(src, src_lang), shard_side(tgt, tgt_lang)
    else:
        sides = text_side(src, src_lang, TEXT_MAX_LINES), text_side(tgt, tgt_lang, TEXT_MAX_LINES)
    check_pair(*sides)
    return sides


def embed_sides(
    sides: Sequence[Side],
    encoder: Encoder,
    *,
    cache_path: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """Embed text sides with one encoder (each distinct text once, through the embedding cache at
    ``cache_path`` if given) and attach the vectors; returns the cache's counts (``encoded``,
    ``from_cache``, ...)."""
    with CachedEncoder(encoder, cache_path=cache_path, progress=progress) as cached:
        vectors = cached.encode([t for side in sides for t in side.texts])
        stats = dict(cached.stats)
    start = 0
    for side in sides:
        attach(side, vectors[start : start + len(side)])
        start += len(side)
    return stats


def pair_name(src_lang: str, tgt_lang: str) -> str:
    """``<src>-<tgt>.tsv``, checked to read back as those languages (``langgap train --pairs``)."""
    name = f"{src_lang}-{tgt_lang}.tsv"
    if languages_from_name(name) != (src_lang, tgt_lang):
        raise InputError(
            f"cannot name the pairs file {name!r} so that langgap train reads its languages back; "
            "give --src-lang and --tgt-lang as codes like deu, eng or deu_Latn"
        )
    return name


def known_pairs(path: str | Path, src: Side, tgt: Side) -> set[tuple[int, int]]:
    """``--calibrate DEV.tsv``: its ``src<TAB>tgt`` pairs as distinct indices of the two sides.

    Raises:
        InputError: a malformed line, or a text that is not among the inputs (file and line).
    """
    dev = read_bitext(path, (src.name, tgt.name))
    src_ids, tgt_ids = src.ids(), tgt.ids()
    gold = set()
    for no, (a, b) in enumerate(zip(dev.src, dev.tgt, strict=True), start=1):
        if a not in src_ids:
            raise InputError(f"{path}:{no}: the source text is not a line of {src.source}")
        if b not in tgt_ids:
            raise InputError(f"{path}:{no}: the target text is not a line of {tgt.source}")
        gold.add((src_ids[a], tgt_ids[b]))
    return gold
