"""k nearest neighbours of both sides in each other, with FAISS or (small and without FAISS) numpy.

FAISS (:mod:`langgap.knn`) is used whenever it is installed. Without it an exact blocked numpy
search (:func:`langgap.metrics.similarity.topk_cosine`: 256 queries x the other side at a time) stands in up to ``NUMPY_MAX_ROWS`` distinct texts per side; above that mining refuses
before any work and says to ``pip install faiss-cpu``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from langgap import knn
from langgap.errors import InputError
from langgap.metrics.similarity import topk_cosine
from langgap.mining.sides import Side

NUMPY_MAX_ROWS = 50_000  # distinct texts per side searched without FAISS
StageProgress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class Neighbours:
    """``k``-NN lists of both directions (distinct indices, best first) and how they were found."""

    fwd_sims: np.ndarray  # (U_src, k) cos(x, NN_k(x)), NN_k(x) among the targets
    fwd_inds: np.ndarray  # (U_src, k)
    bwd_sims: np.ndarray  # (U_tgt, k) cos(y, NN_k(y)), NN_k(y) among the sources
    bwd_inds: np.ndarray  # (U_tgt, k)
    search: dict[str, str]  # backend and the index of each direction
    nprobe: dict[str, dict[str, Any]] = field(default_factory=dict)  # direction -> how it was measured


def check_search(n_src: int, n_tgt: int, index: str) -> str:
    """Before any work: the backend (``faiss`` or ``numpy``) for sides of these distinct sizes.

    Raises:
        InputError: FAISS is missing and the sides are too big for numpy, or ``--index`` asks
            for an IVF index.
    """
    if knn.available():
        return "faiss"
    if index in ("ivf", "ivfpq"):
        raise InputError(f"--index {index} needs FAISS: pip install faiss-cpu (or faiss-gpu)")
    if max(n_src, n_tgt) > NUMPY_MAX_ROWS:
        raise InputError(
            f"{max(n_src, n_tgt):,} distinct texts on one side; without FAISS langgap mines up to "
            f"{NUMPY_MAX_ROWS:,} per side: pip install faiss-cpu (or faiss-gpu)"
        )
    return "numpy"


def calibration_record(cal: knn.Calibration) -> dict[str, Any]:
    """``mine.json``'s account of a measured nprobe: the choice, its recall, every value tried."""
    return {
        "nprobe": cal.nprobe,
        "recall_at_k": cal.recall,
        "k": cal.k,
        "target": cal.target,
        "queries": cal.queries,
        "against": cal.against,
        "tried": {str(p): r for p, r in cal.tried},
    }


def _one_way(
    queries: Side,
    corpus: Side,
    k: int,
    index: str,
    nprobe: int,
    backend: str,
    stage: str,
    progress: StageProgress | None,
) -> tuple[np.ndarray, np.ndarray, knn.IndexSpec | None]:
    if queries.blocks is None or corpus.blocks is None:
        raise ValueError("a side has no vectors yet (langgap.mining.sides.attach)")
    report = (lambda done, total: progress(stage, done, total)) if progress else None
    if backend == "faiss":
        spec = knn.plan(index, len(corpus), corpus.dim, knn.gpu_count(), nprobe)
        found = knn.knn(
            corpus.blocks, len(corpus), queries.blocks, len(queries), corpus.dim, k, spec, progress=report
        )
        return found.sims, found.inds, found.spec
    db = np.concatenate(list(corpus.blocks()))  # (U, D), at most NUMPY_MAX_ROWS rows
    parts, done = [], 0
    for block in queries.blocks():
        parts.append(topk_cosine(block, db, k, block=256))  # 256 x U cosines at a time
        done += len(block)
        if report:
            report(done, len(queries))
    sims = np.concatenate([s for s, _ in parts])
    inds = np.concatenate([i for _, i in parts])
    return sims, inds, None


def neighbours(
    src: Side,
    tgt: Side,
    *,
    k: int,
    index: str = "auto",
    nprobe: int = 0,
    progress: StageProgress | None = None,
) -> Neighbours:
    """The ``k`` nearest targets of every distinct source and the ``k`` nearest sources of every
    distinct target, by cosine (see the module docstring for the backend; ``nprobe``: IVF lists
    probed per query, 0 to measure the fewest that keep :data:`langgap.knn.RECALL_TARGET` of
    the true neighbours, :func:`langgap.knn.calibrate`)."""
    backend = check_search(len(src), len(tgt), index)
    fs, fi, f_spec = _one_way(src, tgt, k, index, nprobe, backend, "kNN src→tgt", progress)
    bs, bi, b_spec = _one_way(tgt, src, k, index, nprobe, backend, "kNN tgt→src", progress)
    specs = {"src→tgt": f_spec, "tgt→src": b_spec}
    search = {
        way: spec.describe() if spec else "exact (numpy, FAISS not installed)" for way, spec in specs.items()
    }
    measured = {way: calibration_record(s.calibration) for way, s in specs.items() if s and s.calibration}
    return Neighbours(fs, fi, bs, bi, {"backend": backend, **search}, measured)
