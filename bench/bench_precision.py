"""What bf16 costs or saves on this CPU: a matrix product and a whole model forward, fp32 vs bf16.

    python bench/bench_precision.py                      # matmul + forward on 128 Tatoeba texts
    python bench/bench_precision.py --texts 64 --json runs/bench_precision.json

Reports the CPU's native bf16 flags (what ``--precision auto`` reads), the GFLOP/s of a
2048x384 @ 384x1536 product (e5-small's feed-forward shape) in fp32 and bf16, and the
multilingual-e5-small forward on Tatoeba deu-eng texts (prompt ``query: ``, one sorted batch
after another) three ways: fp32, bf16 weights (langgap's CPU bf16 path) and fp32 weights under
``torch.autocast("cpu", bfloat16)``, with the minimum cosine of each embedding to fp32.
Every timing is the median of ``--repeat`` rounds after a warm-up, in one process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langgap.encoders.precision import cpu_flags, native_cpu  # noqa: E402
from langgap.encoders.resolve import resolve_model  # noqa: E402


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matmul_gflops(dtype: torch.dtype, repeat: int) -> float:
    a, b = torch.randn(2048, 384).to(dtype), torch.randn(384, 1536).to(dtype)
    s = median_seconds(lambda: [a @ b for _ in range(5)], repeat) / 5
    return 2 * 2048 * 384 * 1536 / s / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="intfloat/multilingual-e5-small")
    ap.add_argument("--texts", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from sentence_transformers import SentenceTransformer

    flags = sorted(f for f in cpu_flags() if "bf16" in f or "fp16" in f or f.startswith(("avx512", "amx")))
    out: dict = {"threads": torch.get_num_threads(), "native_bf16": native_cpu("bf16"), "flags": flags}
    out["matmul_gflops"] = {
        name: round(matmul_gflops(dt, args.repeat), 1)
        for name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    print(json.dumps(out), flush=True)
    rows = (
        (ROOT.parent / "shared" / "data" / "tatoeba" / "deu-eng.tsv").read_text(encoding="utf-8").splitlines()
    )
    texts = [t for r in rows[: args.texts // 2] for t in r.split("\t")[:2]]
    st = SentenceTransformer(resolve_model(args.model)[0], device="cpu")

    def encode() -> np.ndarray:
        return st.encode(texts, prompt="query: ", batch_size=64, convert_to_numpy=True)

    forward: dict[str, dict[str, float]] = {}
    ref = encode()
    for name in ("fp32", "autocast_bf16", "bf16_weights"):
        st.to(torch.bfloat16 if name == "bf16_weights" else torch.float32)
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if name == "autocast_bf16" else torch.no_grad()
        with ctx:
            s = median_seconds(encode, args.repeat)
            emb = encode()
        cos = (emb * ref).sum(1) / np.linalg.norm(emb, axis=1) / np.linalg.norm(ref, axis=1)
        forward[name] = {
            "seconds": round(s, 3),
            "texts_per_s": round(len(texts) / s, 1),
            "min_cos": float(cos.min()),
        }
        print(name, forward[name], flush=True)
    out["forward"] = forward
    out["speedup_bf16_weights"] = round(forward["fp32"]["seconds"] / forward["bf16_weights"]["seconds"], 2)
    print(json.dumps(out))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
