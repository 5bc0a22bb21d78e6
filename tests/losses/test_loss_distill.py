"""MSE distillation: value by hand, gradient on BOTH student sides, dimension errors."""

from __future__ import annotations

import pytest
import torch

from langgap.losses import MSEDistillLoss, mse_distill


def test_value_is_sum_of_two_means():
    g = torch.Generator().manual_seed(0)
    s_src, s_tgt, t_src = (torch.randn(3, 4, generator=g, dtype=torch.float64) for _ in range(3))
    want = (
        sum((x - y) ** 2 for x, y in zip(s_src.flatten().tolist(), t_src.flatten().tolist(), strict=True))
        / 12
    )
    want += (
        sum((x - y) ** 2 for x, y in zip(s_tgt.flatten().tolist(), t_src.flatten().tolist(), strict=True))
        / 12
    )
    assert mse_distill(s_src, s_tgt, t_src).item() == pytest.approx(want, rel=1e-12)
    assert MSEDistillLoss()(s_src, s_tgt, t_src).item() == pytest.approx(want, rel=1e-12)


def test_both_student_sides_receive_gradient_through_one_encoder():
    """A shared student encoder gets gradient from src AND tgt (a peer library once trained one side)."""
    torch.manual_seed(0)
    student = torch.nn.Linear(6, 4)
    x_src, x_tgt = torch.randn(3, 6), torch.randn(3, 6)
    teacher = torch.randn(3, 4, requires_grad=True)
    s_src, s_tgt = student(x_src), student(x_tgt)
    s_src.retain_grad()
    s_tgt.retain_grad()
    mse_distill(s_src, s_tgt, teacher).backward()
    assert s_src.grad is not None and s_src.grad.abs().min() > 0
    assert s_tgt.grad is not None and s_tgt.grad.abs().min() > 0
    torch.testing.assert_close(s_tgt.grad, 2 * (s_tgt - teacher).detach() / 12)
    assert teacher.grad is None  # frozen teacher: detached
    # the encoder's gradient is the sum of both sides' contributions
    w_src = torch.autograd.grad(
        torch.nn.functional.mse_loss(student(x_src), teacher.detach()), student.weight
    )[0]
    w_tgt = torch.autograd.grad(
        torch.nn.functional.mse_loss(student(x_tgt), teacher.detach()), student.weight
    )[0]
    assert student.weight.grad is not None
    torch.testing.assert_close(student.weight.grad, w_src + w_tgt)
    assert w_tgt.abs().sum() > 0


def test_dimension_mismatch_names_both_dimensions():
    s = torch.zeros(2, 4)
    with pytest.raises(ValueError, match="teacher dimension 8 differs from student dimension 4"):
        mse_distill(s, s, torch.zeros(2, 8))
    with pytest.raises(ValueError, match=r"student_tgt \(3, 4\)"):
        mse_distill(s, torch.zeros(3, 4), torch.zeros(2, 4))


@pytest.mark.parametrize("bad", ["student_src", "student_tgt", "teacher_src"])
def test_a_1d_input_is_named(bad):
    args = {
        "student_src": torch.zeros(2, 4),
        "student_tgt": torch.zeros(2, 4),
        "teacher_src": torch.zeros(2, 4),
    }
    args[bad] = torch.zeros(4)
    with pytest.raises(ValueError, match=rf"^mse_distill: expected 2-D {bad} \(B, D\), got shape \(4,\)$"):
        mse_distill(**args)


def test_shape_mismatch_message_names_every_shape():
    s = torch.zeros(2, 4)
    want = r"^mse_distill: shapes must match \(B, D\), got student_src \(2, 4\), student_tgt \(3, 4\), teacher_src \(2, 4\)$"
    with pytest.raises(ValueError, match=want):
        mse_distill(s, torch.zeros(3, 4), s)
