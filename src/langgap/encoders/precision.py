"""Inference precision of a model's forward pass: fp32, bf16 or fp16, on the hardware that has it.

``auto`` picks the fastest setting that keeps the results:

- a CUDA device: bf16 where it supports it, else fp16, both as ``torch.autocast`` (matrix
  products in the low precision, layer norm / softmax / pooling sums in fp32);
- a CPU that computes bf16 natively (AVX512-BF16 or AMX-BF16, read from the CPU's own feature
  flags through torch's ``cpuinfo`` probe, never guessed from a model or CPU name): bf16
  **weights** (the model is cast once; its embeddings come back as float32). Where issue 20
  was measured (an AVX512-BF16 EPYC), autocast around the same forward was slower than fp32,
  while bf16 weights were 1.4–1.8x faster with embeddings at cosine >= 0.9999 to fp32;
- any other CPU, and MPS: fp32. Without native bf16, bf16 is emulated: on an AVX2-only EPYC a
  matrix product ran at 1.3 against 75.6 GFLOP/s in fp32 and e5-small's forward 7.3x slower
  (``python bench/bench_precision.py``), so ``--precision bf16`` there is refused, not run.

Every embedding records what ran (``describe()["precision"]``), and a cache key carries it, so
embeddings of two precisions never mix.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any, Literal

from langgap.errors import InputError

Precision = Literal["auto", "fp32", "fp16", "bf16"]
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_NATIVE_FLAGS = {"bf16": ("avx512_bf16", "amx_bf16"), "fp16": ("avx512_fp16", "amx_fp16")}


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU features torch's ``cpuinfo`` probe reports as present (``/proc/cpuinfo``'s flags
    where this torch has no such probe)."""
    import torch

    probe = getattr(torch.cpu, "get_capabilities", None)
    if probe is not None:
        return frozenset(name for name, value in probe().items() if value is True)
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return frozenset()
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_cpu(dtype: Literal["bf16", "fp16"]) -> bool:
    """Whether this CPU computes ``dtype`` natively (AVX512 or AMX instructions for it)."""
    return any(flag in cpu_flags() for flag in _NATIVE_FLAGS[dtype])


def resolve_precision(precision: str, device: Any) -> str:
    """``fp32``, ``fp16`` or ``bf16`` for ``precision`` on ``device`` (a torch device or its name).

    Raises:
        InputError: an unknown name; fp16 / bf16 on a CPU without native instructions for it, or
            on a device kind without autocast (MPS).
    """
    import torch

    if precision not in PRECISIONS:
        raise InputError(f"--precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    kind = torch.device(device).type
    if precision == "auto":
        if kind == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "bf16" if kind == "cpu" and native_cpu("bf16") else "fp32"
    if precision == "fp32":
        return precision
    if kind == "cpu" and not native_cpu(precision):  # type: ignore[arg-type]
        wanted = " or ".join(f.upper().replace("_", "-") for f in _NATIVE_FLAGS[precision])
        raise InputError(
            f"--precision {precision}: this CPU has no native {precision} ({wanted}), where it runs "
            "far slower than fp32; use --precision fp32 or auto"
        )
    if kind not in ("cuda", "cpu"):
        raise InputError(f"--precision {precision}: not supported on {kind}; use fp32")
    return precision


def cast_for_inference(model: Any, precision: str) -> None:
    """Cast ``model``'s weights to ``precision`` where that is how it runs: on a CPU (see the
    module docstring). On a GPU the weights stay fp32 and :func:`autocast` does the work."""
    import torch

    if precision == "fp32" or next(model.parameters()).device.type != "cpu":
        return
    model.to(torch.bfloat16 if precision == "bf16" else torch.float16)


def autocast(precision: str, device: Any) -> contextlib.AbstractContextManager[Any]:
    """The context a forward pass runs in: ``torch.autocast`` for fp16 / bf16 on a GPU, nothing
    for fp32 or on a CPU (whose weights :func:`cast_for_inference` has cast)."""
    import torch

    kind = torch.device(device).type
    if precision == "fp32" or kind == "cpu":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=kind, dtype=dtype)
