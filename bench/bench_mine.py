"""Mining N x N synthetic embeddings: ``langgap mine`` against the approaches of LASER's
``mine_bitexts.py`` (exact ``IndexFlatIP``) and sentence-transformers' bitext-mining example
(``IndexIVFFlat`` with ``min(32768, N/1000)`` lists, 3 probed), in the same run.

Data (``prepare``): N source and N target unit vectors, D = 384 (multilingual-e5-small's
width), drawn around 1,000 topic centres so that neighbourhoods are crowded as in real text;
a tenth of the target rows translate a source row (the source's vector plus noise, shuffled
in), the rest translate nothing. Both sides go through ``langgap embed``'s own writer
(:func:`langgap.embed.embed_file` with an encoder that looks the rows up), so ``langgap mine``
reads float16 shard folders as it would after ``langgap embed``; the baselines load the same
shards into memory as float32, as LASER's script loads its embedding files.

Each method runs in a fresh process under ``/usr/bin/time -v`` (wall time and peak RSS of the
whole process, data loading included; data preparation is not timed):

- ``langgap``: ``langgap mine SRC_EMB TGT_EMB --out DIR`` (index ``auto``: exact up to 200,000
  rows, IVF beyond, with nprobe measured by recall unless ``--nprobe`` is given; ``--index ivf``
  forces IVF on smaller sides; writes mined.tsv and the pairs file); the row gives the index
  description and, where nprobe was measured, the choice and its recall@4 per direction;
- ``laser``: ``IndexFlatIP`` k=4 both ways, ratio margin, forward best; with ``--laser-queries Q``
  only Q sampled sources and Q sampled targets are searched and the time is scaled to N (marked
  "projected" in the output: the full search would take hours on 2 cores);
- ``st``: sentence-transformers' ``kNN(use_ann_search=True)`` settings, ratio margin, forward best.

Agreement with exact search: for S sampled sources (default 2,000) the exact forward candidates
and the exact neighbourhood means of their candidates are computed with numpy; a method agrees
on a source when its best target is the exact best target. With gold pairs known, each method's
F1 at its F1-best threshold is given too (for ``laser`` with ``--laser-queries``: not available).

    python bench/bench_mine.py --n 100000 --json runs/bench_mine_100k.json
    python bench/bench_mine.py --n 100000 --index ivf --methods langgap st --json runs/bench_mine_100k_ivf.json
    python bench/bench_mine.py --n 1000000 --laser-queries 5000 --data runs/mine1m --json runs/bench_mine_1m.json
    python bench/bench_mine.py --n 1000000 --nprobe 16 --methods langgap --data runs/mine1m --json runs/bench_mine_1m_16.json
    python bench/bench_mine.py --n 20000 --methods langgap st          # a quick look

(``--data DIR`` keeps the prepared data in DIR for the next run: preparing 1M x 1M takes minutes.)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DIM, K, TOPICS, GOLD_SHARE = 384, 4, 1000, 0.1


# -- data -------------------------------------------------------------------------------------------
def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(src (N, D), tgt (N, D), gold (G, 2))``: topic-clustered unit vectors; gold rows of the
    target are noisy copies of their source rows."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((TOPICS, DIM)).astype(np.float32)
    src = np.empty((n, DIM), dtype=np.float32)
    tgt = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: bounded temporaries at 1M
        stop = min(start + 100_000, n)
        m = stop - start
        src[start:stop] = _unit(centres[rng.integers(0, TOPICS, m)] + 1.2 * rng.standard_normal((m, DIM)))
        tgt[start:stop] = _unit(centres[rng.integers(0, TOPICS, m)] + 1.2 * rng.standard_normal((m, DIM)))
    g = int(GOLD_SHARE * n)
    src_rows = rng.choice(n, g, replace=False)
    tgt_rows = rng.choice(n, g, replace=False)
    for start in range(0, g, 100_000):
        s, t = src_rows[start : start + 100_000], tgt_rows[start : start + 100_000]
        tgt[t] = _unit(src[s] + 0.08 * rng.standard_normal((len(s), DIM)))
    return src, tgt, np.stack([src_rows, tgt_rows], axis=1)


class _Rows:
    """An encoder that returns the stored vector of the text ``<side> <row>``."""

    def __init__(self, vectors: np.ndarray, name: str) -> None:
        self.vectors, self.name = vectors, name

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.vectors[[int(t.split(" ", 1)[1]) for t in texts]]

    def describe(self) -> dict[str, object]:
        return {"name": f"synthetic-{self.name}", "dimension": DIM, "prompt": None, "max_length": None}

    def cache_key(self) -> str:
        return "synthetic"


def prepare(folder: Path, n: int, seed: int) -> None:
    from langgap.embed import embed_file

    src, tgt, gold = synthetic(n, seed)
    for side, vectors in (("src", src), ("tgt", tgt)):
        path = folder / f"{side}.txt"
        with path.open("w", encoding="utf-8") as f:
            for i in range(n):
                f.write(f"{side} {i}\n")
        encoder = _Rows(vectors, "pair")
        embed_file(encoder, path, folder / f"emb_{side}", rows_per_shard=100_000, chunk_rows=50_000)  # type: ignore[arg-type]
    np.save(folder / "gold.npy", gold)


# -- the methods (each in its own process) ------------------------------------------------------------
def _load(folder: Path) -> np.ndarray:
    from langgap.encoders.shards import ShardSet

    return _unit(ShardSet(folder).array().astype(np.float32))


def _ratio_forward(
    fwd: tuple[np.ndarray, np.ndarray], bwd_mean_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best target and its ratio-margin score per query (LASER's ``score_candidates``, vectorised)."""
    sims, inds = fwd
    denom = (sims.mean(axis=1, keepdims=True) + bwd_mean_of[inds]) / 2
    scores = sims / denom
    best = scores.argmax(axis=1)
    rows = np.arange(len(sims))
    return inds[rows, best], scores[rows, best]


