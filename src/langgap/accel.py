"""Hugging Face Accelerate adapter: the one module that imports ``accelerate``.

:func:`make_accelerator` builds a training run's :class:`accelerate.Accelerator` (CPU processes
of a launcher join through gloo; DDP tolerates parameters without gradient); the loop then uses
the object's public methods (``prepare``, ``backward``, ``no_sync``, ``reduce``, ``save_state``).
:func:`processes` is the lighter view for jobs that only split work between the processes of
``accelerate launch`` / ``torchrun`` (``langgap embed``): which process this is, how many there
are, and a barrier.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from langgap.errors import InputError


def make_accelerator(
    precision: str, report_to: str | None = None, logging_dir: str | Path | None = None
) -> Any:
    """An ``Accelerator`` for one training run with mixed precision ``precision``.

    Accelerate keeps its settings in process-wide singletons, so a second run in one process
    (the Python API, tests) that asks for other settings would be refused ("already been
    initialized"). Only in that case the singletons are reset and the run starts from fresh
    ones (the process group is kept); a compatible state, possibly a caller's own, is left alone.

    ``report_to``: one of Accelerate's experiment trackers (``tensorboard``, ``wandb``,
    ``mlflow``, ``trackio``), logging under ``logging_dir``; its package must be installed.
    """
    from accelerate import Accelerator, DistributedDataParallelKwargs

    cuda = torch.cuda.is_available()

    def build() -> Any:
        return Accelerator(
            # without a GPU, cpu=True is what makes Accelerate join a launcher's processes (gloo)
            cpu=not cuda and not torch.backends.mps.is_available(),
            mixed_precision=precision,
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
            log_with=report_to,
            project_dir=str(logging_dir) if logging_dir is not None else None,
        )

    try:
        try:
            return build()
        except ValueError as e:
            if "already been initialized" not in str(e):
                raise
            _reset_settings()
            return build()
    except ValueError as e:
        raise InputError(f"--mixed-precision {precision}: {e}") from None
    except (ImportError, ModuleNotFoundError) as e:
        raise InputError(f"--report-to {report_to}: {e} (pip install the tracker's package)") from None


def check_tracker(report_to: str | None) -> None:
    """Refuse ``--report-to`` before any work when its package is not installed."""
    from accelerate.utils import (
        is_mlflow_available,
        is_tensorboard_available,
        is_trackio_available,
        is_wandb_available,
    )

    available = {
        "tensorboard": is_tensorboard_available,
        "wandb": is_wandb_available,
        "mlflow": is_mlflow_available,
        "trackio": is_trackio_available,
    }
    if report_to is not None and not available[report_to]():
        package = {"tensorboard": "tensorboardX (or tensorboard)"}.get(report_to, report_to)
        raise InputError(f"--report-to {report_to}: not installed here (pip install {package})")


def _reset_settings() -> None:
    """Forget the settings of an earlier run in this process (Accelerate has no public API for
    this; its own tests call the same private methods)."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state()
    GradientState._reset_state()


def frozen_parameters(model: Any) -> dict[str, list[float]]:
    """``{name: [sum, sum of |x|]}`` (float64) of every parameter without gradient, as the prepared
    ``model`` names them: what checkpoints leave out, and a fingerprint to check on resume."""
    return {
        name: [float(p.detach().double().sum()), float(p.detach().double().abs().sum())]
        for name, p in model.named_parameters()
        if not p.requires_grad
    }


def leave_out_of_checkpoints(accelerator: Any, names: Iterable[str]) -> None:
    """Checkpoints (``save_state``) skip these weights: frozen ones equal the starting model's, which
    a resume loads again (``--freeze-embeddings`` on e5-small: 88 instead of 449 MiB of weights)."""
    skip = set(names)
    if not skip:
        return

    def drop(models: list[Any], weights: list[dict[str, Any]], output_dir: str) -> None:
        for state in weights:
            for name in skip & set(state):
                del state[name]

    accelerator.register_save_state_pre_hook(drop)


def load_without(accelerator: Any, model: Any, folder: str, names: Iterable[str]) -> None:
    """``load_state`` of a checkpoint that left ``names`` out; every other weight of the prepared
    ``model`` must be there."""
    from safetensors import safe_open

    accelerator.load_state(folder, strict=False)
    weights = Path(folder) / "model.safetensors"
    if weights.exists():
        with safe_open(str(weights), framework="pt") as f:
            saved = set(f.keys())
        wanted = {n for n, _ in model.named_parameters()} - set(names)
        missing = sorted(wanted - saved)
        if missing:
            raise InputError(
                f"{folder}: the checkpoint lacks weights {', '.join(missing[:3])} ...; cannot resume"
            )


class Processes:
    """This process among those a launcher started (one process: index 0 of 1)."""

    def __init__(self, state: Any) -> None:
        self._state = state
        self.index, self.count = int(state.process_index), int(state.num_processes)
        self.device = state.device

    @property
    def main(self) -> bool:
        return self.index == 0

    def wait(self) -> None:
        """Barrier: every process reaches this point before any goes on."""
        self._state.wait_for_everyone()

    def share(self, obj: Any) -> Any:
        """The main process's ``obj`` on every process (picklable; every process must call this,
        so it is also a barrier). One process: ``obj`` itself."""
        if self.count == 1:
            return obj
        from accelerate.utils import broadcast_object_list

        return broadcast_object_list([obj], from_process=0)[0]


def processes() -> Processes:
    """The launcher's processes (``accelerate launch``, ``torchrun``; CPU ones join through gloo)."""
    from accelerate import PartialState

    cpu = not torch.cuda.is_available() and not torch.backends.mps.is_available()
    return Processes(PartialState(cpu=cpu))
