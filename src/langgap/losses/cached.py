"""Large contrastive batches on small memory: the GradCache recipe (Gao et al. 2021).

A contrastive loss couples every row of the batch, so the batch cannot simply be split into
gradient-accumulation steps.  But the loss needs the encoder only through the embeddings:

1. embed all mini-chunks without a graph (memory: one chunk's activations at a time);
2. compute the loss on the detached full-batch embeddings and its gradient ``g = dL/dE``
   (memory: (B, D) embeddings and the B x B logits only);
3. re-embed each chunk with a graph and back-propagate ``g`` of its rows:
   ``dL/dθ = Σ_chunks (dE_chunk/dθ)^T g_chunk`` (chain rule), accumulated into ``.grad``.

The parameter gradients equal those of the full batch with one graph (tested to 1e-6).  Dropout:
each chunk's random-number state is recorded before step 1 and replayed in step 3, so both passes
see the same masks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import torch
from torch import Tensor

from langgap.losses.contrastive import info_nce
from langgap.losses.soft import soft_contrastive

Chunk = TypeVar("Chunk")


class _RngState:
    """The CPU and (if initialised) CUDA generator states, replayable in a forked context."""

    def __init__(self) -> None:
        self.cpu = torch.get_rng_state()
        self.cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None

    @contextlib.contextmanager
    def replay(self) -> Iterator[None]:
        devices = list(range(torch.cuda.device_count())) if self.cuda is not None else []
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self.cpu)
            if self.cuda is not None:
                torch.cuda.set_rng_state_all(self.cuda)
            yield


def _embed_no_grad(
    embed: Callable[[Chunk], Tensor], chunks: Sequence[Chunk]
) -> tuple[Tensor, list[_RngState], list[int]]:
    """Step 1: all chunks' embeddings without a graph, with each chunk's RNG state and row count."""
    states, outs = [], []
    with torch.no_grad():
        for chunk in chunks:
            states.append(_RngState())
            outs.append(embed(chunk))  # (b_k, D)
    if not outs:
        raise ValueError("cached_backward: no chunks given")
    return torch.cat(outs, dim=0), states, [len(e) for e in outs]  # (B, D)


def cached_backward(
    embed: Callable[[Chunk], Tensor],
    chunks_a: Sequence[Chunk],
    chunks_b: Sequence[Chunk],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    *,
    no_sync: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> Tensor:
    """Compute ``loss_fn(embed(all a), embed(all b))`` and back-propagate it, one chunk at a time.

    Leaves ``dL/dθ`` accumulated in the ``.grad`` of the parameters ``embed`` uses — the same as
    ``loss_fn(cat(embed(c) for c in chunks_a), cat(embed(c) for c in chunks_b)).backward()`` —
    while holding only one chunk's activations.  Call ``optimizer.step()`` afterwards as usual.

    Args:
        embed: maps one chunk of inputs (tokenised texts, a tensor, anything) to (b_k, D)
            embeddings, with gradient when called under grad mode; called twice per chunk.
        chunks_a: the a-side inputs, in batch order; chunk k gives rows of ``a`` in order.
        chunks_b: the b-side inputs, same convention (chunk sizes may differ from a's).
        loss_fn: pure loss of the full-batch embeddings ``(a, b) -> scalar``, e.g.
            ``functools.partial(info_nce, temperature=0.05, gather=True)``.  With ``gather=True``
            every process runs the same steps, so the collectives stay in lockstep.
        no_sync: under DDP, ``model.no_sync`` (or ``accelerator.no_sync`` bound to the model): the
            context for every chunk's backward but the last, so gradients are all-reduced once.
    Returns:
        The loss value (detached).
    References:
        Gao, Zhang, Han and Callan 2021, "Scaling Deep Contrastive Learning Batch Size under
        Memory Limited Setup", RepL4NLP (GradCache); sentence-transformers
        ``CachedMultipleNegativesRankingLoss``.
    """
    a, states_a, sizes_a = _embed_no_grad(embed, chunks_a)  # (B, D)
    b, states_b, sizes_b = _embed_no_grad(embed, chunks_b)  # (B, D)
    a, b = a.detach().requires_grad_(), b.detach().requires_grad_()
    with torch.enable_grad():
        loss = loss_fn(a, b)  # step 2
        grad_a, grad_b = torch.autograd.grad(loss, [a, b], allow_unused=True)  # (B, D) each, or None
    jobs: list[tuple[Chunk, _RngState, Tensor]] = []
    for chunks, states, sizes, grad, full in (
        (chunks_a, states_a, sizes_a, grad_a, a),
        (chunks_b, states_b, sizes_b, grad_b, b),
    ):
        g = torch.zeros_like(full) if grad is None else grad  # (B, D); None: the loss ignored this side
        jobs.extend(zip(chunks, states, g.split(sizes, dim=0), strict=True))
    for k, (chunk, state, g_k) in enumerate(jobs):  # step 3
        last = k == len(jobs) - 1
        ctx = no_sync() if (no_sync is not None and not last) else contextlib.nullcontext()
        with ctx, state.replay(), torch.enable_grad():
            e = embed(chunk)  # (b_k, D), with graph
            e.backward(gradient=g_k.to(e.dtype))
    return loss.detach()


def cached_info_nce(
    embed: Callable[[Chunk], Tensor],
    chunks_a: Sequence[Chunk],
    chunks_b: Sequence[Chunk],
    *,
    temperature: float = 0.05,
    margin: float = 0.0,
    symmetric: bool = True,
    gather: bool = False,
    no_sync: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> Tensor:
    """:func:`info_nce` over the whole batch, back-propagated chunk by chunk (:func:`cached_backward`)."""

    def loss_fn(a: Tensor, b: Tensor) -> Tensor:
        return info_nce(a, b, temperature=temperature, margin=margin, symmetric=symmetric, gather=gather)

    return cached_backward(embed, chunks_a, chunks_b, loss_fn, no_sync=no_sync)


def cached_soft_contrastive(
    embed: Callable[[Chunk], Tensor],
    chunks_a: Sequence[Chunk],
    chunks_b: Sequence[Chunk],
    labels: Tensor,
    *,
    temperature: float = 0.05,
    margin: float = 0.0,
    tcm_weight: float = 0.0,
    labels_b: Tensor | None = None,
    gather: bool = False,
    no_sync: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> Tensor:
    """:func:`soft_contrastive` over the whole batch, back-propagated chunk by chunk.

    ``labels`` come from :func:`soft_labels` on the (cached) teacher embeddings of the full batch.
    """

    def loss_fn(a: Tensor, b: Tensor) -> Tensor:
        return soft_contrastive(
            a,
            b,
            labels,
            temperature=temperature,
            margin=margin,
            tcm_weight=tcm_weight,
            labels_b=labels_b,
            gather=gather,
        )

    return cached_backward(embed, chunks_a, chunks_b, loss_fn, no_sync=no_sync)
