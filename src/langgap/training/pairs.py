"""Training pairs: cross-language pairs from bitext files, same-language pairs from their own files.

:class:`PairPool` holds what a :class:`~langgap.training.composer.BatchComposer` draws from, and
:class:`PairStream` draws one pool's pairs into a :class:`Batch`. When no
same-language files are given, same-language pairs are built SimCSE-style (Gao et al. 2021): the
pair ``(x, x)`` for every distinct sentence of the cross-language pairs (see the composer's
docstring). Every file is validated here: equal sides, at least one pair, and the right kind of
languages for its option (``--pairs`` two languages, ``--mono-pairs`` one).
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from langgap.data.corpora import Bitext
from langgap.data.readers import languages_from_name, read_bitext
from langgap.errors import InputError

_ONE_LANG = re.compile(r"^([A-Za-z]{2,3}(?:_[A-Za-z]{4})?)(?:[-_.].*)?$")  # deu.tsv, deu_Latn-nli.tsv


class Pair(NamedTuple):
    """One training pair: ``text_b`` is the positive of ``text_a``."""

    text_a: str
    text_b: str
    lang_a: str
    lang_b: str
    source_id: str  # "path:line"; SimCSE pairs "path:line:src" or "path:line:tgt"


def read_mono_pairs(path: str | Path, lang: str | None = None) -> Bitext:
    """Read a same-language ``anchor<TAB>positive`` TSV as a :class:`Bitext` with equal languages.

    Args:
        path: the file; its language from the name: ``deu.tsv``, ``deu-deu.tsv``, ``deu_nli.tsv``.
        lang: the language, to override the file name.
    """
    path = Path(path)
    if lang is None:
        both = languages_from_name(path)
        one = _ONE_LANG.match(path.stem)
        if both is not None:
            if both[0] != both[1]:
                raise InputError(
                    f"{path}: the name gives two languages ({both[0]}, {both[1]}); same-language pairs "
                    f"need one, e.g. '{both[0]}.tsv' or '{both[0]}-{both[0]}.tsv' (cross-language files "
                    "go to --pairs)"
                )
            lang = both[0]
        elif one is not None:
            lang = one.group(1)
        else:
            raise InputError(f"{path}: cannot tell the language from the file name; name it like 'deu.tsv'")
    return read_bitext(path, langs=(lang, lang))


def _check_sides(bitext: Bitext, *, same_language: bool) -> None:
    where = bitext.file.path
    if len(bitext.src) != len(bitext.tgt):
        raise InputError(
            f"{where}: unequal sides: {len(bitext.src)} first-side and {len(bitext.tgt)} second-side sentences"
        )
    if not bitext.src:
        raise InputError(f"{where}: no pairs")
    if same_language and bitext.src_lang != bitext.tgt_lang:
        raise InputError(
            f"{where}: same-language pairs expected, got {bitext.src_lang}-{bitext.tgt_lang} (give it with --pairs)"
        )
    if not same_language and bitext.src_lang == bitext.tgt_lang:
        raise InputError(
            f"{where}: both sides are {bitext.src_lang}; same-language pairs go to --mono-pairs, not --pairs"
        )


@dataclass(frozen=True)
class PairPool:
    """The pairs a composer draws from: cross-language and same-language, in file order."""

    cross: list[Pair]
    mono: list[Pair]
    simcse: bool  # same-language pairs built as (x, x) from the cross-language sentences

    @classmethod
    def build(cls, cross: Sequence[Bitext], mono: Sequence[Bitext] | None = None) -> PairPool:
        """Pairs from cross-language bitexts and same-language files (``None`` or ``[]``: SimCSE)."""
        cross_pairs: list[Pair] = []
        for bt in cross:
            _check_sides(bt, same_language=False)
            cross_pairs += [
                Pair(a, b, bt.src_lang, bt.tgt_lang, f"{bt.file.path}:{no}")
                for no, (a, b) in enumerate(zip(bt.src, bt.tgt, strict=True), start=1)
            ]
        mono_pairs: list[Pair] = []
        if mono:
            for bt in mono:
                _check_sides(bt, same_language=True)
                mono_pairs += [
                    Pair(a, b, bt.src_lang, bt.tgt_lang, f"{bt.file.path}:{no}")
                    for no, (a, b) in enumerate(zip(bt.src, bt.tgt, strict=True), start=1)
                ]
        else:
            seen: set[str] = set()
            for p in cross_pairs:
                for text, lang, side in ((p.text_a, p.lang_a, "src"), (p.text_b, p.lang_b, "tgt")):
                    if text not in seen:
                        seen.add(text)
                        mono_pairs.append(Pair(text, text, lang, lang, f"{p.source_id}:{side}"))
        return cls(cross_pairs, mono_pairs, simcse=not mono)

    def sha256(self) -> str:
        """Hash of the texts and languages in order (not the paths), to pin a checkpoint to its data."""
        h = hashlib.sha256()
        for name, pairs in (("cross", self.cross), ("mono", self.mono)):
            h.update(f"{name}\x1e{len(pairs)}\x1e".encode())
            for p in pairs:
                h.update("\x1f".join(p[:4]).encode("utf-8") + b"\x1e")
        return h.hexdigest()


@dataclass(frozen=True)
class Batch:
    """One composed batch; ``texts_b[i]`` is the positive of ``texts_a[i]``."""

    texts_a: list[str]
    texts_b: list[str]
    langs_a: list[str]
    langs_b: list[str]
    is_cross: list[bool]
    source_ids: list[str]

    def __len__(self) -> int:
        return len(self.texts_a)


@dataclass(frozen=True)
class EpochStats:
    """What composing one epoch took."""

    epoch: int
    batches: int
    deferrals: int  # pairs put off to a later batch because they would repeat a sentence
    unplaced: list[str]  # source ids of primary pairs in no batch of this epoch (drop_last)
    secondary_passes: int  # shuffles of the secondary pool used (0 when there is none)


class PairStream:
    """Draws pairs of one pool into batches: deferred pairs first (FIFO), then the shuffled order.

    A pair whose text is already in the batch is deferred to the queue (no sentence twice in a
    batch; see :mod:`langgap.training.composer`).
    """

    def __init__(self, pool: list[Pair], order: Iterator[int]) -> None:
        self.pool, self.order = pool, order
        self.queue: deque[int] = deque()
        self.deferrals = 0

    def fill(self, need: int, texts: set[str], max_draws: int | None = None) -> list[int]:
        """Up to ``need`` pair indices whose texts are not in ``texts`` (which they are added to)."""
        out: list[int] = []
        kept: deque[int] = deque()
        while self.queue and len(out) < need:
            j = self.queue.popleft()
            (out if self._take(j, texts) else kept).append(j)
        kept.extend(self.queue)
        self.queue = kept
        draws = 0
        while len(out) < need:
            k = next(self.order, None)
            if k is None or (max_draws is not None and draws >= max_draws):
                break
            draws += 1
            if self._take(k, texts):
                out.append(k)
            else:
                self.queue.append(k)
                self.deferrals += 1
        return out

    def _take(self, j: int, texts: set[str]) -> bool:
        p = self.pool[j]
        if p.text_a in texts or p.text_b in texts:
            return False
        texts.update((p.text_a, p.text_b))
        return True


def check_language_block(block: int, alpha: float | None) -> None:
    """``--language-block`` is at least 1, and above 1 only with ``--sampling-alpha``."""
    if block < 1 or (block > 1 and alpha is None):
        raise InputError(f"--language-block must be >= 1 and needs --sampling-alpha, got {block}")


def balanced_order(
    pairs: Sequence[Pair], alpha: float, rng: np.random.Generator, block: int = 1
) -> list[int]:
    """``len(pairs)`` draws of pair indices with language pairs sampled by temperature.

    Each draw picks a language pair ``g`` (its pairs: ``n_g``) with probability proportional to
    ``n_g ** alpha`` and takes the next ``block`` pairs of ``g``'s own shuffle (reshuffled when
    used up). ``alpha = 1`` follows the corpus sizes, ``alpha = 0`` draws every language pair
    equally often; XLM-R and mT5 sample languages with ``alpha = 0.3``. Small language pairs
    repeat within an epoch, big ones are subsampled. With ``block`` > 1 a batch of ``B`` pairs
    holds about ``B / block`` language pairs: sentences of one language meet in it (same-language
    negatives, and pairs for ``--preserve``). ``block = 1`` is the order it always was.
    """
    groups: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault((p.lang_a, p.lang_b), []).append(i)
    members = list(groups.values())
    sizes = np.array([len(m) for m in members], dtype=np.float64)
    probs = sizes**alpha / (sizes**alpha).sum()
    picks = rng.choice(len(members), size=-(-len(pairs) // block), p=probs)  # a language pair per draw
    queues: list[list[int]] = [[] for _ in members]
    out = []
    for g in np.repeat(picks, block)[: len(pairs)]:
        if not queues[g]:
            queues[g] = [members[g][j] for j in rng.permutation(len(members[g]))][::-1]
        out.append(queues[g].pop())
    return out
