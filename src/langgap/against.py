"""``measure --against TEACHER``: is a student compatible with an existing model's space?

A multilingual student trained into an English model's space (``--teacher ENGLISH --objective
mse``) is useful when an index built with the English model can be queried with it. So every
text in one of the teacher's languages (default: English, ``en``/``eng``/``eng_Latn``) is
embedded by the **teacher**, every other text by the **student**: a bitext ``x-eng`` then scores
retrieval of the student's ``x`` sentence among the teacher's English ones, a multi-way task every
language against the teacher's English (and the student's languages among themselves). A
same-language STS file in the teacher's language scores the student's first sentence against the
teacher's second (can the student query the English index in English?). No printing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from langgap.data.corpora import Corpus, STSSet
from langgap.errors import InputError
from langgap.metrics.registry import Budget
from langgap.results import TaskResult
from langgap.scoring import score
from langgap.tokens import language_texts
from langgap.types import Encoder, LangEmbed

TEACHER_LANGS = ("en", "eng", "eng_Latn")


def dimension(encoder: Encoder) -> int | None:
    """An encoder's output dimension where it says (``None``: unknown until it embeds)."""
    dim = getattr(encoder, "dimension", None)
    return int(dim) if isinstance(dim, int) and dim > 0 else None


def check_against(student: Encoder, teacher: Encoder, name: str) -> None:
    """Student and teacher must embed into one dimension (cosines across the two spaces).

    Raises:
        InputError: the dimensions differ, naming both.
    """
    a, b = dimension(student), dimension(teacher)
    if a is not None and b is not None and a != b:
        raise InputError(
            f"--against {name}: its embeddings have {b} dimensions, the model's {a}; the two must share "
            "one space (a student trained into the teacher's space has its dimension)"
        )


def teacher_texts(corpora: Sequence[Corpus], langs: Collection[str]) -> list[str]:
    """The distinct texts the teacher embeds: those of its languages."""
    texts = language_texts(corpora)
    return list(dict.fromkeys(t for lang in texts if lang in langs for t in texts[lang]))


def against_embed(
    student: LangEmbed, dim: int, teacher: Encoder, texts: list[str], langs: Collection[str]
) -> LangEmbed:
    """``emb(lang, texts)``: the teacher's vectors for texts of ``langs``, the student's (of
    dimension ``dim``) otherwise.

    Raises:
        InputError: the teacher's vectors have another dimension.
    """
    vectors = teacher.encode(texts) if texts else np.zeros((0, dim), dtype=np.float32)
    if dim and len(vectors) and vectors.shape[1] != dim:
        raise InputError(
            f"--against: the teacher's embeddings have {vectors.shape[1]} dimensions, the model's {dim}; "
            "the two must share one space"
        )
    row = {t: i for i, t in enumerate(texts)}

    def emb(lang: str, batch: list[str]) -> np.ndarray:
        return vectors[[row[t] for t in batch]] if lang in langs else student(lang, batch)

    return emb


def score_against(
    name: str,
    corpus: Corpus,
    student: LangEmbed,
    mixed: LangEmbed,
    langs: Collection[str],
    k: int,
    seed: int,
    budget: Budget,
) -> TaskResult:
    """Score one corpus across the two models (module docstring); ``notes["against"]`` says how."""
    if isinstance(corpus, STSSet) and corpus.lang1 in langs and corpus.lang2 in langs:
        res = score(
            name,
            corpus,
            lambda lang, texts: student(lang, texts) if texts is corpus.s1 else mixed(lang, texts),
            k,
            seed,
            budget,
        )
        res.notes["against"] = "the model's first sentence against the teacher's second"
        return res
    res = score(name, corpus, mixed, k, seed, budget)
    shown = [lang for lang in res.languages if lang in langs]
    res.notes["against"] = (
        f"the teacher embeds {', '.join(shown) or 'no language of this task'}; the model the rest"
    )
    return res
