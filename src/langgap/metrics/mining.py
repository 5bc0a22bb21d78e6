"""Bitext mining from k-nearest-neighbour lists: margin scores, retrieval modes, BUCC metrics.

Margin scoring as in LASER's ``mine_bitexts.py`` (Artetxe & Schwenk 2019, "Margin-based
Parallel Corpus Mining with Multilingual Sentence Embeddings"). With ``NN_k(x)`` the ``k``
nearest targets of source ``x`` and ``NN_k(y)`` the ``k`` nearest sources of target ``y`` (by
cosine), a candidate pair is scored

    score(x, y) = margin(cos(x, y), (mean_{z in NN_k(x)} cos(x, z) + mean_{z in NN_k(y)} cos(y, z)) / 2)

with ``margin(a, b)`` = ``a / b`` (ratio, LASER's default), ``a - b`` (distance) or ``a``
(absolute: plain cosine). The candidates of ``x`` are its ``k`` nearest targets; its best
target is the candidate of highest score (forward), and symmetrically for ``y`` (backward).

Retrieval modes (LASER's ``--retrieval``: ``fwd``, ``bwd``, ``intersect``, ``max``):

- ``forward``: every source with its best target (targets may repeat);
- ``backward``: every target with its best source;
- ``intersection``: the forward pairs whose target's best source is that source again;
- ``max``: forward and backward pairs together, by decreasing score, each source and each
  target used at most once (a pair is taken when neither side was taken by a better one).

Every function here is pure numpy on arrays of (distinct) row indices; the k-NN search itself
is :mod:`langgap.mining`'s job. The BUCC 2018 evaluation (Zweigenbaum et al. 2018) compares mined
pairs with gold pairs: at a threshold ``t`` the pairs with ``score >= t`` are kept, precision is
the share of kept pairs in the gold, recall the share of gold pairs kept; the F1-optimal ``t``
over the candidates' scores is the midpoint between the last kept score and the next one (as
LASER's ``bucc.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from langgap.types import FloatArray

Margin = Literal["ratio", "distance", "absolute"]
Mode = Literal["forward", "backward", "intersection", "max"]
MARGINS: tuple[Margin, ...] = ("ratio", "distance", "absolute")
MODES: tuple[Mode, ...] = ("forward", "backward", "intersection", "max")
IntArray = np.ndarray
# pairs with score >= threshold are kept; measured on BUCC-style sets (see langgap.mining)
DEFAULT_THRESHOLDS: dict[str, float] = {"ratio": 1.03, "distance": 0.027, "absolute": 0.90}


def margin_score(a: FloatArray, b: FloatArray, margin: Margin) -> np.ndarray:
    """``margin(a, b)``: ``a / b`` (ratio), ``a - b`` (distance) or ``a`` (absolute), elementwise."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if margin == "ratio":
        return a / b
    if margin == "distance":
        return a - b
    if margin == "absolute":
        return np.broadcast_arrays(a, b)[0].copy()  # the shape the others give
    raise ValueError(f"unknown margin {margin!r}; expected one of {', '.join(MARGINS)}")


def candidate_scores(
    sims: FloatArray, inds: IntArray, own_mean: FloatArray, other_mean: FloatArray, margin: Margin
) -> np.ndarray:
    """Margin scores of each row's k candidates.

    Args:
        sims: (N, k) cosines of row ``i`` with its candidates ``inds[i]`` (its k nearest
            neighbours on the other side); inds: (N, k).
        own_mean: (N,) ``mean_k cos(x_i, NN_k(x_i))``; other_mean: (M,) the same for the other side.
        margin: see :func:`margin_score`.
    Returns:
        (N, k) float64: ``out[i, j] = margin(sims[i, j], (own_mean[i] + other_mean[inds[i, j]]) / 2)``.
    """
    own = np.asarray(own_mean, dtype=np.float64)
    other = np.asarray(other_mean, dtype=np.float64)
    denom = (own[:, None] + other[np.asarray(inds)]) / 2  # (N, k)
    return margin_score(sims, denom, margin)  # (N, k)


