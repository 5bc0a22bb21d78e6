"""Filters of mined pairs before they train a model (the mining literature's, LASER / NLLB / CRISS).

:func:`filter_pairs` takes a :class:`~langgap.mining.Mined` (candidates best first) and keeps a
pair only if it passes, in this order:

==============  ==============================================================================
reason          drops a pair when
==============  ==============================================================================
``threshold``   its margin score is below the threshold
``identical``   both sides are the same text once case, spaces and punctuation are ignored
                (an untranslated copy: names, numbers, English quoted in the other language)
``length``      the longer side has more than ``max_ratio`` times the characters of the shorter
``repeated``    a better-scoring kept pair already uses its source or its target sentence
                (at most one pair per sentence)
``cap``         the language already has ``cap`` kept pairs (0: no cap); the best are kept
==============  ==============================================================================

Pure: no files, no printing. The default length ratio 3.0 was chosen on the gold pairs of
MAFAND-MT's train split (``../shared/data/lafand_mt``): it drops 0.1–2.3% of them for 12 of the
14 language pairs, 5.1% for en-tsn and 8.5% for fr-ewe, whose long outliers are mostly
misaligned rows (docs/experiments.md, experiment g).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np

from langgap.errors import InputError
from langgap.mining import Mined

REASONS = ("threshold", "identical", "length", "repeated", "cap")
DEFAULT_MAX_RATIO = 3.0


@dataclass(frozen=True)
class PairFilter:
    """The settings of :func:`filter_pairs`."""

    threshold: float  # margin score a pair must reach
    max_ratio: float = DEFAULT_MAX_RATIO  # longest / shortest side in characters (0: no limit)
    cap: int = 0  # pairs kept per language, best first (0: no cap)

    def __post_init__(self) -> None:
        if not np.isfinite(self.threshold):
            raise InputError(f"--mine-threshold must be a finite number, got {self.threshold}")
        if self.max_ratio != 0 and not self.max_ratio >= 1:
            raise InputError(f"--mine-max-ratio must be >= 1 (0: no limit), got {self.max_ratio:g}")
        if self.cap < 0:
            raise InputError(f"--mine-cap must be >= 0 (0: no cap), got {self.cap}")


@dataclass
class Filtered:
    """The kept pairs (distinct indices into the sides, best first) and how many each filter dropped."""

    src_ids: np.ndarray  # (P,) int64
    tgt_ids: np.ndarray  # (P,) int64
    scores: np.ndarray  # (P,) float64, decreasing
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))

    def __len__(self) -> int:
        return len(self.scores)


def skeleton(text: str) -> str:
    """``text`` with case, accents' composition, spaces and punctuation ignored: two texts with the
    same skeleton are copies of each other (``"Hello, World!"`` and ``"hello world"``)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if c.isalnum())


def length_ratio(a: str, b: str) -> float:
    """Characters of the longer text over those of the shorter (at least one character each)."""
    la, lb = len(a.strip()) or 1, len(b.strip()) or 1
    return max(la, lb) / min(la, lb)


def filter_pairs(mined: Mined, settings: PairFilter) -> Filtered:
    """The pairs of ``mined`` that pass every filter (module docstring), best first."""
    src, tgt = mined.src.texts, mined.tgt.texts
    dropped = dict.fromkeys(REASONS, 0)
    used_src: set[int] = set()
    used_tgt: set[int] = set()
    keep: list[int] = []
    for p, (i, j, score) in enumerate(
        zip(mined.src_ids.tolist(), mined.tgt_ids.tolist(), mined.scores.tolist(), strict=True)
    ):
        reason = _reason(src[i], tgt[j], score, settings)
        if reason is None and (i in used_src or j in used_tgt):
            reason = "repeated"
        if reason is None and settings.cap and len(keep) >= settings.cap:
            reason = "cap"
        if reason is not None:
            dropped[reason] += 1
            continue
        keep.append(p)
        used_src.add(i)
        used_tgt.add(j)
    rows = np.asarray(keep, dtype=np.int64)
    return Filtered(mined.src_ids[rows], mined.tgt_ids[rows], mined.scores[rows], dropped)


def _reason(a: str, b: str, score: float, settings: PairFilter) -> str | None:
    """The first per-pair filter that drops ``(a, b)``, or ``None``."""
    if not score >= settings.threshold:
        return "threshold"
    if skeleton(a) == skeleton(b):
        return "identical"
    if settings.max_ratio and length_ratio(a, b) > settings.max_ratio:
        return "length"
    return None
