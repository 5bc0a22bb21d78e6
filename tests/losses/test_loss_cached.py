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


def test_cached_info_nce_defaults_and_options_reach_the_loss(fake_world):
    """Defaults as :func:`info_nce`'s (τ 0.05, no margin, symmetric, local); every option passed on."""
    enc, x_a, x_b = _setup()
    ca, cb = _chunks(x_a, [6, 4]), _chunks(x_b, [5, 5])
    with torch.no_grad():
        a, b = enc(x_a), enc(x_b)
    for kwargs in ({}, {"symmetric": False}, {"temperature": 0.2, "margin": 0.3}):
        torch.testing.assert_close(
            cached_info_nce(enc, ca, cb, **kwargs), info_nce(a, b, **kwargs), rtol=0, atol=1e-6
        )
    entered: list[int] = []
    cached_info_nce(enc, ca, cb, no_sync=lambda: contextlib.nullcontext(entered.append(1)))
    assert len(entered) == 3  # 4 chunk backwards, the last one synchronises
    fake_world(rank=1)
    gathered = cached_info_nce(enc, ca, cb, gather=True)
    torch.testing.assert_close(gathered, info_nce(a, b, gather=True), rtol=0, atol=1e-6)
    torch.testing.assert_close(cached_info_nce(enc, ca, cb), info_nce(a, b), rtol=0, atol=1e-6)


def test_cached_soft_contrastive_defaults_and_options_reach_the_loss(fake_world):
    enc, x_a, x_b = _setup()
    ca, cb = _chunks(x_a, [6, 4]), _chunks(x_b, [5, 5])
    labels, labels_b = _labels(x_a), _labels(x_b)
    with torch.no_grad():
        a, b = enc(x_a), enc(x_b)
    options = ({}, {"temperature": 0.2, "margin": 0.3, "tcm_weight": 0.5}, {"labels_b": labels_b})
    for kwargs in options:
        got = cached_soft_contrastive(enc, ca, cb, labels, **kwargs)
        torch.testing.assert_close(got, soft_contrastive(a, b, labels, **kwargs), rtol=0, atol=1e-6)
    entered: list[int] = []
    cached_soft_contrastive(enc, ca, cb, labels, no_sync=lambda: contextlib.nullcontext(entered.append(1)))
    assert len(entered) == 3
    with torch.no_grad():
        t = torch.nn.Linear(6, 3)(x_a)
    fake_world(rank=1)
    wide = soft_labels(t, temperature=0.1, mode="priority", gather=True)  # (B, 2B)
    got = cached_soft_contrastive(enc, ca, cb, wide, gather=True)
    torch.testing.assert_close(got, soft_contrastive(a, b, wide, gather=True), rtol=0, atol=1e-6)
    torch.testing.assert_close(  # default: local candidates
        cached_soft_contrastive(enc, ca, cb, labels), soft_contrastive(a, b, labels), rtol=0, atol=1e-6
    )


def test_only_the_very_last_backward_synchronises():
    """Under DDP the gradient all-reduce must come after every chunk's gradient is accumulated:
    ``no_sync`` wraps backwards 1..n-1 of the n (a-chunks, then b-chunks), not the last."""
    enc, x_a, x_b = _setup()
    embedded: list[int] = []

    def embed(x: torch.Tensor) -> torch.Tensor:
        embedded.append(len(x))
        return enc(x)

    wrapped: list[int] = []

    @contextlib.contextmanager
    def no_sync():
        wrapped.append(len(embedded) - 4)  # which re-embedding (0-based) runs inside
        yield

    cached_info_nce(embed, _chunks(x_a, [5, 5]), _chunks(x_b, [4, 6]), no_sync=no_sync)
    assert embedded == [5, 5, 4, 6] * 2  # step 1 without graph, step 3 with
    assert wrapped == [0, 1, 2]


def test_no_chunks_message():
    enc, _, _ = _setup()
    with pytest.raises(ValueError, match="^cached_backward: no chunks given$"):
        cached_info_nce(enc, [], [])
