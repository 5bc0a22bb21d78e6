"""Which k-NN index to build, pure (no FAISS): :func:`plan` and the measured nprobe.

Index choice (:func:`plan`, pure), by the number of vectors ``n`` in the index (one side):

- ``flat``: ``IndexFlatIP``, exact. ``auto`` takes it while ``n <= FLAT_MAX_ROWS`` (200,000 on
  CPU: one exact pass over 200k x 200k at D=384 took about 10 minutes per direction on 2 shared
  cores here; 2,000,000 with GPUs, where 2M x 1024 float32 is 8 GiB of GPU memory).
- ``ivf``: ``IndexIVFFlat`` with ``nlist = min(4 * sqrt(n), n / 39)`` lists (FAISS's guideline:
  4..16 sqrt(n) lists, at least 39 training points each). Cosines stay exact; a true neighbour
  in an unprobed list is missed, so unless given, the lists probed per query (``nprobe``) are
  measured on the built index: :func:`langgap.knn.calibrate` takes the fewest whose recall@k against exact
  search reaches ``RECALL_TARGET`` on sampled queries. No fixed share of the lists serves all
  data (e5 embeddings: recall@4 0.985 at 83 of 664 lists; clustered synthetic: 0.996 at 2 of 1,265).
- ``ivfpq``: ``IndexIVFPQ``, the same lists with vectors compressed to ``m`` bytes (``m`` the
  largest divisor of D up to min(64, D/4): 64 bytes instead of 1,536 at D=384; 8 bits per code,
  fewer when n is small) for sides that do not fit in memory as float32. Its cosines are
  approximations: nprobe is calibrated against the same index probing every list.

:func:`choose_nprobe` finds the fewest lists that keep ``RECALL_TARGET`` of the true neighbours
(:func:`langgap.knn.calibrate` runs it on a built index).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

Blocks = Callable[[], Iterable[np.ndarray]]  # a fresh pass over float32 (B, D) unit-norm rows
IndexKind = Literal["flat", "ivf", "ivfpq"]
INDEXES = ("auto", "flat", "ivf", "ivfpq")
FLAT_MAX_ROWS = 200_000  # auto: exact search up to this many indexed vectors on CPU
FLAT_MAX_ROWS_GPU = 2_000_000  # ... and with GPUs
IVF_MIN_ROWS = 1_000  # below this an IVF index has too little to train on: flat
# default nprobe: keep 99 of 100 true neighbours (a miss is replaced by the next best, so the
# margin's neighbourhood means barely move and best candidates are those of exact search)
RECALL_TARGET = 0.99
CALIBRATION_QUERIES = 1_000  # x k=4 answers: a recall near 0.99 to +-0.003 (2 standard errors)


@dataclass(frozen=True)
class Calibration:
    """How :func:`langgap.knn.calibrate` chose nprobe: recall@k of the sampled queries at each nprobe tried."""

    nprobe: int
    recall: float  # recall@k at nprobe
    tried: tuple[tuple[int, float], ...]  # (nprobe, recall@k) in the order tried
    k: int
    queries: int  # sampled queries
    against: str  # the reference: "exact search" (ivf) or "all lists" (ivfpq)
    target: float = RECALL_TARGET


@dataclass(frozen=True)
class IndexSpec:
    """What :func:`knn` builds: the kind and its parameters (0 where they do not apply; an IVF
    ``nprobe`` of 0 is chosen by :func:`langgap.knn.calibrate` once the index is built)."""

    kind: IndexKind
    nlist: int = 0
    nprobe: int = 0
    pq_m: int = 0
    pq_bits: int = 0
    gpus: int = 0
    calibration: Calibration | None = None  # how nprobe was chosen, when it was measured

    def describe(self) -> str:
        text = {"flat": "flat (exact inner product)", "ivf": "ivf", "ivfpq": "ivfpq"}[self.kind]
        if self.kind != "flat":
            text += f" nlist={self.nlist} nprobe={self.nprobe or f'auto (recall >= {RECALL_TARGET})'}"
            if cal := self.calibration:
                text += f" (recall@{cal.k} {cal.recall:.3f} against {cal.against}"
                text += f", {cal.queries:,} sampled queries)"
        if self.kind == "ivfpq":
            text += f" m={self.pq_m} bits={self.pq_bits}"
        return text + (f" on {self.gpus} GPU(s)" if self.gpus else " on CPU")


def ivf_lists(n: int) -> int:
    """``nlist`` for ``n`` indexed vectors (nprobe is measured: :func:`langgap.knn.calibrate`)."""
    return max(1, min(round(4 * math.sqrt(n)), n // 39))


def pq_shape(n: int, dim: int) -> tuple[int, int]:
    """``(m, bits)``: the largest divisor of ``dim`` up to ``min(64, dim / 4)`` (at least 4
    dimensions per sub-quantizer); 8 bits per code when there are 39 * 256 training points, fewer
    for smaller ``n``."""
    m = max(d for d in range(1, max(1, min(64, dim // 4)) + 1) if dim % d == 0)
    return m, max(1, min(8, int(math.log2(max(n // 39, 2)))))


def plan(index: str, n: int, dim: int, gpus: int = 0, nprobe: int = 0) -> IndexSpec:
    """The index for ``n`` vectors of dimension ``dim``: ``index`` is ``auto``, ``flat``,
    ``ivf`` or ``ivfpq`` (see the module docstring); ``nprobe > 0`` probes that many lists
    (at most ``nlist``), 0 leaves it to :func:`langgap.knn.calibrate`: the search time grows with it."""
    if index not in INDEXES:
        raise ValueError(f"unknown index {index!r}; expected one of {', '.join(INDEXES)}")
    if nprobe < 0:
        raise ValueError(f"nprobe must be >= 0 (0: the default), got {nprobe}")
    if index == "auto":
        index = "flat" if n <= (FLAT_MAX_ROWS_GPU if gpus else FLAT_MAX_ROWS) else "ivf"
    if index == "flat" or n < IVF_MIN_ROWS:
        return IndexSpec("flat", gpus=gpus)
    nlist = ivf_lists(n)
    nprobe = min(nlist, nprobe)
    if index == "ivf":
        return IndexSpec("ivf", nlist, nprobe, gpus=gpus)
    m, bits = pq_shape(n, dim)
    return IndexSpec("ivfpq", nlist, nprobe, m, bits, gpus)


def choose_nprobe(
    recall_of: Callable[[int], float], nlist: int, target: float = RECALL_TARGET
) -> tuple[int, tuple[tuple[int, float], ...]]:
    """The fewest lists whose recall reaches ``target`` (``nlist`` if none) and ``(nprobe, recall)``
    of every try: nprobe = 1, 2, 4, ... (nlist last) until one does, then bisection down to the
    last that fell short. Recall does not fall as nprobe grows (a true neighbour found stays
    found), so this is the smallest, where the power of two could probe twice the lists needed."""
    tried: dict[int, float] = {}

    def reaches(p: int) -> bool:
        tried[p] = recall_of(p)
        return tried[p] >= target

    short, p = 0, 1  # short: the largest nprobe known to fall short
    while not reaches(p):
        if p >= nlist:
            return nlist, tuple(tried.items())
        short, p = p, min(2 * p, nlist)
    while p - short > 1:
        mid = (short + p) // 2
        short, p = (short, mid) if reaches(mid) else (mid, p)
    return p, tuple(tried.items())


def recall_at_k(got: np.ndarray, exact: np.ndarray) -> float:
    """The share of the true neighbours ``exact`` (Q, k) found in ``got`` (Q, k')."""
    return float((got[:, :, None] == exact[:, None, :]).any(axis=1).mean())
