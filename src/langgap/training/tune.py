"""``langgap tune``: search training settings with Optuna and write the best as a recipe file.

Each trial is one ``langgap train`` run (:func:`langgap.training.loop.train`) with the search
space's fixed ``[train]`` settings, a starting recipe's (``recipe``), and the values the study
sampled from ``[space]`` (:mod:`langgap.training.space`), in its own folder
``<out>/trials/trial-NNNN``. Its **score** is computed from the evaluation records of the
validation data the fixed settings give (``eval_bitext``, ``eval_sts``, ``eval_every``):

    score = mean over validation tasks of the task's main score
            − guard_weight × Σ over guards max(0, fall − allowed fall)

where a bitext task counts the mean accuracy of both directions, a multi-way task 1 − xSIM
error, an STS task Spearman ρ; the guards are the ``guard_sts`` files (allowed fall
``guard_sts_warn``, 0.01) and the ``english_guard`` (``guard_threshold``). A language that the
recipe breaks thus costs the score what it lost beyond the allowance. The intermediate
evaluations (every ``eval_every`` steps) are reported to the pruner; the last one (that of the
interpolated model with ``interpolate`` < 1) is the trial's score.

Under ``out``: ``study.db`` (the default storage), ``trials/``, ``trials.tsv`` and ``tune.json``
(every trial: state, score, settings, seconds), ``best.toml`` (the best trial's settings as a
recipe: ``langgap train --recipe <out>/best.toml``), all rewritten after each trial, so a crash
loses at most the trial it stopped (``langgap tune`` adds the figures of
:mod:`langgap.report.tune`). A trial keeps its run records;
only the best trial keeps its ``model/`` (unless ``keep_models``), and no trial keeps checkpoints.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langgap import atomic
from langgap.errors import InputError
from langgap.metrics.registry import greater_is_better
from langgap.training.config import LAYOUT, TrainConfig, read_settings
from langgap.training.guards import TrainingCollapsed
from langgap.training.language_guard import LanguageGuardStopped
from langgap.training.loop import TrainingDiverged, train
from langgap.training.recipes import recipe_path
from langgap.training.space import SearchSpace
from langgap.training.study import Study, TrialRecord

FAILURES = (TrainingDiverged, TrainingCollapsed, LanguageGuardStopped)
# settings that say where data lives, not how to train: left out of best.toml, as are the
# evaluation and output parts' (but interpolate, a training choice)
DATA_SETTINGS = ("model", "pairs", "mono_pairs", "multiway", "langs", "pivot", "all_pairs", "tokenizer")


def training_setting(name: str) -> bool:
    """Whether flat setting ``name`` belongs in a recipe (how to train, not on what or where)."""
    return name == "interpolate" or (
        name not in DATA_SETTINGS and LAYOUT.names[name][0] not in ("eval", "output")
    )


def task_score(task: dict[str, Any]) -> float:
    """One validation task's score from its evaluation record (higher is better)."""
    key = task["main_score"]
    if key == "accuracy_src2tgt" and "accuracy_tgt2src" in task:
        return (float(task[key]) + float(task["accuracy_tgt2src"])) / 2
    value = float(task[key])
    return value if greater_is_better(key) else 1.0 - value


def score(record: dict[str, Any], warn: float, guard_weight: float = 1.0) -> float:
    """The score of one evaluation record; see the module docstring."""
    tasks = record.get("tasks") or {}
    if not tasks:
        raise ValueError(f"the evaluation record of step {record.get('step')} has no validation task")
    falls = [max(0.0, g["drop"] - warn) for g in (record.get("language_guards") or {}).values()]
    english = record.get("english_guard")
    if english:
        falls.append(max(0.0, english["drop"] - english["threshold"]))
    return statistics.fmean(task_score(t) for t in tasks.values()) - guard_weight * sum(falls)


@dataclass(frozen=True)
class TuneResult:
    """What :func:`tune` leaves: the study's trials and the files it wrote."""

    out: Path
    study: str
    storage: str
    trials: list[TrialRecord]
    best: TrialRecord | None
    recipe_file: Path | None  # best.toml (None until a trial completes)
    ran: int  # trials this call ran


