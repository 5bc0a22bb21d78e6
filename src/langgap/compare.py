"""Compare two runs (A, B) on the same data: per task and metric, B - A with a 95% CI and a p-value.

``compare(a, b)`` returns a :class:`Comparison` (data only); :func:`write_comparison` (in
:mod:`langgap.report.compare`, re-exported here with the other writers) writes ``compare.json``,
``compare.md`` (+ ``compare.png``) and a self-contained ``compare.html``.

Only tasks present in both runs are compared, and only when their data files are byte-identical
(same sha256): anything else raises :class:`~langgap.errors.InputError` rather than compare
different items. Uncertainty comes from the per-item outcomes in ``items.npz``
(:mod:`langgap.metrics.stats`): a paired bootstrap over items (same indices for A and B,
percentile interval) and a paired permutation test (A/B swapped per item).

Multi-way and sample tasks average their per-pair metrics over language pairs; rows (sentences)
are resampled jointly across all pairs, which for a mean is the same as resampling the per-row
average over pairs, so that average is what is resampled.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, Literal

import numpy as np

from langgap.errors import InputError
from langgap.metrics.stats import (
    StatFn,
    mean_stat,
    nanmean_stat,
    paired_bootstrap_ci,
    paired_permutation_pvalue,
    spearman_stat,
    statistic,
)
from langgap.results import Results, TaskResult, load_results, round_floats

Verdict = Literal["better", "worse", "no-change"]

BITEXT_METRICS = (
    "accuracy_src2tgt",
    "accuracy_tgt2src",
    "margin_accuracy_src2tgt",
    "margin_accuracy_tgt2src",
    "pair_cosine",
    "random_cosine",
    "rank_spearman",
)
MULTI_METRICS = ("accuracy_src2tgt", "accuracy_tgt2src", "pair_cosine", "xsim_error")
LOWER_IS_BETTER = frozenset({"random_cosine"})  # and every metric with "error" in its name


def greater_is_better(metric: str) -> bool:
    """``False`` for ``random_cosine`` and any ``*error*`` metric (xSIM), ``True`` otherwise."""
    return metric not in LOWER_IS_BETTER and "error" not in metric


@dataclass
class MetricChange:
    """One task's metric in both runs: ``delta = b - a`` with its ``ci`` and ``p_value``.

    ``significant``: the ``1 - alpha`` interval excludes 0. ``verdict``: ``better``/``worse`` by
    the sign of ``delta`` and ``greater_is_better`` when significant, else ``no-change``.
    """

    task: str
    kind: str
    metric: str
    a: float
    b: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool
    greater_is_better: bool
    verdict: Verdict
    n_items: int


@dataclass
class Comparison:
    """What :func:`compare` found. ``a``/``b``: each run's path, model, prompt and creation time."""

    a: dict[str, Any]
    b: dict[str, Any]
    changes: list[MetricChange]
    tasks: list[str]
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {"better": 0, "worse": 0, "no-change": 0}
        for c in self.changes:
            out[c.verdict] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return round_floats(
            {
                "a": self.a,
                "b": self.b,
                "settings": self.settings,
                "tasks": self.tasks,
                "only_a": self.only_a,
                "only_b": self.only_b,
                "counts": self.counts(),
                "changes": [asdict(c) for c in self.changes],
            }
        )


def _run_info(r: Results, path: str | Path | None) -> dict[str, Any]:
    return {
        "path": None if path is None else str(path),
        "model": r.model.get("name"),
        "prompt": r.model.get("prompt"),
        "created": r.created,
        "schema_version": r.schema_version,
    }


