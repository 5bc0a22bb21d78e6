"""Objectives and the frozen teacher: which side of a pair it embeds, its embeddings computed once.

Priority
    ``priority`` labels (soft loss) and the MSE source side need, per pair, the side in the
    *higher-priority* language (e.g. English for an English teacher). The order is the languages
    given with ``--priority`` first, then every other language by its number of distinct
    sentences in the training pairs (most first; ties by name), so by default the pivot language
    of ``en-de.tsv`` + ``en-fr.tsv`` is English. :func:`orient` puts that side first: every
    objective then sees ``(priority side, other side)``.

Objectives (:func:`make_loss`, on student embeddings ``a`` of the priority side, ``b`` of the other)
    ``infonce``: :func:`~langgap.losses.info_nce` (no teacher). ``soft``: soft labels from the
    teacher's embeddings of the priority side (``priority``) or of both sides (``average``),
    then :func:`~langgap.losses.soft_contrastive` with ``tcm_weight``; any teacher dimension.
    ``mse``: :func:`~langgap.losses.mse_distill` ``(s(src), s(tgt), t(src))`` with src = the
    priority side; the teacher must have the student's dimension (checked before embedding).

Cache
    The teacher never changes, so :class:`TeacherCache` embeds every distinct text it will be
    asked for *once, before training* (through :class:`~langgap.encoders.cache.CachedEncoder`,
    in memory: no disk cache, since ``SAME`` shares its cache key with the student's starting
    point but not its weights later) and keeps them as one (N, Dt) tensor on the training
    device. A training step then only indexes rows: no teacher forward pass per step, and the
    teacher model is released before training starts. Under ``accelerate launch`` each process
    embeds the whole set (one forward pass per distinct text: small next to training).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import Tensor

from langgap.encoders.cache import CachedEncoder
from langgap.encoders.st import SentenceTransformerEncoder
from langgap.errors import InputError
from langgap.losses import info_nce, mse_distill, soft_contrastive, soft_labels
from langgap.train.composer import Batch, Pair
from langgap.train.config import SAME, TrainConfig
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


def orient(batch: Batch | Sequence[Pair], order: Sequence[str]) -> tuple[list[str], list[str]]:
    """Per pair, ``(text in the higher-priority language, the other text)``; a tie keeps the order.

    Languages missing from ``order`` rank after all listed ones.
    """
    rank = {lang: i for i, lang in enumerate(order)}
    last = len(rank)
    rows: Iterable[tuple[str, str, str, str]]
    if isinstance(batch, Batch):
        rows = zip(batch.texts_a, batch.texts_b, batch.langs_a, batch.langs_b, strict=True)
    else:
        rows = ((p.text_a, p.text_b, p.lang_a, p.lang_b) for p in batch)
    first: list[str] = []
    second: list[str] = []
    for ta, tb, la, lb in rows:
        swap = rank.get(lb, last) < rank.get(la, last)
        first.append(tb if swap else ta)
        second.append(ta if swap else tb)
    return first, second


def teacher_texts(pairs: Sequence[Pair], order: Sequence[str], *, both_sides: bool) -> list[str]:
    """The distinct texts the teacher will embed: the priority side (or both sides) of every pair."""
    first, second = orient(pairs, order)
    return list(dict.fromkeys(first + second if both_sides else first))


class TeacherCache:
    """Teacher embeddings of a fixed set of texts, computed once; :meth:`lookup` indexes rows.

    Args:
        encoder: the frozen teacher, any :class:`~langgap.types.Encoder`.
        texts: every text that will be looked up (duplicates are embedded once).
        device: where the (N, Dt) float32 table lives (the training device).
        progress: ``progress(done, total)`` while embedding, in texts.
    """

    def __init__(
        self,
        encoder: Encoder,
        texts: Sequence[str],
        *,
        device: torch.device | str = "cpu",
        progress: ProgressFn | None = None,
    ) -> None:
        distinct = list(dict.fromkeys(texts))
        cached = CachedEncoder(encoder, cache_path=None, progress=progress)
        vectors = cached.encode(distinct)  # (N, Dt)
        self.stats = dict(cached.stats)
        self.row = {t: i for i, t in enumerate(distinct)}
        self.table = torch.as_tensor(vectors, dtype=torch.float32).to(device)  # (N, Dt)

    @property
    def dim(self) -> int:
        return int(self.table.shape[1])

    def __len__(self) -> int:
        return len(self.row)

    def lookup(self, texts: Sequence[str]) -> Tensor:
        """(B, Dt) teacher embeddings of ``texts``, each embedded before training."""
        try:
            idx = [self.row[t] for t in texts]
        except KeyError as e:
            raise KeyError(f"teacher cache: no embedding for {e.args[0]!r} (not a training text)") from None
        return self.table[torch.tensor(idx, device=self.table.device)]  # (B, Dt)


def load_teacher(cfg: TrainConfig, prompt: str, device: torch.device | str) -> SentenceTransformerEncoder:
    """``SAME``: the starting model again, frozen, with the student's prompt; else ``cfg.teacher``."""
    name = cfg.model if cfg.teacher == SAME else cfg.teacher
    same = cfg.teacher == SAME and cfg.teacher_prompt is None
    enc = SentenceTransformerEncoder(
        name, prompt=prompt if same else cfg.teacher_prompt, max_length=cfg.max_length, device=str(device)
    )
    if not same and cfg.teacher_prompt is None:
        enc.use_default_prompt()
    return enc