def tune(
    space: SearchSpace,
    out: str | Path,
    trials: int,
    *,
    recipe: str | None = None,
    storage: str | None = None,
    study: str = "langgap",
    seed: int = 0,
    prune: bool = True,
    guard_weight: float = 1.0,
    keep_models: bool = False,
    on_trial_start: Callable[[int, dict[str, Any]], None] | None = None,
    on_trial_end: Callable[[TrialRecord], None] | None = None,
    progress: Callable[[int, int, float, float], None] | None = None,
) -> TuneResult:
    """Run trials of ``space`` until the study holds ``trials`` finished ones (complete, pruned,
    or failed in training), then write the records; see the module docstring.

    Args:
        space: the checked search space (:func:`~langgap.training.space.read_space`).
        out: the tune folder. recipe: a shipped recipe name or recipe file trials start from.
        storage: the study's database URL (``sqlite:///<out>/study.db`` when ``None``).
        study: the study's name in the database; seed: the sampler's seed.
        prune: stop trials whose intermediate score is below the median of earlier trials.
        guard_weight: what a guard's fall beyond its allowance costs the score.
        on_trial_start / on_trial_end / progress: callbacks (a trial's settings, its record,
            training steps as in :func:`~langgap.training.loop.train`).
    Raises:
        InputError: bad settings (before any trial runs), an unreadable database.
    """
    if trials < 1:
        raise InputError(f"--trials must be >= 1, got {trials}")
    if not guard_weight >= 0:
        raise InputError(f"--guard-weight must be >= 0, got {guard_weight}")
    source = recipe_path(recipe) if recipe else None
    start = read_settings(source) if source else {}

    def config(sampled: dict[str, Any], folder: Path | None = None) -> TrainConfig:
        """A trial's config: the recipe, no checkpoints unless [train] asks, [train], the sampled values."""
        settings = {"save_every": 0, **space.trial_settings(sampled), "recipe": recipe}
        return TrainConfig.from_sources(None, settings | ({"out": str(folder)} if folder else {}), source)

    base = config({})
    if not (base.eval.eval_bitext or base.eval.eval_sts):
        raise InputError(
            f"{space.source}: [train] gives no validation data (eval_bitext, eval_sts): a trial would have no score"
        )
    out = Path(out)
    if storage is None:  # the default database lives in the tune folder
        out.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{(out / 'study.db').resolve()}"
    runner = Study(space, storage, study, seed, prune)  # a bad URL fails here, before out is made
    out.mkdir(parents=True, exist_ok=True)
    runner.requeue_interrupted()
    warn = base.eval.guard_sts_warn

    def objective(number: int, sampled: dict[str, Any], report: Callable[[float, int], None]) -> float:
        folder = out / "trials" / f"trial-{number:04d}"
        cfg = config(sampled, folder)

        def on_eval(record: dict[str, Any]) -> None:
            if record["step"] > 0 and "interpolated" not in record:
                report(score(record, warn, guard_weight), record["step"])

        try:
            result = train(cfg, on_eval=on_eval, progress=progress)
        finally:
            shutil.rmtree(folder / "checkpoints", ignore_errors=True)
        return score(result.eval_history[-1], warn, guard_weight)

    ran = 0
    while runner.finished() < trials:
        try:
            number = runner.run_one(objective, FAILURES, on_trial_start)
        except KeyboardInterrupt:  # the interrupted trial is recorded as such before going
            _write_records(out, runner, runner.records(), start)
            raise
        ran += 1
        records = runner.records()
        _keep_best_model(out, records, keep_models)
        _write_records(out, runner, records, start)
        if on_trial_end is not None:  # this worker's trial (others may share the study)
            on_trial_end(next(r for r in records if r.number == number))
    records = runner.records()
    best = _best(records)
    _write_records(out, runner, records, start)
    recipe_file = out / "best.toml" if best is not None else None
    return TuneResult(out, study, storage, records, best, recipe_file, ran)


def _best(records: list[TrialRecord]) -> TrialRecord | None:
    done = [r for r in records if r.state == "complete" and r.score is not None]
    return max(done, key=lambda r: (r.score, -r.number)) if done else None


def _keep_best_model(out: Path, records: list[TrialRecord], keep: bool) -> None:
    """Delete the ``model/`` of every trial but the best (a model is ~500 MB for e5-small)."""
    if keep:
        return
    best = _best(records)
    for r in records:
        folder = out / "trials" / f"trial-{r.number:04d}" / "model"
        if (best is None or r.number != best.number) and r.state != "running" and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def _write_records(out: Path, runner: Study, records: list[TrialRecord], start: dict[str, Any]) -> None:
    """``trials.tsv``, ``tune.json`` and ``best.toml``, each replaced in one step."""
    names = list(runner.space.params)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["trial", "state", "score", *names, "seconds", "note"])
    for r in records:
        values = [
            json.dumps(r.params[n]) if isinstance(r.params.get(n), list) else r.params.get(n, "")
            for n in names
        ]
        row_score = f"{r.score:.6f}" if r.score is not None else ""
        seconds = f"{r.seconds:.0f}" if r.seconds is not None else ""
        writer.writerow([r.number, r.state, row_score, *values, seconds, r.note])
    atomic.write_text(out / "trials.tsv", buffer.getvalue())
    best = _best(records)
    summary = {
        "format": "langgap.tune/1",
        "study": runner.name,
        "storage": runner.storage,
        "space": runner.space.source,
        "searched": names,
        "best": asdict(best) if best is not None else None,
        "trials": [asdict(r) for r in records],
    }
    atomic.write_text(out / "tune.json", json.dumps(summary, indent=2, default=str) + "\n")
    if best is not None:
        atomic.write_text(
            out / "best.toml", recipe_toml(runner.space, best, runner.name, len(records), start)
        )


def recipe_toml(
    space: SearchSpace, best: TrialRecord, study: str, total: int, start: dict[str, Any] | None = None
) -> str:
    """The best trial's settings as a recipe file, flat under ``[train]``: the starting recipe's
    (``start``) and the fixed ones, without data, evaluation or output settings, then every
    searched value (a searched data mix included)."""
    start = start or {}
    kept = {name: value for name, value in {**start, **space.fixed}.items() if training_setting(name)}
    settings = {**kept, **best.params}  # searched settings stay, data mixes included
    description = (
        f"Found by langgap tune: study {study}, trial {best.number} of {total}, validation score "
        f"{best.score:.4f} (search space {space.source})"
    )
    lines = [f"description = {json.dumps(description, ensure_ascii=False)}", "", "[train]"]
    lines += [f"{name} = {_toml_value(value)}" for name, value in settings.items() if value is not None]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    """A TOML literal of a setting's value (a bool, number, string, or list of strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
