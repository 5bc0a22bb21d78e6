"""sentence-transformers' own CPU backends on Tatoeba: ``backend="torch"``, ``"onnx"``, ``"openvino"``.

sentence-transformers 6 with transformers 5 (langgap's pinned stack) cannot install its
``[onnx]`` / ``[openvino]`` extras (optimum-onnx requires transformers < 4.58), so this script
runs standalone, without langgap, in a side virtual environment that can::

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install torch==2.13.0 \
        "sentence-transformers[onnx,openvino]<6"
    /tmp/stvenv/bin/python bench/bench_st_backends.py --json runs/bench_st_backends.json

Each backend loads the same model folder (the ONNX / OpenVINO graph is exported from its torch
weights on load), then encodes the texts of the given Tatoeba files (both columns, prompt
``query: ``, batch 64) ``--repeat`` times after a warm-up; reported: median seconds, texts/s,
cosine accuracy in both directions per file, and the minimum cosine of each embedding to the
torch backend's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL = str(Path.home() / ".cache" / "langgap" / "models" / "multilingual-e5-small")
TATOEBA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tatoeba"


def read_pairs(path: Path) -> tuple[list[str], list[str]]:
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r[0] for r in rows], [r[1] for r in rows]


def accuracy(src: np.ndarray, tgt: np.ndarray) -> tuple[float, float]:
    sims = src @ tgt.T
    gold = np.arange(len(src))
    return float(np.mean(sims.argmax(1) == gold)), float(np.mean(sims.argmax(0) == gold))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument(
        "--files", nargs="+", default=[str(TATOEBA / f"{x}-eng.tsv") for x in ("deu", "fra", "cmn")]
    )
    ap.add_argument("--backends", nargs="+", default=["torch", "onnx", "openvino"])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import sentence_transformers
    import torch

    files = [Path(f) for f in args.files]
    pairs = [read_pairs(f) for f in files]
    texts = [t for s, g in pairs for t in s + g]
    runs: dict[str, Any] = {}
    ref: np.ndarray | None = None
    from sentence_transformers import SentenceTransformer

    for name in args.backends:
        st = SentenceTransformer(args.model, backend=name, device="cpu")

        def encode(st: Any = st) -> np.ndarray:
            return st.encode(texts, prompt="query: ", batch_size=64, normalize_embeddings=True)

        encode(st)  # warm-up (and export, for onnx / openvino)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            emb = encode(st)
            times.append(time.perf_counter() - t)
        ref = emb if ref is None else ref
        s = statistics.median(times)
        acc, start = {}, 0
        for f, (src, _) in zip(files, pairs, strict=True):
            n = len(src)
            acc[f.stem] = accuracy(emb[start : start + n], emb[start + n : start + 2 * n])
            start += 2 * n
        runs[name] = {"seconds": round(s, 2), "all_seconds": [round(x, 2) for x in times],
                      "texts_per_s": round(len(texts) / s, 1), "accuracy": acc,
                      "min_cos_to_first": float((emb * ref).sum(1).min())}  # fmt: skip
        print(name, json.dumps(runs[name]), flush=True)
    out = {"texts": len(texts), "files": [f.name for f in files], "threads": torch.get_num_threads(),
           "sentence_transformers": sentence_transformers.__version__, "runs": runs}  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
