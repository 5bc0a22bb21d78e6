"""Corpus dataclasses: what the readers return and the tasks consume.

Each keeps the path it came from and the sha256 of its bytes, so results can pin the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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

    def __len__(self) -> int:
        return len(self.src)


@dataclass(frozen=True)
class MultiWay:
    """Multi-way parallel text: ``texts[lang][i]`` are translations of each other for all langs."""

    texts: dict[str, list[str]]
    files: dict[str, DataFile]
    path: str

    @property
    def languages(self) -> list[str]:
        return list(self.texts)

    def __len__(self) -> int:
        return len(next(iter(self.texts.values())))


@dataclass(frozen=True)
class STSSet:
    """Sentence pairs with a gold similarity score (any scale)."""

    lang1: str
    lang2: str
    scores: np.ndarray  # (N,) float
    s1: list[str]
    s2: list[str]
    file: DataFile

    @property
    def cross_lingual(self) -> bool:
        return self.lang1 != self.lang2

    def __len__(self) -> int:
        return len(self.s1)


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

    @property
    def languages(self) -> list[str]:
        return list(self.anchors)

    def __len__(self) -> int:
        return len(next(iter(self.anchors.values())))
