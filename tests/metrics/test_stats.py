"""Paired bootstrap and permutation test: parity with a naive loop, scipy, and known cases."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import bootstrap, spearmanr

from langgap.metrics import stats
from langgap.metrics.stats import (
    bootstrap_deltas,
    f1_stat,
    mean_stat,
    nanmean_stat,
    paired_bootstrap_ci,
    paired_permutation_pvalue,
    permutation_deltas,
    precision_stat,
    spearman_stat,
    statistic,
)


def _runs(n=60, shift=0.0, seed=1):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.5, 0.2, n)
    b = a + shift + rng.normal(0, 0.05, n)
    return a, b


def _sts(n=40, seed=2):
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 6, n).astype(float)  # ties, as real STS scores have
    cos_a = gold / 5 + rng.normal(0, 0.6, n)
    cos_b = gold / 5 + rng.normal(0, 0.2, n)
    return (cos_a, gold), (cos_b, gold)


def _naive_boot(fn, a, b, n_boot, seed):
    """One resample at a time, the statistic on 1-D arrays: the reference for the index matrix."""
    rng = np.random.default_rng(seed)
    n = len(a[0])
    out = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        out.append(fn(*(y[idx] for y in b)) - fn(*(x[idx] for x in a)))
    return np.array(out)


def _naive_perm(fn, a, b, n_perm, seed):
    rng = np.random.default_rng(seed)
    n = len(a[0])
    out = []
    for _ in range(n_perm):
        swap = rng.random(n) < 0.5
        pa = [np.where(swap, y, x) for x, y in zip(a, b, strict=True)]
        pb = [np.where(swap, x, y) for x, y in zip(a, b, strict=True)]
        out.append(fn(*pb) - fn(*pa))
    return np.array(out)


def _spearman_1d(x, y):
    return spearmanr(x, y).statistic


def _generic_mean(x):
    """Not ``mean_stat`` itself: takes the general path, not the mean-difference fast path."""
    return x.mean(axis=1)


@pytest.mark.parametrize("fn", [mean_stat, _generic_mean])
@pytest.mark.parametrize("chunk", [7, 10**9])  # tiny chunks and one chunk give the same numbers
def test_bootstrap_matches_naive_loop(monkeypatch, chunk, fn):
    monkeypatch.setattr(stats, "_CHUNK_ELEMENTS", chunk)
    a, b = _runs(shift=0.03)
    got = bootstrap_deltas(fn, a, b, n_boot=300, seed=7)
    want = _naive_boot(np.mean, (a,), (b,), 300, 7)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    lo, hi = paired_bootstrap_ci(fn, a, b, n_boot=300, seed=7)
    assert (lo, hi) == pytest.approx(tuple(np.percentile(want, [2.5, 97.5])), abs=1e-12)


@pytest.mark.parametrize("chunk", [50, 10**9])
def test_spearman_bootstrap_matches_naive_loop(monkeypatch, chunk):
    monkeypatch.setattr(stats, "_CHUNK_ELEMENTS", chunk)
    a, b = _sts()
    got = bootstrap_deltas(spearman_stat, a, b, n_boot=200, seed=3)
    want = _naive_boot(_spearman_1d, a, b, 200, 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    assert statistic(spearman_stat, b) == pytest.approx(_spearman_1d(*b), abs=1e-12)


@pytest.mark.parametrize("fn", [mean_stat, _generic_mean])
@pytest.mark.parametrize("chunk", [9, 10**9])
def test_permutation_matches_naive_loop(monkeypatch, chunk, fn):
    monkeypatch.setattr(stats, "_CHUNK_ELEMENTS", chunk)
    a, b = _runs(shift=0.01)
    got = permutation_deltas(fn, a, b, n_perm=300, seed=5)
    want = _naive_perm(np.mean, (a,), (b,), 300, 5)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    observed = b.mean() - a.mean()
    count = int(np.sum(np.abs(want) >= abs(observed) - 1e-12))
    assert paired_permutation_pvalue(fn, a, b, n_perm=300, seed=5) == (count + 1) / 301

    sa, sb = _sts()
    got = permutation_deltas(spearman_stat, sa, sb, n_perm=100, seed=5)
    np.testing.assert_allclose(got, _naive_perm(_spearman_1d, sa, sb, 100, 5), rtol=0, atol=1e-10)


def _generic_mean_2d(x):
    return x.mean(axis=(1, 2))


def test_trailing_axes_resample_rows_jointly():
    """(N, P) items: a resample picks whole rows, so the mean over pairs of means is the mean of row means."""
    rng = np.random.default_rng(0)
    a, b = rng.random((30, 4)), rng.random((30, 4))
    got = bootstrap_deltas(_generic_mean_2d, a, b, n_boot=50, seed=1)
    want = bootstrap_deltas(mean_stat, a.mean(axis=1), b.mean(axis=1), n_boot=50, seed=1)
    np.testing.assert_allclose(got, want, atol=1e-12)
    assert paired_permutation_pvalue(_generic_mean_2d, a, b, n_perm=50, seed=1) == paired_permutation_pvalue(
        mean_stat, a.mean(axis=1), b.mean(axis=1), n_perm=50, seed=1
    )
    # mean_stat's fast path (per-item differences) takes (N, P) items the same way
    np.testing.assert_allclose(bootstrap_deltas(mean_stat, a, b, n_boot=50, seed=1), want, atol=1e-12)
    np.testing.assert_allclose(
        permutation_deltas(mean_stat, a, b, n_perm=50, seed=1),
        permutation_deltas(_generic_mean_2d, a, b, n_perm=50, seed=1),
        atol=1e-12,
    )


def test_ci_of_mean_difference_matches_scipy_bootstrap():
    a, b = _runs(n=80, shift=0.02, seed=4)
    ours = paired_bootstrap_ci(mean_stat, a, b, n_boot=20000, seed=0)
    ref = bootstrap(
        (a, b),
        lambda x, y, axis: y.mean(axis=axis) - x.mean(axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=20000,
        confidence_level=0.95,
        rng=np.random.default_rng(123),
    ).confidence_interval
    width = ref.high - ref.low
    assert ours[0] == pytest.approx(ref.low, abs=0.05 * width)
    assert ours[1] == pytest.approx(ref.high, abs=0.05 * width)


def test_identical_runs_give_zero_ci_and_p_one():
    a, _ = _runs()
    assert paired_bootstrap_ci(mean_stat, a, a.copy()) == (0.0, 0.0)
    assert paired_permutation_pvalue(mean_stat, a, a.copy()) == 1.0
    sa, _ = _sts()
    lo, hi = paired_bootstrap_ci(spearman_stat, sa, tuple(x.copy() for x in sa), n_boot=200)
    assert lo == hi == 0.0
    assert paired_permutation_pvalue(spearman_stat, sa, sa, n_perm=200) == 1.0


def test_consistent_shift_is_detected_with_both_signs():
    a, b = _runs(n=100, shift=0.05)
    lo, hi = paired_bootstrap_ci(mean_stat, a, b)
    assert 0 < lo < 0.05 < hi
    assert paired_permutation_pvalue(mean_stat, a, b) == pytest.approx(1 / 2001)
    lo, hi = paired_bootstrap_ci(mean_stat, b, a)
    assert lo < -0.05 < hi < 0
    # STS: less noise in B raises Spearman, significantly on 200 pairs
    sa, sb = _sts(n=200)
    lo, hi = paired_bootstrap_ci(spearman_stat, sa, sb, n_boot=500)
    assert lo > 0
    assert paired_permutation_pvalue(spearman_stat, sa, sb, n_perm=500) < 0.01


def test_pure_noise_is_not_significant_most_of_the_time():
    """Same distribution in A and B: p is roughly uniform, so p < 0.05 about 5% of the time."""
    rng = np.random.default_rng(11)
    ps = []
    for _ in range(40):
        a, b = rng.random(50) < 0.8, rng.random(50) < 0.8
        ps.append(paired_permutation_pvalue(mean_stat, a, b, n_perm=199, seed=1))
    assert np.mean(np.array(ps) < 0.05) <= 0.15 and 0.3 < np.median(ps) < 0.7


def test_bool_items_and_nanmean():
    a = np.array([True, False, True, True])
    assert statistic(mean_stat, a) == 0.75
    x = np.array([0.5, np.nan, 1.0])
    assert statistic(nanmean_stat, x) == 0.75
    assert np.isnan(nanmean_stat(np.full((1, 3), np.nan)))[0]


def test_bad_input():
    a = np.zeros(5)
    with pytest.raises(ValueError, match="same shapes"):
        paired_bootstrap_ci(mean_stat, a, np.zeros(6))
    with pytest.raises(ValueError, match="n_boot must be >= 1"):
        paired_bootstrap_ci(mean_stat, a, a, n_boot=0)
    for alpha in (1.5, 0.0, 1.0, -0.1):  # the bounds themselves: a 100 % or 0 % interval is refused
        with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\), got"):
            paired_bootstrap_ci(mean_stat, a, a, alpha=alpha)
    with pytest.raises(ValueError, match="n_perm must be >= 1"):
        paired_permutation_pvalue(mean_stat, a, a, n_perm=0)
    with pytest.raises(ValueError, match="differ in length"):
        statistic(spearman_stat, (np.zeros(3), np.zeros(4)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_means_are_taken_in_float64(dtype):
    """Item arrays may be stored in half or single precision; their means are float64 means."""
    x = (np.random.default_rng(0).uniform(0, 1, (3, 4001)) + 100).astype(dtype)
    want = x.astype(np.float64).mean(axis=1)
    np.testing.assert_array_equal(mean_stat(x), want)
    np.testing.assert_allclose(nanmean_stat(x), want, rtol=0, atol=1e-12)


def _naive_prf(found: np.ndarray, fp_share: np.ndarray) -> tuple[list[float], list[float]]:
    """Precision and F1 of each resample row, one Python float at a time."""
    precision, f1 = [], []
    for row_found, row_fp in zip(found, fp_share, strict=True):
        tp = sum(bool(v) for v in row_found)
        fp = sum(float(v) for v in row_fp)
        fn = len(row_found) - tp
        precision.append(tp / (tp + fp) if tp + fp > 0 else float("nan"))
        f1.append(2 * tp / (2 * tp + fp + fn))  # N >= 1: never 0 / 0
    return precision, f1


@pytest.mark.parametrize("shape", [(6, 7), (3, 1)])
def test_mining_statistics_equal_a_naive_loop_per_resample(shape):
    """BUCC precision and F1 of each resample row (R, N) -> (R,): rows with no pair found and no
    false positive (precision undefined: NaN; F1 0) or more false positives than gold pairs (F1 0),
    single-item resamples, float32 false-positive
    shares accumulated in float64, and no floating-point warning on the 0 / 0 rows."""
    rng = np.random.default_rng(3)
    found = rng.random(shape) < 0.5
    fp_share = (rng.random(shape) / 3).astype(np.float32)
    found[0], fp_share[0] = False, 0.0  # nothing found, nothing wrong
    found[1], fp_share[1] = True, 0.0  # every gold pair found, no false positive
    found[2], fp_share[2] = False, 2.0  # nothing found, twice as many false positives as gold pairs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        precision, f1 = precision_stat(found, fp_share), f1_stat(found, fp_share)
    want_p, want_f1 = _naive_prf(found, fp_share)
    assert precision.shape == f1.shape == (shape[0],) and precision.dtype == f1.dtype == np.float64
    np.testing.assert_allclose(precision, want_p, rtol=1e-12)  # NaN where NaN
    np.testing.assert_allclose(f1, want_f1, rtol=1e-12)
    assert np.isnan(precision[0]) and f1[0] == 0.0 and precision[1] == 1.0 and f1[1] == 1.0
    assert precision[2] == 0.0 and f1[2] == 0.0


def test_mining_statistics_of_no_gold_pair_are_nan():
    """A resample with no item has no precision and no F1 (NaN, a float array, no warning)."""
    empty = np.zeros((2, 0), dtype=bool), np.zeros((2, 0))
    for fn in (precision_stat, f1_stat):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = fn(*empty)
        assert out.dtype == np.float64 and np.isnan(out).all()


def test_resampling_defaults_are_2000_draws_seed_0_and_a_95_percent_interval():
    """Called without options, the statistics draw 2000 resamples from seed 0 (what ``langgap
    compare`` documents), on data where another count or seed changes the answer."""
    a, b = _runs(n=40, shift=0.01)
    assert paired_bootstrap_ci(mean_stat, a, b) == paired_bootstrap_ci(mean_stat, a, b, 2000, 0.05, 0)
    for other in ({"n_boot": 2001}, {"seed": 1}, {"alpha": 0.1}):
        assert paired_bootstrap_ci(mean_stat, a, b) != paired_bootstrap_ci(mean_stat, a, b, **other), other
    np.testing.assert_array_equal(
        bootstrap_deltas(mean_stat, a, b), bootstrap_deltas(mean_stat, a, b, n_boot=2000, seed=0)
    )
    assert len(bootstrap_deltas(mean_stat, a, b)) == 2000 and len(permutation_deltas(mean_stat, a, b)) == 2000
    np.testing.assert_array_equal(
        permutation_deltas(mean_stat, a, b), permutation_deltas(mean_stat, a, b, n_perm=2000, seed=0)
    )
    assert paired_permutation_pvalue(mean_stat, a, b) == paired_permutation_pvalue(mean_stat, a, b, 2000, 0)
    for other in ({"n_perm": 2001}, {"seed": 1}):
        assert paired_permutation_pvalue(mean_stat, a, b) != paired_permutation_pvalue(
            mean_stat, a, b, **other
        ), other


def test_interval_of_a_statistic_undefined_on_every_resample_is_nan():
    """A constant ranking has no Spearman in any resample: the interval is (nan, nan), not an error."""
    x, gold = np.ones(12), np.arange(12.0)
    low, high = paired_bootstrap_ci(spearman_stat, (x, gold), (x, gold), n_boot=50)
    assert np.isnan(low) and np.isnan(high)


def test_permutations_tying_with_the_observed_difference_count_despite_rounding():
    """B = A + the same shift on every item (values ~1e7): exactly the permutations that swap all
    items or none reach the observed difference; float rounding of means this large must not hide
    them (the tolerance scales with the difference). An undefined statistic gives NaN."""
    a = np.array([8132702.392002724, 9127555.772777217, 6066357.757671799])
    b = np.array([9862198.952986723, 10857052.333761215, 7795854.318655796])
    swap = np.random.default_rng(0).random((200, 3)) < 0.5  # the documented draws of seed 0
    ties = int(np.count_nonzero(swap.all(axis=1) | ~swap.any(axis=1)))
    assert ties > 0
    assert paired_permutation_pvalue(mean_stat, a, b, n_perm=200) == (ties + 1) / 201
    x, gold = np.ones(12), np.arange(12.0)
    assert np.isnan(paired_permutation_pvalue(spearman_stat, (x, gold), (x, gold), n_perm=20))


def test_nanmean_resamples_skip_nan_items_like_a_naive_loop():
    """Per-item outcomes with NaN (a sentence whose ranking Spearman is undefined): each resample's
    nanmean skips them, in the bootstrap and the permutation test alike (never the mean-difference
    shortcut, which would turn every resample holding a NaN into NaN)."""
    a, b = _runs(n=30, shift=0.02)
    a[[3, 17]], b[[5, 17]] = np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want_boot = _naive_boot(np.nanmean, (a,), (b,), 200, 4)
        want_perm = _naive_perm(np.nanmean, (a,), (b,), 200, 4)
    np.testing.assert_allclose(
        bootstrap_deltas(nanmean_stat, a, b, n_boot=200, seed=4), want_boot, atol=1e-12
    )
    np.testing.assert_allclose(
        permutation_deltas(nanmean_stat, a, b, n_perm=200, seed=4), want_perm, atol=1e-12
    )
    assert not np.isnan(want_boot).all()


def test_smallest_inputs_work_and_empty_ones_are_refused_word_for_word():
    """One item and one resample are enough; no item, or no item array, is refused with a message."""
    one_a, one_b = np.array([0.2]), np.array([0.5])
    assert bootstrap_deltas(mean_stat, one_a, one_b, n_boot=1).tolist() == pytest.approx([0.3])
    assert permutation_deltas(mean_stat, one_a, one_b, n_perm=1).shape == (1,)
    with pytest.raises(ValueError, match=r"^no items to resample \(N = 0\)$"):
        bootstrap_deltas(mean_stat, np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="^no item arrays given$"):
        statistic(mean_stat, ())
    with pytest.raises(
        ValueError, match=r"^item arrays need an item axis \(shape \(N, \.\.\.\)\), got a scalar$"
    ):
        statistic(mean_stat, np.array(0.5))
