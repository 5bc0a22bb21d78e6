"""Checkpoints: ``accelerator.save_state`` plus a JSON sidecar, written atomically, last 2 kept.

``<out>/checkpoints/step-<n>/`` holds what Accelerate saves (model weights, optimizer, GradScaler,
RNG states, the registered LR scheduler) and :data:`SIDECAR`, langgap's own state: the step,
the batch composer's position (:meth:`BatchComposer.state_dict`) and how dropout is seeded.

A checkpoint is first written to ``step-<n>.tmp`` and renamed when complete, so a crash while
saving never leaves a half-written ``step-<n>``; only folders with a sidecar count. After a
save, all but the newest :data:`KEEP` are deleted.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langgap import atomic
from langgap.accel import load_without
from langgap.errors import InputError

log = logging.getLogger(__name__)

SIDECAR = "trainer_state.json"
STATE_FORMAT = "langgap.train-state/1"
KEEP = 2
_NAME = re.compile(r"^step-(\d+)$")


def checkpoints_dir(out: str | Path) -> Path:
    return Path(out) / "checkpoints"


def list_checkpoints(out: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints ``(step, folder)`` under ``<out>/checkpoints``, oldest first."""
    root = checkpoints_dir(out)
    if not root.is_dir():
        return []
    found = []
    for d in root.iterdir():
        m = _NAME.match(d.name)
        if m and (d / SIDECAR).is_file():
            found.append((int(m.group(1)), d))
    return sorted(found)


def last_checkpoint(out: str | Path) -> Path | None:
    found = list_checkpoints(out)
    return found[-1][1] if found else None


def save_checkpoint(accelerator: Any, out: str | Path, step: int, state: dict[str, Any]) -> Path:
    """Save the Accelerate state and ``state`` (JSON) as ``step-<step>``; prune old ones.

    Call on every process (Accelerate's ``save_state`` is collective); files are written by the
    main process.
    """
    final = checkpoints_dir(out) / f"step-{step}"
    tmp = final.with_name(final.name + ".tmp")
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    try:
        accelerator.save_state(str(tmp))
        accelerator.wait_for_everyone()  # every process has written its part (RNG states) before the rename
        if accelerator.is_main_process:
            sidecar = {"format": STATE_FORMAT, "step": step, **state}
            atomic.write_text(tmp / SIDECAR, json.dumps(sidecar, indent=2) + "\n")
            if final.exists():
                shutil.rmtree(final)
            tmp.rename(final)
    except BaseException:  # Ctrl-C, SIGTERM or a full disk while saving: no half checkpoint left
        if accelerator.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if accelerator.is_main_process:
        for _, old in list_checkpoints(out)[:-KEEP]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("saved checkpoint %s", final)
    accelerator.wait_for_everyone()
    return final


RUN_FILES = ("config.json", "train_log.jsonl", "eval_history.jsonl", "checkpoints", "logs", "holdout")


def resume_point(out: str | Path, resume: bool) -> Path | None:
    """The checkpoint to resume from (``None`` for a fresh run); refuses mistakes either way.

    A run stopped before its first checkpoint has nothing to continue from: the same command
    starts it again, replacing what it had written. Partial checkpoints (``step-N.tmp``) are
    removed either way.
    """
    out = Path(out)
    root = checkpoints_dir(out)
    for partial in root.glob("step-*.tmp") if root.is_dir() else ():
        shutil.rmtree(partial, ignore_errors=True)
    if resume:
        ckpt = last_checkpoint(out)
        if ckpt is None:
            raise InputError(
                f"--resume: no checkpoint in {root} (one is saved every --save-every steps); "
                "run the same command without --resume to start again"
            )
        return ckpt
    if list_checkpoints(out):
        raise InputError(
            f"--out {out} already holds a training run: continue it with --resume or choose another --out"
        )
    if (out / "model").is_dir() and (out / "train_log.jsonl").exists():
        raise InputError(f"--out {out} holds a finished training run (model/): choose another --out")
    atomic.check_out_dir(out, ("config.json", "checkpoints", "model"), "langgap training run")
    for name in RUN_FILES:  # a run stopped before its first checkpoint: start it again
        path = out / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return None


def read_sidecar(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / SIDECAR
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: cannot read the checkpoint state ({e})") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise InputError(f"{path}: not a langgap training state (expected format {STATE_FORMAT!r})")
    return state


def load_checkpoint(
    accelerator: Any, model: Any, folder: str | Path, frozen: dict[str, list[float]]
) -> dict[str, Any]:
    """Restore the Accelerate state from ``folder`` and return its sidecar.

    ``frozen``: the fingerprints of the run's frozen parameters (left out of the checkpoint); they
    must equal those the checkpointed run recorded, or the resumed weights would differ.
    """
    state = read_sidecar(folder)
    if state.get("frozen", {}) != frozen:
        raise InputError(
            f"{folder}: the frozen weights of the model being resumed differ from those of the "
            "checkpointed run (another starting model, or --freeze-embeddings or --freeze-layers changed); "
            "cannot resume"
        )
    load_without(accelerator, model, str(folder), frozen)
    return state


# -- the run folder's JSON files ----------------------------------------------------------


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a log; a last line cut short by a crash is dropped (every earlier one is whole)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if no < len(lines):
                raise InputError(f"{path}:{no}: not a JSON record") from None
            log.warning("%s:%d: the last record was cut short (a crash while writing); dropped", path, no)
    return rows


def keep_until(path: Path, step: int) -> list[dict[str, Any]]:
    """Drop the records after ``step`` (written after the checkpoint a resume starts from)."""
    if not path.exists():
        return []
    rows = [r for r in read_jsonl(path) if r.get("step", 0) <= step]
    atomic.write_text(path, "".join(json.dumps(r) + "\n" for r in rows))
    return rows


def warn_changed(
    path: Path, new: dict[str, Any], ignore: Sequence[str] = (), defaults: Mapping[str, Any] | None = None
) -> None:
    """Log the training settings that differ from the run being resumed (their result will too).
    A setting its ``config.json`` predates counts as its value in ``defaults``."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))["config"]
    except (OSError, ValueError, KeyError):
        return
    before = {**(defaults or {}), **old}
    changed = sorted(k for k in new if k not in ignore and before.get(k) != new[k])
    if changed:
        log.warning("resuming with settings that differ from the checkpointed run: %s", ", ".join(changed))


def rewind_logs(out: str | Path, step: int) -> list[dict[str, Any]]:
    """On resume: keep the log records up to ``step`` (the checkpoint); returns the eval history."""
    keep_until(Path(out) / "train_log.jsonl", step)
    return keep_until(Path(out) / "eval_history.jsonl", step)


def write_config(out: str | Path, config: dict[str, Any]) -> None:
    """``<out>/config.json``: the resolved config of the run (written atomically)."""
    Path(out).mkdir(parents=True, exist_ok=True)
    record = {"format": "langgap.train-config/1", **config}
    atomic.write_text(Path(out) / "config.json", json.dumps(record, indent=2) + "\n")
