"""``langgap merge BASE TUNED --alpha A --out DIR``: interpolate a tuned model with its base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from langgap.cli import app
from langgap.cli.options import Quiet, writing
from langgap.cli.output import console


@app.command()
def merge(
    base: Annotated[str, typer.Argument(help="The starting model: HF id or local path.")],
    tuned: Annotated[str, typer.Argument(help="The model trained from it (a run's model/ folder).")],
    alpha: Annotated[float, typer.Option(help="Weight of TUNED: 1 = TUNED, 0 = BASE.")] = 0.5,
    out: Annotated[Path, typer.Option(help="The interpolated model folder.")] = Path("runs/merged"),
    quiet: Quiet = False,
) -> None:
    """Interpolate a tuned model with its base: (1 - alpha) * BASE + alpha * TUNED (WiSE-FT).

    Keeps part of the cross-language gain and gives back part of each language's own geometry."""
    from langgap.training.merge import merge as run_merge

    with writing(out, "model"):
        merged = run_merge(base, tuned, alpha, out)
    if not quiet:
        console.print(
            f"wrote {merged.folder}: (1 - {alpha:g}) * {base} + {alpha:g} * {tuned} "
            f"({merged.parameters:,} weights interpolated); measure it: langgap measure --model {merged.folder}",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
