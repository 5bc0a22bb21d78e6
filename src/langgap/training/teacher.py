"""The frozen teacher of an objective: which side of a pair it embeds, its embeddings computed once.

Priority
    ``priority`` labels (soft loss) and the MSE source side need, per pair, the side in the
    *higher-priority* language (e.g. English for an English teacher). The order is the languages
    given with ``--priority`` first, then every other language by its number of distinct
    sentences in the training pairs (most first; ties by name), so by default the pivot language
    of ``en-de.tsv`` + ``en-fr.tsv`` is English. :func:`orient` puts that side first: every
    objective then sees ``(priority side, other side)``.

Objectives
    The losses are built in :mod:`langgap.training.objective`; this module gives them the
    teacher rows they take (:func:`teacher_texts`: the priority side, or both sides for
    ``average`` labels). The MSE teacher must have the student's dimension (checked before
    embedding); soft labels allow any.

Cache
    The teacher never changes, so :class:`TeacherCache` embeds each distinct text once, lazily:
    the loop asks it to :meth:`~TeacherCache.prefetch` the texts of the next batches (in chunks,
    ahead of need), through :class:`~langgap.encoders.cache.CachedEncoder` and the on-disk
    embedding cache, keyed by the teacher's own identity (its starting folder, prompt and max
    length: the frozen model's embeddings, which also ``langgap measure`` would cache). Only the
    texts of scheduled batches are embedded (not the whole pool before the first step), a
    ``--resume`` finds them on disk, and under ``accelerate launch`` the main process embeds while
    the others wait and read the cache.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from langgap.encoders.cache import CachedEncoder, default_cache_path
from langgap.encoders.st import SentenceTransformerEncoder
from langgap.errors import InputError
from langgap.training.config import SAME, ModelConfig, ObjectiveConfig
from langgap.training.objective import teacher_sides
from langgap.training.pairs import Batch, Pair
from langgap.types import Encoder, ProgressFn

log = logging.getLogger(__name__)


def language_priority(pairs: Iterable[Pair], given: Sequence[str] = ()) -> list[str]:
    """Languages in priority order: ``given`` first, then by distinct sentences (most first)."""
    texts: dict[str, set[str]] = {}
    for p in pairs:
        texts.setdefault(p.lang_a, set()).add(p.text_a)
        texts.setdefault(p.lang_b, set()).add(p.text_b)
    counts = Counter({lang: len(t) for lang, t in texts.items()})
    rest = sorted((lang for lang in counts if lang not in given), key=lambda lang: (-counts[lang], lang))
    return [*given, *rest]


def oriented(batch: Batch | Sequence[Pair], order: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """Per pair ``(first text, second text, first language, second language)``, the first in the
    higher-priority language; a tie keeps the order. Languages missing from ``order`` rank last."""
    rank = {lang: i for i, lang in enumerate(order)}
    last = len(rank)
    rows: Iterable[tuple[str, str, str, str]]
    if isinstance(batch, Batch):
        rows = zip(batch.texts_a, batch.texts_b, batch.langs_a, batch.langs_b, strict=True)
    else:
        rows = ((p.text_a, p.text_b, p.lang_a, p.lang_b) for p in batch)
    return [
        (tb, ta, lb, la) if rank.get(lb, last) < rank.get(la, last) else (ta, tb, la, lb)
        for ta, tb, la, lb in rows
    ]


def orient(batch: Batch | Sequence[Pair], order: Sequence[str]) -> tuple[list[str], list[str]]:
    """Per pair, ``(text in the higher-priority language, the other text)`` (:func:`oriented`'s texts)."""
    rows = oriented(batch, order)
    return [r[0] for r in rows], [r[1] for r in rows]


class TeacherCache:
    """Teacher embeddings, computed once per distinct text and kept; see the module docstring.

    Args:
        encoder: the frozen teacher, any :class:`~langgap.types.Encoder`.
        texts: texts to embed now (more come with :meth:`prefetch`).
        device: where :meth:`lookup` puts its (B, Dt) float32 tensors (the training device).
        progress: ``progress(done, total)`` while embedding, in texts.
        cache_path: the on-disk embedding cache (``None``: memory only).
    """

    def __init__(
        self,
        encoder: Encoder,
        texts: Sequence[str] = (),
        *,
        device: torch.device | str = "cpu",
        progress: ProgressFn | None = None,
        cache_path: str | Path | None = None,
    ) -> None:
        self.encoder = CachedEncoder(encoder, cache_path=cache_path, progress=progress)
        self.device = device
        self.vectors: dict[str, np.ndarray] = {}
        if texts:
            self.prefetch(texts)

    @property
    def stats(self) -> dict[str, int]:
        return dict(self.encoder.stats)

    @property
    def dim(self) -> int:
        """The teacher's output dimension (-1 while unknown)."""
        if self.vectors:
            return len(next(iter(self.vectors.values())))
        return int(getattr(self.encoder.encoder, "dimension", -1) or -1)

    def __len__(self) -> int:
        return len(self.vectors)

    def prefetch(self, texts: Sequence[str]) -> int:
        """Embed the texts not embedded yet (from the disk cache where it has them); returns how many."""
        todo = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if todo:
            self.vectors.update(zip(todo, self.encoder.encode(todo), strict=True))
        return len(todo)

    def lookup(self, texts: Sequence[str]) -> Tensor:
        """(B, Dt) teacher embeddings of ``texts`` (embedded now if no prefetch asked for them)."""
        self.prefetch(texts)
        rows = np.stack([self.vectors[t] for t in texts]).astype(np.float32)  # (B, Dt)
        return torch.as_tensor(rows, device=self.device)

    def close(self) -> None:
        self.encoder.close()


def load_teacher(
    objective: ObjectiveConfig, model: ModelConfig, prompt: str, device: torch.device | str
) -> SentenceTransformerEncoder:
    """``SAME``: the starting model again, frozen, with the student's prompt; else ``objective.teacher``."""
    name = model.name if objective.teacher == SAME else objective.teacher
    same = objective.teacher == SAME and objective.teacher_prompt is None
    enc = SentenceTransformerEncoder(
        name,
        prompt=prompt if same else objective.teacher_prompt,
        max_length=model.max_length,
        device=str(device),
    )
    return enc


def check_teacher_dim(objective: ObjectiveConfig, teacher_dim: int, student_dim: int) -> None:
    if objective.kind == "mse" and teacher_dim not in (-1, student_dim):
        raise InputError(
            f"--objective mse needs a teacher of the student's dimension: teacher {objective.teacher!r} gives "
            f"{teacher_dim}, the student {student_dim} (soft labels allow any teacher dimension)"
        )


def build_teacher_cache(
    objective: ObjectiveConfig,
    model: ModelConfig,
    first_batches: Sequence[Pair] | Sequence[Batch],
    order: Sequence[str],
    prompt: str,
    student_dim: int,
    device: torch.device | str,
    teacher: Encoder | None = None,
    progress: ProgressFn | None = None,
) -> TeacherCache | None:
    """The lazy teacher cache of the objective (``None`` when it takes no teacher rows), with the
    texts of ``first_batches`` embedded now (the first chunk; it gives the dimension to check).

    ``teacher`` replaces loading ``objective.teacher`` (and is cached in memory only).
    """
    if not teacher_sides(objective):
        return None
    enc = teacher if teacher is not None else load_teacher(objective, model, prompt, device)
    check_teacher_dim(objective, int(getattr(enc, "dimension", -1)), student_dim)  # before the work
    cache = TeacherCache(
        enc, device=device, progress=progress, cache_path=None if teacher else default_cache_path()
    )
    cache.prefetch(teacher_texts(objective, first_batches, order))
    check_teacher_dim(objective, cache.dim, student_dim)
    return cache


def teacher_texts(
    objective: ObjectiveConfig, batches: Sequence[Pair] | Sequence[Batch], order: Sequence[str]
) -> list[str]:
    """The distinct texts the teacher is asked for: the priority side of every pair (both sides
    for ``average`` labels; none without a teacher), over pairs or batches."""
    sides = teacher_sides(objective)
    if not sides:
        return []
    both = sides == 2
    out: list[str] = []
    for b in batches:
        first, second = orient(b if isinstance(b, Batch) else [b], order)
        out += first + second if both else first
    return list(dict.fromkeys(out))