def best_candidates(
    sims: FloatArray, inds: IntArray, own_mean: FloatArray, other_mean: FloatArray, margin: Margin
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's best candidate by margin score: ``(index (N,) int64, score (N,) float64)``.

    Ties go to the earlier candidate (the nearer one by cosine, as ``argmax`` in LASER).
    """
    scores = candidate_scores(sims, inds, own_mean, other_mean, margin)  # (N, k)
    col = scores.argmax(axis=1)  # (N,)
    rows = np.arange(len(scores))
    return np.asarray(inds)[rows, col].astype(np.int64), scores[rows, col]


def _by_score(
    src: np.ndarray, tgt: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-score, kind="stable")  # best first; equal scores keep their order
    return src[order].astype(np.int64), tgt[order].astype(np.int64), score[order].astype(np.float64)


def retrieve(
    fwd_best: IntArray, fwd_score: FloatArray, bwd_best: IntArray, bwd_score: FloatArray, mode: Mode
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mined pairs of one retrieval mode (see the module docstring), best first.

    Args:
        fwd_best, fwd_score: (N,) each source's best target and its score.
        bwd_best, bwd_score: (M,) each target's best source and its score.
        mode: ``forward``, ``backward``, ``intersection`` or ``max``.
    Returns:
        ``(src, tgt, score)``, each (P,), sorted by decreasing score; equal scores keep the order
        forward pairs by source, then backward pairs by target.
    """
    fwd_best, bwd_best = np.asarray(fwd_best, np.int64), np.asarray(bwd_best, np.int64)
    fwd_score, bwd_score = np.asarray(fwd_score, np.float64), np.asarray(bwd_score, np.float64)
    src_all = np.arange(len(fwd_best))
    if mode == "forward":
        return _by_score(src_all, fwd_best, fwd_score)
    if mode == "backward":
        return _by_score(bwd_best, np.arange(len(bwd_best)), bwd_score)
    if mode == "intersection":
        mutual = bwd_best[fwd_best] == src_all if len(bwd_best) else np.zeros(0, bool)  # (N,)
        return _by_score(src_all[mutual], fwd_best[mutual], fwd_score[mutual])
    if mode == "max":
        src, tgt, score = _by_score(
            np.concatenate([src_all, bwd_best]),
            np.concatenate([fwd_best, np.arange(len(bwd_best))]),
            np.concatenate([fwd_score, bwd_score]),
        )
        used_src = np.zeros(len(fwd_best), dtype=bool)
        used_tgt = np.zeros(len(bwd_best), dtype=bool)
        keep = np.zeros(len(src), dtype=bool)
        for p, (i, j) in enumerate(zip(src.tolist(), tgt.tolist(), strict=True)):
            if not used_src[i] and not used_tgt[j]:
                used_src[i] = used_tgt[j] = keep[p] = True
        return src[keep], tgt[keep], score[keep]
    raise ValueError(f"unknown retrieval mode {mode!r}; expected one of {', '.join(MODES)}")


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 of mined pairs against gold pairs at one threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    kept: int  # pairs with score >= threshold
    correct: int  # of those, pairs in the gold


def _check_sides(src: IntArray, tgt: IntArray, scores: FloatArray) -> None:
    if not len(src) == len(tgt) == len(scores):
        raise ValueError(
            f"mined pairs need as many sources, targets and scores: got {len(src)}, {len(tgt)} and {len(scores)}"
        )


def _correct(src: IntArray, tgt: IntArray, gold: set[tuple[int, int]]) -> np.ndarray:
    return np.fromiter(
        ((i, j) in gold for i, j in zip(np.asarray(src).tolist(), np.asarray(tgt).tolist(), strict=True)),
        dtype=bool,
        count=len(src),
    )


def _prf(threshold: float, kept: int, correct: int, n_gold: int) -> PRF:
    p = correct / kept if kept else 0.0
    r = correct / n_gold if n_gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return PRF(float(threshold), p, r, f1, int(kept), int(correct))


def precision_recall_f1(
    src: IntArray, tgt: IntArray, scores: FloatArray, gold: set[tuple[int, int]], threshold: float
) -> PRF:
    """BUCC precision, recall and F1 of the mined pairs ``(src[p], tgt[p])`` with
    ``scores[p] >= threshold`` against the ``gold`` pairs (distinct ``(src, tgt)`` indices)."""
    _check_sides(src, tgt, scores)
    kept = np.asarray(scores, dtype=np.float64) >= threshold  # (P,)
    correct = _correct(src, tgt, gold) & kept
    return _prf(threshold, int(kept.sum()), int(correct.sum()), len(gold))


def best_f1_threshold(src: IntArray, tgt: IntArray, scores: FloatArray, gold: set[tuple[int, int]]) -> PRF:
    """The F1-optimal threshold over the candidates' scores (BUCC 2018, LASER's ``bucc.py``).

    Candidates are taken best first; only cuts between different scores count (equal scores are
    kept or dropped together). The threshold is the midpoint between the last kept score and the
    next lower one (the last score itself when every candidate is kept); on equal F1 the higher
    threshold wins. With no gold pair among the candidates: F1 0 at threshold ``inf``.
    """
    _check_sides(src, tgt, scores)
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    s = s[order]
    hits = np.cumsum(_correct(np.asarray(src)[order], np.asarray(tgt)[order], gold))  # (P,)
    if not len(s) or hits[-1] == 0:
        return _prf(float("inf"), 0, 0, len(gold))
    kept = np.arange(1, len(s) + 1)
    cut = np.append(s[1:] < s[:-1], True)  # a threshold can fall after position i
    p, r = hits / kept, hits / max(len(gold), 1)
    f1 = np.where(cut & (hits > 0), 2 * p * r / np.maximum(p + r, 1e-300), -1.0)
    i = int(f1.argmax())  # first maximum: the highest threshold
    mid = (s[i] + s[i + 1]) / 2 if i + 1 < len(s) else s[i]
    threshold = mid if i + 1 == len(s) or mid > s[i + 1] else s[i]  # scores one ulp apart
    return _prf(threshold, int(kept[i]), int(hits[i]), len(gold))


def mine_from_knn(
    fwd: tuple[FloatArray, IntArray], bwd: tuple[FloatArray, IntArray], margin: Margin, mode: Mode
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mined pairs ``(src, tgt, score)`` of one mode, best first, from the two k-NN lists:
    ``fwd = (sims (N, k), inds (N, k))`` of the sources among the targets, ``bwd`` the reverse."""
    fwd_mean, bwd_mean = np.asarray(fwd[0]).mean(axis=1), np.asarray(bwd[0]).mean(axis=1)  # (N,), (M,)
    fwd_best, fwd_score = best_candidates(fwd[0], fwd[1], fwd_mean, bwd_mean, margin)
    bwd_best, bwd_score = best_candidates(bwd[0], bwd[1], bwd_mean, fwd_mean, margin)
    return retrieve(fwd_best, fwd_score, bwd_best, bwd_score, mode)


def gold_outcomes(
    src: IntArray, tgt: IntArray, scores: FloatArray, gold: list[tuple[int, int]], threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per gold pair (in order), whether it is mined with ``score >= threshold`` (G,) bool, and the
    false positives spread over the gold pairs: (G,) each ``FP / G`` (so that a resample's sum is
    the run's FP; what ``langgap compare`` resamples for precision and F1)."""
    _check_sides(src, tgt, scores)
    kept = np.asarray(scores, dtype=np.float64) >= threshold
    found = {(int(a), int(b)) for a, b, k in zip(src, tgt, kept, strict=True) if k}
    hits = np.array([pair in found for pair in gold], dtype=bool)  # (G,)
    fp = len(found) - int(hits.sum())
    return hits, np.full(len(gold), fp / max(len(gold), 1))


def bucc_scores(
    fwd: tuple[FloatArray, IntArray],
    bwd: tuple[FloatArray, IntArray],
    gold: list[tuple[int, int]],
    *,
    margin: Margin = "ratio",
    mode: Mode = "forward",
    threshold: float | None = None,
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """A BUCC-style evaluation from the two k-NN lists of a mining set (see :func:`mine_from_knn`).

    The pairs of ``mode`` are scored against ``gold`` (distinct ``(src, tgt)`` row pairs) at the
    F1-best threshold (BUCC 2018: an oracle threshold, the best this embedding space allows) and
    at ``threshold`` (default: :data:`DEFAULT_THRESHOLDS` of ``margin``, what ``langgap mine``
    keeps without calibration).

    Returns:
        ``(metrics, items)``: ``mining_{f1,precision,recall,threshold}`` and the same with
        ``_default``, plus ``mining_gold_pairs`` and ``mining_candidates``; per gold pair (G,)
        ``gold_found_{best,default}`` and ``false_positive_share_{best,default}`` (:func:`gold_outcomes`).
    """
    fixed_t = DEFAULT_THRESHOLDS[margin] if threshold is None else float(threshold)
    src, tgt, scores = mine_from_knn(fwd, bwd, margin, mode)
    gold_set = set(gold)
    if len(gold_set) != len(gold):
        raise ValueError("gold pairs must be distinct")
    best = best_f1_threshold(src, tgt, scores, gold_set)
    fixed = precision_recall_f1(src, tgt, scores, gold_set, fixed_t)
    metrics: dict[str, float] = {}
    items: dict[str, np.ndarray] = {}
    for suffix, prf, name in (("", best, "best"), ("_default", fixed, "default")):
        metrics.update(
            {
                f"mining_f1{suffix}": prf.f1,
                f"mining_precision{suffix}": prf.precision,
                f"mining_recall{suffix}": prf.recall,
                f"mining_threshold{suffix}": prf.threshold if np.isfinite(prf.threshold) else float("nan"),
            }
        )
        found, fp = gold_outcomes(src, tgt, scores, gold, prf.threshold)
        items[f"gold_found_{name}"], items[f"false_positive_share_{name}"] = found, fp
    metrics["mining_gold_pairs"] = float(len(gold))
    metrics["mining_candidates"] = float(len(src))
    return metrics, items
