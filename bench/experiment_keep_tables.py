"""Markdown tables for experiment f (docs/experiments.md): what --preserve and WiSE-FT keep.

    python bench/experiment_keep_tables.py runs/exp-e > runs/exp-e/keep.md

For the base model and every run of ``bench/experiments_many.sh guard merge preserve mono``
that has been measured (``<run>/measure``): experiment e's group figures (Tatoeba groups, FLORES
xSIM, STS17 en-en and cross-language; :func:`experiments_many_tables.figures`), then every
same-language STS file of the shared data (``<run>/mono``, ``base-mono``), each as the change
from the base model. Built on :func:`langgap.load_results`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from experiments_many_tables import figures  # noqa: E402

from langgap import load_results  # noqa: E402

RUNS = ("guard-s0", "merge0.75-s0", "merge0.5-s0", "preserve10-b1-s0", "preserve10-b8-s0")
NAMES = {
    "guard-s0": "v1",
    "merge0.75-s0": "v1, merged α 0.75",
    "merge0.5-s0": "v1, merged α 0.5",
    "preserve10-b1-s0": "v1 + preserve 10",
    "preserve10-b8-s0": "v1 + preserve 10, block 8",
}


def main(x: Path) -> None:
    langs = json.loads((x / "langs.json").read_text())
    runs = [r for r in RUNS if (x / r / "measure" / "results.json").is_file()]
    base = figures(load_results(x / "base"), langs) | _sts(x / "base", ("ar-ar", "es-es"))
    rows = {
        r: figures(load_results(x / r / "measure"), langs) | _sts(x / r / "measure", ("ar-ar", "es-es"))
        for r in runs
    }
    print("| metric | base | " + " | ".join(NAMES[r] for r in runs) + " |")
    print("|---|---:|" + "---:|" * len(runs))
    for key, value in base.items():
        cells = [f"{rows[r][key]:.4f} ({rows[r][key] - value:+.4f})" for r in runs]
        print(f"| {key} | {value:.4f} | " + " | ".join(cells) + " |")
    mono = [r for r in runs if (x / r / "mono" / "results.json").is_file()]
    if not (x / "base-mono" / "results.json").is_file() or not mono:
        return
    print("\nSame-language STS, Spearman ρ (change from the base):\n")
    base_mono = _sts(x / "base-mono")
    print("| file | base | " + " | ".join(NAMES[r] for r in mono) + " |")
    print("|---|---:|" + "---:|" * len(mono))
    cols = {r: _sts(x / r / "mono") for r in mono}
    for name, value in base_mono.items():
        cells = [f"{cols[r][name]:.4f} ({cols[r][name] - value:+.4f})" for r in mono]
        print(f"| {name} | {value:.4f} | " + " | ".join(cells) + " |")
    means = {r: sum(cols[r].values()) / len(cols[r]) for r in mono}
    mean_base = sum(base_mono.values()) / len(base_mono)
    print(
        f"| mean | {mean_base:.4f} | "
        + " | ".join(f"{means[r]:.4f} ({means[r] - mean_base:+.4f})" for r in mono)
        + " |"
    )


def _sts(folder: Path, only: tuple[str, ...] = ()) -> dict[str, float]:
    """Spearman ρ of the STS tasks of one measured folder (``only``: those named ``sts:<name>``)."""
    res = load_results(folder)
    out = {t.name.removeprefix("sts:"): t.metrics["spearman"] for t in res.tasks if t.kind == "sts"}
    return {f"STS17 {k}": out[k] for k in only} if only else out


if __name__ == "__main__":
    main(Path(sys.argv[1]))
