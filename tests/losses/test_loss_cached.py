"""GradCache path: parameter gradients equal the uncached full-batch path."""

from __future__ import annotations

import contextlib
from functools import partial

import pytest
import torch

from langgap.losses import (
    cached_backward,
    cached_info_nce,
    cached_soft_contrastive,
    info_nce,
    soft_contrastive,
    soft_labels,
)


def _setup(seed: int = 0, bsz: int = 10):
    torch.manual_seed(seed)
    enc = torch.nn.Linear(6, 4)
    x_a = torch.randn(bsz, 6)
    x_b = x_a + 0.5 * torch.randn(bsz, 6)
    return enc, x_a, x_b


def _grads(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in module.parameters()]  # type: ignore[union-attr]


def _chunks(x: torch.Tensor, sizes: list[int]) -> list[torch.Tensor]:
    return list(x.split(sizes))


def _labels(x_a: torch.Tensor) -> torch.Tensor:
    teacher = torch.nn.Linear(6, 3)  # frozen teacher of another dimension
    with torch.no_grad():
        return soft_labels(teacher(x_a), temperature=0.1, mode="priority")


@pytest.mark.parametrize(
    "kind, kwargs",
    [
        ("info_nce", {"temperature": 0.05, "margin": 0.2}),
        ("soft", {"temperature": 0.05, "tcm_weight": 0.5}),
    ],
)
def test_cached_gradients_equal_full_batch(kind, kwargs):
    enc, x_a, x_b = _setup()
    labels = _labels(x_a)

    def loss_fn(a, b):
        return info_nce(a, b, **kwargs) if kind == "info_nce" else soft_contrastive(a, b, labels, **kwargs)

    full = loss_fn(enc(x_a), enc(x_b))
    full.backward()
    want = _grads(enc)
    enc.zero_grad()

    ca, cb = _chunks(x_a, [4, 4, 2]), _chunks(x_b, [3, 3, 3, 1])  # uneven, different per side
    if kind == "info_nce":
        got_loss = cached_info_nce(enc, ca, cb, **kwargs)
    else:
        got_loss = cached_soft_contrastive(enc, ca, cb, labels, **kwargs)
    assert not got_loss.requires_grad
    torch.testing.assert_close(got_loss, full.detach(), rtol=0, atol=1e-6)
    for g, w in zip(_grads(enc), want, strict=True):
        assert w.abs().sum() > 0
        torch.testing.assert_close(g, w, rtol=0, atol=1e-6)


def test_dropout_masks_are_replayed():
    """With dropout, the cached path equals the graph-holding chunked path under the same seed."""
    torch.manual_seed(1)
    enc = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 4)).train()
    x_a, x_b = torch.randn(8, 6), torch.randn(8, 6)
    ca, cb = _chunks(x_a, [3, 5]), _chunks(x_b, [4, 4])

    torch.manual_seed(7)
    a = torch.cat([enc(c) for c in ca])
    b = torch.cat([enc(c) for c in cb])
    want_loss = info_nce(a, b, temperature=0.1)
    want_loss.backward()
    want = _grads(enc)
    enc.zero_grad()

    torch.manual_seed(7)
    got_loss = cached_backward(enc, ca, cb, partial(info_nce, temperature=0.1))
    torch.testing.assert_close(got_loss, want_loss.detach(), rtol=0, atol=1e-6)
    for g, w in zip(_grads(enc), want, strict=True):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-6)


def test_no_sync_wraps_all_but_the_last_backward_and_side_unused():
    enc, x_a, x_b = _setup()
    entered: list[int] = []

    @contextlib.contextmanager
    def no_sync():
        entered.append(1)
        yield

    # a loss that ignores b: its chunks get zero gradient and the call still works
    cached_backward(
        enc, _chunks(x_a, [5, 5]), _chunks(x_b, [5, 5]), lambda a, b: (a**2).sum(), no_sync=no_sync
    )
    assert len(entered) == 3  # 4 chunk backwards, the last one synchronises
    want = torch.autograd.grad((enc(x_a) ** 2).sum(), enc.weight)[0]
    assert enc.weight.grad is not None
    torch.testing.assert_close(enc.weight.grad, want, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="no chunks"):
        cached_backward(enc, [], [], lambda a, b: a.sum())
