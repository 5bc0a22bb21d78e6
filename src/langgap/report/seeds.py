"""Which runs differ only by their seed: the rule ``langgap table --group-seeds`` groups by.

Two measure runs belong to one seed group when everything that produced their numbers is the same
but a seed. :func:`seed_key` writes that down as one comparable value per run:

1. **the data**: every task's name, kind, languages and data files (name and sha256);
2. **the measurement**: ``results.json``'s ``config`` (``k``, the row budget, ``--adapt``,
   batch size, max length, ...) without its ``seed`` and the task paths (the sha256s above
   stand for the data), and the model's prompt, pooling and dimension;
3. **the model**:
   - a model trained by ``langgap train``: its training ``config.json`` (found beside the model
     folder the run measured, ``<train run>/model`` -> ``<train run>/config.json``, or as the
     parent of the run folder, ``<train run>/measure``) without ``seed``, ``out`` and the
     settings that do not change the weights (evaluation files, guard, checkpoint and
     evaluation intervals);
   - otherwise the model as ``results.json`` records it (name, path, prompt, ...): a hub model
     such as ``intfloat/multilingual-e5-small`` measured again with another ``--seed``.

Within a group the seeds must differ: a run whose seed the group already has is not a repeat with
another seed and stands alone (see :func:`langgap.report.table.table`).

When a trained model's config cannot be found (the run folders were moved without their training
folders) the rule falls back on the run's folder name: ``NAME-sK`` / ``NAME-seedK`` count as
seed K of ``NAME`` (with the data and measurement still compared). Runs without a seed suffix
and without a training config form groups of their own unless their model names match.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from langgap.results import Results

# training settings that do not change the trained weights (training.setup.NOT_TRAINING and the
# run folder); kept here as data because the report layer may not import the training layer
NOT_WEIGHTS = frozenset(
    {
        "format",
        "seed",
        "out",
        "eval_every",
        "save_every",
        "eval_bitext",
        "eval_sts",
        "english_guard",
        "guard_threshold",
        "report_to",
    }
)
SEED_SUFFIX = re.compile(r"^(?P<name>.+?)-s(?:eed)?(?P<seed>\d+)$")


def run_name(path: str | Path) -> str:
    """A run's display name: its folder name, or for ``<train run>/measure`` the training run's."""
    p = Path(path)
    if p.name == "results.json":
        p = p.parent
    p = p.resolve()
    return p.parent.name if p.name == "measure" else p.name


def split_seed(name: str) -> tuple[str, int | None]:
    """``"recipe-s2"`` -> ``("recipe", 2)``, ``"a-cross0-seed1"`` -> ``("a-cross0", 1)``; else no seed."""
    m = SEED_SUFFIX.match(name)
    return (m["name"], int(m["seed"])) if m else (name, None)


def training_config(results: Results, run_dir: str | Path) -> dict[str, Any] | None:
    """The ``langgap train`` config of the model a run measured, or ``None`` if not found."""
    run = Path(run_dir)
    if run.name == "results.json":
        run = run.parent
    candidates = [run.parent / "config.json"]
    model_path = results.model.get("path") or results.model.get("name")
    if model_path:
        for base in (Path.cwd(), run, run.parent):
            candidates.insert(0, (base / str(model_path)).parent / "config.json")
    for c in candidates:
        try:
            record = json.loads(c.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and str(record.get("format", "")).startswith("langgap.train-config"):
            return record
    return None


def _data(results: Results) -> list[Any]:
    return [
        [t.name, t.kind.value, t.languages, sorted((Path(f["path"]).name, f["sha256"]) for f in t.files)]
        for t in results.tasks
    ]


def _measurement(results: Results) -> dict[str, Any]:
    config = {k: v for k, v in results.config.items() if k not in ("seed", "tasks")}
    model = {k: results.model.get(k) for k in ("prompt", "pooling", "dimension")}
    return {"config": config, "model": model}


def seed_key(results: Results, run_dir: str | Path) -> tuple[str, str]:
    """``(group name, key)``: runs with equal keys differ only by a seed (see the module docstring)."""
    name, _ = split_seed(run_name(run_dir))
    train = training_config(results, run_dir)
    if train is not None:
        model: Any = {k: v for k, v in train.items() if k not in NOT_WEIGHTS}
    elif split_seed(run_name(run_dir))[1] is not None:
        model = {
            "name pattern": name,
            **{k: v for k, v in results.model.items() if k not in ("name", "path")},
        }
    else:
        model = {"model": results.model}
    key = json.dumps([_data(results), _measurement(results), model], sort_keys=True, default=str)
    return name, key


def run_seed(results: Results, run_dir: str | Path) -> int | None:
    """The seed that tells a run from the others of its group: the training seed, else the
    folder name's ``-sK``, else the measurement's seed."""
    train = training_config(results, run_dir)
    if train is not None and "seed" in train:
        return int(train["seed"])
    seed = split_seed(run_name(run_dir))[1]
    return seed if seed is not None else results.config.get("seed")