def check_teacher_dim(cfg: TrainConfig, teacher_dim: int, student_dim: int) -> None:
    if cfg.objective == "mse" and teacher_dim not in (-1, student_dim):
        raise InputError(
            f"--objective mse needs a teacher of the student's dimension: teacher {cfg.teacher!r} gives "
            f"{teacher_dim}, the student {student_dim} (soft labels allow any teacher dimension)"
        )


def make_loss(cfg: TrainConfig, teacher: TeacherCache | None) -> Callable[..., Tensor]:
    """``loss(a, b, first, second)``: student embeddings (B, D) of the priority / other side."""

    def loss(a: Tensor, b: Tensor, first: list[str], second: list[str]) -> Tensor:
        if cfg.objective == "infonce":
            return info_nce(a, b, temperature=cfg.temperature, margin=cfg.margin, gather=cfg.gather)
        assert teacher is not None
        t_first = teacher.lookup(first)  # (B, Dt)
        if cfg.objective == "mse":
            return mse_distill(a, b, t_first)
        t_second = teacher.lookup(second) if cfg.labels == "average" else None
        labels = soft_labels(
            t_first, t_second, temperature=cfg.teacher_temperature, mode=cfg.labels, gather=cfg.gather
        )  # (B, W*B)
        return soft_contrastive(
            a,
            b,
            labels,
            temperature=cfg.temperature,
            margin=cfg.margin,
            tcm_weight=cfg.tcm_weight,
            gather=cfg.gather,
        )

    return loss


def build_teacher_cache(
    cfg: TrainConfig,
    pairs: Sequence[Pair],
    order: Sequence[str],
    prompt: str,
    student_dim: int,
    device: torch.device | str,
    teacher: Encoder | None = None,
    progress: ProgressFn | None = None,
) -> TeacherCache | None:
    """The teacher's embeddings of every text the objective will ask for (``None`` for infonce).

    ``teacher`` replaces loading ``cfg.teacher``; a model loaded here is released afterwards.
    """
    if cfg.objective not in ("soft", "mse"):
        return None
    enc = teacher if teacher is not None else load_teacher(cfg, prompt, device)
    check_teacher_dim(cfg, int(getattr(enc, "dimension", -1)), student_dim)  # before the work
    both = cfg.objective == "soft" and cfg.labels == "average"
    cache = TeacherCache(enc, teacher_texts(pairs, order, both_sides=both), device=device, progress=progress)
    check_teacher_dim(cfg, cache.dim, student_dim)
    log.info("teacher: %d distinct texts embedded once (dimension %d)", len(cache), cache.dim)
    return cache
