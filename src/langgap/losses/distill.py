"""Multilingual knowledge distillation by MSE (Reimers & Gurevych 2020)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def mse_distill(student_src: Tensor, student_tgt: Tensor, teacher_src: Tensor) -> Tensor:
    """Both sides of a translation pair regress to the teacher's embedding of the source side.

        loss = MSE(s(src), t(src)) + MSE(s(tgt), t(src)),
        MSE(x, y) = (1 / (B·D)) Σ_i Σ_d (x[i, d] - y[i, d])²        (mean over all elements)

    The first term keeps the student where the (e.g. English) teacher is; the second pulls the
    translation onto it.  Both terms carry gradient to the student — the student's source *and*
    target embeddings (tested: a peer library once trained only one side).  The teacher is frozen:
    ``teacher_src`` is detached.  No normalisation: the student learns the teacher's vectors as they
    are (normalise them beforehand if cosine geometry is all that matters).  The sum of two means
    equals twice the mean over the concatenation ``[s(src); s(tgt)]`` against ``[t(src); t(src)]``.

    Args:
        student_src: (B, D) student embeddings of the source sentences.
        student_tgt: (B, D) student embeddings of their translations.
        teacher_src: (B, D) frozen teacher embeddings of the source sentences; D must equal the
            student's (soft labels allow a different teacher dimension, MSE cannot).
    Returns:
        Scalar loss.
    Raises:
        ValueError: on a teacher/student dimension mismatch (naming both) or other shape mismatch.
    References:
        Reimers and Gurevych 2020, "Making Monolingual Sentence Embeddings Multilingual using
        Knowledge Distillation", EMNLP.
    """
    for name, x in (("student_src", student_src), ("student_tgt", student_tgt), ("teacher_src", teacher_src)):
        if x.ndim != 2:
            raise ValueError(f"mse_distill: expected 2-D {name} (B, D), got shape {tuple(x.shape)}")
    if teacher_src.shape[1] != student_src.shape[1]:
        raise ValueError(
            f"mse_distill: teacher dimension {teacher_src.shape[1]} differs from student dimension "
            f"{student_src.shape[1]}; MSE distillation needs equal dimensions (soft labels do not)"
        )
    if student_src.shape != student_tgt.shape or teacher_src.shape != student_src.shape:
        raise ValueError(
            "mse_distill: shapes must match (B, D), got student_src "
            f"{tuple(student_src.shape)}, student_tgt {tuple(student_tgt.shape)}, teacher_src {tuple(teacher_src.shape)}"
        )
    target = teacher_src.detach()  # (B, D)
    return F.mse_loss(student_src, target) + F.mse_loss(student_tgt, target)


class MSEDistillLoss(nn.Module):
    """Multilingual knowledge distillation (Reimers & Gurevych 2020): both sides of a translation
    pair regress to the teacher's embedding of the source side (:func:`mse_distill`; no
    hyperparameters).

    Requirements:
        Translation pairs (source, target) and a frozen teacher of the student's dimension.

    Inputs:
        ``forward(student_src, student_tgt, teacher_src)``: (B, D) each; no negatives, so the
        batch composition does not matter.

    Relations:
        sentence-transformers' ``MSELoss`` on (source, target) with the teacher's source embedding
        as the label of both.

    Example:
        >>> loss = MSEDistillLoss()
        >>> value = loss(student(english), student(german), teacher(english))  # doctest: +SKIP
    """

    def forward(self, student_src: Tensor, student_tgt: Tensor, teacher_src: Tensor) -> Tensor:
        return mse_distill(student_src, student_tgt, teacher_src)
