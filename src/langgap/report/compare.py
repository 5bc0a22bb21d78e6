"""Write a :class:`~langgap.comparison.Comparison`: ``compare.json``, ``compare.md`` (+ ``compare.png``)
and a self-contained ``compare.html``.

The table rows (:func:`comparison_table`, also the cells the CLI prints), the dot plot of every
delta with its confidence interval (:func:`comparison_figure`) and the markdown and HTML pages
around them. The comparison itself is computed in :mod:`langgap.comparison`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgap import atomic
from langgap.comparison import Comparison, MetricChange
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
from langgap.report.mpl import pyplot
from langgap.report.tables import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MARK = {"better": "▲ better", "worse": "▼ worse", "no-change": "no change"}


def fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "–"
    return f"{p:.3f}" if p >= 0.001 else "<0.001"


def fmt_signed(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:+.3f}"


def change_cells(c: MetricChange) -> list[str]:
    """One row of the comparison table: task, metric, A, B, delta, CI, p, verdict."""
    return [
        c.task,
        c.metric + ("" if c.greater_is_better else " (↓)"),
        f"{c.a:.3f}",
        f"{c.b:.3f}",
        fmt_signed(c.delta),
        f"[{fmt_signed(c.ci_low)}, {fmt_signed(c.ci_high)}]",
        fmt_p(c.p_value),
        MARK[c.verdict],
    ]


HEADERS = ["task", "metric", "A", "B", "Δ (B−A)", "95% CI", "p", "verdict"]


def comparison_table(cmp: Comparison) -> Table:
    conf = round(100 * cmp.settings.get("confidence", 0.95))
    headers = [h.replace("95%", f"{conf}%") for h in HEADERS]
    return ("Changes (B − A)", headers, [change_cells(c) for c in cmp.changes])


def _figure_order() -> tuple[str, ...]:
    """Panels in registry order of the compared metrics."""
    return tuple(m.key for m in registry.METRICS.values() if m.compare is not None)


FIGURE_ORDER = _figure_order()  # panels, in this order


def comparison_figure(cmp: Comparison, *, ncols: int = 4) -> Figure:
    """Dot plot of every delta with its CI: one panel per metric, one row per task.

    Panels are laid out ``ncols`` to a row; a row of panels lists only the tasks that have one
    of its metrics (STS tasks do not take space in the retrieval panels). Each panel is
    oriented so that right is better (lower-is-better metrics plot ``-delta``); green/red mark
    significant improvements/regressions, grey the rest. The figure grows with the number of
    tasks and the font shrinks, so 100+ tasks stay legible.
    """
    plt = pyplot()
    present = list(dict.fromkeys(c.metric for c in cmp.changes))
    metrics = [m for m in FIGURE_ORDER if m in present] + [m for m in present if m not in FIGURE_ORDER]
    ncols = max(1, min(ncols, len(metrics)))
    groups = [metrics[i : i + ncols] for i in range(0, len(metrics), ncols)]
    by_key = {(c.task, c.metric): c for c in cmp.changes}
    group_tasks = [[t for t in cmp.tasks if any((t, m) in by_key for m in g)] for g in groups]
    n = max(len(ts) for ts in group_tasks)
    font, per_task = (8, 0.22) if n <= 40 else (6, 0.13)
    heights = [0.9 + per_task * len(ts) for ts in group_tasks]
    total = sum(heights) + 0.5
    fig = plt.figure(
        figsize=(2.2 + 2.3 * ncols, total),
        dpi=100 if total < 60 else max(40, int(6000 / total)),
        layout="constrained",
    )
    grid = fig.add_gridspec(len(groups), ncols, height_ratios=heights)
    colour = {"better": "#1a9850", "worse": "#d73027", "no-change": "0.55"}
    for r, (group, tasks) in enumerate(zip(groups, group_tasks, strict=True)):
        first = None
        for col, metric in enumerate(group):
            ax = fig.add_subplot(grid[r, col], sharey=first)
            first = first or ax
            ax.axvline(0.0, color="0.3", linewidth=0.8, zorder=1)
            for y, task in enumerate(tasks):
                c = by_key.get((task, metric))
                if c is None:
                    continue
                sign = 1.0 if c.greater_is_better else -1.0
                x = sign * c.delta
                lo, hi = sorted((sign * c.ci_low, sign * c.ci_high))
                err = [[max(x - lo, 0.0)], [max(hi - x, 0.0)]] if math.isfinite(lo + hi) else None
                ax.errorbar(
                    x,
                    -y,
                    xerr=err,
                    fmt="o",
                    markersize=3.5 if n <= 40 else 2.5,
                    color=colour[c.verdict],
                    elinewidth=1.0,
                    capsize=1.5,
                    zorder=2,
                )
            name = registry.label(metric)
            title = name if registry.greater_is_better(metric) else f"{name} (−Δ: lower is better)"
            ax.set_title(title, fontsize=font + 1)
            ax.tick_params(axis="both", labelsize=font)
            ax.grid(color="0.92", linewidth=0.6)
            ax.set_ylim(-len(tasks) + 0.5, 0.5)
            if col == 0:
                ax.set_yticks([-i for i in range(len(tasks))])
                ax.set_yticklabels(tasks, fontsize=font)
            else:
                ax.tick_params(axis="y", labelleft=False)
    conf = round(100 * cmp.settings.get("confidence", 0.95))
    fig.suptitle(
        f"B vs A per task and metric: right = better; bars = {conf}% paired bootstrap CI; "
        "green/red = significant",
        fontsize=font + 2,
    )
    return fig


def _run_lines(cmp: Comparison) -> list[tuple[str, dict[str, Any]]]:
    return [("A", cmp.a), ("B", cmp.b)]


def _notes(cmp: Comparison) -> list[str]:
    s = cmp.settings
    conf = round(100 * s.get("confidence", 0.95))
    out = [
        f"Δ = B − A. {conf}% CI: paired bootstrap over items ({s.get('n_boot')} resamples, the same "
        f"items for A and B, percentile interval). p: two-sided paired permutation test "
        f"({s.get('n_perm')} random per-item A/B swaps, (count+1)/(n+1)). Seed {s.get('seed')}.",
        "Significant = the CI excludes 0; verdict ▲ better / ▼ worse only then. Metrics marked (↓) "
        "are lower-is-better (xsim_error, random_cosine). Multi-way and sample tasks: averages over "
        "language pairs, sentences resampled jointly across pairs.",
    ]
    if cmp.differences:
        changed = "; ".join(f"{key} {a!r} → {b!r}" for key, (a, b) in cmp.differences.items())
        out.append(f"Settings that differ (A → B): {changed}.")
    if cmp.only_a:
        out.append(f"Only in A (not compared): {', '.join(cmp.only_a)}.")
    if cmp.only_b:
        out.append(f"Only in B (not compared): {', '.join(cmp.only_b)}.")
    return out


def comparison_blocks(cmp: Comparison, png: bytes | None, figure: str = "compare") -> list[Block]:
    """The comparison page as report blocks: runs, counts, notes, the dot plot, the table."""
    counts = cmp.counts()
    blocks: list[Block] = [
        Heading("langgap compare", 1),
        Bullets(
            [
                f"**{label}**: `{r['model']}` (`{r['path']}`), created {r['created']}"
                for label, r in _run_lines(cmp)
            ]
        ),
        Text(
            f"{len(cmp.tasks)} tasks, {len(cmp.changes)} metrics: **{counts['better']} better**, "
            f"**{counts['worse']} worse**, {counts['no-change']} without significant change."
        ),
        *[Text(line) for line in _notes(cmp)],
    ]
    if png is not None:
        caption = (
            "Change per task and metric, oriented so that right is better; bars are confidence "
            "intervals; green/red: significant improvement/regression."
        )
        blocks.append(
            FigureBlock(figure, "change per task and metric with confidence intervals", caption, png)
        )
    return [*blocks, TableBlock(comparison_table(cmp))]


def comparison_markdown(cmp: Comparison, figure: str | None = "compare.png") -> str:
    """``compare.md`` (the figure, if named, is a PNG beside it)."""
    png = b"" if figure else None
    return render_markdown(comparison_blocks(cmp, png, Path(figure).stem if figure else "compare"))


def comparison_html(cmp: Comparison, png: bytes | None) -> str:
    """``compare.html``: one self-contained page, the figure inlined."""
    return render_html(comparison_blocks(cmp, png), "langgap compare")


def write_comparison(cmp: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Write ``compare.json``, ``compare.md``, ``compare.png`` and ``compare.html`` into ``out_dir``.

    The folder is replaced as a whole, in one step (:func:`langgap.atomic.staged_dir`); a
    non-empty folder without ``compare.json`` is refused.

    Returns:
        ``{"json": path, "md": path, "png": path, "html": path}``.
    """
    out = atomic.check_out_dir(out_dir, ("compare.json",), "langgap comparison (compare.json)")
    png = figure_png(comparison_figure(cmp))
    files = {
        "json": (json.dumps(cmp.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        "png": png,
        "md": comparison_markdown(cmp, "compare.png").encode("utf-8"),
        "html": comparison_html(cmp, png).encode("utf-8"),
    }
    with atomic.staged_dir(out) as tmp:
        for kind, data in files.items():
            atomic.write_bytes(tmp / f"compare.{kind}", data)
    return {kind: out / f"compare.{kind}" for kind in files}
