"""Markdown tables for docs/experiments.md from the runs of bench/experiments.sh.

    python bench/experiments_tables.py runs/exp > runs/exp/tables.md

Reads the runs with :func:`langgap.load_results` (``<exp>/<run>/measure``, ``me5-base`` /
``minilm-base`` for the starting models) and takes the differences with their paired bootstrap
intervals from :func:`langgap.table` (``langgap table RUN... --baseline BASE``: the numbers
``langgap compare`` writes); also ``<exp>/<run>/eval_history.jsonl`` (the English guard during
training) and ``<exp>/times.tsv``. ``bench/experiments.sh`` also writes each group's
``langgap table`` pages (``<exp>/table-a``, ...).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from langgap import load_results, table
from langgap.report.table_rows import Delta
from langgap.results import Results

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
HEAD = [
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


def run_dir(exp: Path, run: str) -> Path:
    return exp / run if run.endswith("-base") else exp / run / "measure"


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def row(run: str, res: Results, times: dict[str, int]) -> str:
    m = {t.name: t.metrics for t in res.tasks}
    bit = [m[f"bitext:{x}-eng"] for x in TATOEBA]
    acc = [(b["accuracy_src2tgt"] + b["accuracy_tgt2src"]) / 2 for b in bit]
    mono = mean([m[f"sts:{x}"]["spearman"] for x in MONO])
    cross = mean([m[f"sts:{x}"]["spearman"] for x in CROSS])
    sample = m["sample"]
    train_s = times.get(f"train-{run}")
    cells = [
        run,
        *(f"{a:.3f}" for a in acc),
        f"{mean([b['pair_cosine'] for b in bit]):.3f}",
        f"{mean([b['cosine_gap'] for b in bit]):.3f}",
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


def delta_cell(d: Delta | None) -> str:
    if d is None or d.delta is None or d.ci_low is None or d.ci_high is None:
        return "–"
    mark = {"better": " ▲", "worse": " ▼"}.get(d.verdict, "") if d.significant else ""
    return f"{d.delta:+.3f} [{d.ci_low:+.3f}, {d.ci_high:+.3f}]{mark}"


def guard_row(exp: Path, run: str) -> str | None:
    p = exp / run / "eval_history.jsonl"
    if not p.exists():
        return None
    hist = [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]
    g0, g1 = hist[0]["english_guard"], hist[-1]["english_guard"]
    return f"| {run} | {g0['value']:.3f} | {g1['value']:.3f} | {g1['value'] - g0['value']:+.3f} | {'yes' if g1['warning'] else 'no'} |"


def with_seeds(exp: Path, runs: list[str]) -> list[str]:
    """Each run followed by its repeats with other seeds (``<run>-seed<N>``) that have a measure run."""
    found = [x for r in runs for x in [r, *sorted(p.name for p in exp.glob(f"{r}-seed*"))]]
    return [r for r in found if (run_dir(exp, r) / "results.json").is_file()]


def group(title: str, exp: Path, base: str, runs: list[str], times: dict[str, int]) -> None:
    print(f"### {title}\n")
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "---|" + "---:|" * (len(HEAD) - 1))
    have_base = (run_dir(exp, base) / "results.json").is_file()
    for r in [base, *runs] if have_base else runs:
        print(row(r, load_results(run_dir(exp, r)), times))
    print(
        f"\nDifferences from `{base}` (paired bootstrap 95% interval over items; ▲/▼ = interval excludes 0):\n"
    )
    print("| run | " + " | ".join(label for _, _, label in DELTAS) + " |")
    print("|---|" + "---:|" * len(DELTAS))
    if runs and have_base:
        specs = [f"{task}:{metric}" for task, metric, _ in DELTAS]
        t = table([run_dir(exp, r) for r in runs], baseline=run_dir(exp, base), metrics=specs)
        rows = {(x.task, x.metric): x for x in t.rows if x.whole_task}
        for run, name in zip(runs, [x.name for x in t.runs if x.name != t.baseline], strict=True):
            cells = [delta_cell(rows[task, metric].deltas.get(name)) for task, metric, _ in DELTAS]
            print(f"| {run} | " + " | ".join(cells) + " |")
    print("\nEnglish guard (STS17 en-en Spearman, student during training):\n")
    print("| run | start | end | change | warned |\n|---|---:|---:|---:|---|")
    for r in runs:
        line = guard_row(exp, r)
        if line:
            print(line)
    print()


def main(exp: Path) -> None:
    times: dict[str, int] = {}
    if (exp / "times.tsv").exists():
        for line in (exp / "times.tsv").read_text().splitlines():
            name, sec = line.split("\t")
            times[name] = int(sec)
    for title, (base, listed) in GROUPS.items():
        group(title, exp, base, with_seeds(exp, listed), times)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/exp"))
