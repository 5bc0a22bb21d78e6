"""Soft contrastive learning (Park et al. 2024): in-batch contrast against a teacher's soft labels."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from langgap.losses.contrastive import candidates, check_pair, check_temperature, scaled_logits

LabelMode = Literal["priority", "average"]


def _teacher_matrix(t: Tensor, temperature: float, gather: bool) -> Tensor:
    """``out[i, j] = softmax_j(cos(t_i, t_j) / temperature)`` over the (gathered) batch; (B, W*B)."""
    t = F.normalize(t.detach().to(torch.promote_types(t.dtype, torch.float32)), dim=-1)  # (B, Dt), >= fp32
    t_all, _ = candidates(t, gather)  # (W*B, Dt)
    return torch.softmax(t @ t_all.T / temperature, dim=1)  # (B, W*B)


def soft_labels(
    teacher_a: Tensor,
    teacher_b: Tensor | None = None,
    *,
    temperature: float,
    mode: LabelMode,
    gather: bool = False,
) -> Tensor:
    """Soft labels from a frozen teacher's *monolingual* similarities over the batch.

    For pair ``i`` the label is a distribution over the batch's pairs ``j``: how similar the teacher
    finds sentence ``i`` and sentence ``j`` *within one language*, sharpened by ``temperature``:

        P^x[i, j] = exp(cos(t^x_i, t^x_j) / τ_t) / Σ_k exp(cos(t^x_i, t^x_k) / τ_t)
        priority:  P = P^a      (``teacher_a`` = per pair, the side in the higher-priority language,
                                 e.g. the English side for an English teacher; the caller orders it)
        average:   P = (P^a + P^b) / 2     (each side's label matrix, then their mean)

    Rows sum to 1; the diagonal (a sentence with itself, cosine 1) is the largest entry of each row,
    and as ``τ_t → 0`` the labels tend to the identity, i.e. hard InfoNCE targets.  The teacher may
    have any dimension (it never meets the student's embeddings).  Gradients are not propagated.

    Note: the authors' code (github.com/YAI12xLinq-B/IMASCL, ``AMETrainer.compute_loss``) averages
    the two *cosine* matrices before one softmax; here, as this project specifies, each side is
    softmaxed and the label matrices are averaged (both are valid distributions; they differ slightly).

    Args:
        teacher_a: (B, Dt) teacher embeddings of side a (the priority side in ``priority`` mode).
        teacher_b: (B, Dt) teacher embeddings of side b; required for ``average``, refused for
            ``priority`` (pass the priority side as ``teacher_a``).
        temperature: τ_t > 0 of the labels (its own, independent of the student's).
        mode: ``"priority"`` or ``"average"``.
        gather: with ``torch.distributed`` initialised, columns are the teacher rows of all
            processes, matching :func:`soft_contrastive` with ``gather=True``.
    Returns:
        (B, B), or (B, W*B) when gathering: rows are the local pairs, columns all candidates.
    References:
        Park, Choi, Choi, Kim and Sohn 2024, "Improving Multi-lingual Alignment Through Soft
        Contrastive Learning", NAACL Student Research Workshop (arXiv:2405.16155).
    """
    check_temperature(temperature, "soft_labels")
    if teacher_a.ndim != 2:
        raise ValueError(
            f"soft_labels: expected 2-D teacher embeddings (B, Dt), got shape {tuple(teacher_a.shape)}"
        )
    if mode == "priority":
        if teacher_b is not None:
            raise ValueError(
                "soft_labels: 'priority' labels use teacher_a only (the higher-priority side); got teacher_b"
            )
        return _teacher_matrix(teacher_a, temperature, gather)
    if mode == "average":
        if teacher_b is None:
            raise ValueError(
                "soft_labels: 'average' labels need teacher_b (the teacher's embeddings of side b)"
            )
        check_pair(teacher_a, teacher_b, "soft_labels")
        return (
            _teacher_matrix(teacher_a, temperature, gather) + _teacher_matrix(teacher_b, temperature, gather)
        ) / 2
    raise ValueError(f"soft_labels: unknown mode {mode!r}; expected 'priority' or 'average'")


def _soft_cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """``(1/B) Σ_i Σ_j -labels[i, j] · log softmax(logits[i])[j]``; shapes (B, M), (B, M) -> ()."""
    return -(labels * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()


def soft_contrastive(
    a: Tensor,
    b: Tensor,
    labels: Tensor,
    *,
    temperature: float = 0.05,
    margin: float = 0.0,
    tcm_weight: float = 0.0,
    labels_b: Tensor | None = None,
    gather: bool = False,
) -> Tensor:
    """Contrastive loss whose targets are a teacher's soft labels instead of the identity.

    On L2-normalised student embeddings ``â``, ``b̂`` (``b[i]`` the translation of ``a[i]``), with
    ``P`` = ``labels`` (from :func:`soft_labels`) and ``Q`` = ``labels_b`` (default ``P``):

        S^xy[i, j] = (x̂_i · ŷ_j - m · [i == j]) / τ
        H(Y, S)    = (1/B) Σ_i Σ_j -Y[i, j] · log softmax_j(S[i, :])
        L_cross    = (H(P, S^ab) + H(Q, S^ba)) / 2                  (both directions)
        L_TCM      = H(P, S^aa) + H(Q, S^bb)                         (monolingual spaces)
        loss       = L_cross + λ · L_TCM                             (λ = ``tcm_weight``; 0 = off)

    The b→a direction asks, for query ``b_i``, the same question as a→b for ``a_i`` ("how similar
    are pairs i and j"), so its labels default to the same rows ``P``.

    **Reduces to InfoNCE**: with one-hot labels (``P = I``) and ``λ = 0`` this is exactly
    :func:`info_nce` with the same ``temperature``, ``margin`` and ``gather`` (tested).

    **TCM** ("Training both Cross-lingual and Mono-lingual space"): the student's monolingual
    similarity softmax (a vs a, b vs b) is trained against the same soft labels, as in the authors'
    code (``train_mono_space``).  The diagonal is kept, as there: ``S^aa[i, i]`` is a sentence with
    itself (cosine 1), where every label row also peaks; the margin, if any, is applied to the
    diagonal of every matrix (the authors apply theirs wherever the teacher cosine exceeds 0.95:
    the diagonal and near-duplicates; one temperature, default 0.1, serves their labels and
    student).  Scale: the authors' code sums the two directions of every term and adds the
    monolingual terms unweighted, for labels ``P`` in the a→b and ``P.T`` in the b→a direction;
    for a symmetric ``P`` (and ``Q = P``) that is exactly ``2 · loss`` here with ``λ = 1``.  Here
    every row of labels is a distribution (``P.T`` rows need not sum to 1), and λ is this
    project's weight on the monolingual terms.

    With ``gather=True`` and ``torch.distributed`` initialised, local rows are the queries and the
    rows of all processes the candidates (as in :func:`info_nce`); ``labels`` must then be
    (B, W*B) — :func:`soft_labels` with ``gather=True`` builds them.

    Args:
        a: (B, D) student embeddings of side a.
        b: (B, D) student embeddings of side b.
        labels: (B, B) or, when gathering, (B, W*B); row i a distribution over candidates j.
        temperature: τ > 0 of the student logits.
        margin: additive margin m on the diagonal (the positives), as in :func:`info_nce`.
        tcm_weight: λ ≥ 0, weight of the two monolingual terms.
        labels_b: labels of the b-queries (same shape as ``labels``); default ``labels``.
        gather: use the rows of all processes as candidates.
    Returns:
        Scalar loss.
    References:
        Park, Choi, Choi, Kim and Sohn 2024, "Improving Multi-lingual Alignment Through Soft
        Contrastive Learning", NAACL SRW (arXiv:2405.16155); code github.com/YAI12xLinq-B/IMASCL.
    """
    check_pair(a, b, "soft_contrastive")
    check_temperature(temperature, "soft_contrastive")
    if tcm_weight < 0:
        raise ValueError(f"soft_contrastive: tcm_weight must be >= 0, got {tcm_weight}")
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)  # (B, D)
    a_all, offset = candidates(a, gather)  # (W*B, D)
    b_all, _ = candidates(b, gather)  # (W*B, D)
    want = (a.shape[0], b_all.shape[0])
    q = labels if labels_b is None else labels_b
    for name, y in (("labels", labels), ("labels_b", q)):
        if tuple(y.shape) != want:
            raise ValueError(
                f"soft_contrastive: {name} must have shape {want} (local queries x candidates), got {tuple(y.shape)}"
            )
    p, q = labels.detach(), q.detach()  # (B, W*B); targets, never trained

    def h(y: Tensor, x: Tensor, c: Tensor) -> Tensor:
        return _soft_cross_entropy(scaled_logits(x, c, offset, temperature=temperature, margin=margin), y)

    loss = (h(p, a, b_all) + h(q, b, a_all)) / 2
    if tcm_weight:
        loss = loss + tcm_weight * (h(p, a, a_all) + h(q, b, b_all))
    return loss


class SoftContrastiveLoss(nn.Module):
    """Soft contrastive learning (Park et al. 2024): in-batch contrast whose targets are a frozen
    teacher's monolingual similarities, not the identity (:func:`soft_labels` then
    :func:`soft_contrastive`; this module keeps the hyperparameters).

    Args:
        temperature: τ > 0 of the student logits.
        label_temperature: τ_t > 0 of the teacher's soft labels (Park et al. use 0.1).
        mode: ``"priority"`` (labels from the priority side) or ``"average"`` (both sides).
        tcm_weight: λ ≥ 0 of the monolingual (TCM) terms; 0 = off.
        margin: additive margin on the positives, as in :class:`InfoNCELoss`.
        gather: negatives (and label columns) from every process under ``torch.distributed``.

    Requirements:
        Translation pairs and a frozen teacher of any dimension; the caller orders each pair
        so that side a is the higher-priority language (e.g. English for an English teacher).

    Inputs:
        ``forward(a, b, teacher_a, teacher_b=None)``: (B, D) student embeddings of sides a and b,
        (B, Dt) teacher embeddings of side a, and of side b for ``average`` (refused for
        ``priority``). Labels in the b→a direction are the same rows (see :func:`soft_contrastive`).

    Relations:
        - :class:`InfoNCELoss` is the limit ``label_temperature → 0`` (one-hot labels) with λ = 0.
        - :func:`~langgap.losses.cached_soft_contrastive`: the same loss over GradCache chunks.

    Example:
        >>> loss = SoftContrastiveLoss(label_temperature=0.1, mode="priority", tcm_weight=0.5)
        >>> value = loss(student(english), student(german), teacher(english))  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        temperature: float = 0.05,
        label_temperature: float = 0.05,
        mode: LabelMode = "priority",
        tcm_weight: float = 0.0,
        margin: float = 0.0,
        gather: bool = False,
    ) -> None:
        super().__init__()
        check_temperature(temperature, "SoftContrastiveLoss")
        check_temperature(label_temperature, "SoftContrastiveLoss (label_temperature)")
        if mode not in ("priority", "average"):
            raise ValueError(f"SoftContrastiveLoss: unknown mode {mode!r}; expected 'priority' or 'average'")
        self.temperature, self.label_temperature, self.mode = temperature, label_temperature, mode
        self.tcm_weight, self.margin, self.gather = tcm_weight, margin, gather

    def forward(self, a: Tensor, b: Tensor, teacher_a: Tensor, teacher_b: Tensor | None = None) -> Tensor:
        labels = soft_labels(
            teacher_a, teacher_b, temperature=self.label_temperature, mode=self.mode, gather=self.gather
        )
        return soft_contrastive(
            a,
            b,
            labels,
            temperature=self.temperature,
            margin=self.margin,
            tcm_weight=self.tcm_weight,
            gather=self.gather,
        )

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, label_temperature={self.label_temperature}, mode={self.mode!r}, "
            f"tcm_weight={self.tcm_weight}, margin={self.margin}, gather={self.gather}"
        )
