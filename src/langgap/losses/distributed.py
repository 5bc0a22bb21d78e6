"""All-gather with gradient: in-batch negatives from every process.

Contrastive losses get better with more negatives; under data parallelism (DDP, ``accelerate
launch``) each process holds only its local batch.  :func:`all_gather_with_grad` concatenates the
embeddings of all processes *and* keeps the autograd graph: the gradient that any process's loss
sends to rows of another process reaches that process's encoder.

The identity this module provides (tested with 2 gloo processes in ``tests/losses``): with ``W``
processes of equal local batch ``B`` and per-process losses ``L_r`` over local queries against all
``W*B`` candidates,

    grad of x_r on process r  =  sum_{r'} dL_{r'} / dx_r  =  W * dL / dx_r,   L = (1/W) sum_r L_r,

so DDP's average of parameter gradients over processes is exactly the gradient of ``L``, the
single-process loss on the combined batch.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    """True when ``torch.distributed`` is available and a default process group is initialised."""
    return dist.is_available() and dist.is_initialized()


def rank_and_world_size() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group; ``(0, 1)`` when not distributed."""
    if not is_distributed():
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


class _AllGatherWithGrad(torch.autograd.Function):
    """Forward: all-gather and concatenate on dim 0.  Backward: the local slice of the summed gradient.

    Every process's loss depends on every process's shard, so the gradient of a shard is the sum over
    processes of the gradient each one computed for it: an all-reduce (SUM) of the gathered
    gradient, then the local rows.  (A reduce-scatter moves fewer bytes, but gloo lacks it and the
    gradient of a (W*B, D) embedding block is small next to the model's own gradient all-reduce.)
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        rank, world = dist.get_rank(), dist.get_world_size()
        x = x.contiguous()
        shards = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(shards, x)
        ctx.rank, ctx.rows = rank, x.shape[0]
        return torch.cat(shards, dim=0)  # (W*B, ...)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        grad = grad.contiguous().clone()  # (W*B, ...); all_reduce works in place
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = ctx.rank * ctx.rows
        return grad[start : start + ctx.rows]  # (B, ...)


def all_gather_with_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` from all processes on dim 0, keeping the gradient path to the local rows.

    ``out[r*B:(r+1)*B] = x`` of process ``r``.  The backward pass returns to each process the summed
    gradient (over all processes' losses) of its own rows, as ``torch.distributed.nn.functional
    .all_gather`` and open_clip's ``gather_features(..., gather_with_grad=True)`` do; see the module
    docstring for the identity this gives under DDP.  Tensors that do not require grad (a frozen
    teacher's embeddings) are gathered the same way.

    Args:
        x: (B, ...) the local shard; every process must pass the same shape.
    Returns:
        (W*B, ...), or ``x`` itself when ``torch.distributed`` is not initialised or ``W == 1``.
    Raises:
        ValueError: when the processes' shapes differ (checked with one small all-gather), since
            offsets ``rank * B`` would then point at the wrong rows.
    """
    if not is_distributed() or dist.get_world_size() == 1:
        return x
    shape = torch.tensor(list(x.shape), dtype=torch.long, device=x.device)  # (ndim,)
    shapes = [torch.empty_like(shape) for _ in range(dist.get_world_size())]
    dist.all_gather(shapes, shape)
    seen = [tuple(int(v) for v in s.tolist()) for s in shapes]
    if any(s != seen[0] for s in seen):
        raise ValueError(f"all_gather_with_grad needs equal shapes on every process, got {seen} by rank")
    out: Tensor = _AllGatherWithGrad.apply(x)
    return out
