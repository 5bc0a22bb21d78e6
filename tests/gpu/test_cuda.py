"""What only a CUDA device can tell apart (mutants a CPU build lets through, docs/mutation-triage.md).

Skipped without a CUDA device; ``bench/gpu.sh`` runs them on the lent GPU machine:

- GradCache replays each chunk's *CUDA* generator too: dropout masks on the GPU are equal with
  and without the cache (on CPU only the CPU generator is in play);
- InfoNCE builds its targets on the embeddings' device (CUDA cross-entropy refuses CPU targets);
- the teacher's rows come back on the training device.

The shape tensor of ``all_gather_with_grad`` (NCCL needs it on the GPU) needs two GPUs: NCCL
refuses two ranks on one device.
"""

from __future__ import annotations

from functools import partial

import pytest
import torch

from conftest import ToyEncoder
from langgap.losses import cached_backward, info_nce
from langgap.training.teacher import TeacherCache

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (bench/gpu.sh)"),
]
CUDA = torch.device("cuda")


def test_gradcache_replays_the_cuda_dropout_masks():
    torch.manual_seed(1)
    enc = torch.nn.Sequential(torch.nn.Linear(6, 64), torch.nn.Dropout(0.5), torch.nn.Linear(64, 4))
    enc = enc.to(CUDA).train()
    x_a, x_b = torch.randn(8, 6, device=CUDA), torch.randn(8, 6, device=CUDA)
    ca, cb = list(x_a.split([3, 5])), list(x_b.split([4, 4]))

    torch.manual_seed(7)  # seeds the CUDA generator too
    want_loss = info_nce(torch.cat([enc(c) for c in ca]), torch.cat([enc(c) for c in cb]), temperature=0.1)
    want_loss.backward()
    want = [p.grad.clone() for p in enc.parameters()]  # type: ignore[union-attr]
    enc.zero_grad()

    torch.manual_seed(7)
    got_loss = cached_backward(enc, ca, cb, partial(info_nce, temperature=0.1))
    torch.testing.assert_close(got_loss, want_loss.detach(), rtol=0, atol=1e-5)
    for p, w in zip(enc.parameters(), want, strict=True):
        torch.testing.assert_close(p.grad, w, rtol=0, atol=1e-5)


def test_info_nce_on_cuda_equals_cpu():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    want = info_nce(a, b, temperature=0.05, margin=0.2)
    got = info_nce(a.to(CUDA), b.to(CUDA), temperature=0.05, margin=0.2)
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), want, rtol=1e-5, atol=1e-6)


def test_teacher_rows_come_back_on_the_training_device():
    texts = [f"eng:{i}" for i in range(4)]
    cache = TeacherCache(ToyEncoder(dim=8, gap=1.0), texts, device=CUDA)
    rows = cache.lookup(texts[1:3])
    assert rows.device.type == "cuda" and rows.dtype == torch.float32 and rows.shape == (2, 8)
    want = TeacherCache(ToyEncoder(dim=8, gap=1.0), texts).lookup(texts[1:3])
    torch.testing.assert_close(rows.cpu(), want, rtol=0, atol=0)
