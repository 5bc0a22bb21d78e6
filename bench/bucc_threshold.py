"""Measure the F1-best mining thresholds on the BUCC-style sets of ``bench/make_bucc.py``, and
IVF recall against exact search on the same real embeddings.

    python bench/make_bucc.py
    python bench/bucc_threshold.py                       # runs/bucc/*-eng, multilingual-e5-small
    python bench/bucc_threshold.py --model PATH --prompt ""

Embeds every side with the model (through the default embedding cache, as ``langgap mine
--model`` does, so a later ``langgap mine`` on the same files encodes nothing), mines each pair
with every margin and retrieval mode (k=4), and prints per pair the F1-best threshold
(BUCC 2018) with its F1, the mean threshold over the pairs and the F1 each pair gets at the
leave-one-out mean of the other pairs' thresholds; and per pair precision, recall and F1 in forward
mode at the default threshold of every margin (``langgap.mining.DEFAULT_THRESHOLDS``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from langgap import knn
from langgap.encoders import load_encoder
from langgap.encoders.cache import CachedEncoder, default_cache_path
from langgap.metrics.mining import MARGINS, MODES
from langgap.mining import DEFAULT_THRESHOLDS, Mined, mine
from langgap.mining.sides import Side, attach, text_side

ROOT = Path(__file__).resolve().parents[1]


def _sides(folder: Path, cached: CachedEncoder) -> tuple[Side, Side, set[tuple[int, int]]]:
    src = text_side(folder / "src.txt", folder.name.split("-")[0], 10**6)
    tgt = text_side(folder / "tgt.txt", "eng", 10**6)
    for side in (src, tgt):
        t = time.time()
        attach(side, cached.encode(side.texts))
        print(f"  {side.source}: {len(side)} texts embedded in {time.time() - t:.0f} s", flush=True)
    gold = set()
    for line in (folder / "gold.tsv").read_text().splitlines():
        a, b = (int(v) - 1 for v in line.split("\t"))
        gold.add((int(src.inverse[a]), int(tgt.inverse[b])))
    return src, tgt, gold


def _ivf_recall(sides: list[Side]) -> None:
    """Recall@4 of IVF against flat: every distinct text of all sides as the database, each X side
    as queries (cross-lingual, like mining)."""
    db = np.concatenate([np.concatenate(list(s.blocks())) for s in sides if s.blocks])  # (U, D)
    n, dim = db.shape
    nlist = knn.ivf_lists(n)
    queries = [s for s in sides if s.name != "eng"]
    qs = np.concatenate([np.concatenate(list(s.blocks())) for s in queries if s.blocks])
    exact = knn.knn(lambda: [db], n, lambda: [qs], len(qs), dim, 4, knn.IndexSpec("flat"))[1]
    print(f"\nIVF recall@4 against flat: {n} database vectors, {len(qs)} queries, nlist={nlist}")
    for probe in sorted({1, 4, 8, 16, nlist // 32, nlist // 16, nlist // 8} - {0}):
        spec = knn.IndexSpec("ivf", nlist, probe)
        t = time.time()
        got = knn.knn(lambda: [db], n, lambda: [qs], len(qs), dim, 4, spec)[1]
        recall = np.mean(
            [len(set(a) & set(b)) / 4 for a, b in zip(got.tolist(), exact.tolist(), strict=True)]
        )
        print(f"  nprobe={probe:4d}: recall@4 {recall:.4f} ({time.time() - t:.1f} s)")


def _table(results: dict[tuple[str, str, str], tuple[Mined, set[tuple[int, int]]]], pairs: list[str]) -> None:
    print("\nmargin    mode          " + "  ".join(f"{p:>22}" for p in pairs) + "   mean thr")
    for margin in MARGINS:
        for mode in MODES:
            cals = [results[(p, margin, mode)][0].calibrate(results[(p, margin, mode)][1]) for p in pairs]
            mean = float(np.mean([c.threshold for c in cals]))
            cells = [f"{c.threshold:.4f} F1 {c.f1:.3f}" for c in cals]
            loo = []
            for p in pairs:
                other = float(np.mean([c.threshold for q, c in zip(pairs, cals, strict=True) if q != p]))
                mined, gold = results[(p, margin, mode)]
                loo.append(mined.evaluate(gold, other).f1)
            print(f"{margin:9} {mode:13} " + "  ".join(f"{c:>22}" for c in cells) + f"   {mean:.4f}")
            print(f"{'':23} leave-one-out F1: " + "  ".join(f"{f:.3f}" for f in loo))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bucc", type=Path, default=ROOT / "runs" / "bucc")
    p.add_argument("--model", default="intfloat/multilingual-e5-small")
    p.add_argument("--prompt", default="query: ")
    p.add_argument(
        "--at", type=float, nargs="*", default=[], help="also print P/R/F1 at these ratio thresholds"
    )
    a = p.parse_args()
    folders = sorted(f for f in a.bucc.iterdir() if (f / "gold.tsv").is_file())
    encoder = load_encoder(a.model, prompt=a.prompt)
    print(f"model {a.model} prompt {a.prompt!r} ({getattr(encoder, 'offline_note', None) or 'as given'})")
    results, sides = {}, []
    with CachedEncoder(encoder, cache_path=default_cache_path()) as cached:
        for folder in folders:
            print(folder.name, flush=True)
            src, tgt, gold = _sides(folder, cached)
            sides += [src] + ([tgt] if not any(s.name == "eng" for s in sides) else [])
            for margin in MARGINS:
                for mode in MODES:
                    mined = mine(src, tgt, k=4, margin=margin, mode=mode)
                    results[(folder.name, margin, mode)] = (mined, gold)
            at = [(m, DEFAULT_THRESHOLDS[m], " (default)") for m in MARGINS] + [
                ("ratio", t, "") for t in a.at
            ]
            for margin, t, note in at:
                prf = results[(folder.name, margin, "forward")][0].evaluate(gold, t)
                print(
                    f"  {margin} forward at {t}{note}: P {prf.precision:.3f} R {prf.recall:.3f} F1 {prf.f1:.3f}"
                )
    _table(results, [f.name for f in folders])
    _ivf_recall(sides)


if __name__ == "__main__":
    main()
