"""InfoNCE over in-batch negatives, with the LaBSE additive margin and optional cross-process negatives."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from langgap.losses.distributed import all_gather_with_grad, rank_and_world_size


def check_pair(a: Tensor, b: Tensor, name: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` are 2-D with the same shape (B, D)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(
            f"{name}: expected 2-D embeddings (B, D), got shapes {tuple(a.shape)} and {tuple(b.shape)}"
        )
    if a.shape != b.shape:
        raise ValueError(
            f"{name}: a and b must have the same shape (B, D), got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_temperature(temperature: float, name: str) -> None:
    if not temperature > 0:
        raise ValueError(f"{name}: temperature must be > 0, got {temperature}")


def candidates(x: Tensor, gather: bool) -> tuple[Tensor, int]:
    """The candidate rows for local queries and the offset of the local rows among them.

    Without gathering (or outside ``torch.distributed``): ``(x, 0)``.  With gathering:
    ``(all_gather_with_grad(x), rank * B)``, so local query ``i`` has its positive at column
    ``rank * B + i``.
    """
    if not gather:
        return x, 0
    rank, world = rank_and_world_size()
    if world == 1:
        return x, 0
    return all_gather_with_grad(x), rank * x.shape[0]


def scaled_logits(q: Tensor, c: Tensor, offset: int, *, temperature: float, margin: float) -> Tensor:
    """``out[i, j] = (q[i] . c[j] - margin * [j == offset + i]) / temperature`` (rows already unit length).

    Shapes (B, D), (M, D) -> (B, M).
    """
    sims = q @ c.T  # (B, M)
    if margin:
        rows = torch.arange(q.shape[0], device=q.device)  # (B,)
        sims = sims.index_put((rows, rows + offset), sims[rows, rows + offset] - margin)
    return sims / temperature  # (B, M)


def info_nce(
    a: Tensor,
    b: Tensor,
    *,
    temperature: float = 0.05,
    margin: float = 0.0,
    symmetric: bool = True,
    gather: bool = False,
) -> Tensor:
    """Bidirectional InfoNCE over in-batch negatives with an additive margin on the positives.

    Rows ``a[i]`` and ``b[i]`` are a positive pair (a sentence and its translation); every other
    ``b[j]`` is a negative for ``a[i]`` and vice versa.  On L2-normalised embeddings ``â``, ``b̂``:

        S[i, j]  = (â_i · b̂_j - m · [i == j]) / τ                      (B, B)
        L_a→b    = (1/B) Σ_i -log softmax_j(S[i, :])[i]
        L_b→a    = (1/B) Σ_i -log softmax_j(S[:, i])[i]                 (columns: b queries a)
        loss     = (L_a→b + L_b→a) / 2    (symmetric)   or   L_a→b     (symmetric=False)

    i.e. cross-entropy with targets ``arange(B)``.  With ``m = 0`` this is the in-batch softmax of
    CLIP / sentence-transformers' ``MultipleNegativesSymmetricRankingLoss`` with scale ``1/τ``; with
    ``m > 0`` it is LaBSE's additive margin softmax (the positive must beat the negatives by ``m``).

    With ``gather=True`` and ``torch.distributed`` initialised, the candidates of the ``B`` local
    queries are the ``W*B`` rows of all processes (:func:`all_gather_with_grad`); the positive of
    local row ``i`` sits at ``rank * B + i``.  The per-process loss is the mean over its local
    queries, so the mean over processes equals the single-process loss on the combined batch, and the
    DDP-averaged gradient equals its gradient (tested with 2 gloo processes).  Without a process
    group ``gather`` does nothing.

    Args:
        a: (B, D) embeddings of one side (any scale: rows are normalised here).
        b: (B, D) embeddings of the other side; ``b[i]`` is the positive of ``a[i]``.
        temperature: τ > 0; logits are cosines divided by τ (0.05 is scale 20).
        margin: m ≥ 0 subtracted from the positive cosines (LaBSE uses 0.3).
        symmetric: average both directions (True) or only a→b.
        gather: use the rows of all processes as candidates.
    Returns:
        Scalar loss (mean over queries).
    References:
        van den Oord et al. 2018, "Representation Learning with Contrastive Predictive Coding";
        Yang et al. 2019, "Improving Multilingual Sentence Embedding using Bi-directional Dual
        Encoder with Additive Margin Softmax" (IJCAI); Feng et al. 2022, "Language-agnostic BERT
        Sentence Embedding" (LaBSE).
    """
    check_pair(a, b, "info_nce")
    check_temperature(temperature, "info_nce")
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)  # (B, D)
    b_all, offset = candidates(b, gather)  # (W*B, D)
    targets = torch.arange(a.shape[0], device=a.device) + offset  # (B,)
    loss = F.cross_entropy(scaled_logits(a, b_all, offset, temperature=temperature, margin=margin), targets)
    if not symmetric:
        return loss
    a_all, _ = candidates(a, gather)  # (W*B, D)
    back = F.cross_entropy(scaled_logits(b, a_all, offset, temperature=temperature, margin=margin), targets)
    return (loss + back) / 2


class InfoNCELoss(nn.Module):
    """In-batch InfoNCE over translation pairs: each sentence must pick its translation out of the
    batch, in both directions (:func:`info_nce`; this module only keeps the hyperparameters).

    Args:
        temperature: τ > 0; logits are cosines divided by τ (0.05 is scale 20).
        margin: m ≥ 0 subtracted from the positive cosines (LaBSE uses 0.3).
        symmetric: average the a→b and b→a directions (True) or a→b only.
        gather: negatives from every process under ``torch.distributed``.

    Requirements:
        Pairs whose two sides mean the same (a sentence and its translation); no labels.

    Inputs:
        ``forward(a, b)``: (B, D) student embeddings, ``b[i]`` the positive of ``a[i]``; every
        other row of the batch is a negative.

    Relations:
        - sentence-transformers' ``MultipleNegativesSymmetricRankingLoss`` (scale ``1/τ``) when
          ``margin = 0``; LaBSE's additive margin softmax when ``margin > 0``.
        - :class:`~langgap.losses.SoftContrastiveLoss` with one-hot labels and no TCM.
        - :func:`~langgap.losses.cached_info_nce`: the same loss over GradCache chunks.

    Example:
        >>> loss = InfoNCELoss(temperature=0.05, margin=0.3)
        >>> value = loss(student(english), student(german))  # doctest: +SKIP
        >>> value.backward()  # doctest: +SKIP
    """

    def __init__(
        self, *, temperature: float = 0.05, margin: float = 0.0, symmetric: bool = True, gather: bool = False
    ) -> None:
        super().__init__()
        check_temperature(temperature, "InfoNCELoss")
        self.temperature, self.margin, self.symmetric, self.gather = temperature, margin, symmetric, gather

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return info_nce(
            a,
            b,
            temperature=self.temperature,
            margin=self.margin,
            symmetric=self.symmetric,
            gather=self.gather,
        )

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, margin={self.margin}, symmetric={self.symmetric}, gather={self.gather}"
