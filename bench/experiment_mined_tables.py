"""Markdown tables for experiment g (bench/experiment_mined.sh): mined training against gold.

    python bench/experiment_mined_tables.py runs/exp-g/eng > runs/exp-g/eng/tables.md

Per language with FLORES dev rows: FLORES accuracy (mean of both directions against the pivot)
of the base model, after round 1 and round 2 of ``--mine-from`` and after the same recipe on the
gold pairs, each change with its paired bootstrap 95% interval over the FLORES rows
(:func:`langgap.metrics.stats.paired_bootstrap_ci`); the share of the gold gain the
mined rounds recover; then per round and language the pairs kept and the mining precision /
recall / F1 against the known pairs (``mine.json``); then STS17 en-en (the English guard).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from langgap import load_results
from langgap.metrics.stats import mean_stat, paired_bootstrap_ci
from langgap.results import Results

RUNS = {
    "round 1": "mined/rounds/round-1/measure",
    "round 2": "mined/rounds/round-2/measure",
    "gold": "gold-run/measure",
}


def pair_name(res: Results, lang: str, pivot: str) -> str | None:
    """The multi-way task's pair name of ``lang`` and ``pivot`` (either order), if measured."""
    pairs = next(t for t in res.tasks if t.kind.value == "multiway").per_pair
    return next((p for p in pairs if set(p.split("-", 1)) == {lang, pivot}), None)


def rows(run: Path, pair: str, key: str) -> np.ndarray:
    """Per-row outcome ``key`` averaged over both directions of ``pair`` (items.npz)."""
    items = np.load(run / "items.npz")
    name = next(k.rsplit("/", 2)[0] for k in items.files if f"/{pair}/" in k)
    forward, backward = (items[f"{name}/{pair}/{key}_{d}"].astype(np.float64) for d in ("src2tgt", "tgt2src"))
    return (forward + backward) / 2  # float first: the outcomes are booleans, whose + is "or"


def cell(base: np.ndarray, after: np.ndarray, signed_better: float = 1.0) -> str:
    """``after (Δ [low, high])`` with a ▲/▼ where the interval excludes 0 (better is ``signed_better``)."""
    low, high = paired_bootstrap_ci(mean_stat, base, after, n_boot=2000, seed=0)
    delta = float(after.mean() - base.mean())
    mark = (
        "▲"
        if low * signed_better > 0 and delta * signed_better > 0
        else "▼"
        if high * signed_better < 0
        else ""
    )
    return f"{after.mean():.3f} ({delta:+.3f} [{low:+.3f}, {high:+.3f}]{mark})"


def main(exp: Path) -> None:
    pivot = exp.name  # eng or fra
    flores_pivot = f"{pivot}_Latn"
    base = load_results(exp / "base" / "results.json")
    runs = {name: exp / path for name, path in RUNS.items() if (exp / path / "results.json").exists()}
    langs = sorted(p.stem for p in (exp / "dev").glob("*.tsv"))
    codes = [x.split("-")[0] for x in langs]
    print(
        f"FLORES dev accuracy against {flores_pivot} (mean of both directions; change vs base, 95% interval):\n"
    )
    print("| language | base | " + " | ".join(runs) + " | recovered (round 2 / gold) |")
    print("|---|---:|" + "---:|" * len(runs) + "---:|")
    gains: dict[str, list[float]] = {name: [] for name in runs}
    for x in codes:
        pair = pair_name(base, f"{x}_Latn", flores_pivot)
        if pair is None:
            continue
        b = rows(exp / "base", pair, "accuracy")
        cells, deltas = [], {}
        for name, run in runs.items():
            a = rows(run, pair, "accuracy")
            cells.append(cell(b, a))
            deltas[name] = float(a.mean() - b.mean())
            gains[name].append(deltas[name])
        share = (
            f"{deltas['round 2'] / deltas['gold']:.0%}"
            if {"round 2", "gold"} <= set(deltas) and deltas["gold"] > 0
            else "–"
        )
        print(f"| {x} | {b.mean():.3f} | " + " | ".join(cells) + f" | {share} |")
    for name, values in gains.items():
        improved = sum(v > 0 for v in values)
        print(
            f"\n{name}: mean change {np.mean(values):+.4f}; improved {improved} of {len(values)} languages",
            end="",
        )
    print("\n")
    mining_table(exp, codes)
    guard_table(exp, base, runs)


def mining_table(exp: Path, codes: list[str]) -> None:
    """Pairs kept and mining precision / recall / F1 per round and language."""
    print("Mining against the known pairs (--mine-dev), per round:\n")
    print("| language | sentences | round 1 kept | P / R / F1 | round 2 kept | P / R / F1 |")
    print("|---|---:|---:|---|---:|---|")
    folders = [exp / "mined" / "mined" / f"round-{k}" / "mine.json" for k in (1, 2)]
    metas = [json.loads(f.read_text(encoding="utf-8")) for f in folders if f.exists()]
    for x in codes:
        cells = []
        for meta in metas:
            m = meta["languages"][x]
            d = m.get("dev", {})
            cells += [
                f"{m['kept']:,}",
                f"{d.get('precision', 0):.3f} / {d.get('recall', 0):.3f} / {d.get('f1', 0):.3f}",
            ]
        print(f"| {x} | {metas[0]['languages'][x]['distinct']:,} | " + " | ".join(cells) + " |")
    print()


def guard_table(exp: Path, base: Results, runs: dict[str, Path]) -> None:
    """STS17 en-en Spearman of every run against the base."""
    name = "sts:en-en"
    before = next(t for t in base.tasks if t.name == name).metrics["spearman"]
    print("| STS17 en-en | base | " + " | ".join(runs) + " |")
    print("|---|---:|" + "---:|" * len(runs))
    after = [
        next(t for t in load_results(r / "results.json").tasks if t.name == name).metrics["spearman"]
        for r in runs.values()
    ]
    print(f"| Spearman | {before:.4f} | " + " | ".join(f"{a:.4f} ({a - before:+.4f})" for a in after) + " |")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
