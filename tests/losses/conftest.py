"""A simulated process group for the gather paths of the losses, inside this one process.

The real thing is tested with 2 gloo processes (``test_loss_distributed.py``); this fake lets the
fast in-process tests (and mutmut, which only sees code run in its own process) reach the lines
that only run under ``torch.distributed``: which rows the candidates are, where the positives
sit (``rank * B + i``), and that every wrapper passes ``gather`` on.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F


class FakeWorld:
    """``torch.distributed`` as rank ``rank`` of ``world`` processes sees it.

    Where this process all-gathers ``x``, process ``r`` holds :meth:`peer` ``(x, r)``: unit rows
    (every gather in ``losses/`` is of L2-normalised embeddings) that differ per process, or ``x``
    itself for integer tensors (the shape check: equal shapes everywhere). ``all_reduce`` sums
    ``world`` equal contributions.
    """

    def __init__(self, rank: int, world: int) -> None:
        self.rank, self.world = rank, world

    @staticmethod
    def peer(x: torch.Tensor, r: int) -> torch.Tensor:
        if not x.is_floating_point():
            return x.clone()
        return F.normalize(x.flip(0) * (r + 1) + 0.5 * (r + 1), dim=-1)

    def all_gather(self, out: list[torch.Tensor], x: torch.Tensor) -> None:
        for r, slot in enumerate(out):
            slot.copy_(x if r == self.rank else self.peer(x, r))

    def all_reduce(self, t: torch.Tensor, op: object = None) -> None:
        t.mul_(self.world)


@pytest.fixture
def fake_world(monkeypatch) -> Callable[..., FakeWorld]:
    """``fake_world(rank, world=2)``: from then on this process is that rank (undone after the test)."""

    def enter(rank: int, world: int = 2) -> FakeWorld:
        w = FakeWorld(rank, world)
        monkeypatch.setattr(dist, "is_available", lambda: True)
        monkeypatch.setattr(dist, "is_initialized", lambda: True)
        monkeypatch.setattr(dist, "get_rank", lambda *a, **k: w.rank)
        monkeypatch.setattr(dist, "get_world_size", lambda *a, **k: w.world)
        monkeypatch.setattr(dist, "all_gather", lambda out, x, *a, **k: w.all_gather(out, x))
        monkeypatch.setattr(dist, "all_reduce", lambda t, *a, **k: w.all_reduce(t))
        return w

    return enter
