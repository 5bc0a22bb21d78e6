"""Throughput of ``langgap embed`` against sentence-transformers ``encode`` on the same texts.

(a) ``langgap embed``: :func:`langgap.embed.embed_file` (what the command runs) with a
    :class:`~langgap.encoders.st.SentenceTransformerEncoder`, from the text file on disk into a
    new shard folder: the streaming scan (sha256), reading each shard's lines, token-sorted
    batches, float16 shards written atomically. Everything is inside the timing.
(b) ``sentence-transformers``: ``model.encode(texts, prompt=..., batch_size=...)`` on the same
    texts already in memory (sorted by characters inside ``encode``); nothing is written.

Both use the one loaded model object in the same process. A warm-up encode runs first, then the
two methods alternate ``--repeat`` times; the summary gives the median sentences/s of each and
the cosine between their embeddings (float16 shards against float32 ``encode``).

The texts are Tatoeba sentences of every language pair in ``../shared/data/tatoeba`` (both
columns), taken row by row across the files, so scripts and lengths are mixed as in a real corpus.

Usage::

    python bench/bench_embed.py --limit 500 --repeat 1                  # smoke test
    python bench/bench_embed.py --limit 8000 --repeat 2 --json runs/bench_embed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

DEFAULT_MODEL = str(Path.home() / ".cache" / "langgap" / "models" / "multilingual-e5-small")
TATOEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tatoeba"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default=DEFAULT_MODEL, help="sentence-transformers model folder or id")
    p.add_argument("--prompt", default="query: ", help="literal prefix for every text (E5: 'query: ')")
    p.add_argument("--limit", type=int, default=20_000, help="texts to embed")
    p.add_argument("--texts", type=Path, default=None, help="a text file (one per line) instead of Tatoeba")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--rows-per-shard", type=int, default=5_000, help="shard size of (a)")
    p.add_argument("--repeat", type=int, default=2, help="timed runs per method (interleaved)")
    p.add_argument("--device", default=None, help="cpu, cuda, ...; default chosen by sentence-transformers")
    p.add_argument("--precision", default="auto", help="(a)'s autocast: auto, fp32, fp16, bf16")
    p.add_argument("--json", type=Path, default=None, help="write all runs and the summary here")
    args = p.parse_args(argv)
    if min(args.limit, args.batch_size, args.rows_per_shard, args.repeat) < 1:
        p.error("--limit, --batch-size, --rows-per-shard and --repeat must be >= 1")
    return args


def tatoeba_texts(limit: int) -> list[str]:
    """``limit`` sentences: row 0 of every file (both columns), then row 1, ..."""
    columns = []
    for f in sorted(TATOEBA.glob("*.tsv")):
        rows = [line.split("\t") for line in f.read_text(encoding="utf-8").splitlines()]
        columns.append([t.strip() for r in rows if len(r) == 2 for t in r if t.strip()])
    out: list[str] = []
    for i in range(max(len(c) for c in columns)):
        out.extend(c[i] for c in columns if i < len(c))
        if len(out) >= limit:
            break
    return out[:limit]


def run_langgap(
    encoder: Any, path: Path, rows_per_shard: int, procs: Any
) -> tuple[dict[str, Any], np.ndarray]:
    from langgap.embed import embed_file
    from langgap.encoders.shards import ShardSet

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = embed_file(encoder, path, Path(tmp) / "emb", rows_per_shard=rows_per_shard, procs=procs)
        wall = time.perf_counter() - t0
        emb = ShardSet(Path(tmp) / "emb").array()
    return {"wall_s": wall, "sentences_per_s": res.rows / wall, "shards": res.shards}, emb


def run_st(model: Any, texts: list[str], prompt: str, batch_size: int) -> tuple[dict[str, Any], np.ndarray]:
    t0 = time.perf_counter()
    emb = model.encode(
        texts, prompt=prompt or None, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
    )
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "sentences_per_s": len(texts) / wall}, emb


def environment(model: Any) -> dict[str, Any]:
    import torch

    from langgap.results import package_versions

    return {
        "torch_num_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "device": str(model.device),
        "platform": platform.platform(),
        "versions": package_versions(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import torch

    from langgap.accel import processes
    from langgap.encoders.st import SentenceTransformerEncoder

    args = parse_args(argv)
    if args.texts is not None:
        texts = args.texts.read_text(encoding="utf-8").splitlines()[: args.limit]
    else:
        texts = tatoeba_texts(args.limit)
    encoder = SentenceTransformerEncoder(
        args.model,
        prompt=args.prompt,
        batch_size=args.batch_size,
        device=args.device,
        precision=args.precision,
    )
    st = encoder.model  # shared with sentence-transformers' encode, unless langgap cast its weights
    if next(st.parameters()).dtype != torch.float32:  # bf16 weights on a CPU: encode keeps fp32
        st = SentenceTransformerEncoder(args.model, device=args.device, precision="fp32").model
    procs = processes()
    runs: dict[str, list[dict[str, Any]]] = {"langgap embed": [], "sentence-transformers": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "texts.txt"
        path.write_text("".join(t.replace("\n", " ") + "\n" for t in texts), encoding="utf-8")
        encoder.encode(texts[:256])  # warm-up
        st.encode(texts[:256], prompt=args.prompt or None, show_progress_bar=False)
        for _ in range(args.repeat):
            a, emb_a = run_langgap(encoder, path, args.rows_per_shard, procs)
            b, emb_b = run_st(st, texts, args.prompt, args.batch_size)
            runs["langgap embed"].append(a)
            runs["sentence-transformers"].append(b)
    cos = (emb_a * emb_b).sum(1) / np.linalg.norm(emb_a, axis=1) / np.linalg.norm(emb_b, axis=1)
    median = {k: statistics.median(r["sentences_per_s"] for r in v) for k, v in runs.items()}
    tokens = sum(encoder.token_lengths(texts))  # real tokens with the prompt, no padding
    # 2 FLOPs per multiply-add of every weight outside the embedding tables, per real token
    linear = sum(
        p.numel() for n, p in encoder.model.named_parameters() if "embeddings" not in n and p.dim() == 2
    )
    summary = {
        "texts": len(texts),
        "model": args.model,
        "precision": encoder.precision,
        "batch_size": args.batch_size,
        "rows_per_shard": args.rows_per_shard,
        "repeat": args.repeat,
        "median_sentences_per_s": {k: round(v, 1) for k, v in median.items()},
        "langgap_over_st": round(median["langgap embed"] / median["sentence-transformers"], 3),
        "tokens": tokens,
        "linear_params": linear,
        "linear_tflops": {
            k: round(2 * linear * tokens * v / len(texts) / 1e12, 3) for k, v in median.items()
        },
        "min_cosine_langgap_vs_st": round(float(cos.min()), 6),
        "environment": environment(encoder.model),
    }
    print(json.dumps(summary, indent=2))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary, "runs": runs}, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