def check_same_data(ta: TaskResult, tb: TaskResult) -> None:
    """Raise :class:`InputError` unless both tasks read the same files (by name and sha256)."""
    fa = {Path(f["path"]).name: f for f in ta.files}
    fb = {Path(f["path"]).name: f for f in tb.files}
    if set(fa) != set(fb):
        raise InputError(
            f"task {ta.name!r}: the runs read different data files (A: {', '.join(sorted(fa))}; "
            f"B: {', '.join(sorted(fb))}); refusing to compare"
        )
    for name in sorted(fa):
        if fa[name]["sha256"] != fb[name]["sha256"]:
            raise InputError(
                f"task {ta.name!r}: data file {name} differs between the runs "
                f"(A: {fa[name]['path']} sha256 {fa[name]['sha256']}; "
                f"B: {fb[name]['path']} sha256 {fb[name]['sha256']}); refusing to compare"
            )
    if ta.languages != tb.languages:
        raise InputError(
            f"task {ta.name!r}: languages differ between the runs (A: {','.join(ta.languages)}; "
            f"B: {','.join(tb.languages)}); refusing to compare"
        )


Inputs = dict[str, tuple[StatFn, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]]


def _pair_rows(t: TaskResult, pairs: list[str], key: str) -> np.ndarray | None:
    """Per-row average over language pairs of ``<pair>/<key>`` (or of xSIM error), shape (N,)."""
    if key == "xsim_error":  # 1 - ratio-margin accuracy, both directions of every pair
        names = [f"{p}/margin_accuracy_{d}" for p in pairs for d in ("src2tgt", "tgt2src")]
    else:
        names = [f"{p}/{key}" for p in pairs]
    if not names or any(n not in t.items for n in names):
        return None
    cols = np.stack([np.asarray(t.items[n], dtype=np.float64) for n in names], axis=1)  # (N, P)
    rows = cols.mean(axis=1)  # (N,)
    return 1.0 - rows if key == "xsim_error" else rows


def task_inputs(ta: TaskResult, tb: TaskResult) -> Inputs:
    """``{metric: (stat_fn, a_items, b_items)}`` for the metrics with per-item outcomes in both runs."""
    out: Inputs = {}
    if ta.kind == "bitext":
        for key in BITEXT_METRICS:
            if key in ta.items and key in tb.items:
                stat = nanmean_stat if key == "rank_spearman" else mean_stat
                out[key] = (stat, (ta.items[key].astype(np.float64),), (tb.items[key].astype(np.float64),))
    elif ta.kind == "sts":
        if all(k in t.items for k in ("cosine", "gold") for t in (ta, tb)):
            out["spearman"] = (
                spearman_stat,
                (ta.items["cosine"], ta.items["gold"]),
                (tb.items["cosine"], tb.items["gold"]),
            )
    elif ta.kind in ("multiway", "sample"):
        pairs = list(ta.per_pair)
        if list(tb.per_pair) != pairs:
            raise InputError(
                f"task {ta.name!r}: language pairs differ between the runs "
                f"(A: {', '.join(pairs)}; B: {', '.join(tb.per_pair)})"
            )
        for key in MULTI_METRICS:
            ra, rb = _pair_rows(ta, pairs, key), _pair_rows(tb, pairs, key)
            if ra is not None and rb is not None:
                out[key] = (mean_stat, (ra,), (rb,))
    for key, (_, a_items, b_items) in out.items():
        if a_items[0].shape != b_items[0].shape:
            raise InputError(
                f"task {ta.name!r}, {key}: A has {len(a_items[0])} items, B has {len(b_items[0])}; "
                "refusing to compare"
            )
    return out


def _verdict(delta: float, significant: bool, gib: bool) -> Verdict:
    if not significant or delta == 0 or not math.isfinite(delta):
        return "no-change"
    return "better" if (delta > 0) == gib else "worse"


