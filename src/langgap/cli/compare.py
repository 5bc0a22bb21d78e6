"""``langgap compare A B``: what changed from run A to run B, with confidence intervals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from langgap.cli import app
from langgap.cli.options import Quiet, writing
from langgap.cli.output import console, out_console
from langgap.errors import InputError

if TYPE_CHECKING:
    from langgap.comparison import Comparison

_STYLE = {"better": "bold green", "worse": "bold red", "no-change": "dim"}


def _run_dir(path: Path) -> Path:
    return path.parent if path.name == "results.json" else path


def default_out(run_a: Path, run_b: Path) -> Path:
    """``<run_b>-vs-<run_a name>`` next to run B (``runs/new`` vs ``runs/old`` -> ``runs/new-vs-old``)."""
    a, b = _run_dir(run_a).resolve(), _run_dir(run_b).resolve()
    return b.parent / f"{b.name}-vs-{a.name}"


def rich_changes(cmp: Comparison) -> Table:
    """The comparison for an 80-column terminal: a header row per task, one row per metric;
    ▲ green / ▼ red when the CI excludes 0, dim otherwise; ↓ marks lower-is-better metrics."""
    from langgap.metrics.registry import label as short
    from langgap.report.compare import MARK, fmt_p, fmt_signed

    conf = round(100 * cmp.settings.get("confidence", 0.95))
    table = Table(title="Changes (B − A)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, h in enumerate(["task / metric", "A", "B", "Δ", f"{conf}% CI", "p", "verdict"]):
        table.add_column(h, justify="left" if i in (0, 6) else "right", no_wrap=True)
    task = None
    for c in cmp.changes:
        if c.task != task:
            task = c.task
            table.add_row(Text(task, style="bold"))
        label = short(c.metric) + ("" if c.greater_is_better else " ↓")
        table.add_row(
            f"  {label}",
            f"{c.a:.3f}",
            f"{c.b:.3f}",
            fmt_signed(c.delta),
            f"[{fmt_signed(c.ci_low)}, {fmt_signed(c.ci_high)}]",
            fmt_p(c.p_value),
            Text(MARK[c.verdict], style=_STYLE[c.verdict]),
            style=None if c.significant else "dim",
        )
    return table


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Run directory A (before): results.json and items.npz.")],
    run_b: Annotated[Path, typer.Argument(help="Run directory B (after); every delta is B - A.")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for compare.json, compare.md, compare.png, compare.html "
            "(default: <run_b>-vs-<run_a name> next to run B)."
        ),
    ] = None,
    n_boot: Annotated[int, typer.Option(help="Paired bootstrap resamples per confidence interval.")] = 2000,
    n_perm: Annotated[int, typer.Option(help="Random per-item A/B swaps per permutation p-value.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the resampling.")] = 0,
    quiet: Quiet = False,
) -> None:
    """Compare run B against run A on the tasks they share (same data files, by sha256).

    For every task and metric with per-item outcomes: B - A, its 95% paired bootstrap CI and a
    paired permutation p-value; a change counts (▲ better / ▼ worse) when the CI excludes 0.
    """
    from langgap.comparison import compare
    from langgap.report.compare import write_comparison

    if n_boot < 1 or n_perm < 1:
        raise InputError(f"--n-boot and --n-perm must be >= 1, got {n_boot} and {n_perm}")
    cmp = compare(run_a, run_b, n_boot=n_boot, n_perm=n_perm, seed=seed)
    target = out if out is not None else default_out(run_a, run_b)
    with writing(target, "comparison"):
        paths = write_comparison(cmp, target)
    for key, (a, b) in cmp.differences.items():
        console.print(
            f"[yellow]differs: {escape(f'{key} {a!r} → {b!r}')}[/yellow]", soft_wrap=True, highlight=False
        )
    for label, names in (("A", cmp.only_a), ("B", cmp.only_b)):
        if names:
            console.print(f"[yellow]only in {label}, not compared: {', '.join(names)}[/yellow]")
    if not quiet:
        out_console.print(rich_changes(cmp))
        counts = cmp.counts()
        console.print(
            f"A: {cmp.a['model']} ({run_a})  B: {cmp.b['model']} ({run_b})\n"
            f"{len(cmp.tasks)} tasks, {len(cmp.changes)} metrics: [green]{counts['better']} better[/green], "
            f"[red]{counts['worse']} worse[/red], {counts['no-change']} without significant change"
        )
        console.print(f"wrote compare.json, compare.md, compare.png, compare.html to {paths['json'].parent}")
