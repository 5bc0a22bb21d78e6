"""``langgap report RUN_DIR``: rebuild ``report.md`` and ``report.html`` from a saved run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from langgap.cli import app
from langgap.cli.output import console
from langgap.errors import InputError


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="Run directory with results.json (and items.npz).")],
    out: Annotated[
        Path | None, typer.Option(help="Write report.md, report.html and figures here (default: RUN_DIR).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not list the files written.")] = False,
) -> None:
    """Write report.md (PNG figures beside it) and a self-contained report.html for a saved run."""
    from langgap.report.document import write_reports
    from langgap.results import load_results

    results = load_results(run_dir)  # InputError on a bad run directory: exit 2 via main()
    target = out if out is not None else (run_dir if run_dir.is_dir() else run_dir.parent)
    try:
        written = write_reports(results, target)
    except OSError as e:
        raise InputError(
            f"{target}: cannot write the report ({e.strerror or e}); the folder is as it was"
        ) from None
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
