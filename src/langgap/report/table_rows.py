"""The rows of ``langgap table``: which tasks the runs share, which metrics to show, one
:class:`Row` per task, language and metric (see :mod:`langgap.report.table`).

Labels, directions and chance levels come from the metric registry.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from langgap.comparison import check_same_data
from langgap.errors import InputError, did_you_mean
from langgap.metrics import registry
from langgap.report.charts import bitext_language
from langgap.results import Results, TaskResult


@dataclass(frozen=True)
class Delta:
    """A run minus the baseline on one row; the interval only for task-level rows with per-item
    outcomes in both runs (``langgap compare``), else ``None``."""

    delta: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    significant: bool = False
    verdict: str = "no-change"


@dataclass
class Row:
    """One task, language and metric across the runs (``values[run name]``, ``None`` = absent)."""

    task: str
    language: str
    metric: str
    values: dict[str, float | None]
    chance: float | None = None
    whole_task: bool = True  # False: a per-language row of a multi-language task
    deltas: dict[str, Delta] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return registry.label(self.metric)

    @property
    def greater_is_better(self) -> bool:
        return registry.greater_is_better(self.metric)

    def column(self, names: Sequence[str]) -> tuple[float | None, float | None]:
        """Mean and sd of the runs ``names`` (:func:`mean_sd`; absent values left out)."""
        return mean_sd([v for n in names if (v := self.values.get(n)) is not None])


def mean_sd(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n - 1) of ``values``: ``(None, None)`` when empty, the
    sd ``None`` below two values. The one rule for "mean ± sd over seeds"."""
    if not values:
        return None, None
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else None


def parse_metric(spec: str) -> tuple[str, str]:
    """``"TASK:KEY"`` (task names may hold ``:``; ``*`` or no task: every task) -> ``(task, key)``;
    an unregistered key is an :class:`InputError` with "did you mean"."""
    task, _, key = spec.rpartition(":")
    if registry.lookup(key) is None or "+" in key:
        known = [*registry.METRICS, *registry.SUMMARIES]
        raise InputError(f"--metric {spec}: {key!r} is not a registered metric{did_you_mean(key, known)}")
    return task or "*", key


def common_tasks(loaded: list[tuple[str, Results]]) -> tuple[list[str], dict[str, str]]:
    """Tasks every run has on the same data, in the first run's order; and why others are out."""
    first_name, first = loaded[0]
    common, left_out = [], {}
    names = {t.name for _, r in loaded for t in r.tasks}
    for t in first.tasks:
        missing = [n for n, r in loaded if t.name not in {x.name for x in r.tasks}]
        if missing:
            left_out[t.name] = f"not in {', '.join(missing)}"
            continue
        try:
            for _, r in loaded[1:]:
                check_same_data(t, r.task(t.name))
        except InputError as e:
            left_out[t.name] = str(e)
            continue
        common.append(t.name)
    for name in sorted(names - {t.name for t in first.tasks}):
        left_out[name] = f"not in {first_name}"
    return common, left_out


def no_common(loaded: list[tuple[str, Results]], left_out: dict[str, str]) -> InputError:
    have = "; ".join(f"{n}: {', '.join(t.name for t in r.tasks) or 'no task'}" for n, r in loaded)
    differ = [f"{t} ({why})" for t, why in left_out.items() if not why.startswith("not in")]
    detail = f"; on different data: {differ[0]}" if differ else ""
    return InputError(f"the runs share no task on the same data ({have}){detail}")


def _language(t: TaskResult) -> str:
    if t.kind.multilingual:
        return ""
    return bitext_language(t) if t.kind.parallel else "-".join(t.languages)


def select(tasks: list[TaskResult], metrics: Sequence[str] | None) -> list[tuple[str, str]]:
    """``(task, key)`` pairs to show: every ``--metric`` spec, or each task's table metrics."""
    if not metrics:
        return [
            (t.name, m.key)
            for t in tasks
            for m in registry.METRICS.values()
            if m.table and m.key in t.metrics
        ]
    by_name = {t.name: t for t in tasks}
    out: list[tuple[str, str]] = []
    for spec in metrics:
        task, key = parse_metric(spec)
        if task != "*" and task not in by_name:
            raise InputError(
                f"--metric {spec}: no task {task!r} in every run{did_you_mean(task, by_name)}; "
                f"the runs share: {', '.join(by_name)}"
            )
        chosen = [t for t in tasks if task in ("*", t.name) and _has(t, key)]
        if not chosen:
            where = "any shared task" if task == "*" else f"task {task!r}"
            raise InputError(f"--metric {spec}: {where} has no {key!r}")
        out += [(t.name, key) for t in chosen if (t.name, key) not in out]
    return out


def _has(t: TaskResult, key: str) -> bool:
    return key in t.metrics or any(key in m for m in t.per_language.values())


def rows_of(loaded: list[tuple[str, Results]], selected: list[tuple[str, str]]) -> list[Row]:
    rows = []
    for task_name, key in selected:
        ts = {n: r.task(task_name) for n, r in loaded}
        first = next(iter(ts.values()))
        chance_key = getattr(registry.lookup(key), "chance", None)
        if key in first.metrics:
            chance = first.metrics.get(chance_key) if chance_key else None
            values = {n: t.metrics.get(key) for n, t in ts.items()}
            rows.append(Row(task_name, _language(first), key, values, chance))
        for lang in first.per_language:
            if any(key in t.per_language.get(lang, {}) for t in ts.values()):
                values = {n: t.per_language.get(lang, {}).get(key) for n, t in ts.items()}
                rows.append(Row(task_name, lang, key, values, whole_task=False))
    return rows
