"""Paired resampling statistics: how sure is a change between two runs on the same items?

Two runs A and B scored the same N items (sentence pairs, STS pairs). For a statistic
``stat`` of the per-item outcomes (a mean accuracy, a mean cosine, an STS Spearman):

- :func:`paired_bootstrap_ci` resamples the N items with replacement, the **same** indices for
  A and B, and returns the percentile interval of ``stat(B*) - stat(A*)`` (Efron & Tibshirani
  1993, ch. 13; Koehn 2004 for the paired form in MT evaluation).
- :func:`paired_permutation_pvalue` exchanges A's and B's outcome of each item with
  probability 1/2 (the null hypothesis: the runs are exchangeable) and returns the two-sided
  p-value ``(count + 1) / (n_perm + 1)`` with ``count`` the permutations whose ``|delta|``
  reaches the observed one (Phipson & Smyth 2010: never 0).

**The statistic is vectorised over resamples.** ``stat_fn(*arrays)`` gets each item array with
a leading resample axis, shape ``(R, N, ...)``, and returns ``(R,)``: ``mean_stat`` is
``x.mean(axis=1)``. The observed value is ``stat_fn`` on ``x[None]`` (R = 1). Resamples are
drawn as an index matrix ``(R, N)`` in chunks that bound memory; chunking does not change the
numbers (the generator's stream is consumed in the same order).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from scipy.stats import rankdata

from langgap.metrics.ranks import rank_correlation

ItemArrays = np.ndarray | Sequence[np.ndarray]
# stat_fn(*arrays) with arrays of shape (R, N, ...) -> (R,)
StatFn = Callable[..., np.ndarray]

_CHUNK_ELEMENTS = 4_000_000  # item values gathered per chunk (per run), about 32 MB of float64


def mean_stat(x: np.ndarray) -> np.ndarray:
    """Mean over items (and any trailing axes): ``(R, N, ...) -> (R,)``."""
    return np.asarray(x, dtype=np.float64).reshape(len(x), -1).mean(axis=1)


def nanmean_stat(x: np.ndarray) -> np.ndarray:
    """Mean over items ignoring NaN (per-item Spearman of a constant ranking): ``(R, N) -> (R,)``."""
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN resample is NaN, said by the value
        return np.nanmean(flat, axis=1)


def spearman_stat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman correlation of ``x[r]`` against ``y[r]`` for every resample ``r``: ``(R, N) -> (R,)``.

    Average ranks for ties, as :func:`scipy.stats.spearmanr` (a bootstrap resample repeats
    items, so ties are the rule). NaN where a resample's ranking is constant.
    """
    return rank_correlation(rankdata(x, axis=-1), rankdata(y, axis=-1))  # (R,)


def _as_arrays(items: ItemArrays) -> tuple[np.ndarray, ...]:
    arrays = (items,) if isinstance(items, np.ndarray) else tuple(items)
    if not arrays:
        raise ValueError("no item arrays given")
    out = tuple(np.asarray(x) for x in arrays)
    if any(x.ndim == 0 for x in out):
        raise ValueError("item arrays need an item axis (shape (N, ...)), got a scalar")
    n = len(out[0])
    if any(len(x) != n for x in out):
        raise ValueError(f"item arrays of one run differ in length: {[len(x) for x in out]}")
    return out


def _paired(
    a_items: ItemArrays, b_items: ItemArrays
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], int]:
    a, b = _as_arrays(a_items), _as_arrays(b_items)
    if [x.shape for x in a] != [y.shape for y in b]:
        raise ValueError(
            f"paired items must have the same shapes, got A {[x.shape for x in a]} and B {[y.shape for y in b]}"
        )
    n = len(a[0])
    if n < 1:
        raise ValueError("no items to resample (N = 0)")
    return a, b, n


