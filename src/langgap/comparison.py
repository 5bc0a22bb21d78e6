"""Compare two runs (A, B) on the same data: per task and metric, B - A with a 95% CI and a p-value.

``compare(a, b)`` returns a :class:`Comparison` (data only);
:func:`langgap.report.compare.write_comparison` writes ``compare.json``, ``compare.md``
(+ ``compare.png``) and a self-contained ``compare.html``.

Only tasks present in both runs are compared, and only when their data files are byte-identical
(same sha256): anything else raises :class:`~langgap.errors.InputError` rather than compare
different items. Uncertainty comes from the per-item outcomes in ``items.npz``
(:mod:`langgap.metrics.stats`): a paired bootstrap over items (same indices for A and B,
percentile interval) and a paired permutation test (A/B swapped per item).

Which metrics are compared for a task kind, from which per-item arrays and with which statistic
comes from the metric registry (:class:`~langgap.metrics.registry.Resample`). Multi-way and
sample tasks average their per-pair outcomes over language pairs; rows (sentences) are resampled
jointly across all pairs, which for a mean is the same as resampling the per-row average over
pairs, so that average is what is resampled.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from langgap.errors import InputError
from langgap.metrics import registry
from langgap.metrics.registry import Metric
from langgap.metrics.stats import StatFn, paired_bootstrap_ci, paired_permutation_pvalue, statistic
from langgap.results import Results, TaskResult, load_results, round_floats

Verdict = Literal["better", "worse", "no-change"]


def greater_is_better(metric: str) -> bool:
    """The metric's direction, from the registry (unregistered keys: higher is better)."""
    return registry.greater_is_better(metric)


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
    differences: dict[str, list[Any]] = field(default_factory=dict)  # setting -> [A's, B's]

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
                "differences": self.differences,
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


def _flat(d: dict[str, Any], prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def setting_differences(a: Results, b: Results) -> dict[str, list[Any]]:
    """Every setting that differs between two runs, ``{"config.k": [4, 100], "model.prompt": [...]}``:
    the model's description and the run's settings (``k``, seed, budget, batch size, ...; not the
    task list, whose data :func:`compare` checks by content)."""
    flat_a, flat_b = (
        _flat(r.model, "model.") | _flat({k: v for k, v in r.config.items() if k != "tasks"}, "config.")
        for r in (a, b)
    )
    return {
        key: [flat_a.get(key), flat_b.get(key)]
        for key in sorted(set(flat_a) | set(flat_b))
        if flat_a.get(key) != flat_b.get(key)
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


def metric_items(t: TaskResult, m: Metric, pairs: list[str]) -> tuple[np.ndarray, ...] | None:
    """The per-item arrays ``langgap compare`` resamples for metric ``m`` of task ``t``.

    Arrays named by ``m.compare.items`` (default: the metric's key), taken from every language
    pair of a multi-language task (``<pair>/<key>``) or from the task itself (a bitext, or a
    metric computed over all languages at once, ``m.languages``); with
    ``combine="mean"`` averaged per item into one (N,) array (then ``transform``ed). ``None``
    when any of them is missing (e.g. no ``items.npz``).
    """
    spec = m.compare
    assert spec is not None
    keys = spec.items or (m.key,)
    per_pair = t.kind.multilingual and m.languages is None
    names = [f"{p}/{k}" for p in pairs for k in keys] if per_pair else list(keys)
    if not names or any(n not in t.items for n in names):
        return None
    if spec.combine == "separate":
        return tuple(t.items[n] for n in names)
    cols = [np.asarray(t.items[n], dtype=np.float64) for n in names]
    rows = cols[0] if len(cols) == 1 else np.stack(cols, axis=1).mean(axis=1)  # (N,)
    return (spec.transform(rows) if spec.transform is not None else rows,)


def task_inputs(ta: TaskResult, tb: TaskResult) -> Inputs:
    """``{metric: (stat_fn, a_items, b_items)}`` for the metrics with per-item outcomes in both runs."""
    pairs = list(ta.per_pair)
    if ta.kind.multilingual and list(tb.per_pair) != pairs:
        raise InputError(
            f"task {ta.name!r}: language pairs differ between the runs "
            f"(A: {', '.join(pairs)}; B: {', '.join(tb.per_pair)})"
        )
    out: Inputs = {}
    for m in registry.compared(ta.kind):
        a_items, b_items = metric_items(ta, m, pairs), metric_items(tb, m, pairs)
        if a_items is None or b_items is None:
            continue
        if a_items[0].shape != b_items[0].shape:
            raise InputError(
                f"task {ta.name!r}, {m.key}: A has {len(a_items[0])} items, B has {len(b_items[0])}; "
                "refusing to compare"
            )
        out[m.key] = (m.compare.stat, a_items, b_items)  # type: ignore[union-attr]
    return out


def _verdict(delta: float, significant: bool, gib: bool) -> Verdict:
    if not significant or delta == 0 or not math.isfinite(delta):
        return "no-change"
    return "better" if (delta > 0) == gib else "worse"


def compare(
    a: Results | str | Path,
    b: Results | str | Path,
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
        a, b: the two runs (``b`` is "after"; every delta is ``b - a``): :class:`Results` or a
            run folder (or its ``results.json``), which is then recorded as the run's path.
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
    if not isinstance(a, Results):
        a_path = a_path or a
        a = load_results(a)
    if not isinstance(b, Results):
        b_path = b_path or b
        b = load_results(b)
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
        differences=setting_differences(a, b),
        settings={
            "n_boot": n_boot,
            "n_perm": n_perm,
            "seed": seed,
            "confidence": 1 - alpha,
            "interval": "paired bootstrap over items, percentile",
            "p_value": "paired permutation (per-item A/B swap), two-sided, (count+1)/(n_perm+1)",
        },
    )