def run_faiss(method: str, folder: Path, queries: int, seed: int) -> dict[str, object]:
    import faiss

    x, y = _load(folder / "emb_src"), _load(folder / "emb_tgt")
    n = len(x)

    def index_of(data: np.ndarray):
        if method == "laser":
            idx = faiss.IndexFlatIP(DIM)
        else:  # sentence-transformers' bitext_mining_utils.kNN(use_ann_search=True)
            lists = min(32768, int(data.shape[0] / 1000))
            idx = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, lists, faiss.METRIC_INNER_PRODUCT)
            idx.nprobe = 3
            idx.train(data)
        idx.add(data)
        return idx

    t0 = time.perf_counter()
    if queries and queries < n:  # a sample of queries; time scaled to N
        rng = np.random.default_rng(seed)
        qx, qy = (
            np.sort(rng.choice(n, queries, replace=False)),
            np.sort(rng.choice(n, queries, replace=False)),
        )
        index_of(y).search(x[qx], K)
        index_of(x).search(y[qy], K)
        seconds = time.perf_counter() - t0
        return {"search_s_projected": seconds * n / queries, "queries": queries}
    fwd = index_of(y).search(x, K)
    bwd = index_of(x).search(y, K)
    tgt, score = _ratio_forward(fwd, bwd[0].mean(axis=1))
    seconds = time.perf_counter() - t0
    np.savez(folder / f"out_{method}.npz", tgt=tgt, score=score)
    return {"search_s": seconds}


def run_langgap(folder: Path, nprobe: int = 0, index: str = "auto") -> dict[str, object]:
    out = folder / "out_langgap"
    cmd = [sys.executable, "-m", "langgap", "mine", str(folder / "emb_src"), str(folder / "emb_tgt")]
    cmd += ["--nprobe", str(nprobe), "--index", index]
    subprocess.run([*cmd, "--out", str(out), "--src-lang", "src", "--tgt-lang", "tgt", "-q"], check=True)
    info = json.loads((out / "mine.json").read_text())
    measured = {  # direction -> [nprobe, recall@k on the sampled queries] where nprobe was measured
        way: [m["nprobe"], m["recall_at_k"]]
        for way, m in info["settings"].get("nprobe_by_recall", {}).items()
    }
    n = sum(1 for _ in (folder / "src.txt").open())
    tgt, score = np.full(n, -1), np.full(n, -np.inf)
    with (out / "mined.tsv").open(encoding="utf-8") as f:
        for line in f:
            s, a, b = line.rstrip("\n").split("\t")
            i = int(a.split(" ")[1])
            tgt[i], score[i] = int(b.split(" ")[1]), float(s)
    np.savez(folder / "out_langgap.npz", tgt=tgt, score=score)
    return {"index": info["settings"]["src→tgt"], **({"nprobe_recall": measured} if measured else {})}


