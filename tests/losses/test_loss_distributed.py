"""Two gloo processes with gathered negatives vs one process on the combined batch.

Setup: a fixed batch of N = W*B pairs (W = 2 processes, B = 4 local rows); process r holds rows
``r*B:(r+1)*B`` and computes its loss ``L_r`` over its local queries against all N gathered
candidates (``gather=True``), then back-propagates ``L_r``.  One process computes ``L`` on all N
rows without a process group.  The identities tested, for info_nce and soft_contrastive (with
``average`` labels, TCM and a margin):

    (a) loss:       (1/W) Σ_r L_r  =  L
    (b) embeddings: grad of x_r on process r  =  Σ_{r'} ∂L_{r'}/∂x_r  =  W · ∂L/∂x_r
                    (all_gather_with_grad returns each process the summed gradient of its rows)
    (c) parameters: a shared nn.Linear encoder; the mean over processes of the parameter
                    gradients (what DDP's all-reduce computes)  =  ∂L/∂θ — also through the
                    cached (GradCache) path, and through it under real DDP with ``no_sync``
                    (every chunk's backward but the last unsynchronised): every process ends
                    with ∂L/∂θ.

Processes are started with the spawn method and joined with a timeout, so a hung process group
fails the test instead of hanging the suite.
"""

from __future__ import annotations

import datetime
import os
import time
import traceback
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from langgap.losses import all_gather_with_grad, cached_info_nce, info_nce, soft_contrastive, soft_labels

WORLD, LOCAL = 2, 4
TIMEOUT_S = 120
TAU, LABEL_TAU, MARGIN, TCM = 0.1, 0.2, 0.15, 0.5


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1234)
    n = WORLD * LOCAL

    def r(*s):
        return torch.randn(*s, generator=g, dtype=torch.float64)

    a = r(n, 5)
    ta = r(n, 3)
    x_a = r(n, 6)
    return {
        "a": a,
        "b": a + 0.7 * r(n, 5),
        "ta": ta,
        "tb": ta + 0.5 * r(n, 3),
        "x_a": x_a,
        "x_b": x_a + 0.5 * r(n, 6),
        "w": r(5, 6),
        "bias": r(5),
    }


def _encoder(data: dict[str, torch.Tensor]) -> torch.nn.Linear:
    enc = torch.nn.Linear(6, 5).double()
    with torch.no_grad():
        enc.weight.copy_(data["w"])
        enc.bias.copy_(data["bias"])
    return enc


def _losses(a, b, ta, tb, gather: bool) -> dict[str, torch.Tensor]:
    labels = soft_labels(ta, tb, temperature=LABEL_TAU, mode="average", gather=gather)
    return {
        "info_nce": info_nce(a, b, temperature=TAU, margin=MARGIN, gather=gather),
        "soft": soft_contrastive(a, b, labels, temperature=TAU, margin=MARGIN, tcm_weight=TCM, gather=gather),
    }


def _run_all(data: dict[str, torch.Tensor], rows: slice, gather: bool) -> dict[str, torch.Tensor]:
    """Losses and gradients for rows ``rows`` of the batch; the same code for both settings."""
    out: dict[str, torch.Tensor] = {}
    d = {k: v[rows] for k, v in data.items() if k not in ("w", "bias")}
    for name in ("info_nce", "soft"):
        # (a), (b): leaf embeddings
        a, b = d["a"].clone().requires_grad_(), d["b"].clone().requires_grad_()
        loss = _losses(a, b, d["ta"], d["tb"], gather)[name]
        loss.backward()
        out[f"{name}/loss"], out[f"{name}/grad_a"], out[f"{name}/grad_b"] = loss.detach(), a.grad, b.grad  # type: ignore[assignment]
        # (c): a shared encoder's parameter gradients
        enc = _encoder(data)
        _losses(enc(d["x_a"]), enc(d["x_b"]), d["ta"], d["tb"], gather)[name].backward()
        out[f"{name}/grad_w"] = enc.weight.grad  # type: ignore[assignment]
    enc = _encoder(data)
    out["cached/loss"] = cached_info_nce(
        enc, list(d["x_a"].split(3)), list(d["x_b"].split(2)), temperature=TAU, margin=MARGIN, gather=gather
    )
    out["cached/grad_w"] = enc.weight.grad  # type: ignore[assignment]
    return out


def _ddp_cached(data: dict[str, torch.Tensor], rows: slice) -> torch.Tensor:
    """GradCache under real DDP: the weight gradient each process is left with after the step."""
    from torch.nn.parallel import DistributedDataParallel

    enc = _encoder(data)
    ddp = DistributedDataParallel(enc)
    x_a, x_b = data["x_a"][rows], data["x_b"][rows]
    cached_info_nce(
        ddp,
        list(x_a.split(3)),  # 2 chunks per side: 4 backwards, the last one synchronises
        list(x_b.split(2)),
        temperature=TAU,
        margin=MARGIN,
        gather=True,
        no_sync=ddp.no_sync,
    )
    assert enc.weight.grad is not None
    return enc.weight.grad


