"""relational_distill against a naive double loop, its zero cases, gradient and refusals."""

from __future__ import annotations

import pytest
import torch

from langgap.losses import RelationalDistillLoss, relational_distill


def _naive(student, teacher, groups):
    total, count = 0.0, 0
    for i in range(len(groups)):
        for j in range(len(groups)):
            if i != j and groups[i] == groups[j]:
                s = torch.nn.functional.cosine_similarity(student[i], student[j], dim=0)
                t = torch.nn.functional.cosine_similarity(teacher[i], teacher[j], dim=0)
                total += float((s - t) ** 2)
                count += 1
    return total / count if count else 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_the_naive_loop_over_same_language_pairs(seed):
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(9, 5, generator=g, dtype=torch.float64)
    teacher = torch.randn(9, 7, generator=g, dtype=torch.float64)  # another dimension: only cosines count
    groups = torch.tensor([0, 1, 0, 2, 1, 0, 2, 2, 1])
    got = relational_distill(student, teacher, groups)
    assert float(got) == pytest.approx(_naive(student, teacher, groups), rel=1e-12)
    assert float(RelationalDistillLoss()(student, teacher, groups)) == float(got)


def test_zero_when_the_student_keeps_the_teachers_geometry_or_no_pair_shares_a_language():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 4, generator=g, requires_grad=True)
    rotation = torch.linalg.qr(torch.randn(4, 4, generator=g))[0]
    kept = relational_distill(x, (x * 3) @ rotation, torch.tensor([0, 0, 1, 1, 0, 1])).detach()
    assert float(kept) == pytest.approx(0, abs=1e-6)
    alone = relational_distill(x, torch.randn(6, 4, generator=g), torch.arange(6))
    assert float(alone.detach()) == 0.0
    alone.backward()  # still a graph: a batch with no same-language pair trains on the main loss
    assert x.grad is not None and float(x.grad.abs().sum()) == 0.0


def test_gradient_reaches_the_student_only():
    g = torch.Generator().manual_seed(4)
    student = torch.randn(5, 3, generator=g, requires_grad=True)
    teacher = torch.randn(5, 3, generator=g, requires_grad=True)
    relational_distill(student, teacher, torch.tensor([0, 0, 0, 1, 1])).backward()
    assert float(student.grad.abs().sum()) > 0 and teacher.grad is None


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"5 student rows, 4 teacher rows, 5 groups"):
        relational_distill(torch.zeros(5, 3), torch.zeros(4, 3), torch.zeros(5))
    with pytest.raises(ValueError, match="expected 2-D embeddings"):
        relational_distill(torch.zeros(5), torch.zeros(5, 3), torch.zeros(5))
