"""Relational distillation over same-language pairs: keep each language's own geometry.

Closing the gap moves sentences of one language relative to each other too (experiment e:
STS17 ar-ar 0.739 → 0.663). This term holds the student's cosine between two sentences of the
same language to the frozen starting model's cosine between them, over every same-language pair
of the batch (Park & Kwak's relational knowledge distillation, with cosine as the relation,
restricted to pairs within a language); cross-language pairs are left to the main objective.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def relational_distill(student: Tensor, teacher: Tensor, groups: Tensor) -> Tensor:
    """Mean squared difference of student and teacher cosines over same-group pairs.

        S = n(student) n(student)ᵀ,  T = n(teacher) n(teacher)ᵀ      (n: rows scaled to unit norm)
        M[i, j] = groups[i] == groups[j] and i != j
        loss = Σ M ⊙ (S − T)² / Σ M                                  (0 when no pair shares a group)

    The teacher is frozen (detached); its dimension may differ from the student's (only its
    cosines are used). Identical texts in one group give a pair whose cosines are 1 on both
    sides: a zero term.

    Args:
        student: (N, D) student embeddings of every text of the batch.
        teacher: (N, Dt) frozen teacher (starting model) embeddings of the same texts.
        groups: (N,) integer group of each text (its language).
    Returns:
        Scalar loss.
    Raises:
        ValueError: on mismatched row counts or non-2-D embeddings.
    References:
        Park, Kim, Lu and Cho 2019, "Relational Knowledge Distillation", CVPR.
    """
    if student.ndim != 2 or teacher.ndim != 2:
        raise ValueError(
            f"relational_distill: expected 2-D embeddings, got {tuple(student.shape)} and {tuple(teacher.shape)}"
        )
    if not student.shape[0] == teacher.shape[0] == groups.shape[0]:
        raise ValueError(
            f"relational_distill: {student.shape[0]} student rows, {teacher.shape[0]} teacher rows, "
            f"{groups.shape[0]} groups"
        )
    s = F.normalize(student, dim=-1)
    t = F.normalize(teacher.detach().to(student.dtype), dim=-1)
    same = groups[:, None] == groups[None, :]
    same.fill_diagonal_(False)
    count = same.sum()
    if count == 0:
        return student.sum() * 0.0  # keeps the graph: a batch without a same-language pair
    diff = (s @ s.T - t @ t.T) ** 2
    return torch.where(same, diff, torch.zeros_like(diff)).sum() / count


class RelationalDistillLoss(nn.Module):
    """``nn.Module`` wrapper of :func:`relational_distill` (no hyperparameters)."""

    def forward(self, student: Tensor, teacher: Tensor, groups: Tensor) -> Tensor:
        return relational_distill(student, teacher, groups)
