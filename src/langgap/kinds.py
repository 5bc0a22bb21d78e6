"""Task kinds and their traits, which callers ask instead of comparing ``kind ==``.

A :class:`TaskKind` is a string enum (``"bitext"`` in JSON and comparisons) with typed traits:

- ``parallel``: row ``i`` is the same sentence in every language (bitext, multi-way, sample), so
  translation metrics, a 2-D projection and a Procrustes fit apply; an STS file's two columns
  are scored pairs, not translations, and a mining set's two sides hide a few translations
  among distractors.
- ``multilingual``: more than one language pair, so metrics come per language pair
  (``per_pair``) and are averaged over pairs (multi-way, sample).
- ``splittable``: rows can be split into a fit and an evaluation part (``--adapt``); not a
  mining set, whose gold pairs hide among distractors that both parts would share.
- ``main_score``: the metric key that sums a task of this kind up.

The corpora (:mod:`langgap.data.corpora`) answer the data questions (texts, columns, subsets) and
the scorers (:mod:`langgap.scoring`) are registered per kind.
"""

from __future__ import annotations

from enum import Enum


class TaskKind(str, Enum):
    """What a task measures; its value is the ``kind`` string of results.json."""

    BITEXT = "bitext"
    MULTIWAY = "multiway"
    STS = "sts"
    SAMPLE = "sample"
    MINING = "mining"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def parallel(self) -> bool:
        """Rows are translations of each other across languages."""
        return self not in (TaskKind.STS, TaskKind.MINING)

    @property
    def multilingual(self) -> bool:
        """Metrics per language pair, averaged over pairs."""
        return self in (TaskKind.MULTIWAY, TaskKind.SAMPLE)

    @property
    def splittable(self) -> bool:
        """Rows split into fit and evaluation parts without leaking one into the other."""
        return self is not TaskKind.MINING

    @property
    def main_score(self) -> str:
        """The metric key that sums a task of this kind up."""
        return _MAIN_SCORE[self]


_MAIN_SCORE = {
    TaskKind.BITEXT: "accuracy_src2tgt",
    TaskKind.MULTIWAY: "xsim_error",
    TaskKind.STS: "spearman",
    TaskKind.SAMPLE: "pair_cosine",
    TaskKind.MINING: "mining_f1",
}
