"""Objectives: the loss modules of :mod:`langgap.losses`, built from an :class:`ObjectiveConfig`.

An objective sees, per batch, the student embeddings ``a`` of every pair's priority side and
``b`` of its other side (:func:`~langgap.training.teacher.orient` orders them), and for the
objectives with a teacher, the frozen teacher's embeddings of one or both sides:

==========  ========================================  ===========================================
objective   loss module                               teacher rows after ``(a, b)``
==========  ========================================  ===========================================
infonce     :class:`~langgap.losses.InfoNCELoss`       none
soft        :class:`~langgap.losses.SoftContrastiveLoss`  the priority side; both for ``average``
mse         :class:`~langgap.losses.MSEDistillLoss`    the priority side (the source)
==========  ========================================  ===========================================

:data:`OBJECTIVES` is the one table of them: adding an objective is one loss (a pure function
and its module in ``losses/``), one entry here and one name in
:data:`~langgap.training.config.Objective`. The training loop calls
``objective.with_teacher(lookup)(a, b, first_texts, second_texts)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from langgap.losses import InfoNCELoss, MSEDistillLoss, SoftContrastiveLoss, relational_distill
from langgap.training.config import ObjectiveConfig

LossFn = Callable[..., Tensor]  # loss(a, b, first, second, langs=()): langs of first + second
Lookup = Callable[[Sequence[str]], Tensor]  # texts -> (B, Dt) teacher embeddings


@dataclass(frozen=True)
class ObjectiveSpec:
    """One objective: how its loss module is built and which teacher rows it takes."""

    build: Callable[[ObjectiveConfig], nn.Module]  # the module with the config's hyperparameters
    teacher_sides: Callable[[ObjectiveConfig], int]  # 0: no teacher; 1: priority side; 2: both


def _infonce(cfg: ObjectiveConfig) -> nn.Module:
    return InfoNCELoss(temperature=cfg.temperature, margin=cfg.margin, gather=cfg.gather)


def _soft(cfg: ObjectiveConfig) -> nn.Module:
    return SoftContrastiveLoss(
        temperature=cfg.temperature,
        label_temperature=cfg.teacher_temperature,
        mode=cfg.labels,
        tcm_weight=cfg.tcm_weight,
        margin=cfg.margin,
        gather=cfg.gather,
    )


def _mse(cfg: ObjectiveConfig) -> nn.Module:
    return MSEDistillLoss()


OBJECTIVES: dict[str, ObjectiveSpec] = {
    "infonce": ObjectiveSpec(_infonce, lambda cfg: 0),
    "soft": ObjectiveSpec(_soft, lambda cfg: 2 if cfg.labels == "average" else 1),
    "mse": ObjectiveSpec(_mse, lambda cfg: 1),
}


def teacher_sides(cfg: ObjectiveConfig) -> int:
    """How many sides of each pair the teacher embeds: 0 (none), 1 (the priority side), 2 (both;
    also for ``--preserve``, whose teacher is the starting model)."""
    return max(OBJECTIVES[cfg.kind].teacher_sides(cfg), 2 if cfg.preserve else 0)


@dataclass(frozen=True)
class Objective:
    """A loss module and the number of teacher rows it takes after the student's ``(a, b)``;
    ``preserve`` weighs the same-language relational term (:func:`~langgap.losses.relational_distill`)."""

    loss: nn.Module
    teacher_sides: int
    preserve: float = 0.0

    def __call__(self, a: Tensor, b: Tensor, *teacher: Tensor) -> Tensor:
        """The scalar loss of student rows ``a``, ``b`` (B, D) and ``teacher_sides`` (B, Dt) teacher rows."""
        if len(teacher) != self.teacher_sides:
            raise ValueError(
                f"{type(self.loss).__name__} takes {self.teacher_sides} teacher embeddings, got {len(teacher)}"
            )
        out: Tensor = self.loss(a, b, *teacher)
        return out

    def with_teacher(self, lookup: Lookup | None) -> LossFn:
        """``loss(a, b, first, second)``: the teacher rows of the texts ``first`` (priority side)
        and ``second`` looked up with ``lookup`` (a :class:`~langgap.training.teacher.TeacherCache`'s)."""
        if (self.teacher_sides or self.preserve) and lookup is None:
            raise ValueError(f"{type(self.loss).__name__} needs a teacher; none was given")

        def loss(
            a: Tensor, b: Tensor, first: list[str], second: list[str], langs: Sequence[str] = ()
        ) -> Tensor:
            sides = (first, second)[: self.teacher_sides]
            main = self(a, b, *(lookup(texts) for texts in sides if lookup is not None))
            if not self.preserve or lookup is None:
                return main
            if len(langs) != 2 * len(first):
                raise ValueError(
                    f"--preserve needs the language of all {2 * len(first)} texts, got {len(langs)}"
                )
            codes = {lang: i for i, lang in enumerate(dict.fromkeys(langs))}
            groups = torch.tensor([codes[lang] for lang in langs], device=a.device)
            kept = relational_distill(torch.cat([a, b]), lookup(first + second), groups)
            return main + self.preserve * kept

        return loss


def build_objective(cfg: ObjectiveConfig) -> Objective:
    """The objective of ``cfg`` (see the module docstring)."""
    spec = OBJECTIVES[cfg.kind]
    return Objective(spec.build(cfg), spec.teacher_sides(cfg), cfg.preserve)
