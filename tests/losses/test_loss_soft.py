"""Soft contrastive loss (Park et al. 2024): labels and loss by hand, and the one-hot = InfoNCE identity."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from langgap.losses import SoftContrastiveLoss, info_nce, soft_contrastive, soft_labels


def _data(b: int = 5, d: int = 4, dt: int = 3, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(b, d, generator=g, dtype=torch.float64)
    b_ = a + 0.7 * torch.randn(b, d, generator=g, dtype=torch.float64)
    ta = torch.randn(b, dt, generator=g, dtype=torch.float64)
    tb = ta + 0.5 * torch.randn(b, dt, generator=g, dtype=torch.float64)
    return a, b_, ta, tb


def _cos(x, y) -> float:
    return sum(u * v for u, v in zip(x, y, strict=True)) / math.sqrt(
        sum(u * u for u in x) * sum(v * v for v in y)
    )


def naive_label_matrix(t, tau) -> list[list[float]]:
    rows = t.tolist()
    out = []
    for ti in rows:
        e = [math.exp(_cos(ti, tj) / tau) for tj in rows]
        out.append([x / sum(e) for x in e])
    return out


def naive_h(labels, q, c, tau, margin) -> float:
    """(1/B) sum_i sum_j -labels[i][j] * log softmax_j((cos(q_i, c_j) - m[i==j]) / tau)."""
    total = 0.0
    for i, qi in enumerate(q):
        logits = [(_cos(qi, cj) - (margin if i == j else 0.0)) / tau for j, cj in enumerate(c)]
        lse = math.log(sum(math.exp(x) for x in logits))
        total += -sum(labels[i][j] * (logits[j] - lse) for j in range(len(c)))
    return total / len(q)


def test_soft_labels_match_hand_computation():
    _, _, ta, tb = _data()
    pa, pb = naive_label_matrix(ta, 0.1), naive_label_matrix(tb, 0.1)
    prio = soft_labels(ta, temperature=0.1, mode="priority")
    avg = soft_labels(ta, tb, temperature=0.1, mode="average")
    torch.testing.assert_close(prio, torch.tensor(pa, dtype=torch.float64), rtol=0, atol=1e-12)
    want_avg = (torch.tensor(pa, dtype=torch.float64) + torch.tensor(pb, dtype=torch.float64)) / 2
    torch.testing.assert_close(avg, want_avg, rtol=0, atol=1e-12)
    for p in (prio, avg):
        torch.testing.assert_close(p.sum(1), torch.ones(5, dtype=torch.float64))
        assert (p.argmax(1) == torch.arange(5)).all()  # a sentence is most similar to itself


def test_soft_labels_bad_input():
    _, _, ta, tb = _data()
    with pytest.raises(ValueError, match="'priority' labels use teacher_a only"):
        soft_labels(ta, tb, temperature=0.1, mode="priority")
    with pytest.raises(ValueError, match="'average' labels need teacher_b"):
        soft_labels(ta, temperature=0.1, mode="average")
    with pytest.raises(ValueError, match="unknown mode 'mean'"):
        soft_labels(ta, tb, temperature=0.1, mode="mean")  # type: ignore[arg-type]


@pytest.mark.parametrize("tcm_weight", [0.0, 0.7])
@pytest.mark.parametrize("margin", [0.0, 0.2])
def test_soft_contrastive_matches_hand_computation(tcm_weight, margin):
    a, b, ta, tb = _data()
    tau = 0.1
    p = naive_label_matrix(ta, 0.2)
    q = naive_label_matrix(tb, 0.2)  # distinct labels for the b-queries, to see they are used there
    rows_a, rows_b = a.tolist(), b.tolist()
    want = (naive_h(p, rows_a, rows_b, tau, margin) + naive_h(q, rows_b, rows_a, tau, margin)) / 2
    want += tcm_weight * (naive_h(p, rows_a, rows_a, tau, margin) + naive_h(q, rows_b, rows_b, tau, margin))
    got = soft_contrastive(
        a,
        b,
        torch.tensor(p, dtype=torch.float64),
        labels_b=torch.tensor(q, dtype=torch.float64),
        temperature=tau,
        margin=margin,
        tcm_weight=tcm_weight,
    )
    assert got.item() == pytest.approx(want, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_one_hot_teacher_equals_info_nce(margin):
    """Identity labels, λ = 0: soft_contrastive == info_nce (value and gradients)."""
    a0, b0, _, _ = _data(b=6)
    a1, b1 = a0.clone().requires_grad_(), b0.clone().requires_grad_()
    a2, b2 = a0.clone().requires_grad_(), b0.clone().requires_grad_()
    soft = soft_contrastive(a1, b1, torch.eye(6, dtype=torch.float64), temperature=0.05, margin=margin)
    hard = info_nce(a2, b2, temperature=0.05, margin=margin)
    torch.testing.assert_close(soft, hard, rtol=0, atol=1e-12)
    soft.backward()
    hard.backward()
    torch.testing.assert_close(a1.grad, a2.grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(b1.grad, b2.grad, rtol=0, atol=1e-12)


def test_cold_teacher_tends_to_info_nce():
    """τ_t → 0 makes the labels one-hot (teacher rows are distinct), so the loss tends to InfoNCE."""
    a, b, ta, _ = _data()
    labels = soft_labels(ta, temperature=1e-4, mode="priority")
    torch.testing.assert_close(labels, torch.eye(5, dtype=torch.float64), rtol=0, atol=1e-9)
    torch.testing.assert_close(soft_contrastive(a, b, labels), info_nce(a, b), rtol=0, atol=1e-9)


def test_tcm_adds_monolingual_terms_and_trains_them():
    a, b, ta, _ = _data()
    labels = soft_labels(ta, temperature=0.1, mode="priority")
    base = soft_contrastive(a, b, labels, temperature=0.1)
    with_tcm = soft_contrastive(a, b, labels, temperature=0.1, tcm_weight=0.5)
    mono = -(labels * torch.log_softmax(F.normalize(a) @ F.normalize(a).T / 0.1, 1)).sum(1).mean()
    mono += -(labels * torch.log_softmax(F.normalize(b) @ F.normalize(b).T / 0.1, 1)).sum(1).mean()
    torch.testing.assert_close(with_tcm, base + 0.5 * mono, rtol=0, atol=1e-12)


def test_wrapper_builds_labels_and_teacher_gets_no_gradient():
    a, b, ta, tb = _data()
    ta = ta.clone().requires_grad_()
    loss_fn = SoftContrastiveLoss(temperature=0.05, label_temperature=0.1, mode="average", tcm_weight=0.3)
    got = loss_fn(a, b, ta, tb)
    want = soft_contrastive(
        a, b, soft_labels(ta, tb, temperature=0.1, mode="average"), temperature=0.05, tcm_weight=0.3
    )
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    assert not got.requires_grad  # the teacher is frozen: nothing to train here
    assert "mode='average'" in repr(loss_fn)


def test_label_shape_mismatch_message():
    a, b, ta, _ = _data()
    with pytest.raises(ValueError, match=r"labels must have shape \(5, 5\) .* got \(4, 4\)"):
        soft_contrastive(a, b, torch.eye(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="tcm_weight must be >= 0"):
        soft_contrastive(a, b, torch.eye(5, dtype=torch.float64), tcm_weight=-1)
