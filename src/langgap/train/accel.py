"""Hugging Face Accelerate adapter: the one module that imports ``accelerate``.

:func:`make_accelerator` builds the run's :class:`accelerate.Accelerator` (CPU processes of a
launcher join through gloo; DDP tolerates parameters without gradient); the loop then uses the
object's public methods (``prepare``, ``backward``, ``no_sync``, ``reduce``, ``save_state``).
"""

from __future__ import annotations

from typing import Any

import torch

from langgap.errors import InputError


def make_accelerator(precision: str) -> Any:
    """An ``Accelerator`` for one training run with mixed precision ``precision``.

    Accelerate keeps its settings in process-wide singletons, so a second run in one process
    (the Python API, tests) that asks for other settings would be refused ("already been
    initialized"). Only in that case the singletons are reset and the run starts from fresh
    ones (the process group is kept); a compatible state, possibly a caller's own, is left alone.
    """
    from accelerate import Accelerator, DistributedDataParallelKwargs

    cuda = torch.cuda.is_available()

    def build() -> Any:
        return Accelerator(
            # without a GPU, cpu=True is what makes Accelerate join a launcher's processes (gloo)
            cpu=not cuda and not torch.backends.mps.is_available(),
            mixed_precision=precision,
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
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


def _reset_settings() -> None:
    """Forget the settings of an earlier run in this process (Accelerate has no public API for
    this; its own tests call the same private methods)."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state()
    GradientState._reset_state()
