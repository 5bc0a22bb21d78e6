"""`langgap measure` at 10k and 100k rows: wall time and peak RSS, from precomputed embeddings.

Synthetic bitexts (a meaning vector per row, a language offset, noise; D = 384 like
multilingual-e5-small) are written with their texts and `.npy` embeddings, and
`langgap measure --embeddings` runs on each in a fresh process under `/usr/bin/time -v`, so the
peak resident set size is the whole process's. Nothing is encoded: this measures the metrics.

    python bench/bench_measure_scale.py --rows 10000 100000 --json runs/bench_measure_scale.json
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def write_bitext(folder: Path, n: int, dim: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    meaning = rng.standard_normal((n, dim)).astype(np.float32)
    src = (
        meaning
        + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
        + rng.standard_normal(dim).astype(np.float32)
    )
    tgt = (
        meaning
        + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
        + rng.standard_normal(dim).astype(np.float32)
    )
    path = folder / "xx-yy.tsv"
    path.write_text(
        "".join(f"source sentence {i}\ttarget sentence {i}\n" for i in range(n)), encoding="utf-8"
    )
    emb = folder / "emb"
    emb.mkdir()
    np.save(emb / "xx-yy.npy", np.stack([src, tgt], axis=1).astype(np.float16))
    return path


def run(n: int, dim: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        data = write_bitext(folder, n, dim)
        cmd = [
            sys.executable,
            "-m",
            "langgap",
            "measure",
            "--embeddings",
            str(folder / "emb"),
            "--bitext",
            str(data),
        ]
        cmd += ["--out", str(folder / "run"), "-q", *extra]
        done = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr).group(1)
        parts = [float(x) for x in wall.split(":")]
        seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
        res = json.loads((folder / "run" / "results.json").read_text())
        t = res["tasks"][0]
        return {
            "rows": n,
            "dim": dim,
            "wall_s": round(seconds, 1),
            "peak_rss_mib": round(rss_kb / 1024),
            "score_s": res["timing_s"]["score"],
            "sampled": t["notes"].get("sampled", "exact"),
            "accuracy_src2tgt": t["metrics"]["accuracy_src2tgt"],
            "language_id_accuracy": t["metrics"]["language_id_accuracy"],
            "strong_alignment_map": t["metrics"]["strong_alignment_map"],
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--json", type=Path)
    ap.add_argument("extra", nargs="*", help="more options for langgap measure (after --)")
    a = ap.parse_args()
    out = []
    for n in a.rows:
        out.append(run(n, a.dim, a.extra))
        print(json.dumps(out[-1]), flush=True)
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
