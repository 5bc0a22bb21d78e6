"""k nearest neighbours by inner product with FAISS: the one module that imports ``faiss``.

Vectors arrive as float32 row blocks, already L2-normalised (inner product = cosine), from a
callable that starts a fresh pass over them (:data:`Blocks`), so neither side has to sit in
memory outside the index, and no (N, M) matrix is ever formed: FAISS keeps each query's k best.

Index choice (:func:`plan`, pure), by the number of vectors ``n`` in the index (one side):

- ``flat``: ``IndexFlatIP``, exact. ``auto`` takes it while ``n <= FLAT_MAX_ROWS`` (200,000 on
  CPU: one exact pass over 200k x 200k at D=384 took about 10 minutes per direction on 2 shared
  cores here; 2,000,000 with GPUs, where 2M x 1024 float32 is 8 GiB of GPU memory).
- ``ivf``: ``IndexIVFFlat`` with ``nlist = min(4 * sqrt(n), n / 39)`` lists (FAISS's guideline:
  4..16 sqrt(n) lists, at least 39 training points each). Cosines stay exact; a true neighbour
  in an unprobed list is missed, so unless given, the lists probed per query (``nprobe``) are
  measured on the built index: :func:`calibrate` takes the fewest whose recall@k against exact
  search reaches ``RECALL_TARGET`` on sampled queries. No fixed share of the lists serves all
  data (e5 embeddings: recall@4 0.985 at 83 of 664 lists; clustered synthetic: 0.996 at 2 of 1,265).
- ``ivfpq``: ``IndexIVFPQ``, the same lists with vectors compressed to ``m`` bytes (``m`` the
  largest divisor of D up to min(64, D/4): 64 bytes instead of 1,536 at D=384; 8 bits per code,
  fewer when n is small) for sides that do not fit in memory as float32. Its cosines are
  approximations: nprobe is calibrated against the same index probing every list.

On CPU ``ivf`` is searched list by list (:func:`search_by_list`); small explicit IVF indexes
(``n < IVF_MIN_ROWS``) are searched flat; with GPUs every index is sharded over all of them.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

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
# queries per search call: by list, 65,536 at a time were 1.1-1.6x faster than 16,384 (more
# queries share each list's product); fewer when each probes many lists, so that a block's
# (query, list) pairs (32 bytes each while sorted) stay within 128 MiB
QUERY_BLOCK = 65_536
PROBES_PER_BLOCK = 1 << 22


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
class Calibration:
    """How :func:`calibrate` chose nprobe: recall@k of the sampled queries at each nprobe tried."""

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
    ``nprobe`` of 0 is chosen by :func:`calibrate` once the index is built)."""

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


class Found(NamedTuple):
    """What :func:`knn` returns: neighbours best first, and the index as searched."""

    sims: np.ndarray  # (Q, k) float32
    inds: np.ndarray  # (Q, k) int64
    spec: IndexSpec  # nprobe filled in and its calibration, when measured


def ivf_lists(n: int) -> int:
    """``nlist`` for ``n`` indexed vectors (nprobe is measured: :func:`calibrate`)."""
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
    (at most ``nlist``), 0 leaves it to :func:`calibrate`: the search time grows with it."""
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


def _sample(blocks: Blocks, n: int, size: int, seed: int) -> np.ndarray:
    """``size`` rows drawn without replacement (seeded), gathered in one pass over the blocks."""
    rows = np.sort(np.random.default_rng(seed).choice(n, size=min(size, n), replace=False))
    out, start = [], 0
    for block in blocks():
        lo, hi = np.searchsorted(rows, [start, start + len(block)])
        out.append(block[rows[lo:hi] - start])
        start += len(block)
    return np.ascontiguousarray(np.concatenate(out), dtype=np.float32)


def exact_knn(database: Blocks, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``k`` best database rows of ``queries`` (Q, D), one pass over the blocks (each
    block searched flat, the results merged in a heap): ``(sims (Q, k), inds (Q, k))``."""
    import faiss

    heap = faiss.ResultHeap(len(queries), k, keep_max=True)
    start = 0
    for block in database():
        block = np.ascontiguousarray(block, dtype=np.float32)
        d, i = faiss.knn(queries, block, min(k, len(block)), metric=faiss.METRIC_INNER_PRODUCT)
        heap.add_result(d, i + start)
        start += len(block)
    heap.finalize()
    return heap.D, heap.I


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
    for block in blocks():
        index.add(np.ascontiguousarray(block, dtype=np.float32))
    return index


def search_by_list(index: Any, queries: np.ndarray, k: int, nprobe: int) -> tuple[np.ndarray, np.ndarray]:
    """``IndexIVFFlat.search`` inside out: each list scored against all the queries probing it
    in one product (``faiss.knn``, BLAS) instead of query by query; the same candidates (each
    query's nprobe nearest lists), so the same neighbours (-1 where fewer than k, as FAISS).
    1.3x (2 probes of 1,265 lists) to 3.5x (16 probes) faster on 100k synthetic rows, 2 cores.
    The lists are shared among ``omp_get_max_threads()`` threads, each with its own heap and one
    FAISS thread (no OpenMP team woken per small product; ``faiss.contrib.big_batch_search``,
    the same idea, prints progress)."""
    import faiss

    assign = index.quantizer.search(queries, nprobe)[1].ravel()  # (Q * nprobe,) list ids, -1: none
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(index.nlist + 1))  # list l: bounds[l:l + 2]
    asking = order // nprobe  # the query of each (query, list) pair, grouped by list
    inv = index.invlists
    lists = [no for no in np.flatnonzero(np.diff(bounds)).tolist() if inv.list_size(no)]  # probed, not empty
    workers = max(1, faiss.omp_get_max_threads())

    def scan(part: int) -> Any:
        faiss.omp_set_num_threads(1)  # this thread only (OpenMP settings are per thread)
        heap = faiss.ResultHeap(len(queries), k, keep_max=True)
        for no in lists[part::workers]:
            size, mine = inv.list_size(no), asking[bounds[no] : bounds[no + 1]]
            ids = faiss.rev_swig_ptr(inv.get_ids(no), size)  # views of the list, no copy
            vecs = faiss.rev_swig_ptr(inv.get_codes(no), size * index.code_size).view(np.float32)
            d, i = faiss.knn(queries[mine], vecs.reshape(size, -1), min(k, size), metric=index.metric_type)
            heap.add_result_subset(mine, d, ids[i])
        return heap

    with ThreadPoolExecutor(workers) as pool:
        heap, *others = pool.map(scan, range(workers))
    for other in others:
        heap.add_result(other.D, other.I)
    heap.finalize()
    return heap.D, heap.I