def _worker(rank: int, outdir: str) -> None:
    log = open(Path(outdir) / f"rank{rank}.log", "w")  # what C++ prints before an abort, for the message
    os.dup2(log.fileno(), 2)
    try:
        torch.set_num_threads(1)
        dist.init_process_group(  # a file store: no rank hosts a server the other may outlive
            "gloo",
            init_method=f"file://{outdir}/store",
            rank=rank,
            world_size=WORLD,
            timeout=datetime.timedelta(seconds=TIMEOUT_S // 2),
        )
        try:
            out = _run_all(_batch(), slice(rank * LOCAL, (rank + 1) * LOCAL), gather=True)
            for key in [k for k in out if k.endswith("/grad_w")]:  # DDP: mean of parameter gradients
                dist.all_reduce(out[key], op=dist.ReduceOp.SUM)
                out[key] /= WORLD
            out["ddp_cached"] = _ddp_cached(_batch(), slice(rank * LOCAL, (rank + 1) * LOCAL))
            try:  # unequal local batches would misplace the positives: refused on every process
                all_gather_with_grad(torch.zeros(rank + 1, 2))
            except ValueError as e:
                out["shape_error"] = torch.tensor([ord(c) for c in str(e)])
            dist.barrier()  # neither process tears the group down while the other is still in it
        finally:
            dist.destroy_process_group()
        torch.save(out, Path(outdir) / f"rank{rank}.pt")
    except BaseException:
        (Path(outdir) / f"rank{rank}.err").write_text(traceback.format_exc())
        raise


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[list[dict[str, torch.Tensor]], dict[str, torch.Tensor]]:
    outdir = tmp_path_factory.mktemp("gloo")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(r, str(outdir)), daemon=True) for r in range(WORLD)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + TIMEOUT_S
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
    hung = [p for p in procs if p.is_alive()]
    for p in hung:  # only the processes this test started
        p.terminate()
        p.join(timeout=10)
    errors = "\n".join(f.read_text() for f in sorted([*outdir.glob("*.err"), *outdir.glob("*.log")]))
    assert not hung, f"gloo workers did not finish within {TIMEOUT_S}s\n{errors}"
    assert all(p.exitcode == 0 for p in procs), f"exit codes {[p.exitcode for p in procs]}\n{errors}"
    per_rank = [torch.load(outdir / f"rank{r}.pt") for r in range(WORLD)]
    single = _run_all(_batch(), slice(None), gather=False)
    return per_rank, single


@pytest.mark.parametrize("name", ["info_nce", "soft", "cached"])
def test_mean_of_process_losses_equals_single_process_loss(results, name):
    per_rank, single = results
    mean = sum(r[f"{name}/loss"] for r in per_rank) / WORLD
    torch.testing.assert_close(mean, single[f"{name}/loss"], rtol=0, atol=1e-12)
    assert not torch.allclose(per_rank[0][f"{name}/loss"], per_rank[1][f"{name}/loss"])  # a real split


@pytest.mark.parametrize("name", ["info_nce", "soft"])
@pytest.mark.parametrize("side", ["a", "b"])
def test_local_embedding_gradient_is_world_size_times_full_gradient(results, name, side):
    per_rank, single = results
    full = single[f"{name}/grad_{side}"]  # (W*B, D)
    for rank, out in enumerate(per_rank):
        want = WORLD * full[rank * LOCAL : (rank + 1) * LOCAL]
        torch.testing.assert_close(out[f"{name}/grad_{side}"], want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", ["info_nce", "soft", "cached"])
def test_ddp_averaged_parameter_gradient_equals_single_process(results, name):
    per_rank, single = results
    for out in per_rank:
        torch.testing.assert_close(out[f"{name}/grad_w"], single[f"{name}/grad_w"], rtol=0, atol=1e-12)
    assert single[f"{name}/grad_w"].abs().sum() > 0


def test_unequal_local_batches_are_refused(results):
    per_rank, _ = results
    for out in per_rank:
        msg = "".join(chr(int(c)) for c in out["shape_error"])
        assert "needs equal shapes on every process, got [(1, 2), (2, 2)]" in msg


def test_all_gather_is_identity_without_process_group():
    x = torch.randn(3, 2, requires_grad=True)
    assert all_gather_with_grad(x) is x


def test_gradcache_under_ddp_syncs_the_whole_accumulated_gradient(results):
    """Real DDP with ``no_sync`` around every chunk's backward but the last: both processes end
    with the single-process gradient of the whole batch. Synchronising any other backward would
    average only the chunks accumulated so far and leave the rest per process."""
    per_rank, single = results
    for out in per_rank:
        torch.testing.assert_close(out["ddp_cached"], single["cached/grad_w"], rtol=0, atol=1e-12)


def test_one_process_outside_a_process_group_is_rank_0_of_1():
    from langgap.losses import rank_and_world_size

    assert rank_and_world_size() == (0, 1)
