# bench/experiments_tables.py as it was at b58b548: the reference the rewritten script must match.
"""Markdown tables for docs/experiments.md from the runs of bench/experiments.sh.

    python bench/experiments_tables.py runs/exp > runs/exp/tables.md

Reads ``<exp>/<run>/measure/results.json`` (``me5-base`` / ``minilm-base`` for the starting
models), ``<exp>/cmp-<run>/compare.json`` (differences with paired bootstrap intervals),
``<exp>/<run>/eval_history.jsonl`` and ``<exp>/times.tsv``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

GROUPS = {
    "a. 0% vs 20% cross-language pairs (multilingual-e5-small)": ("me5-base", ["a-cross0", "a-cross20"]),
    "b. hard vs soft vs MSE (multilingual-e5-small, 100% cross-language)": (
        "me5-base",
        [
            "b-infonce",
            "b-soft-priority",
            "b-soft-priority-tcm",
            "b-soft-average",
            "b-soft-average-tcm",
            "b-mse",
        ],
    ),
    "c. all-MiniLM-L6-v2 taught German and French (MSE)": ("minilm-base", ["c-minilm-mse"]),
}
TATOEBA = ["deu", "fra", "ces", "arz"]
MONO = ["en-en", "es-es", "ar-ar"]
CROSS = ["en-de", "fr-en", "es-en", "it-en", "nl-en"]
DELTAS = [  # (task, metric, label) shown with their intervals
    ("bitext:deu-eng", "accuracy_src2tgt", "Tatoeba deu→eng"),
    ("bitext:fra-eng", "accuracy_src2tgt", "Tatoeba fra→eng"),
    ("bitext:arz-eng", "accuracy_src2tgt", "Tatoeba arz→eng"),
    ("sts:en-de", "spearman", "STS17 en-de"),
    ("sts:en-en", "spearman", "STS17 en-en"),
    ("sts:ar-ar", "spearman", "STS17 ar-ar"),
]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def results_of(exp: Path, run: str) -> dict[str, Any] | None:
    p = exp / run / "results.json" if run.endswith("-base") else exp / run / "measure" / "results.json"
    return load(p) if p.exists() else None


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def row(exp: Path, run: str, times: dict[str, int]) -> str | None:
    res = results_of(exp, run)
    if res is None:
        return None
    tasks = {t["name"]: t["metrics"] for t in res["tasks"]}
    acc = [
        (tasks[f"bitext:{x}-eng"]["accuracy_src2tgt"] + tasks[f"bitext:{x}-eng"]["accuracy_tgt2src"]) / 2
        for x in TATOEBA
    ]
    bit = [tasks[f"bitext:{x}-eng"] for x in TATOEBA]
    pair = mean([m["pair_cosine"] for m in bit])
    gap = mean([m["cosine_gap"] for m in bit])
    mono = mean([tasks[f"sts:{x}"]["spearman"] for x in MONO])
    cross = mean([tasks[f"sts:{x}"]["spearman"] for x in CROSS])
    sample = tasks["sample"]
    train_s = times.get(f"train-{run}")
    cells = [
        run,
        *(f"{a:.3f}" for a in acc),
        f"{pair:.3f}",
        f"{gap:.3f}",
        f"{sample['positive_cosine_mono']:.3f}",
        f"{sample['positive_cosine_cross']:.3f}",
        f"{mono:.3f}",
        f"{cross:.3f}",
        f"{mono - cross:+.3f}",
        f"{sample['language_id_accuracy']:.3f}",
        f"{sample['neighbour_purity']:.3f}",
        f"{train_s:,}" if train_s is not None else "–",
    ]
    return "| " + " | ".join(cells) + " |"


def delta_row(exp: Path, run: str) -> str | None:
    p = exp / f"cmp-{run}" / "compare.json"
    if not p.exists():
        return None
    changes = {(c["task"], c["metric"]): c for c in load(p)["changes"]}
    cells = [run]
    for task, metric, _ in DELTAS:
        c = changes.get((task, metric))
        if c is None:
            cells.append("–")
            continue
        mark = {"better": " ▲", "worse": " ▼"}.get(c["verdict"], "") if c["significant"] else ""
        cells.append(f"{c['delta']:+.3f} [{c['ci_low']:+.3f}, {c['ci_high']:+.3f}]{mark}")
    return "| " + " | ".join(cells) + " |"


def guard_row(exp: Path, run: str) -> str | None:
    p = exp / run / "eval_history.jsonl"
    if not p.exists():
        return None
    hist = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]
    g0, g1 = hist[0]["english_guard"], hist[-1]["english_guard"]
    return f"| {run} | {g0['value']:.3f} | {g1['value']:.3f} | {g1['value'] - g0['value']:+.3f} | {'yes' if g1['warning'] else 'no'} |"


def with_seeds(exp: Path, runs: list[str]) -> list[str]:
    """Each run followed by its repeats with other seeds (``<run>-seed<N>``), where they exist."""
    return [x for r in runs for x in [r, *sorted(p.name for p in exp.glob(f"{r}-seed*"))]]


def main(exp: Path) -> None:
    times: dict[str, int] = {}
    if (exp / "times.tsv").exists():
        for line in (exp / "times.tsv").read_text().splitlines():
            name, sec = line.split("\t")
            times[name] = int(sec)
    head = [
        "run",
        *(f"Tatoeba {x}" for x in TATOEBA),
        "transl. cos",
        "cos gap",
        "sample pos. cos mono",
        "sample pos. cos cross",
        "STS mono",
        "STS cross",
        "STS gap",
        "lang-ID acc (sample)",
        "purity (sample)",
        "train s",
    ]
    for title, (base, listed) in GROUPS.items():
        runs = with_seeds(exp, listed)
        print(f"### {title}\n")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" + "---:|" * (len(head) - 1))
        for r in [base, *runs]:
            line = row(exp, r, times)
            if line:
                print(line)
        print(
            f"\nDifferences from `{base}` (paired bootstrap 95% interval over items; ▲/▼ = interval excludes 0):\n"
        )
        print("| run | " + " | ".join(label for _, _, label in DELTAS) + " |")
        print("|---|" + "---:|" * len(DELTAS))
        for r in runs:
            line = delta_row(exp, r)
            if line:
                print(line)
        print("\nEnglish guard (STS17 en-en Spearman, student during training):\n")
        print("| run | start | end | change | warned |\n|---|---:|---:|---:|---|")
        for r in runs:
            line = guard_row(exp, r)
            if line:
                print(line)
        print()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/exp"))
