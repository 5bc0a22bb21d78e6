"""``langgap report RUN_DIR``: rebuild ``report.md`` and ``report.html`` from a saved run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from langgap.cli import app
from langgap.cli.options import Quiet, writing
from langgap.cli.output import console


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="Run directory with results.json (and items.npz).")],
    out: Annotated[
        Path | None, typer.Option(help="Write report.md, report.html and figures here (default: RUN_DIR).")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Write report.md (PNG figures beside it) and a self-contained report.html for a saved run."""
    from langgap.report.document import write_report
    from langgap.results import load_results

    results = load_results(run_dir)  # InputError on a bad run directory: exit 2 via main()
    target = out if out is not None else (run_dir if run_dir.is_dir() else run_dir.parent)
    with writing(target, "report"):
        written = write_report(results, target)
    if not quiet:
        if not any(t.items for t in results.tasks):
            console.print(
                f"[yellow]no items.npz in {escape(str(run_dir))}: figures from per-item data skipped[/yellow]",
                soft_wrap=True,
            )
        console.print(
            f"wrote {written['report.md']}, {written['report.html']} and {len(written) - 2} figure(s)",
            soft_wrap=True,
            markup=False,
        )
