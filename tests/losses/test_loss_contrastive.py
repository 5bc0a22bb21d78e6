"""info_nce against a naive loop over rows, worked examples for temperature and margin, and errors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from langgap.losses import InfoNCELoss, info_nce


def _pair(b: int = 5, d: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(b, d, generator=g, dtype=torch.float64)
    return a, a + 0.8 * torch.randn(b, d, generator=g, dtype=torch.float64)


def _cos(x: list[float], y: list[float]) -> float:
    dot = sum(u * v for u, v in zip(x, y, strict=True))
    return dot / (math.sqrt(sum(u * u for u in x)) * math.sqrt(sum(v * v for v in y)))


def naive_info_nce(a, b, *, temperature, margin, symmetric, cand_a=None, cand_b=None, offset=0) -> float:
    """Plain Python: for each query row, -log of the softmax weight of its positive.

    ``cand_a``/``cand_b``: the candidates of the b/a queries (default: the batch itself), with
    query ``i``'s positive at ``offset + i`` (gathered rows of several processes).
    """
    rows_a, rows_b = a.tolist(), b.tolist()
    cand_a = rows_a if cand_a is None else cand_a.tolist()
    cand_b = rows_b if cand_b is None else cand_b.tolist()

    def direction(q, c) -> float:
        total = 0.0
        for i, qi in enumerate(q):
            pos = offset + i
            logits = [(_cos(qi, cj) - (margin if j == pos else 0.0)) / temperature for j, cj in enumerate(c)]
            total += -(logits[pos] - math.log(sum(math.exp(x) for x in logits)))
        return total / len(q)

    fwd = direction(rows_a, cand_b)
    return (fwd + direction(rows_b, cand_a)) / 2 if symmetric else fwd


@pytest.mark.parametrize("temperature", [0.05, 0.5])
@pytest.mark.parametrize("margin", [0.0, 0.3])
@pytest.mark.parametrize("symmetric", [True, False])
def test_info_nce_matches_naive_loop(temperature, margin, symmetric):
    a, b = _pair()
    got = info_nce(a, b, temperature=temperature, margin=margin, symmetric=symmetric)
    want = naive_info_nce(a, b, temperature=temperature, margin=margin, symmetric=symmetric)
    assert got.item() == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_symmetric_is_mean_of_both_directions():
    a, b = _pair()
    both = info_nce(a, b, temperature=0.1)
    one_way = (
        info_nce(a, b, temperature=0.1, symmetric=False) + info_nce(b, a, temperature=0.1, symmetric=False)
    ) / 2
    torch.testing.assert_close(both, one_way, rtol=0, atol=1e-12)


def test_worked_example_orthonormal_batch():
    """a = b = orthonormal rows: cos = I, so loss = log(1 + (B-1) exp(-(1-m)/τ)) in both directions."""
    bsz, tau, m = 4, 0.2, 0.3
    a = torch.eye(bsz, dtype=torch.float64) * 3.0  # scale is irrelevant: rows are normalised
    for margin in (0.0, m):
        want = math.log(1 + (bsz - 1) * math.exp(-(1 - margin) / tau))
        assert info_nce(a, a.clone(), temperature=tau, margin=margin).item() == pytest.approx(want, rel=1e-12)


def test_margin_raises_loss_and_temperature_sharpens():
    a, b = _pair()
    losses = [info_nce(a, b, temperature=0.1, margin=m).item() for m in (0.0, 0.1, 0.3)]
    assert losses[0] < losses[1] < losses[2]
    # well-aligned batch: a colder temperature gives a smaller loss
    a2 = torch.eye(4, dtype=torch.float64) + 0.05
    assert info_nce(a2, a2, temperature=0.05) < info_nce(a2, a2, temperature=0.5)


def test_gradients_reach_both_sides_and_wrapper_matches():
    a, b = (x.clone().requires_grad_() for x in _pair())
    loss_fn = InfoNCELoss(temperature=0.07, margin=0.2)
    loss = loss_fn(a, b)
    loss.backward()
    assert a.grad is not None and b.grad is not None
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0
    assert loss.item() == pytest.approx(info_nce(a, b, temperature=0.07, margin=0.2).item(), rel=1e-12)
    assert "temperature=0.07" in repr(loss_fn)


def test_gather_without_process_group_is_a_no_op():
    a, b = _pair()
    torch.testing.assert_close(info_nce(a, b, gather=True), info_nce(a, b), rtol=0, atol=0)


def test_bad_input_messages():
    a, b = _pair()
    with pytest.raises(ValueError, match=r"same shape \(B, D\), got \(5, 4\) and \(4, 4\)"):
        info_nce(a, b[:4])
    with pytest.raises(ValueError, match=r"expected 2-D embeddings"):
        info_nce(a[0], b[0])
    with pytest.raises(ValueError, match="temperature must be > 0, got 0"):
        info_nce(a, b, temperature=0)


def test_defaults_are_the_documented_ones():
    """τ = 0.05 (scale 20), no margin, both directions: the function and its wrapper."""
    a, b = _pair()
    want = naive_info_nce(a, b, temperature=0.05, margin=0.0, symmetric=True)
    assert info_nce(a, b).item() == pytest.approx(want, rel=1e-12)
    assert InfoNCELoss()(a, b).item() == pytest.approx(want, rel=1e-12)


def test_wrapper_passes_every_option_on(fake_world):
    a, b = _pair()
    one_way = naive_info_nce(a, b, temperature=0.05, margin=0.0, symmetric=False)
    assert InfoNCELoss(symmetric=False)(a, b).item() == pytest.approx(one_way, rel=1e-12)
    with pytest.raises(ValueError, match="InfoNCELoss: temperature must be > 0, got -1"):
        InfoNCELoss(temperature=-1)
    fake_world(rank=1)
    gathered = info_nce(a, b, gather=True)
    assert gathered.item() != pytest.approx(info_nce(a, b).item())
    torch.testing.assert_close(InfoNCELoss(gather=True)(a, b), gathered, rtol=0, atol=0)
    torch.testing.assert_close(InfoNCELoss()(a, b), info_nce(a, b), rtol=0, atol=0)  # default: local


def _gathered(x: torch.Tensor, world, n: int = 2) -> torch.Tensor:
    """The candidates all processes see: each one's (normalised) rows, in rank order."""
    xn = F.normalize(x, dim=-1)
    return torch.cat([xn if r == world.rank else world.peer(xn, r) for r in range(n)])