def _search(index: Any, queries: np.ndarray, k: int, spec: IndexSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(sims, inds)`` (Q, k) of ``queries`` at ``spec.nprobe``; a query whose probed lists hold
    fewer than k vectors is searched again over all lists."""
    import faiss

    if spec.kind == "flat":
        return index.search(queries, k)  # type: ignore[no-any-return]
    params = faiss.ParameterSpace()
    params.set_index_parameter(index, "nprobe", spec.nprobe)
    by_list = spec.kind == "ivf" and not spec.gpus
    d, i = search_by_list(index, queries, k, spec.nprobe) if by_list else index.search(queries, k)
    short = (i < 0).any(axis=1)
    if short.any():
        params.set_index_parameter(index, "nprobe", spec.nlist)
        d[short], i[short] = index.search(np.ascontiguousarray(queries[short]), k)
    return d, i


def calibrate(
    index: Any, spec: IndexSpec, sample: np.ndarray, reference: np.ndarray, *, against: str = "exact search",
    target: float = RECALL_TARGET,
) -> Calibration:  # fmt: skip
    """The fewest lists (:func:`choose_nprobe`) whose recall@k of the ``sample`` queries (S, D)
    against ``reference`` (S, k), their true neighbours, reaches ``target`` on the built index."""
    k = reference.shape[1]

    def recall_of(nprobe: int) -> float:
        return recall_at_k(_search(index, sample, k, replace(spec, nprobe=nprobe))[1], reference)

    nprobe, tried = choose_nprobe(recall_of, spec.nlist, target)
    return Calibration(nprobe, dict(tried)[nprobe], tried, k, len(sample), against, target)


def _pieces(blocks: Blocks, rows: int) -> Iterator[np.ndarray]:
    """The rows of ``blocks`` as float32 pieces of ``rows`` rows (the last one shorter)."""
    held: np.ndarray = np.empty((0, 0), dtype=np.float32)
    for block in blocks():
        held = np.concatenate([held, block]) if len(held) else block
        while len(held) >= rows:
            yield np.ascontiguousarray(held[:rows], dtype=np.float32)
            held = held[rows:]
    if len(held):
        yield np.ascontiguousarray(held, dtype=np.float32)


def knn(
    database: Blocks, n_db: int, queries: Blocks, n_queries: int, dim: int, k: int, spec: IndexSpec, *,
    progress: Callable[[int, int], None] | None = None, seed: int = 0,
) -> Found:  # fmt: skip
    """The ``k`` nearest database rows of every query by inner product.

    Args:
        database, queries: passes over unit-norm float32 (B, D) blocks; ``n_db``/``n_queries``
            rows in all. k: clipped to ``n_db``.
        spec: from :func:`plan`; an IVF nprobe of 0 is measured first (:func:`calibrate`).
        progress: ``progress(queries done, n_queries)`` per block. seed: training sample,
            k-means and the calibration's queries.
    Returns:
        :class:`Found`: ``(sims (n_queries, k) float32, indices (n_queries, k) int64)`` best
        first, and ``spec`` as searched (nprobe measured). An IVF query whose probed lists hold
        fewer than k vectors is searched again over all lists.
    """
    k = min(k, n_db)
    index = _build(spec, database, n_db, dim, seed)
    if spec.kind != "flat" and not spec.nprobe:  # measured on sampled queries (seeded)
        sample = _sample(queries, n_queries, CALIBRATION_QUERIES, seed)
        if spec.kind == "ivf":
            cal = calibrate(index, spec, sample, exact_knn(database, sample, k)[1])
        else:  # PQ's cosines are approximate whatever nprobe: the reference probes every list
            every = _search(index, sample, k, replace(spec, nprobe=spec.nlist))[1]
            cal = calibrate(index, spec, sample, every, against="all lists")
        spec = replace(spec, nprobe=cal.nprobe, calibration=cal)
    sims, inds = np.empty((n_queries, k), dtype=np.float32), np.empty((n_queries, k), dtype=np.int64)
    done = 0
    rows = QUERY_BLOCK if spec.kind == "flat" else max(1, min(QUERY_BLOCK, PROBES_PER_BLOCK // spec.nprobe))
    for block in _pieces(queries, rows):
        sims[done : done + len(block)], inds[done : done + len(block)] = _search(index, block, k, spec)
        done += len(block)
        if progress is not None:
            progress(done, n_queries)
    if done != n_queries:
        raise ValueError(f"the query blocks held {done} rows, expected {n_queries}")
    return Found(sims, inds, spec)
