"""Two parts of a training step, timed alone (the side measurements in docs/benchmarks.md).

``adamw``: one AdamW step over parameters shaped like multilingual-e5-small's (the 250,037 x 384
word-embedding matrix plus 48 matrices of 384 x 384), random gradients, per-tensor (``foreach``,
torch's default) against the fused kernel (:func:`langgap.training.setup.adamw`).

``forward``: forward + backward of batches of Multi30k ``en-de`` pairs through the offline e5,
both sides in one forward (one padding, as :func:`langgap.encoders.st.forward` is called) against
one forward per side (as sentence-transformers' MNRL does). The two alternate, twice.

Usage::

    python bench/bench_train_parts.py adamw
    python bench/bench_train_parts.py forward --batches 6
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_MODEL = str(Path.home() / ".cache" / "langgap" / "models" / "multilingual-e5-small")


def benchadamw(steps: int) -> None:
    from langgap.training.setup import adamw

    torch.manual_seed(0)
    shapes = [(250_037, 384)] + [(384, 384)] * 48
    for name, make in (
        ("per-tensor", lambda g: torch.optim.AdamW(g, lr=1e-3)),
        ("fused (_adamw)", lambda g: adamw(g, 1e-3)),
    ):
        params = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
        for p in params:
            p.grad = torch.randn_like(p)
        opt = make([{"params": params, "weight_decay": 0.01}])
        opt.step()  # warm-up: allocates the moments
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.step()
        print(f"{name}: {(time.perf_counter() - t0) / steps:.3f} s per step")


def bench_forward(model: str, pairs: Path, batches: int, batch_size: int) -> None:
    from sentence_transformers import SentenceTransformer

    from langgap.encoders.st import forward as embed

    st = SentenceTransformer(model)
    st.max_seq_length = 64
    st.train()
    rows = [
        line.split("\t") for line in pairs.read_text(encoding="utf-8").splitlines()[: batches * batch_size]
    ]
    device = torch.device("cpu")

    def one(a: list[str], b: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        e = embed(st, st, a + b, "query: ", device)
        return e[: len(a)], e[len(a) :]

    def two(a: list[str], b: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return embed(st, st, a, "query: ", device), embed(st, st, b, "query: ", device)

    for name, fn in [("one forward", one), ("two forwards", two)] * 2:
        t0 = time.perf_counter()
        for i in range(batches):
            chunk = rows[i * batch_size : (i + 1) * batch_size]
            x, y = fn([r[0] for r in chunk], [r[1] for r in chunk])
            (x @ y.T).sum().backward()
            st.zero_grad()
        print(f"{name}: {(time.perf_counter() - t0) / batches:.2f} s per batch of {batch_size} pairs")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("part", choices=("adamw", "forward"))
    p.add_argument("--steps", type=int, default=5, help="adamw: timed steps")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--pairs", type=Path, default=SHARED / "data" / "multi30k" / "train" / "en-de.tsv")
    p.add_argument("--batches", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args()
    if args.part == "adamw":
        benchadamw(args.steps)
    else:
        bench_forward(args.model, args.pairs, args.batches, args.batch_size)


if __name__ == "__main__":
    main()
