"""Corpus dataclasses: what the readers return and the tasks consume.

Each keeps the path it came from and the sha256 of its bytes, so results can pin the data, and
answers the questions the rest of langgap asks of any corpus, whatever its kind:

- ``kind``: its :class:`~langgap.kinds.TaskKind` (which scorer applies, is it parallel);
- :meth:`all_texts`: every text it asks embeddings for, in a fixed order;
- :meth:`by_language`: its row-aligned text columns per language;
- :meth:`columns`: how it maps onto ``--embeddings`` ``.npy`` files (``{file stem: columns}``);
- :meth:`subset`: a copy with some rows only (the fit / evaluation split of ``--adapt``);
- :meth:`projection_texts`: the texts per language a 2-D projection shows (``None``: none);
- :meth:`fallback_pivot`: the pivot language when no English is there, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Union

import numpy as np

from langgap.kinds import TaskKind

Rows = Union[Sequence[int], np.ndarray]  # noqa: UP007 (a runtime alias on Python 3.10)


def _pick(texts: list[str], rows: Rows) -> list[str]:
    return [texts[int(i)] for i in rows]


@dataclass(frozen=True)
class DataFile:
    """One input file as recorded in results: path, sha256 of its bytes, row count."""

    path: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class Bitext:
    """Line-aligned translation pairs: ``tgt[i]`` translates ``src[i]``."""

    src_lang: str
    tgt_lang: str
    src: list[str]
    tgt: list[str]
    file: DataFile
    kind: ClassVar[TaskKind] = TaskKind.BITEXT

    def __len__(self) -> int:
        return len(self.src)

    @property
    def source(self) -> str:
        return self.file.path

    def all_texts(self) -> list[str]:
        return self.src + self.tgt

    def by_language(self) -> dict[str, list[list[str]]]:
        return _group([(self.src_lang, self.src), (self.tgt_lang, self.tgt)])

    def columns(self) -> dict[str, list[list[str]]]:
        return {Path(self.file.path).stem: [self.src, self.tgt]}

    def subset(self, rows: Rows) -> Bitext:
        return replace(self, src=_pick(self.src, rows), tgt=_pick(self.tgt, rows))

    def projection_texts(self) -> dict[str, list[str]] | None:
        if self.src_lang == self.tgt_lang:
            return None
        return {self.src_lang: self.src, self.tgt_lang: self.tgt}

    def fallback_pivot(self) -> tuple[str, str]:
        return self.tgt_lang, "its target language"


@dataclass(frozen=True)
class MultiWay:
    """Multi-way parallel text: ``texts[lang][i]`` are translations of each other for all langs."""

    texts: dict[str, list[str]]
    files: dict[str, DataFile]
    path: str
    kind: ClassVar[TaskKind] = TaskKind.MULTIWAY

    @property
    def languages(self) -> list[str]:
        return list(self.texts)

    def __len__(self) -> int:
        return len(next(iter(self.texts.values())))

    @property
    def source(self) -> str:
        return self.path

    def all_texts(self) -> list[str]:
        return [t for texts in self.texts.values() for t in texts]

    def by_language(self) -> dict[str, list[list[str]]]:
        return _group(list(self.texts.items()))

    def columns(self) -> dict[str, list[list[str]]]:
        return {lang: [texts] for lang, texts in self.texts.items()}

    def subset(self, rows: Rows) -> MultiWay:
        return replace(self, texts={lang: _pick(t, rows) for lang, t in self.texts.items()})

    def projection_texts(self) -> dict[str, list[str]] | None:
        return self.texts

    def fallback_pivot(self) -> tuple[str, str]:
        return self.languages[0], "its first language"


@dataclass(frozen=True)
class STSSet:
    """Sentence pairs with a gold similarity score (any scale)."""

    lang1: str
    lang2: str
    scores: np.ndarray  # (N,) float
    s1: list[str]
    s2: list[str]
    file: DataFile
    kind: ClassVar[TaskKind] = TaskKind.STS

    @property
    def cross_lingual(self) -> bool:
        return self.lang1 != self.lang2

    def __len__(self) -> int:
        return len(self.s1)

    @property
    def source(self) -> str:
        return self.file.path

    def all_texts(self) -> list[str]:
        return self.s1 + self.s2

    def by_language(self) -> dict[str, list[list[str]]]:
        """The two columns by language; unlike the other kinds they are scored pairs, not translations."""
        return _group([(self.lang1, self.s1), (self.lang2, self.s2)])

    def columns(self) -> dict[str, list[list[str]]]:
        return {Path(self.file.path).stem: [self.s1, self.s2]}

    def subset(self, rows: Rows) -> STSSet:
        idx = [int(i) for i in rows]
        return replace(self, s1=_pick(self.s1, idx), s2=_pick(self.s2, idx), scores=self.scores[idx])

    def projection_texts(self) -> dict[str, list[str]] | None:
        return None

    def fallback_pivot(self) -> tuple[str, str]:
        return self.lang1, "its first language"


@dataclass(frozen=True)
class Sample:
    """Anchor/positive pairs translated into several languages, row-aligned across languages.

    ``anchors[lang][i]`` and ``positives[lang][i]`` are the same pair ``i`` in ``lang``; the
    positive is entailed by the anchor.
    """

    anchors: dict[str, list[str]]
    positives: dict[str, list[str]]
    files: dict[str, DataFile] = field(default_factory=dict)
    path: str = "builtin:sample"
    kind: ClassVar[TaskKind] = TaskKind.SAMPLE

    @property
    def languages(self) -> list[str]:
        return list(self.anchors)

    def __len__(self) -> int:
        return len(next(iter(self.anchors.values())))

    @property
    def source(self) -> str:
        return self.path

    def all_texts(self) -> list[str]:
        return [t for lang in self.languages for t in self.anchors[lang] + self.positives[lang]]

    def by_language(self) -> dict[str, list[list[str]]]:
        """Anchors with anchors and positives with positives are parallel across languages."""
        cols = [(lang, self.anchors[lang]) for lang in self.languages]
        return _group(cols + [(lang, self.positives[lang]) for lang in self.languages])

    def columns(self) -> dict[str, list[list[str]]]:
        return {lang: [self.anchors[lang], self.positives[lang]] for lang in self.languages}

    def subset(self, rows: Rows) -> Sample:
        return replace(
            self,
            anchors={lang: _pick(t, rows) for lang, t in self.anchors.items()},
            positives={lang: _pick(t, rows) for lang, t in self.positives.items()},
        )

    def projection_texts(self) -> dict[str, list[str]] | None:
        return self.anchors

    def fallback_pivot(self) -> tuple[str, str]:
        return self.languages[0], "its first language"


@dataclass(frozen=True)
class MiningSet:
    """A BUCC-style mining set: two sides of sentences, a few of which translate each other.

    ``gold`` lists the known translation pairs as 0-based ``(src row, tgt row)``; every other
    sentence is a distractor. ``stems`` name the two sides' ``--embeddings`` files.
    """

    src_lang: str
    tgt_lang: str
    src: list[str]
    tgt: list[str]
    gold: list[tuple[int, int]]
    files: dict[str, DataFile]  # "src", "tgt", "gold"
    path: str
    stems: tuple[str, str] = ("src", "tgt")
    kind: ClassVar[TaskKind] = TaskKind.MINING

    def __len__(self) -> int:
        """The gold pairs: the items a comparison resamples."""
        return len(self.gold)

    @property
    def source(self) -> str:
        return self.path

    def all_texts(self) -> list[str]:
        return self.src + self.tgt

    def by_language(self) -> dict[str, list[list[str]]]:
        """The two sides by language; not row-aligned (the gold pairs say which rows match)."""
        return _group([(self.src_lang, self.src), (self.tgt_lang, self.tgt)])

    def columns(self) -> dict[str, list[list[str]]]:
        return {self.stems[0]: [self.src], self.stems[1]: [self.tgt]}

    def subset(self, rows: Rows) -> MiningSet:
        """The same sides with only gold pairs ``rows`` (the others become distractors)."""
        return replace(self, gold=[self.gold[int(i)] for i in rows])

    def projection_texts(self) -> dict[str, list[str]] | None:
        return None

    def fallback_pivot(self) -> tuple[str, str]:
        return self.tgt_lang, "its target language"


Corpus = Union[Bitext, MultiWay, STSSet, Sample, MiningSet]  # noqa: UP007 (a runtime alias on Python 3.10)


def _group(columns: list[tuple[str, list[str]]]) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for lang, texts in columns:
        out.setdefault(lang, []).append(texts)
    return out
