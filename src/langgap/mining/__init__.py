"""``mine(src, tgt) -> Mined``: translation pairs found between two monolingual sides.

Both sides are de-duplicated (each distinct text mined once), searched for their ``k`` nearest
neighbours in each other (:mod:`langgap.mining.search`: FAISS, exact or IVF; numpy when FAISS is
missing and the sides are small), and every candidate is scored with LASER's margin
(:mod:`langgap.metrics.mining`). The retrieval mode picks the pairs. No printing and no files:
:func:`langgap.mining.write.write_mined` writes ``mined.tsv`` and ``<src>-<tgt>.tsv``.

Default thresholds (``DEFAULT_THRESHOLDS``, pairs with ``score >= threshold`` go to
``<src>-<tgt>.tsv``), measured with the offline multilingual-e5-small copy (a float expansion
of 4-bit weights, prompt ``query: ``), k=4, forward mode, on BUCC-style sets built by
``bench/make_bucc.py``: 510 FLORES dev pairs X-eng hidden among about 5,000 X and 5,000 English
sentences that translate nothing on the other side, for X = deu, fra, rus, zho
(``bench/bucc_threshold.py``; the table is in README.md, section ``langgap mine``). The F1-best
ratio thresholds were 1.0326, 1.0370, 1.0300, 1.0269 (F1 0.978, 0.978, 0.972, 0.913); the
default 1.03 gives F1 0.972, 0.966, 0.972, 0.885 (LASER's 1.06: 0.829, 0.803, 0.764, 0.270, since
E5's cosines, and so its ratios, are compressed towards 1). Distance: 0.0286, 0.0337, 0.0253,
0.0211 -> 0.027. Absolute (plain cosine): 0.90, which does not carry across languages (that is
what the margin is for). Each default is the mean of the four F1-best thresholds, rounded. For
another model or another kind of data, ``--calibrate DEV.tsv`` finds the F1-best threshold on
known pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np

from langgap.errors import InputError, did_you_mean
from langgap.knn import INDEXES
from langgap.metrics import mining
from langgap.metrics.mining import PRF, Margin, Mode
from langgap.mining.search import StageProgress, neighbours
from langgap.mining.sides import Side, attach, distinct

# the mean F1-best threshold of the four BUCC-style pairs (module docstring), rounded
DEFAULT_THRESHOLDS = mining.DEFAULT_THRESHOLDS
MODE_ALIASES = {"fwd": "forward", "bwd": "backward", "intersect": "intersection"}  # LASER's spellings

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Mined",
    "Side",
    "Threshold",
    "array_side",
    "check_k",
    "check_settings",
    "choose_threshold",
    "mine",
]


@dataclass
class Mined:
    """Mined candidate pairs, best first: ``(src_ids[p], tgt_ids[p])`` distinct indices into
    ``src.texts``/``tgt.texts`` with margin score ``scores[p]``."""

    src: Side
    tgt: Side
    src_ids: np.ndarray  # (P,) int64
    tgt_ids: np.ndarray  # (P,) int64
    scores: np.ndarray  # (P,) float64, decreasing
    k: int
    margin: Margin
    mode: Mode
    search: dict[str, str]
    nprobe: dict[str, dict[str, Any]] = field(default_factory=dict)  # direction -> how it was measured

    def __len__(self) -> int:
        return len(self.scores)

    def above(self, threshold: float) -> int:
        """How many pairs have ``score >= threshold`` (the first ones: scores decrease)."""
        return int(np.count_nonzero(self.scores >= threshold))

    def evaluate(self, gold: set[tuple[int, int]], threshold: float) -> PRF:
        """BUCC precision/recall/F1 at ``threshold`` against gold distinct-index pairs."""
        return mining.precision_recall_f1(self.src_ids, self.tgt_ids, self.scores, gold, threshold)

    def calibrate(self, gold: set[tuple[int, int]]) -> PRF:
        """The F1-best threshold against gold distinct-index pairs (BUCC 2018)."""
        return mining.best_f1_threshold(self.src_ids, self.tgt_ids, self.scores, gold)

    def describe(self) -> dict[str, Any]:
        out = {"k": self.k, "margin": self.margin, "mode": self.mode, "candidates": len(self), **self.search}
        return out | ({"nprobe_by_recall": self.nprobe} if self.nprobe else {})


@dataclass(frozen=True)
class Threshold:
    """The threshold of ``<src>-<tgt>.tsv`` and where it came from: ``given`` (``--threshold``),
    ``calibrated`` (the F1-best on known pairs; ``calibration`` holds its precision/recall/F1) or
    ``default`` (the measured default of the margin, module docstring)."""

    value: float
    how: Literal["given", "calibrated", "default"]
    calibration: PRF | None = None


def _choice(option: str, value: str, choices: tuple[str, ...], aliases: dict[str, str]) -> str:
    value = aliases.get(value, value)
    if value not in choices:
        raise InputError(
            f"{option} {value!r}: expected one of {', '.join(choices)}{did_you_mean(value, choices)}"
        )
    return value


def check_settings(k: int, margin: str, mode: str, index: str, nprobe: int) -> tuple[Margin, Mode, str]:
    """Mining settings checked before any work: ``(margin, mode, index)`` with LASER's mode
    spellings (``fwd``, ``bwd``, ``intersect``) accepted.

    Raises:
        InputError: ``k`` < 1, ``nprobe`` < 0, or an unknown margin, mode or index (did-you-mean).
    """
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    if nprobe < 0:
        raise InputError(f"--nprobe must be >= 1 (or 0 for the default), got {nprobe}")
    margin = _choice("--margin", margin, mining.MARGINS, {})
    mode = _choice("--mode", mode, mining.MODES, MODE_ALIASES)
    return cast(Margin, margin), cast(Mode, mode), _choice("--index", index, INDEXES, {})


def check_k(k: int, src: Side, tgt: Side) -> None:
    """The margin averages over ``k`` neighbours on the other side, so ``k`` must not exceed the
    distinct texts of either side (before any embedding or search).

    Raises:
        InputError: ``k`` larger than a side, naming it.
    """
    smaller = min((src, tgt), key=len)
    if k > len(smaller):
        raise InputError(
            f"--k {k} is more than the {len(smaller):,} distinct texts of {smaller.source}: the margin "
            "would average over the whole side; give a smaller --k (4 is the usual)"
        )


def choose_threshold(
    mined: Mined, *, threshold: float | None = None, gold: set[tuple[int, int]] | None = None
) -> Threshold:
    """The threshold of ``<src>-<tgt>.tsv``: the F1-best on ``gold`` (known distinct-index pairs)
    if given, else ``threshold`` if given, else the measured default of ``mined.margin``."""
    if gold is not None and threshold is not None:
        raise InputError("give --threshold or --calibrate, not both")
    if gold is not None:
        best = mined.calibrate(gold)
        return Threshold(best.threshold, "calibrated", best)
    if threshold is not None:
        return Threshold(threshold, "given")
    return Threshold(DEFAULT_THRESHOLDS[mined.margin], "default")


def array_side(name: str, texts: list[str], vectors: np.ndarray) -> Side:
    """A side from texts and their (N, D) vectors (row ``i`` for ``texts[i]``), de-duplicated."""
    if len(texts) != len(vectors):
        raise ValueError(f"{name}: {len(texts)} texts but {len(vectors)} vectors")
    unique, inverse, first = distinct(texts)
    side = Side(name, name, unique, inverse)
    attach(side, np.asarray(vectors, dtype=np.float32)[first])
    return side


def mine(
    src: Side,
    tgt: Side,
    *,
    k: int = 4,
    margin: Margin = "ratio",
    mode: Mode = "forward",
    index: str = "auto",
    nprobe: int = 0,
    progress: StageProgress | None = None,
) -> Mined:
    """Mine translation pairs between two sides (LASER's ``mine_bitexts.py``, see the module
    docstring of :mod:`langgap.metrics.mining` for the scores and modes).

    Args:
        src, tgt: sides with vectors (:func:`array_side`, :func:`langgap.mining.sides.shard_side`,
            :func:`langgap.mining.sides.text_side` + ``attach``).
        k: neighbourhood size of the margin and number of candidates per text (at most the
            distinct texts of either side, :func:`check_k`).
        margin: ``ratio``, ``distance`` or ``absolute``; mode: ``forward``, ``backward``,
            ``intersection`` or ``max``; index: ``auto``, ``flat``, ``ivf`` or ``ivfpq``.
        nprobe: IVF lists probed per query (0: the fewest whose recall@k against exact search
            reaches 0.99 on 1,000 sampled queries, :func:`langgap.knn.calibrate`, recorded in
            ``describe()``; fewer is faster and misses more true neighbours).
        progress: ``progress(stage, done, total)`` per block of queries.
    Returns:
        :class:`Mined`: every candidate pair of the mode, best first.
    Raises:
        InputError: bad settings (:func:`check_settings`, :func:`check_k`).
    """
    margin, mode, index = check_settings(k, margin, mode, index, nprobe)
    check_k(k, src, tgt)
    nn = neighbours(src, tgt, k=k, index=index, nprobe=nprobe, progress=progress)
    s, t, scores = mining.mine_from_knn((nn.fwd_sims, nn.fwd_inds), (nn.bwd_sims, nn.bwd_inds), margin, mode)
    return Mined(src, tgt, s, t, scores, k, margin, mode, nn.search, nn.nprobe)