# -- exact reference on sampled sources ---------------------------------------------------------------
def _topk(q: np.ndarray, data: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = np.empty((len(q), k), dtype=np.float32)
    inds = np.empty((len(q), k), dtype=np.int64)
    for start in range(0, len(q), 256):
        c = q[start : start + 256] @ data.T  # (B, N)
        part = np.argpartition(-c, k, axis=1)[:, :k]
        vals = np.take_along_axis(c, part, axis=1)
        order = np.argsort(-vals, axis=1)
        sims[start : start + 256] = np.take_along_axis(vals, order, axis=1)
        inds[start : start + 256] = np.take_along_axis(part, order, axis=1)
    return sims, inds


def exact_sample(folder: Path, sample: int, seed: int) -> dict[str, np.ndarray]:
    x, y = _load(folder / "emb_src"), _load(folder / "emb_tgt")
    rows = np.sort(np.random.default_rng(seed + 1).choice(len(x), min(sample, len(x)), replace=False))
    fwd = _topk(x[rows], y, K)  # (S, k)
    cand = np.unique(fwd[1])
    bwd_mean = np.zeros(len(y), dtype=np.float32)
    bwd_mean[cand] = _topk(y[cand], x, K)[0].mean(axis=1)
    tgt, score = _ratio_forward(fwd, bwd_mean)
    return {"rows": rows, "tgt": tgt, "score": score}


def best_f1(tgt: np.ndarray, score: np.ndarray, gold: np.ndarray) -> float:
    """F1 at the F1-best threshold of forward pairs (one per source) against the gold pairs."""
    gold_tgt = np.full(len(tgt), -1)
    gold_tgt[gold[:, 0]] = gold[:, 1]
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(tgt[order] == gold_tgt[order])
    kept = np.arange(1, len(order) + 1)
    f1 = 2 * hits / (kept + len(gold))
    return float(f1.max())


# -- driver -------------------------------------------------------------------------------------------
def _timed(args: list[str]) -> tuple[dict[str, object], float, float]:
    """Run ``args`` under /usr/bin/time -v: (its JSON on the last stdout line, wall s, peak RSS GB)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024**2
    return json.loads(p.stdout.strip().splitlines()[-1]), wall, rss


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--methods", nargs="+", default=["langgap", "laser", "st"])
    p.add_argument(
        "--laser-queries", type=int, default=0, help="LASER: search this many queries, scale the time"
    )
    p.add_argument("--sample", type=int, default=2000, help="sources checked against exact search")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nprobe", type=int, default=0, help="langgap: IVF lists probed (0: measured by recall)")
    p.add_argument("--index", default="auto", help="langgap: auto | flat | ivf | ivfpq")
    p.add_argument("--data", type=Path, help="prepare into / reuse this folder (kept afterwards)")
    p.add_argument("--json", type=Path)
    p.add_argument("--run", help=argparse.SUPPRESS)  # internal: one method in this process
    p.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.run:
        if a.run == "prepare":
            prepare(a.folder, a.n, a.seed)
            print(json.dumps({}))
        elif a.run == "langgap":
            print(json.dumps(run_langgap(a.folder, a.nprobe, a.index)))
        else:
            print(json.dumps(run_faiss(a.run, a.folder, a.laser_queries, a.seed)))
        return
    with tempfile.TemporaryDirectory(dir=ROOT / "runs") as tmp:
        folder = a.data or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        me = [sys.executable, __file__, "--n", str(a.n), "--seed", str(a.seed), "--folder", str(folder)]
        t0 = time.perf_counter()
        if not (folder / "gold.npy").exists():
            _timed([*me, "--run", "prepare"])
            print(f"prepared {a.n:,} x {a.n:,} in {time.perf_counter() - t0:.0f} s", flush=True)
        exact = exact_sample(folder, a.sample, a.seed)
        gold = np.load(folder / "gold.npy")
        rows: dict[str, dict[str, object]] = {}
        for method in a.methods:
            extra = ["--laser-queries", str(a.laser_queries)] if method == "laser" else []
            extra += ["--nprobe", str(a.nprobe), "--index", a.index] if method == "langgap" else []
            info, wall, rss = _timed([*me, "--run", method, *extra])
            row: dict[str, object] = {"wall_s": round(wall, 1), "peak_rss_gb": round(rss, 2), **info}
            out = folder / f"out_{method}.npz"
            if out.exists():
                got = np.load(out)
                row["agree_exact"] = float((got["tgt"][exact["rows"]] == exact["tgt"]).mean())
                row["best_f1"] = round(best_f1(got["tgt"], got["score"], gold), 4)
            rows[method] = row
            print(method, json.dumps(row), flush=True)
    result = {"n": a.n, "dim": DIM, "k": K, "gold": int(GOLD_SHARE * a.n), "sample": a.sample,
              "cpus": os.cpu_count(), "methods": rows}  # fmt: skip
    print(json.dumps(result, indent=1))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
