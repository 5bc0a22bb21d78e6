"""Markdown tables for experiment e (bench/experiments_many.sh): the many-languages recipe vs the pilot.

    python bench/experiments_many_tables.py runs/exp-e > runs/exp-e/tables.md

Per configuration (mean ± sd over its seeds): Tatoeba accuracy (mean of both directions) on the 10
trained languages, the 10 held-out ones and the 8 outside FLORES; FLORES xSIM error on held-out
rows, per language group; STS17 en-en (the English guard) and cross-language STS17; training
seconds. Then per language, base -> recipe seed 0 with the paired bootstrap interval.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def acc(t: dict[str, Any]) -> float:
    m = t["metrics"]
    return (m["accuracy_src2tgt"] + m["accuracy_tgt2src"]) / 2


def figures(res: dict[str, Any], langs: dict[str, Any]) -> dict[str, float]:
    """Group means of one run's results.json."""
    tasks = {t["name"]: t for t in res["tasks"]}
    out: dict[str, float] = {}
    for group, codes in langs["tatoeba"].items():
        vals = [acc(tasks[f"bitext:{c}-eng"]) for c in codes if f"bitext:{c}-eng" in tasks]
        out[f"tatoeba {group}"] = statistics.mean(vals)
    mw = tasks["multiway:flores_eval"]["per_language"]
    for group, key in (("trained", "trained_eval"), ("held out", "held_out")):
        out[f"FLORES xSIM {group}"] = statistics.mean(mw[lang]["xsim_error"] for lang in langs[key])
    out["STS17 en-en"] = tasks["sts:en-en"]["metrics"]["spearman"]
    cross = [
        t["metrics"]["spearman"]
        for t in tasks.values()
        if t["kind"] == "sts" and t["metrics"]["cross_lingual"]
    ]
    out["STS17 cross"] = statistics.mean(cross)
    return out


def fmt(vals: list[float]) -> str:
    if len(vals) == 1:
        return f"{vals[0]:.4f}"
    return f"{statistics.mean(vals):.4f} ± {statistics.stdev(vals):.4f}"


def main(exp: Path) -> None:
    langs = load(exp / "langs.json")
    times = dict(line.split("\t") for line in (exp / "times.tsv").read_text().splitlines() if "\t" in line)
    base = figures(load(exp / "base" / "results.json"), langs)
    configs: dict[str, list[str]] = {}
    for d in sorted(exp.iterdir()):
        if (d / "measure" / "results.json").exists():
            configs.setdefault(d.name.rsplit("-s", 1)[0], []).append(d.name)
    keys = list(base)
    print("| run | seeds | " + " | ".join(keys) + " | train s |")
    print("|---|---|" + "---:|" * (len(keys) + 1))
    print("| e5-small (base) | – | " + " | ".join(f"{base[k]:.4f}" for k in keys) + " | – |")
    for name, runs in configs.items():
        rows = [figures(load(exp / r / "measure" / "results.json"), langs) for r in runs]
        secs = [float(times.get(f"train-{r}", "nan")) for r in runs]
        cells = " | ".join(fmt([x[k] for x in rows]) for k in keys)
        print(f"| {name} | {len(runs)} | {cells} | {statistics.mean(secs):.0f} |")
    for cmp in sorted(exp.glob("cmp-recipe-s0")) + sorted(exp.glob("cmp-pilot-s0")):
        print(
            f"\n### {cmp.name.removeprefix('cmp-')} vs base, per Tatoeba language (95% paired bootstrap CI)\n"
        )
        print("| language | group | base | after | Δ | 95% CI |")
        print("|---|---|---:|---:|---:|---|")
        group = {c: g for g, codes in langs["tatoeba"].items() for c in codes}
        for c in load(cmp / "compare.json")["changes"]:
            if c["metric"] == "accuracy_src2tgt" and c["task"].startswith("bitext:"):
                code = c["task"].removeprefix("bitext:").split("-")[0]
                print(f"| {code} | {group.get(code, '?')} | {c['a']:.3f} | {c['b']:.3f} | {c['delta']:+.3f} | "
                      f"[{c['ci_low']:+.3f}, {c['ci_high']:+.3f}] |")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]))
