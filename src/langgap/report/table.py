"""Many runs side by side: ``table(runs, baseline=..., metrics=..., group_seeds=...) -> RunTable``.

Per task and language, each run's value of each selected metric; with a baseline, each run's
difference to it with the paired bootstrap interval of :func:`langgap.comparison.compare` (the
same numbers ``langgap compare BASELINE RUN`` writes); with seed groups
(:mod:`langgap.report.seeds`), mean ± sd over the runs that differ only by seed; and a ranking.
:mod:`langgap.report.table_page` writes ``table.md``, ``table.json`` and ``table.html``.

Rows: for every task the runs share (same name, same data files by sha256, same languages), one
row per selected metric for the task as a whole (``language`` = the task's language: a bitext's
non-English side, an STS file's ``a-b``, ``""`` for a multi-language task), and one per language
of a multi-language task that reports the metric per language (``per_language``: xSIM error,
paraphrase cosine, ...). Labels, directions and chance levels come from the metric registry.

Ranking (:attr:`RunTable.ranking`): in every task-level row of a metric with a direction, the
columns (runs, or seed groups) are ranked 1 = best by the registry's direction (ties share the
mean rank); a column's score is its mean rank over those rows, lower is better.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langgap.comparison import compare
from langgap.errors import InputError
from langgap.metrics import registry
from langgap.report.seeds import run_name, run_seed, seed_key
from langgap.report.table_rows import Delta, Row, common_tasks, no_common, rows_of, select
from langgap.report.tables import language_gaps
from langgap.results import Results, load_results, round_floats


@dataclass(frozen=True)
class Run:
    """One run of the table: its display ``name``, folder, model, seed and seed group."""

    name: str
    path: str
    model: str
    seed: int | None
    group: str


@dataclass
class RunTable:
    """What :func:`table` found. ``columns``: ``{column: [run names]}`` (one run each, or the seed
    groups with ``group_seeds``); ``ranking``: ``[(column, mean rank, rows ranked)]`` best first."""

    runs: list[Run]
    baseline: str | None
    tasks: list[str]
    rows: list[Row]
    columns: dict[str, list[str]]
    ranking: list[tuple[str, float, int]]
    left_out: dict[str, str] = field(default_factory=dict)  # task -> why it is not in the table
    # the gap per language (report.tables.language_gaps): {key: {language: {run name: value}}}
    gaps: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return round_floats(
            {
                "runs": [vars(r) for r in self.runs],
                "baseline": self.baseline,
                "tasks": self.tasks,
                "left_out": self.left_out,
                "columns": self.columns,
                "ranking": [{"column": c, "mean_rank": s, "rows": n} for c, s, n in self.ranking],
                "settings": self.settings,
                "gaps": self.gaps,
                "rows": [_row_json(r, self.columns) for r in self.rows],
            }
        )


def _row_json(r: Row, columns: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "task": r.task,
        "language": r.language,
        "metric": r.metric,
        "label": r.label,
        "greater_is_better": r.greater_is_better,
        "chance": r.chance,
        "whole_task": r.whole_task,
        "values": r.values,
        "deltas": {n: vars(d) for n, d in r.deltas.items()},
    }
    if any(len(runs) > 1 for runs in columns.values()):
        out["groups"] = {
            c: dict(zip(("mean", "sd"), r.column(runs), strict=True)) for c, runs in columns.items()
        }
    return out


def _add_deltas(
    rows: list[Row], loaded: dict[str, Results], baseline: str, tasks: list[str], **resample: Any
) -> None:
    """Each run minus the baseline on every row; intervals from :func:`compare` where it has them."""
    base = replace(loaded[baseline], tasks=[loaded[baseline].task(n) for n in tasks])
    for name, res in loaded.items():
        if name == baseline:
            continue
        changes = {}
        if any(t.items for t in base.tasks) and any(t.items for t in res.tasks):
            other = replace(res, tasks=[res.task(n) for n in tasks])
            try:
                cmp = compare(base, other, **resample)
            except InputError:  # the shared tasks have no per-item outcomes: differences only
                cmp = None
            changes = {(c.task, c.metric): c for c in cmp.changes} if cmp is not None else {}
        for row in rows:
            a, b = row.values.get(baseline), row.values.get(name)
            c = changes.get((row.task, row.metric)) if row.whole_task else None
            if c is not None:
                row.deltas[name] = Delta(c.delta, c.ci_low, c.ci_high, c.significant, c.verdict)
            else:
                row.deltas[name] = Delta(None if a is None or b is None else b - a)


def _ranking(rows: list[Row], columns: dict[str, list[str]]) -> list[tuple[str, float, int]]:
    ranks: dict[str, list[float]] = {c: [] for c in columns}
    for row in rows:
        if not row.whole_task or not registry.ranked(row.metric):
            continue
        vals = {c: v for c, runs in columns.items() if (v := row.column(runs)[0]) is not None}
        sign = -1.0 if row.greater_is_better else 1.0
        for c, v in vals.items():
            better = sum(sign * w < sign * v for w in vals.values())
            ties = sum(w == v for w in vals.values())
            ranks[c].append(better + (ties + 1) / 2)
    scored = [(c, statistics.mean(r), len(r)) for c, r in ranks.items() if r]
    return sorted(scored, key=lambda x: (x[1], list(columns).index(x[0])))


def _load(runs: Sequence[str | Path | Results]) -> list[tuple[Run, Results]]:
    out = []
    for i, item in enumerate(runs):
        res = item if isinstance(item, Results) else load_results(item)
        path = Path(f"run{i + 1}") if isinstance(item, Results) else Path(item)
        group, _ = seed_key(res, path)
        name = run_name(path)
        out.append((Run(name, str(path), str(res.model.get("name")), run_seed(res, path), group), res))
    taken: dict[str, int] = {}
    for i, (run, res) in enumerate(out):  # the same folder name twice: number the later ones
        taken[run.name] = taken.get(run.name, 0) + 1
        if taken[run.name] > 1:
            out[i] = (replace(run, name=f"{run.name} ({taken[run.name]})"), res)
    return out


def _groups(pairs: list[tuple[Run, Results]], baseline: str | None) -> dict[str, list[str]]:
    """``{column: [run names]}``: runs with equal :func:`seed_key` and distinct seeds share a column;
    the baseline and a run whose seed its group already has stand alone. Members in seed order."""
    keys: dict[str, tuple[str, list[Run]]] = {}
    alone: list[Run] = []
    for run, res in pairs:
        _, key = seed_key(res, run.path)
        members = keys.setdefault(key, (run.group, []))[1]
        if run.name == baseline or any(m.seed == run.seed for m in members):
            alone.append(run)
        else:
            members.append(run)
    out: dict[str, list[str]] = {}
    order = [r for r, _ in pairs]
    for name, members in keys.values():
        if len(members) > 1:
            members.sort(key=lambda m: m.seed if m.seed is not None else -1)
            out[name if name not in out else f"{name} ({members[0].name})"] = [m.name for m in members]
        else:
            alone += members
    for run in sorted(alone, key=order.index):
        out[run.name if run.name not in out else f"{run.name} (run)"] = [run.name]
    first = {c: min(order.index(next(r for r in order if r.name == m)) for m in ms) for c, ms in out.items()}
    return dict(sorted(out.items(), key=lambda kv: first[kv[0]]))


def table(
    runs: Sequence[str | Path | Results],
    *,
    baseline: str | Path | Results | None = None,
    metrics: Sequence[str] | None = None,
    group_seeds: bool = False,
    n_boot: int = 2000,
    n_perm: int = 2000,
    seed: int = 0,
) -> RunTable:
    """Tabulate ``runs`` (run folders, their ``results.json``, or :class:`Results`) side by side.

    Args:
        runs: two or more runs (one is enough with a ``baseline`` that is not among them).
        baseline: the run every other is compared with (added as the first column when it is not
            among ``runs``); ``None``: no differences.
        metrics: ``"TASK:KEY"`` specs (``KEY`` alone or ``*:KEY``: every task that has it);
            default: the registry's per-task table metrics of every shared task.
        group_seeds: columns are seed groups (mean ± sd) instead of single runs.
        n_boot, n_perm, seed: the resampling of the intervals, as in :func:`compare`.
    Raises:
        InputError: fewer than two runs; no task on the same data in every run; a baseline
            without the runs' data; an unregistered metric or a task no run has.
    """
    items = list(runs)
    base_index = None
    if baseline is not None:
        matches = [i for i, r in enumerate(items) if _same(r, baseline)]
        base_index = matches[0] if matches else None
        if base_index is None:
            items.insert(0, baseline)
            base_index = 0
    if len(items) < 2:
        raise InputError(
            f"langgap table needs two or more runs, got {len(items)}; for one run use langgap report"
        )
    loaded = _load(items)
    pairs = [(run.name, res) for run, res in loaded]
    others = [p for i, p in enumerate(pairs) if i != base_index]
    common, left_out = common_tasks(others if len(others) > 1 else pairs)
    if len(others) > 1 and not common:
        raise no_common(others, left_out)
    if base_index is not None:
        base_name, base_res = pairs[base_index]
        shared, _ = common_tasks([(base_name, base_res), *others])
        if not shared:
            raise InputError(
                f"--baseline {loaded[base_index][0].path}: no task on the runs' data "
                f"(the runs share {', '.join(common) or 'no task'}; the baseline has "
                f"{', '.join(t.name for t in base_res.tasks) or 'no task'}, or other data)"
            )
        common, left_out = common_tasks(pairs)
    if not common:
        raise no_common(pairs, left_out)
    tasks = [pairs[0][1].task(n) for n in common]
    rows = rows_of(pairs, select(tasks, metrics))
    baseline_name = None if base_index is None else pairs[base_index][0]
    if baseline_name is not None:
        _add_deltas(rows, dict(pairs), baseline_name, common, n_boot=n_boot, n_perm=n_perm, seed=seed)
    columns = _groups(loaded, baseline_name) if group_seeds else {run.name: [run.name] for run, _ in loaded}
    settings = {"n_boot": n_boot, "n_perm": n_perm, "seed": seed, "group_seeds": group_seeds}
    ranking = _ranking(rows, columns)
    runs_ = [r for r, _ in loaded]
    return RunTable(
        runs_,
        baseline_name,
        common,
        rows,
        columns,
        ranking,
        left_out,
        gaps=_gaps(pairs, common),
        settings=settings,
    )


def _gaps(pairs: list[tuple[str, Results]], tasks: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """``{key: {language: {run: value}}}`` of :func:`~langgap.report.tables.language_gaps` on the
    shared tasks."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, res in pairs:
        shared = replace(res, tasks=[res.task(n) for n in tasks])
        for lang, values in language_gaps(shared).items():
            for key, v in values.items():
                out.setdefault(key, {}).setdefault(lang, {})[name] = v
    return out


def _same(a: str | Path | Results, b: str | Path | Results) -> bool:
    if isinstance(a, Results) or isinstance(b, Results):
        return a is b
    pa, pb = Path(a), Path(b)
    pa, pb = (p.parent if p.name == "results.json" else p for p in (pa, pb))
    return pa.resolve() == pb.resolve()
