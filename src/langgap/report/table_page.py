"""Write a :class:`~langgap.report.table.RunTable`: ``table.json``, ``table.md`` (+ ``table.png``,
the heatmap of the gap per language and run) and a self-contained ``table.html``.

Both pages are built from one list of report blocks (:mod:`langgap.report.blocks`): the runs,
the ranking, the heatmap, per task the values (mean ± sd for seed groups) and, with a baseline,
the differences to it with their paired bootstrap intervals.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from langgap import atomic
from langgap.metrics import registry
from langgap.report.blocks import (
    Block,
    Bullets,
    FigureBlock,
    Heading,
    TableBlock,
    Text,
    render_html,
    render_markdown,
)
from langgap.report.html import figure_png
from langgap.report.mpl import label_size, pyplot
from langgap.report.table import RunTable
from langgap.report.table_rows import Row
from langgap.report.tables import Table, arrow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MARK = {"better": " ▲", "worse": " ▼", "no-change": ""}
GAP_TITLES = {"bitext_accuracy": "bitext accuracy (mean of both directions)", "xsim_error": "xSIM error"}


def fmt(x: float | None, digits: int = 3, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:{'+' if signed else ''}.{digits}f}"


def value_cell(row: Row, runs: list[str], digits: int = 3) -> str:
    """One run's value, or ``mean ± sd`` over a seed group's runs."""
    mean, sd = row.column(runs)
    return fmt(mean, digits) + (f" ± {fmt(sd, digits)}" if sd is not None else "")


def delta_cell(row: Row, runs: list[str], digits: int = 3) -> str:
    """``Δ [low, high] ▲`` for one run; ``mean Δ ± sd (k▲ m▼ of n)`` over a seed group."""
    deltas = [row.deltas[n] for n in runs if n in row.deltas and row.deltas[n].delta is not None]
    if not deltas:
        return "–"
    if len(deltas) == 1:
        d = deltas[0]
        ci = (
            f" [{fmt(d.ci_low, digits, True)}, {fmt(d.ci_high, digits, True)}]"
            if d.ci_low is not None
            else ""
        )
        return f"{fmt(d.delta, digits, True)}{ci}{MARK[d.verdict] if d.significant else ''}"
    vals = [d.delta for d in deltas if d.delta is not None]
    up = sum(d.verdict == "better" for d in deltas)
    down = sum(d.verdict == "worse" for d in deltas)
    sig = f" ({up}▲ {down}▼ of {len(deltas)})" if any(d.ci_low is not None for d in deltas) else ""
    return f"{fmt(statistics.mean(vals), digits, True)} ± {fmt(statistics.stdev(vals), digits)}{sig}"


def _metric_cells(row: Row, chance: bool = True) -> list[str]:
    label = f"{row.label} {arrow(row.metric)}".rstrip()
    return [label, row.language or "all", *([fmt(row.chance).replace("–", "")] if chance else [])]


def task_tables(t: RunTable, digits: int = 3) -> list[Table]:
    """Per task: the values, and with a baseline the differences to it (columns: runs or groups)."""
    out: list[Table] = []
    cols = list(t.columns)
    for task in t.tasks:
        rows = [r for r in t.rows if r.task == task]
        if not rows:
            continue
        values = [[*_metric_cells(r), *[value_cell(r, t.columns[c], digits) for c in cols]] for r in rows]
        out.append((task, ["metric", "language", "chance", *cols], values))
        if t.baseline is not None:
            others = [c for c in cols if t.columns[c] != [t.baseline]]
            cells = [
                [*_metric_cells(r, False), *[delta_cell(r, t.columns[c], digits) for c in others]]
                for r in rows
            ]
            out.append((f"{task}: difference to {t.baseline}", ["metric", "language", *others], cells))
    return out


def ranking_table(t: RunTable) -> Table:
    grouped = any(len(v) > 1 for v in t.columns.values())
    rows = [
        [str(i), c, f"{score:.2f}", str(n), *([", ".join(t.columns[c])] if grouped else [])]
        for i, (c, score, n) in enumerate(t.ranking, 1)
    ]
    return ("Ranking", ["rank", "column", "mean rank", "rows", *(["runs"] if grouped else [])], rows)


def gap_figure(t: RunTable) -> Figure | None:
    """Heatmap of the gap per language (rows) and run or seed group (columns), one panel per
    gap metric; colour: green = better by the metric's direction. ``None`` without languages."""
    keys = [k for k in GAP_TITLES if t.gaps.get(k)]
    if not keys:
        return None
    plt = pyplot()
    cols = list(t.columns)
    n_lang = max(len(t.gaps[k]) for k in keys)
    height = 1.2 + 0.28 * n_lang  # inches; 200 FLORES languages stay readable
    fig, axes = plt.subplots(
        1,
        len(keys),
        figsize=(1.6 + 1.1 * len(cols) * len(keys) + 1.5 * len(keys), height),
        dpi=100 if height < 60 else max(40, int(6000 / height)),
        layout="constrained",
        squeeze=False,
    )
    for ax, key in zip(axes[0], keys, strict=True):
        langs = sorted(t.gaps[key])
        grid = np.array(
            [[_mean([t.gaps[key][lang].get(r) for r in t.columns[c]]) for c in cols] for lang in langs]
        )
        cmap = "RdYlGn" if registry.greater_is_better(key) else "RdYlGn_r"
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto")
        ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=label_size(len(cols)))
        ax.set_yticks(range(len(langs)), langs, fontsize=label_size(len(langs)))
        if grid.size <= 400:
            for (i, j), v in np.ndenumerate(grid):
                if math.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title(f"{GAP_TITLES[key]} {arrow(key)}", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def _mean(vals: list[float | None]) -> float:
    kept = [v for v in vals if v is not None]
    return statistics.mean(kept) if kept else float("nan")


def _notes(t: RunTable) -> list[str]:
    s = t.settings
    out = [
        "Ranking: in every task-level row of a metric with a direction, the columns are ranked "
        "1 = best by the metric's direction (↑ higher / ↓ lower is better; ties share the mean "
        "rank); a column's score is its mean rank over those rows, lower is better."
    ]
    if t.baseline is not None:
        out.append(
            f"Differences: run − `{t.baseline}`; task-level rows with per-item outcomes carry the 95% "
            f"paired bootstrap interval of `langgap compare` ({s.get('n_boot')} resamples, seed "
            f"{s.get('seed')}); ▲/▼: the interval excludes 0, better/worse."
        )
    if any(len(v) > 1 for v in t.columns.values()):
        out.append(
            "Seed groups: runs on the same data and measure settings whose models differ only by "
            "the seed (the training config.json without seed and output folder; else the folder "
            "name's -sK / -seedK); cells are mean ± sd over the group's runs."
        )
    out += [f"Left out: `{task}` ({why})." for task, why in t.left_out.items()]
    return out


def table_blocks(t: RunTable, png: bytes | None, digits: int = 3) -> list[Block]:
    runs = [
        f"**{r.name}**: `{r.model}` (`{r.path}`)" + (f", seed {r.seed}" if r.seed is not None else "")
        for r in t.runs
    ]
    blocks: list[Block] = [Heading("langgap table", 1), Bullets(runs), *[Text(x) for x in _notes(t)]]
    blocks.append(TableBlock(ranking_table(t)))
    if png is not None:
        caption = "The gap per language and run: bitext accuracy and xSIM error per language; green = better."
        blocks.append(FigureBlock("table", "heatmap of the gap per language and run", caption, png))
    legend = {r.metric for r in t.rows}
    blocks += [TableBlock(x) for x in task_tables(t, digits)]
    lines = [f"**{registry.label(k)}** ({registry.get(k).direction}): {registry.get(k).name}" for k in legend]
    return [*blocks, Heading("Metrics", 2), Bullets(sorted(lines))]


def write_table(t: RunTable, out_dir: str | Path, *, digits: int = 3) -> dict[str, Path]:
    """Write ``table.json``, ``table.md``, ``table.html`` (and ``table.png`` when the runs have
    per-language gaps) into ``out_dir``, replaced as a whole in one step; a non-empty folder
    without ``table.json`` is refused. Returns ``{suffix: path}``."""
    out = atomic.check_out_dir(out_dir, ("table.json",), "langgap table (table.json)")
    fig = gap_figure(t)
    png = figure_png(fig) if fig is not None else None
    files = {
        "json": (json.dumps(t.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        "md": render_markdown(table_blocks(t, png, digits)).encode("utf-8"),
        "html": render_html(table_blocks(t, png, digits), "langgap table").encode("utf-8"),
    }
    if png is not None:
        files["png"] = png
    with atomic.staged_dir(out) as tmp:
        for kind, data in files.items():
            atomic.write_bytes(tmp / f"table.{kind}", data)
    return {kind: out / f"table.{kind}" for kind in files}
