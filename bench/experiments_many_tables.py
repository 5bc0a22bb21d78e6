"""Markdown tables for experiment e (bench/experiments_many.sh): the many-languages recipe vs the pilot.

    python bench/experiments_many_tables.py runs/exp-e > runs/exp-e/tables.md

Per configuration (mean ± sd over its seeds): Tatoeba accuracy (mean of both directions) on the 10
trained languages, the 10 held-out ones and the 8 outside FLORES; FLORES xSIM error on held-out
rows, per language group; STS17 en-en (the English guard) and cross-language STS17; training
seconds. Then STS17 per file; then the recipe minus the pilot, seed by seed; then per Tatoeba language,
base -> after over the seeds, with seed 0's paired bootstrap intervals.

Built on :func:`langgap.table`: its seed groups (``--group-seeds``: runs whose training
``config.json`` differs only by the seed) are the configurations, its rows the values, and its
differences to the base run (``--baseline``) the intervals ``langgap compare`` writes; mean ± sd
is :func:`langgap.report.table_rows.mean_sd`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from langgap import load_results, table
from langgap.report.table_rows import mean_sd
from langgap.results import Results, TaskResult


def acc(t: TaskResult) -> float:
    return (t.metrics["accuracy_src2tgt"] + t.metrics["accuracy_tgt2src"]) / 2


def figures(res: Results, langs: dict[str, Any]) -> dict[str, float]:
    """Group means of one run."""
    tasks = {t.name: t for t in res.tasks}
    out: dict[str, float] = {}
    for group, codes in langs["tatoeba"].items():
        vals = [acc(tasks[f"bitext:{c}-eng"]) for c in codes if f"bitext:{c}-eng" in tasks]
        out[f"tatoeba {group}"] = _mean(vals)
    mw = tasks["multiway:flores_eval"].per_language
    for group, key in (("trained", "trained_eval"), ("held out", "held_out")):
        out[f"FLORES xSIM {group}"] = _mean([mw[lang]["xsim_error"] for lang in langs[key]])
    out["STS17 en-en"] = tasks["sts:en-en"].metrics["spearman"]
    cross = [t.metrics["spearman"] for t in res.tasks if t.kind == "sts" and t.metrics["cross_lingual"]]
    out["STS17 cross"] = _mean(cross)
    return out


def _mean(vals: list[float]) -> float:
    mean, _ = mean_sd(vals)
    assert mean is not None, "no value to average"
    return mean


def fmt(vals: list[float], digits: int = 4, signed: bool = False) -> str:
    sign = "+" if signed else ""
    mean, sd = mean_sd(vals)
    if sd is None:
        return f"{mean:{sign}.{digits}f}"
    return f"{mean:{sign}.{digits}f} ± {sd:.{digits}f}"


def seed(run: str) -> str:
    """``"recipe-s2"`` -> ``"2"``."""
    return run.rsplit("-s", 1)[1]


def main(exp: Path) -> None:
    langs = json.loads((exp / "langs.json").read_text(encoding="utf-8"))
    times = dict(line.split("\t") for line in (exp / "times.tsv").read_text().splitlines() if "\t" in line)
    dirs = [d / "measure" for d in sorted(exp.iterdir()) if (d / "measure" / "results.json").exists()]
    # every run and the base: the STS17 rows, and the seed groups (the base stands alone)
    sts_table = table([exp / "base", *dirs], metrics=["spearman"], group_seeds=True)
    configs = {c: runs for c, runs in sts_table.columns.items() if c != "base"}
    res = {d.parent.name: load_results(d) for d in dirs}
    figs = {r: figures(x, langs) for r, x in res.items()}  # run -> its group means
    base = figures(load_results(exp / "base"), langs)
    keys = list(base)
    print("| run | seeds | " + " | ".join(keys) + " | train s |")
    print("|---|---|" + "---:|" * (len(keys) + 1))
    print("| e5-small (base) | – | " + " | ".join(f"{base[k]:.4f}" for k in keys) + " | – |")
    for name, runs in configs.items():
        secs = [float(times.get(f"train-{r}", "nan")) for r in runs]
        cells = " | ".join(fmt([figs[r][k] for r in runs]) for k in keys)
        print(f"| {name} | {len(runs)} | {cells} | {_mean(secs):.0f} |")
    print("\n### STS17 Spearman per file (mean ± sd over seeds)\n")
    print("| STS17 | base | " + " | ".join(configs) + " |")
    print("|---|---:|" + "---:|" * len(configs))
    for row in sts_table.rows:
        cells = [fmt([row.values[r] for r in runs]) for runs in configs.values()]
        print(f"| {row.task.removeprefix('sts:')} | {row.values['base']:.4f} | " + " | ".join(cells) + " |")
    paired = [r for r in configs.get("recipe", []) if f"pilot-s{seed(r)}" in figs]
    if paired:
        print("\n### recipe − pilot, seed by seed (same evaluation)\n")
        print("| seed | " + " | ".join(keys) + " |")
        print("|---|" + "---:|" * len(keys))
        diffs = [{k: figs[r][k] - figs[f"pilot-s{seed(r)}"][k] for k in keys} for r in paired]
        for r, d in zip(paired, diffs, strict=True):
            print(f"| {seed(r)} | " + " | ".join(f"{d[k]:+.4f}" for k in keys) + " |")
        print("| mean ± sd | " + " | ".join(fmt([d[k] for d in diffs], signed=True) for k in keys) + " |")
    for name in ("recipe", "pilot"):
        if name in configs:
            per_language(exp, name, configs[name], langs)


def per_language(exp: Path, name: str, runs: list[str], langs: dict[str, Any]) -> None:
    """Per Tatoeba language: base -> after over the seeds, with seed 0's intervals (``langgap table
    RUN... --baseline base`` on both retrieval directions of every bitext task)."""
    group = {c: g for g, codes in langs["tatoeba"].items() for c in codes}
    base = load_results(exp / "base")
    bitext = [t.name for t in base.tasks if t.name.startswith("bitext:")]
    specs = [f"{t}:{m}" for t in bitext for m in ("accuracy_src2tgt", "accuracy_tgt2src")]
    t = table([exp / r / "measure" for r in runs], baseline=exp / "base", metrics=specs)
    rows = {(x.task, x.metric): x for x in t.rows}
    print(f"\n### {name} vs base, per Tatoeba language: mean of both directions, {len(runs)} seeds\n")
    print(
        "Δ: mean ± sd over seeds; CI: 95% paired bootstrap over sentences of seed "
        f"{seed(runs[0])}, one direction each (src→eng / eng→src); "
        "sig.: seeds whose interval excludes 0 in both directions, up / down.\n"
    )
    print("| language | group | base | after | Δ | CI src→eng | CI eng→src | sig. |")
    print("|---|---|---:|---:|---:|---|---|---|")
    codes = sorted((task.removeprefix("bitext:").split("-")[0], task) for task in bitext)
    for code, task in sorted(codes, key=lambda ct: (group.get(ct[0], "?"), ct[0])):
        fwd, back = rows[task, "accuracy_src2tgt"], rows[task, "accuracy_tgt2src"]
        base_acc = (fwd.values["base"] + back.values["base"]) / 2
        after = [(fwd.values[r] + back.values[r]) / 2 for r in runs]
        x = [fwd.deltas[r] for r in runs]
        y = [back.deltas[r] for r in runs]
        up = sum(a.ci_low > 0 and b.ci_low > 0 for a, b in zip(x, y, strict=True))
        down = sum(a.ci_high < 0 and b.ci_high < 0 for a, b in zip(x, y, strict=True))
        print(
            f"| {code} | {group.get(code, '?')} | {base_acc:.3f} | {fmt(after, 3)} | "
            f"{fmt([a - base_acc for a in after], 3, signed=True)} | "
            f"[{x[0].ci_low:+.3f}, {x[0].ci_high:+.3f}] | [{y[0].ci_low:+.3f}, {y[0].ci_high:+.3f}] | "
            f"{up} / {down} |"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
