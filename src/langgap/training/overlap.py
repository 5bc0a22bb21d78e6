"""Overlap between training and evaluation sentences.

A sentence seen in training and then scored in evaluation inflates the score, so langgap counts
such sentences. Texts are compared after :func:`normalize` (Unicode case folding, whitespace
collapsed), which also catches copies that differ only in case or spacing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def normalize(text: str) -> str:
    """The comparison key of a text: case-folded, runs of whitespace made one space, stripped."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Overlap:
    """How many of an evaluation set's distinct texts also occur in the training texts."""

    name: str
    texts: int  # distinct normalized evaluation texts
    shared: int  # of those, how many occur in training

    @property
    def share(self) -> float:
        """``shared / texts`` (0 for an empty set)."""
        return self.shared / self.texts if self.texts else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "texts": self.texts, "shared": self.shared, "share": self.share}


def text_overlap(train: Iterable[str], evals: Mapping[str, Iterable[str]]) -> list[Overlap]:
    """For each evaluation set, its distinct texts and how many of them occur in ``train``.

    Args:
        train: every training text (either side of every pair).
        evals: evaluation set name -> its texts (all columns).
    Returns:
        One :class:`Overlap` per evaluation set, in the order of ``evals``.
    """
    seen = {normalize(t) for t in train}
    rows = []
    for name, texts in evals.items():
        keys = {normalize(t) for t in texts}
        rows.append(Overlap(name, len(keys), len(keys & seen)))
    return rows
