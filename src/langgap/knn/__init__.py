"""k nearest neighbours by inner product with FAISS: the one module that imports ``faiss``.

Vectors arrive as float32 row blocks, already L2-normalised (inner product = cosine), from a
callable that starts a fresh pass over them (:data:`Blocks`), so neither side has to sit in
memory outside the index, and no (N, M) matrix is ever formed: FAISS keeps each query's k best.

The index (flat, IVF or IVF-PQ) is chosen by :func:`langgap.knn.planning.plan`, whose module
says how. On CPU ``ivf`` is searched list by list (:func:`search_by_list`); small explicit IVF
indexes (``n < IVF_MIN_ROWS``) are searched flat; with GPUs every index is sharded over all of them.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from langgap.knn.planning import (
    CALIBRATION_QUERIES,
    FLAT_MAX_ROWS,
    FLAT_MAX_ROWS_GPU,
    INDEXES,
    IVF_MIN_ROWS,
    RECALL_TARGET,
    Blocks,
    Calibration,
    IndexSpec,
    choose_nprobe,
    ivf_lists,
    plan,
    pq_shape,
    recall_at_k,
)

__all__ = [
    "CALIBRATION_QUERIES",
    "FLAT_MAX_ROWS",
    "FLAT_MAX_ROWS_GPU",
    "INDEXES",
    "IVF_MIN_ROWS",
    "RECALL_TARGET",
    "Blocks",
    "Calibration",
    "Found",
    "IndexSpec",
    "available",
    "calibrate",
    "choose_nprobe",
    "exact_knn",
    "gpu_count",
    "ivf_lists",
    "knn",
    "plan",
    "pq_shape",
    "recall_at_k",
    "search_by_list",
]

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


class Found(NamedTuple):
    """What :func:`knn` returns: neighbours best first, and the index as searched."""

    sims: np.ndarray  # (Q, k) float32
    inds: np.ndarray  # (Q, k) int64
    spec: IndexSpec  # nprobe filled in and its calibration, when measured


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
    index: Any,
    spec: IndexSpec,
    sample: np.ndarray,
    reference: np.ndarray,
    *,
    against: str = "exact search",
    target: float = RECALL_TARGET,
) -> Calibration:
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
) -> Found:
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
