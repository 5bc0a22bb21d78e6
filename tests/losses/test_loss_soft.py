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


def naive_label_matrix(t, tau, cands=None) -> list[list[float]]:
    """Row i: softmax over the candidates (default: the batch) of cos(t_i, cand_j) / tau."""
    rows = t.tolist()
    cands = rows if cands is None else cands.tolist()
    out = []
    for ti in rows:
        e = [math.exp(_cos(ti, tj) / tau) for tj in cands]
        out.append([x / sum(e) for x in e])
    return out


def naive_h(labels, q, c, tau, margin, offset=0) -> float:
    """(1/B) sum_i sum_j -labels[i][j] * log softmax_j((cos(q_i, c_j) - m[j == offset + i]) / tau)."""
    total = 0.0
    for i, qi in enumerate(q):
        logits = [(_cos(qi, cj) - (margin if j == offset + i else 0.0)) / tau for j, cj in enumerate(c)]
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


def _loss_by_hand(a, b, p, *, tau, margin=0.0, tcm=0.0, cand_a=None, cand_b=None, offset=0) -> float:
    """The module docstring's formula with labels p for both directions, plain Python."""
    rows_a, rows_b = a.tolist(), b.tolist()
    ca = rows_a if cand_a is None else cand_a.tolist()
    cb = rows_b if cand_b is None else cand_b.tolist()
    out = (naive_h(p, rows_a, cb, tau, margin, offset) + naive_h(p, rows_b, ca, tau, margin, offset)) / 2
    return out + tcm * (
        naive_h(p, rows_a, ca, tau, margin, offset) + naive_h(p, rows_b, cb, tau, margin, offset)
    )


def test_wrapper_defaults_are_the_documented_ones():
    """Student and label τ 0.05, priority labels from teacher_a, no margin, no TCM."""
    a, b, ta, _ = _data()
    want = _loss_by_hand(a, b, naive_label_matrix(ta, 0.05), tau=0.05)
    assert SoftContrastiveLoss()(a, b, ta).item() == pytest.approx(want, rel=1e-12)
    assert soft_contrastive(a, b, soft_labels(ta, temperature=0.05, mode="priority")).item() == pytest.approx(
        want, rel=1e-12
    )


def test_wrapper_passes_every_option_on(fake_world):
    a, b, ta, tb = _data()
    loss_fn = SoftContrastiveLoss(
        temperature=0.2, label_temperature=0.1, mode="priority", margin=0.3, tcm_weight=0.5
    )
    want = _loss_by_hand(a, b, naive_label_matrix(ta, 0.1), tau=0.2, margin=0.3, tcm=0.5)
    assert loss_fn(a, b, ta).item() == pytest.approx(want, rel=1e-12)
    fake_world(rank=1)
    gathered = SoftContrastiveLoss(gather=True)(a, b, ta)
    want_gathered = soft_contrastive(
        a, b, soft_labels(ta, temperature=0.05, mode="priority", gather=True), gather=True
    )
    torch.testing.assert_close(gathered, want_gathered, rtol=0, atol=0)
    assert gathered.item() != pytest.approx(SoftContrastiveLoss()(a, b, ta).item())


def test_wrapper_bad_options_name_the_wrapper():
    with pytest.raises(ValueError, match="^SoftContrastiveLoss: temperature must be > 0, got 0"):
        SoftContrastiveLoss(temperature=0)
    with pytest.raises(
        ValueError, match=r"^SoftContrastiveLoss \(label_temperature\): temperature must be > 0"
    ):
        SoftContrastiveLoss(label_temperature=0)
    with pytest.raises(
        ValueError, match="^SoftContrastiveLoss: unknown mode 'mean'; expected 'priority' or 'average'"
    ):
        SoftContrastiveLoss(mode="mean")  # type: ignore[arg-type]


def _gathered(x: torch.Tensor, world, n: int = 2) -> torch.Tensor:
    """The candidates all processes see: each one's (normalised) rows, in rank order."""
    xn = F.normalize(x, dim=-1)
    return torch.cat([xn if r == world.rank else world.peer(xn, r) for r in range(n)])