def _chunks(total: int, arrays: tuple[np.ndarray, ...]) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` blocks of resamples so that one block gathers about ``_CHUNK_ELEMENTS`` values."""
    per_resample = max(1, sum(x.size for x in arrays))
    size = max(1, _CHUNK_ELEMENTS // per_resample)
    for start in range(0, total, size):
        yield start, min(start + size, total)


def _mean_difference(
    stat_fn: StatFn, a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]
) -> np.ndarray | None:
    """Fast path for :func:`mean_stat`: the per-item difference ``d`` (N,), as
    ``mean(B*) - mean(A*) = mean(d*)`` (equal up to rounding); ``None`` for any other statistic."""
    if stat_fn is not mean_stat or len(a) != 1:
        return None
    n = len(a[0])
    return (b[0].astype(np.float64) - a[0].astype(np.float64)).reshape(n, -1).mean(axis=1)


def _resampling_inputs(
    stat_fn: StatFn, a_items: ItemArrays, b_items: ItemArrays, count: int, name: str
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], int, np.ndarray | None]:
    """``(a, b, N, diff)`` for ``count`` resamples (``name``: the option, for the error): the
    checked paired arrays and the :func:`_mean_difference` fast path (or ``None``)."""
    if count < 1:
        raise ValueError(f"{name} must be >= 1, got {count}")
    a, b, n = _paired(a_items, b_items)
    return a, b, n, _mean_difference(stat_fn, a, b)


def statistic(stat_fn: StatFn, items: ItemArrays) -> float:
    """``stat_fn`` on all items (no resampling) as a float."""
    arrays = _as_arrays(items)
    return float(np.asarray(stat_fn(*(x[None] for x in arrays))).reshape(-1)[0])


def bootstrap_deltas(
    stat_fn: StatFn, a_items: ItemArrays, b_items: ItemArrays, *, n_boot: int = 2000, seed: int = 0
) -> np.ndarray:
    """``stat(B*) - stat(A*)`` on ``n_boot`` paired resamples, shape (n_boot,).

    Resample ``r`` draws ``idx = rng.integers(0, N, N)`` (in that order from
    ``np.random.default_rng(seed)``) and uses the same ``idx`` for A and B.
    """
    a, b, n, diff = _resampling_inputs(stat_fn, a_items, b_items, n_boot, "n_boot")
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for start, stop in _chunks(n_boot, a):
        idx = rng.integers(0, n, size=(stop - start, n))  # (C, N): row r = items of resample r
        if diff is not None:
            out[start:stop] = diff[idx].mean(axis=1)  # (C,)
        else:
            out[start:stop] = stat_fn(*(y[idx] for y in b)) - stat_fn(*(x[idx] for x in a))  # (C,)
    return out


def paired_bootstrap_ci(
    stat_fn: StatFn,
    a_items: ItemArrays,
    b_items: ItemArrays,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile confidence interval of ``stat(B) - stat(A)`` by the paired bootstrap.

    Args:
        stat_fn: vectorised statistic, ``stat_fn(*arrays)`` with arrays ``(R, N, ...)`` -> ``(R,)``.
        a_items, b_items: run A's and run B's per-item outcomes, one array ``(N, ...)`` or a
            tuple of them (STS: ``(cosine, gold)``); row ``i`` of A and of B is the same item.
        n_boot: bootstrap resamples.
        alpha: 1 - confidence level (0.05: a 95% interval).
        seed: seed of ``np.random.default_rng``.
    Returns:
        ``(low, high)``: the ``alpha/2`` and ``1 - alpha/2`` percentiles of the resampled
        differences (NaN resamples left out; ``(nan, nan)`` if all are NaN).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    deltas = bootstrap_deltas(stat_fn, a_items, b_items, n_boot=n_boot, seed=seed)
    if np.isnan(deltas).all():
        return float("nan"), float("nan")
    low, high = np.nanpercentile(deltas, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)


def permutation_deltas(
    stat_fn: StatFn, a_items: ItemArrays, b_items: ItemArrays, *, n_perm: int = 2000, seed: int = 0
) -> np.ndarray:
    """``stat(B') - stat(A')`` under ``n_perm`` random per-item swaps of A and B, shape (n_perm,).

    Permutation ``r`` draws ``swap = rng.random(N) < 0.5`` from ``np.random.default_rng(seed)``;
    where ``swap[i]``, item ``i``'s outcomes of A and B are exchanged.
    """
    a, b, n, diff = _resampling_inputs(stat_fn, a_items, b_items, n_perm, "n_perm")
    rng = np.random.default_rng(seed)
    out = np.empty(n_perm)
    for start, stop in _chunks(n_perm, a):
        swap = rng.random((stop - start, n)) < 0.5  # (C, N): True = exchange A and B for this item
        if diff is not None:  # a swap flips the sign of the item's difference
            out[start:stop] = np.where(swap, -1.0, 1.0) @ diff / n  # (C,)
            continue
        pa, pb = [], []
        for x, y in zip(a, b, strict=True):
            m = swap.reshape(swap.shape + (1,) * (x.ndim - 1))  # (C, N, 1...) broadcast over trailing axes
            pa.append(np.where(m, y[None], x[None]))  # (C, N, ...)
            pb.append(np.where(m, x[None], y[None]))
        out[start:stop] = stat_fn(*pb) - stat_fn(*pa)
    return out


def paired_permutation_pvalue(
    stat_fn: StatFn,
    a_items: ItemArrays,
    b_items: ItemArrays,
    n_perm: int = 2000,
    seed: int = 0,
) -> float:
    """Two-sided p-value of ``stat(B) - stat(A)`` by a paired (sign-flip) permutation test.

    Args:
        stat_fn, a_items, b_items: as in :func:`paired_bootstrap_ci`.
        n_perm: random permutations (per-item swaps).
        seed: seed of ``np.random.default_rng``.
    Returns:
        ``(count + 1) / (n_perm + 1)`` where ``count`` is the number of permutations with
        ``|delta'| >= |delta|`` (up to a relative 1e-12 for rounding). Identical runs give 1;
        the smallest possible value is ``1 / (n_perm + 1)``. NaN if the observed delta is NaN.
    """
    a, b, _ = _paired(a_items, b_items)
    observed = statistic(stat_fn, b) - statistic(stat_fn, a)
    if not np.isfinite(observed):
        return float("nan")
    null = permutation_deltas(stat_fn, a, b, n_perm=n_perm, seed=seed)
    tol = 1e-12 * max(1.0, abs(observed))
    count = int(np.count_nonzero(np.abs(null) >= abs(observed) - tol))
    return (count + 1) / (n_perm + 1)


def f1_stat(found: np.ndarray, fp_share: np.ndarray) -> np.ndarray:
    """BUCC F1 of a resample of gold pairs: ``2 TP / (2 TP + FP + FN)`` with ``TP = sum(found)``,
    ``FN = N - TP`` and ``FP = sum(fp_share)`` (each gold pair carries ``FP / G``): ``(R, N) -> (R,)``."""
    tp = np.asarray(found, dtype=np.float64).sum(axis=-1)
    fp = np.asarray(fp_share, dtype=np.float64).sum(axis=-1)
    fn = found.shape[-1] - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)


def precision_stat(found: np.ndarray, fp_share: np.ndarray) -> np.ndarray:
    """Precision ``TP / (TP + FP)`` of a resample of gold pairs (see :func:`f1_stat`): ``(R, N) -> (R,)``."""
    tp = np.asarray(found, dtype=np.float64).sum(axis=-1)
    fp = np.asarray(fp_share, dtype=np.float64).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tp + fp > 0, tp / (tp + fp), np.nan)
