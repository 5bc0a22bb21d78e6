# bench/experiments_many_tables.py as it was at b58b548: the reference the rewritten script must match.
"""Markdown tables for experiment e (bench/experiments_many.sh): the many-languages recipe vs the pilot.

    python bench/experiments_many_tables.py runs/exp-e > runs/exp-e/tables.md

Per configuration (mean ± sd over its seeds): Tatoeba accuracy (mean of both directions) on the 10
trained languages, the 10 held-out ones and the 8 outside FLORES; FLORES xSIM error on held-out
rows, per language group; STS17 en-en (the English guard) and cross-language STS17; training
seconds. Then STS17 per file; then the recipe minus the pilot, seed by seed; then per Tatoeba language, base -> after
over the seeds, with seed 0's paired bootstrap intervals (from ``langgap compare``).
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


def fmt(vals: list[float], digits: int = 4, signed: bool = False) -> str:
    sign = "+" if signed else ""
    if len(vals) == 1:
        return f"{vals[0]:{sign}.{digits}f}"
    return f"{statistics.mean(vals):{sign}.{digits}f} ± {statistics.stdev(vals):.{digits}f}"


def sts_scores(res: dict[str, Any]) -> dict[str, float]:
    """``{STS17 file: Spearman}`` of one run's results.json."""
    return {
        t["name"].removeprefix("sts:"): t["metrics"]["spearman"] for t in res["tasks"] if t["kind"] == "sts"
    }


def seed(run: str) -> str:
    """``"recipe-s2"`` -> ``"2"``."""
    return run.rsplit("-s", 1)[1]


def main(exp: Path) -> None:
    langs = load(exp / "langs.json")
    times = dict(line.split("\t") for line in (exp / "times.tsv").read_text().splitlines() if "\t" in line)
    base_res = load(exp / "base" / "results.json")
    base = figures(base_res, langs)
    configs: dict[str, list[str]] = {}
    res: dict[str, dict[str, Any]] = {}  # run -> its results.json, read once
    for d in sorted(exp.iterdir()):
        if (d / "measure" / "results.json").exists():
            configs.setdefault(d.name.rsplit("-s", 1)[0], []).append(d.name)
            res[d.name] = load(d / "measure" / "results.json")
    figs = {r: figures(x, langs) for r, x in res.items()}  # run -> its group means
    keys = list(base)
    print("| run | seeds | " + " | ".join(keys) + " | train s |")
    print("|---|---|" + "---:|" * (len(keys) + 1))
    print("| e5-small (base) | – | " + " | ".join(f"{base[k]:.4f}" for k in keys) + " | – |")
    for name, runs in configs.items():
        secs = [float(times.get(f"train-{r}", "nan")) for r in runs]
        cells = " | ".join(fmt([figs[r][k] for r in runs]) for k in keys)
        print(f"| {name} | {len(runs)} | {cells} | {statistics.mean(secs):.0f} |")
    sts = {r: sts_scores(x) for r, x in res.items()}
    base_sts = sts_scores(base_res)
    print("\n### STS17 Spearman per file (mean ± sd over seeds)\n")
    print("| STS17 | base | " + " | ".join(configs) + " |")
    print("|---|---:|" + "---:|" * len(configs))
    for f, v in base_sts.items():
        print(
            f"| {f} | {v:.4f} | "
            + " | ".join(fmt([sts[r][f] for r in runs]) for runs in configs.values())
            + " |"
        )
    paired = [r for r in configs.get("recipe", []) if f"pilot-s{seed(r)}" in figs]
    if paired:
        print("\n### recipe − pilot, seed by seed (same evaluation)\n")
        print("| seed | " + " | ".join(keys) + " |")
        print("|---|" + "---:|" * len(keys))
        diffs = [{k: figs[r][k] - figs[f"pilot-s{seed(r)}"][k] for k in keys} for r in paired]
        for r, d in zip(paired, diffs, strict=True):
            print(f"| {seed(r)} | " + " | ".join(f"{d[k]:+.4f}" for k in keys) + " |")
        print("| mean ± sd | " + " | ".join(fmt([d[k] for d in diffs], signed=True) for k in keys) + " |")
    group = {c: g for g, codes in langs["tatoeba"].items() for c in codes}
    for name in ("recipe", "pilot"):
        cmps = sorted(exp.glob(f"cmp-{name}-s*"))
        if not cmps:
            continue
        print(f"\n### {name} vs base, per Tatoeba language: mean of both directions, {len(cmps)} seeds\n")
        print(
            "Δ: mean ± sd over seeds; CI: 95% paired bootstrap over sentences of seed "
            f"{seed(cmps[0].name)}, one direction each (src→eng / eng→src); "
            "sig.: seeds whose interval excludes 0 in both directions, up / down.\n"
        )
        print("| language | group | base | after | Δ | CI src→eng | CI eng→src | sig. |")
        print("|---|---|---:|---:|---:|---|---|---|")
        # language code -> one (src→eng, eng→src) pair of changes per seed
        per: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for cmp in cmps:
            acc = {
                (c["task"], c["metric"]): c
                for c in load(cmp / "compare.json")["changes"]
                if c["task"].startswith("bitext:")
            }
            for task, metric in acc:
                if metric == "accuracy_src2tgt":
                    code = task.removeprefix("bitext:").split("-")[0]
                    per.setdefault(code, []).append((acc[task, metric], acc[task, "accuracy_tgt2src"]))
        for code, by_seed in sorted(per.items(), key=lambda kv: (group.get(kv[0], "?"), kv[0])):
            base_acc = (by_seed[0][0]["a"] + by_seed[0][1]["a"]) / 2
            after = [(x["b"] + y["b"]) / 2 for x, y in by_seed]
            up = sum(x["ci_low"] > 0 and y["ci_low"] > 0 for x, y in by_seed)
            down = sum(x["ci_high"] < 0 and y["ci_high"] < 0 for x, y in by_seed)
            x0, y0 = by_seed[0]
            print(
                f"| {code} | {group.get(code, '?')} | {base_acc:.3f} | {fmt(after, 3)} | "
                f"{fmt([a - base_acc for a in after], 3, signed=True)} | "
                f"[{x0['ci_low']:+.3f}, {x0['ci_high']:+.3f}] | [{y0['ci_low']:+.3f}, {y0['ci_high']:+.3f}] | "
                f"{up} / {down} |"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