@pytest.mark.parametrize("rank", [0, 1])
@pytest.mark.parametrize("symmetric", [True, False])
def test_gather_makes_the_rows_of_every_process_candidates(fake_world, rank, symmetric):
    """Rank ``rank`` of 2 (simulated): local query i against both processes' rows, its positive at
    ``rank * B + i``, the margin on that column only."""
    a, b = _pair()
    world = fake_world(rank)
    got = info_nce(a, b, temperature=0.1, margin=0.2, symmetric=symmetric, gather=True)
    want = naive_info_nce(
        a,
        b,
        temperature=0.1,
        margin=0.2,
        symmetric=symmetric,
        cand_a=_gathered(a, world),
        cand_b=_gathered(b, world),
        offset=rank * len(a),
    )
    assert got.item() == pytest.approx(want, rel=1e-12)
    local = naive_info_nce(a, b, temperature=0.1, margin=0.2, symmetric=symmetric)
    assert info_nce(a, b, temperature=0.1, margin=0.2, symmetric=symmetric).item() == pytest.approx(
        local, rel=1e-12
    )


def test_gather_in_a_world_of_one_is_local(fake_world):
    a, b = _pair()
    fake_world(0, world=1)
    torch.testing.assert_close(info_nce(a, b, gather=True), info_nce(a, b), rtol=0, atol=0)


def test_errors_name_the_function():
    a, b = _pair()
    with pytest.raises(ValueError, match=r"^info_nce: a and b must have the same shape \(B, D\)"):
        info_nce(a, b[:4])
    with pytest.raises(
        ValueError, match=r"^info_nce: expected 2-D embeddings \(B, D\), got shapes \(4,\) and \(4,\)$"
    ):
        info_nce(a[0], b[0])
    with pytest.raises(ValueError, match=r"^info_nce: temperature must be > 0, got 0$"):
        info_nce(a, b, temperature=0)


def test_one_side_not_2d_is_refused_too():
    a, b = _pair()
    for x, y in ((a, b[0]), (a[0], b)):
        with pytest.raises(ValueError, match=r"^info_nce: expected 2-D embeddings \(B, D\)"):
            info_nce(x, y)


def test_margin_lands_on_each_querys_positive_at_its_offset():
    """With gathered candidates, local query i's positive is column offset + i (rank * B + i)."""
    from langgap.losses.contrastive import scaled_logits

    g = torch.Generator().manual_seed(0)
    q, c = (
        F.normalize(torch.randn(3, 4, generator=g), dim=1),
        F.normalize(torch.randn(9, 4, generator=g), dim=1),
    )
    plain = q @ c.T / 0.1
    for offset in (0, 3, 6):
        want = plain.clone()
        for i in range(3):
            want[i, offset + i] -= 0.2 / 0.1
        torch.testing.assert_close(scaled_logits(q, c, offset, temperature=0.1, margin=0.2), want)


def test_every_tensor_info_nce_builds_follows_the_embeddings_device():
    """PyTorch's ``meta`` device stands in for a GPU on a CPU-only machine: targets built on the
    CPU make cross-entropy refuse the logits (as CUDA would)."""
    a, b = torch.randn(4, 8, device="meta"), torch.randn(4, 8, device="meta")
    for margin in (0.0, 0.2):
        assert info_nce(a, b, temperature=0.05, margin=margin).device.type == "meta"
