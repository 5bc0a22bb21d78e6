"""``langgap tune SPACE --trials N``: search training settings, write the best as a recipe."""

from __future__ import annotations

import logging
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from langgap.cli import app, interrupted
from langgap.cli import options as shared
from langgap.cli.output import log_warnings, progress_bar

if TYPE_CHECKING:
    from langgap.training.study import TrialRecord

Opt = typer.Option


def trial_line(record: TrialRecord) -> str:
    """One line per finished trial: its state, score, settings and time."""
    settings = ", ".join(f"{k}={v}" for k, v in record.params.items())
    seconds = f", {record.seconds:.0f} s" if record.seconds is not None else ""
    if record.state == "complete" and record.score is not None:
        what = f"score {record.score:.4f}"
    elif record.state == "pruned" and record.steps:
        step = max(record.steps)
        what = f"pruned at step {step} (score {record.steps[step]:.4f})"
    else:
        what = record.state + (f": {record.note}" if record.note else "")
    return f"trial {record.number}: {what} ({settings}{seconds})"


@app.command()
def tune(
    space: Annotated[
        Path, typer.Argument(help="Search space TOML: \\[train] fixed settings, \\[space] searched.")
    ],
    trials: Annotated[int, Opt(help="Trials the study holds when done (resumed: the ones left).")] = 20,
    recipe: Annotated[str | None, Opt(help="Recipe every trial starts from (name or FILE.toml).")] = None,
    out: Annotated[Path, Opt(help="Tune folder: trials/, trials.tsv, tune.json, best.toml, figures.")] = Path(
        "runs/tune"
    ),
    storage: Annotated[
        str | None,
        Opt(help="Study database URL (sqlite:///OUT/study.db); share one to tune on many machines."),
    ] = None,
    study: Annotated[str, Opt(help="Study name in the database.")] = "langgap",
    seed: Annotated[int, Opt(help="Seed of the sampler (TPE).")] = 0,
    prune: Annotated[bool, Opt("--prune/--no-prune", help="Stop trials below the median early.")] = True,
    guard_weight: Annotated[
        float, Opt(help="What a guard's fall beyond its allowance costs the score.")
    ] = 1.0,
    keep_models: Annotated[
        bool, Opt("--keep-models", help="Keep every trial's model/ (not only the best).")
    ] = False,
    quiet: shared.Quiet = False,
) -> None:
    """Search training settings with Optuna; the best trial's settings become a recipe file.

    A trial's score: mean validation score minus each guard's fall beyond its allowance.

    Run the same command again to resume it; give other machines the same --storage to share it."""
    from langgap.report.tune import write_tune_figures
    from langgap.training.recipes import recipe_path
    from langgap.training.space import read_space
    from langgap.training.tune import tune as run_tune

    log_warnings()
    logging.getLogger("langgap.training.evaluate").setLevel(logging.ERROR)  # the trial lines say it
    parsed = read_space(space, recipe_path(recipe) if recipe else None)
    bar = progress_bar(quiet)
    done = bar.add_task("trials", total=trials, info="", visible=False)
    steps = bar.add_task("training", total=None, info="", visible=False)

    def on_start(number: int, sampled: dict[str, Any]) -> None:
        bar.start()
        bar.update(done, visible=True, info=f"trial {number}")
        bar.reset(steps, visible=True)

    def on_step(step: int, total: int, loss: float, pairs_per_s: float) -> None:
        bar.update(steps, completed=step, total=total, info=f"loss {loss:.4f}")

    def on_end(record: TrialRecord) -> None:
        bar.advance(done)
        if not quiet:
            bar.console.print(trial_line(record), soft_wrap=True, markup=False, highlight=False)

    try:
        result = run_tune(
            parsed,
            out,
            trials,
            recipe=recipe,
            storage=storage,
            study=study,
            seed=seed,
            prune=prune,
            guard_weight=guard_weight,
            keep_models=keep_models,
            on_trial_start=on_start,
            on_trial_end=on_end,
            progress=on_step,
        )
    except KeyboardInterrupt:
        bar.stop()
        raise interrupted(
            f"interrupted; the finished trials are in {out} (trials.tsv, best.toml) and the study in its "
            f"database: run the same command again to go on (the interrupted trial runs again)"
        ) from None
    finally:
        bar.stop()
    write_tune_figures(result.trials, list(parsed.params), out)
    if quiet:
        return
    if result.best is None:
        typer.echo(f"no trial completed; the trials are in {out / 'trials.tsv'}")
        return
    typer.echo(f"{len(result.trials)} trials ({result.ran} run now); best: {trial_line(result.best)}")
    recipe_file = shlex.quote(str(result.recipe_file))
    typer.echo(
        f"recipe written to {result.recipe_file}; train with it: langgap train --recipe {recipe_file} ..."
    )
