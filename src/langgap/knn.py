"""k nearest neighbours by inner product with FAISS: the one module that imports ``faiss``.

Vectors arrive as float32 row blocks, already L2-normalised (inner product = cosine), from a
callable that starts a fresh pass over them (:data:`Blocks`), so neither side has to sit in
memory outside the index, and no (N, M) matrix is ever formed: FAISS keeps each query's k best.

Index choice (:func:`plan`), by the number of vectors ``n`` in the index (one side of the pair):

- ``flat``: ``IndexFlatIP``, exact. ``auto`` takes it while ``n <= FLAT_MAX_ROWS`` (200,000 on
  CPU: one exact pass over 200k x 200k at D=384 took about 10 minutes per direction on 2 shared
  cores here; 2,000,000 with GPUs, where 2M x 1024 float32 is 8 GiB of GPU memory).
- ``ivf``: ``IndexIVFFlat`` with ``nlist = min(4 * sqrt(n), n / 39)`` lists (FAISS's guideline:
  4..16 sqrt(n) lists, at least 39 training points each), probing ``nprobe = min(nlist,
  max(IVF_MIN_NPROBE, nlist / 8))`` lists per query. Cosines stay exact; a true neighbour in an
  unprobed list is missed (recall@4 measured in the tests and in the README).
- ``ivfpq``: ``IndexIVFPQ``, the same lists with vectors compressed to ``m`` bytes (``m`` the
  largest divisor of D up to min(64, D/4): 64 bytes instead of 1,536 at D=384; 8 bits per code,
  fewer when n is small): for sides that do not fit in memory as float32. Cosines are
  approximations.

An explicit ``ivf``/``ivfpq`` on fewer than ``IVF_MIN_ROWS`` vectors is searched flat (there is
too little to train on). With ``faiss.get_num_gpus() > 0`` every index is sharded over all GPUs.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Blocks = Callable[[], Iterable[np.ndarray]]  # a fresh pass over float32 (B, D) unit-norm rows
IndexKind = Literal["flat", "ivf", "ivfpq"]
INDEXES = ("auto", "flat", "ivf", "ivfpq")
FLAT_MAX_ROWS = 200_000  # auto: exact search up to this many indexed vectors on CPU
FLAT_MAX_ROWS_GPU = 2_000_000  # ... and with GPUs
IVF_MIN_ROWS = 1_000  # below this an IVF index has too little to train on: flat
IVF_MIN_NPROBE = 16
QUERY_BLOCK = 16_384  # queries per search call (and per progress report)


def available() -> bool:
    """Whether ``faiss`` (``faiss-cpu`` or ``faiss-gpu``) is installed."""
    return importlib.util.find_spec("faiss") is not None


def gpu_count() -> int:
    """GPUs FAISS can use (0 without FAISS or with the CPU build)."""
    if not available():
        return 0
    import faiss

    return int(faiss.get_num_gpus())


@dataclass(frozen=True)
class IndexSpec:
    """What :func:`knn` builds: the kind and its parameters (0 where they do not apply)."""

    kind: IndexKind
    nlist: int = 0
    nprobe: int = 0
    pq_m: int = 0
    pq_bits: int = 0
    gpus: int = 0

    def describe(self) -> str:
        text = {"flat": "flat (exact inner product)", "ivf": "ivf", "ivfpq": "ivfpq"}[self.kind]
        if self.kind != "flat":
            text += f" nlist={self.nlist} nprobe={self.nprobe}"
        if self.kind == "ivfpq":
            text += f" m={self.pq_m} bits={self.pq_bits}"
        return text + (f" on {self.gpus} GPU(s)" if self.gpus else " on CPU")


def ivf_lists(n: int) -> tuple[int, int]:
    """``(nlist, nprobe)`` for ``n`` indexed vectors (see the module docstring)."""
    nlist = max(1, min(round(4 * math.sqrt(n)), n // 39))
    return nlist, min(nlist, max(IVF_MIN_NPROBE, nlist // 8))


def pq_shape(n: int, dim: int) -> tuple[int, int]:
    """``(m, bits)``: the largest divisor of ``dim`` up to ``min(64, dim / 4)`` (at least 4
    dimensions per sub-quantizer); 8 bits per code when there are 39 * 256 training points, fewer
    for smaller ``n``."""
    m = max(d for d in range(1, max(1, min(64, dim // 4)) + 1) if dim % d == 0)
    return m, max(1, min(8, int(math.log2(max(n // 39, 2)))))


def plan(index: str, n: int, dim: int, gpus: int = 0, nprobe: int = 0) -> IndexSpec:
    """The index for ``n`` vectors of dimension ``dim``: ``index`` is ``auto``, ``flat``,
    ``ivf`` or ``ivfpq`` (see the module docstring); ``nprobe > 0`` probes that many lists
    (at most ``nlist``) instead of the default: the search time of an IVF index grows with it."""
    if index not in INDEXES:
        raise ValueError(f"unknown index {index!r}; expected one of {', '.join(INDEXES)}")
    if nprobe < 0:
        raise ValueError(f"nprobe must be >= 0 (0: the default), got {nprobe}")
    if index == "auto":
        index = "flat" if n <= (FLAT_MAX_ROWS_GPU if gpus else FLAT_MAX_ROWS) else "ivf"
    if index == "flat" or n < IVF_MIN_ROWS:
        return IndexSpec("flat", gpus=gpus)
    nlist, default = ivf_lists(n)
    nprobe = min(nlist, nprobe) if nprobe else default
    if index == "ivf":
        return IndexSpec("ivf", nlist, nprobe, gpus=gpus)
    m, bits = pq_shape(n, dim)
    return IndexSpec("ivfpq", nlist, nprobe, m, bits, gpus)


def _sample(blocks: Blocks, n: int, size: int, seed: int) -> np.ndarray:
    """``size`` rows drawn without replacement (seeded), gathered in one pass over the blocks."""
    rows = np.sort(np.random.default_rng(seed).choice(n, size=min(size, n), replace=False))
    out, start = [], 0
    for block in blocks():
        lo, hi = np.searchsorted(rows, [start, start + len(block)])
        out.append(block[rows[lo:hi] - start])
        start += len(block)
    return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)


def _build(spec: IndexSpec, blocks: Blocks, n: int, dim: int, seed: int) -> Any:
    import faiss

    index: Any
    if spec.kind == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        quantizer = faiss.IndexFlatIP(dim)
        metric = faiss.METRIC_INNER_PRODUCT
        if spec.kind == "ivf":
            index = faiss.IndexIVFFlat(quantizer, dim, spec.nlist, metric)
        else:
            index = faiss.IndexIVFPQ(quantizer, dim, spec.nlist, spec.pq_m, spec.pq_bits, metric)
        index.cp.seed = seed
    if spec.gpus:
        options = faiss.GpuMultipleClonerOptions()
        options.shard = True  # the database is split over the GPUs (memory grows with their number)
        options.useFloat16 = spec.kind == "ivfpq"  # float16 lookup tables allow m up to 64
        index = faiss.index_cpu_to_all_gpus(index, co=options)
    if spec.kind != "flat":
        index.train(_sample(blocks, n, max(50 * spec.nlist, 65_536), seed))
        faiss.ParameterSpace().set_index_parameter(index, "nprobe", spec.nprobe)
    for block in blocks():
        index.add(np.ascontiguousarray(block, dtype=np.float32))
    return index


def _pieces(blocks: Blocks) -> Iterator[np.ndarray]:
    for block in blocks():
        for i in range(0, len(block), QUERY_BLOCK):
            yield np.ascontiguousarray(block[i : i + QUERY_BLOCK], dtype=np.float32)


def knn(
    database: Blocks,
    n_db: int,
    queries: Blocks,
    n_queries: int,
    dim: int,
    k: int,
    spec: IndexSpec,
    *,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest database rows of every query by inner product.

    Args:
        database, queries: passes over unit-norm float32 (B, D) blocks; ``n_db``/``n_queries``
            rows in all. k: clipped to ``n_db``.
        spec: from :func:`plan`. progress: ``progress(queries done, n_queries)`` per block.
    Returns:
        ``(sims (n_queries, k) float32, indices (n_queries, k) int64)``, best first. An IVF query
        whose probed lists hold fewer than k vectors is searched again over all lists.
    """
    import faiss

    k = min(k, n_db)
    index = _build(spec, database, n_db, dim, seed)
    sims = np.empty((n_queries, k), dtype=np.float32)
    inds = np.empty((n_queries, k), dtype=np.int64)
    done = 0
    for block in _pieces(queries):
        d, i = index.search(block, k)  # (B, k) each
        short = (i < 0).any(axis=1)
        if short.any():
            params = faiss.ParameterSpace()
            params.set_index_parameter(index, "nprobe", spec.nlist)
            d[short], i[short] = index.search(np.ascontiguousarray(block[short]), k)
            params.set_index_parameter(index, "nprobe", spec.nprobe)
        sims[done : done + len(block)], inds[done : done + len(block)] = d, i
        done += len(block)
        if progress is not None:
            progress(done, n_queries)
    if done != n_queries:
        raise ValueError(f"the query blocks held {done} rows, expected {n_queries}")
    return sims, inds