def compare(
    a: Results,
    b: Results,
    *,
    n_boot: int = 2000,
    n_perm: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
    a_path: str | Path | None = None,
    b_path: str | Path | None = None,
) -> Comparison:
    """Compare run ``b`` against run ``a`` task by task (tasks matched by name).

    Args:
        a, b: the two runs (``b`` is "after"; every delta is ``b - a``).
        n_boot: paired bootstrap resamples for each interval.
        n_perm: random per-item swaps for each p-value.
        seed: seed of the resampling (the same for every metric).
        alpha: 1 - confidence level of the intervals (0.05: 95%).
        a_path, b_path: where the runs were read from, recorded in the comparison.
    Returns:
        A :class:`Comparison` with one :class:`MetricChange` per task and metric.
    Raises:
        InputError: no task in common; a common task whose data files or languages differ;
            no metric with per-item outcomes (``items.npz``) in both runs.
    """
    if n_boot < 1 or n_perm < 1:
        raise InputError(f"n_boot and n_perm must be >= 1, got {n_boot} and {n_perm}")
    names_b = {t.name for t in b.tasks}
    names_a = {t.name for t in a.tasks}
    common = [t.name for t in a.tasks if t.name in names_b]
    if not common:
        raise InputError(
            f"no task in common: A has {', '.join(sorted(names_a)) or 'none'}; "
            f"B has {', '.join(sorted(names_b)) or 'none'}"
        )
    for name in common:  # refuse before any resampling
        check_same_data(a.task(name), b.task(name))
    changes: list[MetricChange] = []
    for name in common:
        ta, tb = a.task(name), b.task(name)
        if ta.kind != tb.kind:
            raise InputError(f"task {name!r}: kind {ta.kind!r} in A, {tb.kind!r} in B")
        for metric, (stat, a_items, b_items) in task_inputs(ta, tb).items():
            va, vb = statistic(stat, a_items), statistic(stat, b_items)
            low, high = paired_bootstrap_ci(stat, a_items, b_items, n_boot=n_boot, alpha=alpha, seed=seed)
            p = paired_permutation_pvalue(stat, a_items, b_items, n_perm=n_perm, seed=seed)
            delta = vb - va
            significant = bool(low > 0 or high < 0)  # NaN compares False: not significant
            gib = greater_is_better(metric)
            changes.append(
                MetricChange(
                    task=name,
                    kind=ta.kind,
                    metric=metric,
                    a=va,
                    b=vb,
                    delta=delta,
                    ci_low=low,
                    ci_high=high,
                    p_value=p,
                    significant=significant,
                    greater_is_better=gib,
                    verdict=_verdict(delta, significant, gib),
                    n_items=len(a_items[0]),
                )
            )
    if not changes:
        raise InputError(
            f"tasks in common ({', '.join(common)}) have no per-item outcomes in both runs "
            "(is items.npz missing from a run directory?)"
        )
    return Comparison(
        a=_run_info(a, a_path),
        b=_run_info(b, b_path),
        changes=changes,
        tasks=common,
        only_a=[t.name for t in a.tasks if t.name not in names_b],
        only_b=[t.name for t in b.tasks if t.name not in names_a],
        settings={
            "n_boot": n_boot,
            "n_perm": n_perm,
            "seed": seed,
            "confidence": 1 - alpha,
            "interval": "paired bootstrap over items, percentile",
            "p_value": "paired permutation (per-item A/B swap), two-sided, (count+1)/(n_perm+1)",
        },
    )


def compare_runs(run_a: str | Path, run_b: str | Path, **kwargs: Any) -> Comparison:
    """:func:`compare` on two run directories (or their ``results.json``)."""
    a, b = load_results(run_a), load_results(run_b)
    return compare(a, b, a_path=run_a, b_path=run_b, **kwargs)


# The writers live in langgap.report.compare, which imports this module: re-exported lazily.
_WRITERS = frozenset(
    {
        "FIGURE_ORDER",
        "HEADERS",
        "MARK",
        "change_cells",
        "comparison_figure",
        "comparison_html",
        "comparison_markdown",
        "comparison_table",
        "fmt_p",
        "fmt_signed",
        "write_comparison",
    }
)


def __getattr__(name: str) -> Any:
    if name in _WRITERS:
        return getattr(import_module("langgap.report.compare"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