@pytest.mark.parametrize("rank", [0, 1])
def test_gathered_labels_and_loss_use_every_process_rows(fake_world, rank):
    """Rank ``rank`` of 2 (simulated): label rows are distributions over both processes' teacher
    rows; the loss contrasts local queries with both processes' rows, positives at rank * B + i."""
    a, b, ta, tb = _data()
    world = fake_world(rank)
    pa = naive_label_matrix(ta, 0.2, _gathered(ta, world))
    pb = naive_label_matrix(tb, 0.2, _gathered(tb, world))
    labels = soft_labels(ta, temperature=0.2, mode="priority", gather=True)
    torch.testing.assert_close(labels, torch.tensor(pa, dtype=torch.float64), rtol=0, atol=1e-12)
    avg = soft_labels(ta, tb, temperature=0.2, mode="average", gather=True)
    want_avg = (torch.tensor(pa, dtype=torch.float64) + torch.tensor(pb, dtype=torch.float64)) / 2
    torch.testing.assert_close(avg, want_avg, rtol=0, atol=1e-12)
    got = soft_contrastive(a, b, labels, temperature=0.1, margin=0.2, tcm_weight=0.7, gather=True)
    want = _loss_by_hand(
        a,
        b,
        pa,
        tau=0.1,
        margin=0.2,
        tcm=0.7,
        cand_a=_gathered(a, world),
        cand_b=_gathered(b, world),
        offset=rank * len(a),
    )
    assert got.item() == pytest.approx(want, rel=1e-12)


def test_soft_labels_errors_name_the_function():
    _, _, ta, tb = _data()
    with pytest.raises(ValueError, match="^soft_labels: temperature must be > 0, got 0$"):
        soft_labels(ta, temperature=0, mode="priority")
    with pytest.raises(
        ValueError, match=r"^soft_labels: expected 2-D teacher embeddings \(B, Dt\), got shape \(3,\)$"
    ):
        soft_labels(ta[0], temperature=0.1, mode="priority")
    with pytest.raises(
        ValueError,
        match=r"^soft_labels: 'priority' labels use teacher_a only \(the higher-priority side\); got teacher_b$",
    ):
        soft_labels(ta, tb, temperature=0.1, mode="priority")
    with pytest.raises(
        ValueError,
        match=r"^soft_labels: 'average' labels need teacher_b \(the teacher's embeddings of side b\)$",
    ):
        soft_labels(ta, temperature=0.1, mode="average")
    with pytest.raises(ValueError, match=r"^soft_labels: a and b must have the same shape \(B, D\)"):
        soft_labels(ta, tb[:4], temperature=0.1, mode="average")


def test_half_precision_teacher_labels_are_computed_in_float32():
    """Under mixed precision the teacher's embeddings may be bf16; the softmax over a cold
    temperature is not (bf16 keeps 3 significant digits)."""
    _, _, ta, _ = _data()
    half = ta.to(torch.bfloat16)
    labels = soft_labels(half, temperature=0.05, mode="priority")
    assert labels.dtype == torch.float32
    want = soft_labels(half.to(torch.float32), temperature=0.05, mode="priority")
    torch.testing.assert_close(labels, want, rtol=0, atol=1e-6)


def test_soft_labels_default_to_the_local_batch(fake_world):
    _, _, ta, _ = _data()
    fake_world(rank=1)
    assert soft_labels(ta, temperature=0.1, mode="priority").shape == (5, 5)
    assert soft_labels(ta, temperature=0.1, mode="priority", gather=True).shape == (5, 10)


def test_soft_contrastive_errors_name_the_function_and_the_labels():
    a, b, _, _ = _data()
    eye = torch.eye(5, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^soft_contrastive: a and b must have the same shape \(B, D\)"):
        soft_contrastive(a, b[:4], eye)
    with pytest.raises(ValueError, match="^soft_contrastive: temperature must be > 0, got 0$"):
        soft_contrastive(a, b, eye, temperature=0)
    with pytest.raises(
        ValueError,
        match=r"^soft_contrastive: labels_b must have shape \(5, 5\) \(local queries x candidates\), got \(4, 4\)$",
    ):
        soft_contrastive(a, b, eye, labels_b=torch.eye(4, dtype=torch.float64))


def test_soft_contrastive_defaults_to_the_local_batch(fake_world):
    a, b, ta, _ = _data()
    labels = soft_labels(ta, temperature=0.1, mode="priority")
    local = soft_contrastive(a, b, labels)
    fake_world(rank=1)
    torch.testing.assert_close(soft_contrastive(a, b, labels), local, rtol=0, atol=0)
