"""Inference precision of a model's forward pass: fp32, or bf16 / fp16 autocast on a GPU.

``auto`` is bf16 on a CUDA device that supports it, fp16 on other CUDA devices and fp32
elsewhere (CPU, MPS). Autocast runs matrix products in the low precision and keeps the
numerically sensitive operations (layer norm, softmax, pooling sums) in fp32, so the embeddings
move little (cosine to fp32 about 0.999 with bf16, tested on CPU) while a GPU runs its fast
tensor-core paths.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from langgap.errors import InputError

Precision = Literal["auto", "fp32", "fp16", "bf16"]
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


def resolve_precision(precision: str, device: Any) -> str:
    """``fp32``, ``fp16`` or ``bf16`` for ``precision`` on ``device`` (a torch device or its name).

    Raises:
        InputError: an unknown name, or fp16 / bf16 on a device without autocast for it.
    """
    import torch

    if precision not in PRECISIONS:
        raise InputError(f"--precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    kind = torch.device(device).type
    if precision == "auto":
        if kind != "cuda":
            return "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision != "fp32" and kind not in ("cuda", "cpu"):
        raise InputError(f"--precision {precision}: autocast on {kind} is not supported; use fp32")
    return precision


def autocast(precision: str, device: Any) -> contextlib.AbstractContextManager[Any]:
    """The context a forward pass runs in: ``torch.autocast`` for fp16 / bf16, nothing for fp32."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=torch.device(device).type, dtype=dtype)
