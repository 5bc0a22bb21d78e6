"""``langgap table RUN... --out DIR``: many runs side by side, with differences to a baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from langgap.cli import app
from langgap.cli.options import Quiet, writing
from langgap.cli.output import console, out_console, rich_table
from langgap.errors import InputError


@app.command(name="table")
def table_command(
    runs: Annotated[
        list[Path], typer.Argument(help="Run directories (results.json and items.npz).", metavar="RUN")
    ],
    out: Annotated[Path, typer.Option(help="Folder for table.md, table.json, table.html (+ table.png).")],
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="Run every other is compared with (paired bootstrap intervals); may be one of RUNS."
        ),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            metavar="TASK:KEY",
            help="TASK:KEY to show (repeatable; KEY alone: every task with it). "
            "Default: the per-task table metrics of every shared task.",
        ),
    ] = None,
    group_seeds: Annotated[
        bool, typer.Option("--group-seeds", help="One column per seed group: mean ± sd over its runs.")
    ] = False,
    digits: Annotated[int, typer.Option(help="Decimals in table.md and table.html.")] = 3,
    n_boot: Annotated[int, typer.Option(help="Paired bootstrap resamples per interval.")] = 2000,
    n_perm: Annotated[int, typer.Option(help="Random per-item swaps per p-value.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the resampling.")] = 0,
    quiet: Quiet = False,
) -> None:
    """Many runs side by side: per task and language each run's value, the difference to a
    baseline with its 95% paired interval, mean ± sd over seeds, and a ranking."""
    from langgap.report.table import table
    from langgap.report.table_page import ranking_table, write_table

    if n_boot < 1 or n_perm < 1 or digits < 0:
        raise InputError(
            f"--n-boot, --n-perm must be >= 1 and --digits >= 0, got {n_boot}, {n_perm}, {digits}"
        )
    result = table(
        runs,
        baseline=baseline,
        metrics=metric,
        group_seeds=group_seeds,
        n_boot=n_boot,
        n_perm=n_perm,
        seed=seed,
    )
    with writing(out, "table"):
        paths = write_table(result, out, digits=digits)
    for task, why in result.left_out.items():
        console.print(f"[yellow]left out {task}: {why}[/yellow]", soft_wrap=True, highlight=False)
    if not quiet:
        out_console.print(rich_table(ranking_table(result)))
        console.print(
            f"{len(result.runs)} runs, {len(result.tasks)} tasks, {len(result.rows)} rows; "
            f"wrote {', '.join(p.name for p in paths.values())} to {out}",
            soft_wrap=True,
            markup=False,
        )
