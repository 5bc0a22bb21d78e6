"""The experiment tables of docs/experiments.md and docs/results.md, unchanged in value: the
``bench/*_tables.py`` scripts, rewritten on ``langgap.table`` / ``load_results``, print exactly
what the scripts they replaced printed (kept in ``tests/bench/legacy/`` as they were at b58b548,
when they parsed ``results.json`` and ``compare.json`` by hand) on small but real experiment
folders (:mod:`exp_fixtures`)."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import sys
from pathlib import Path

import exp_fixtures
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
LEGACY = Path(__file__).resolve().parent / "legacy"


def _run(script: Path, *args: str) -> str:
    out, argv = io.StringIO(), sys.argv
    sys.argv = [str(script), *args]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    return out.getvalue()


@pytest.mark.parametrize(
    ("script", "build", "extra"),
    [
        ("experiments_tables.py", "build_exp", ()),
        ("experiments_many_tables.py", "build_exp_e", ()),
        ("experiment_d_tables.py", "build_exp_d", ()),
        ("results_tables.py", "build_measure_run", ("--published",)),
    ],
)
def test_rewritten_script_prints_what_the_old_one_did(script, build, extra, tmp_path):
    folder = getattr(exp_fixtures, build)(tmp_path)
    args = [str(folder), *([str(tmp_path / "published.json")] if extra else [])]
    args = [args[0], *extra, *args[1:]]
    old, new = _run(LEGACY / script, *args), _run(BENCH / script, *args)
    assert old.count("\n") > 20 and old == new
    # real numbers, not tables of dashes; and not all the same value
    numbers = re.findall(r"[-+]?\d\.\d{3}", new)
    assert len(numbers) > 40 and len(set(numbers)) > 20


def test_experiment_f_tables_against_the_results_files(tmp_path):
    """bench/experiment_keep_tables.py: every cell is the value and change a naive read of the
    results.json files gives."""
    import json

    x = exp_fixtures.build_exp_f(tmp_path)
    text = _run(BENCH / "experiment_keep_tables.py", str(x))

    def metrics(folder):
        return {t["name"]: t["metrics"] for t in json.loads((folder / "results.json").read_text())["tasks"]}

    base, v1, half = (
        metrics(x / "base"),
        metrics(x / "guard-s0" / "measure"),
        metrics(x / "merge0.5-s0" / "measure"),
    )

    def tatoeba(m, group):
        codes = exp_fixtures.TATOEBA[group]
        accs = [
            (m[f"bitext:{c}-eng"]["accuracy_src2tgt"] + m[f"bitext:{c}-eng"]["accuracy_tgt2src"]) / 2
            for c in codes
        ]
        return sum(accs) / len(accs)

    row = next(line for line in text.splitlines() if line.startswith("| tatoeba held_out |"))
    b, a, h = tatoeba(base, "held_out"), tatoeba(v1, "held_out"), tatoeba(half, "held_out")
    assert row == f"| tatoeba held_out | {b:.4f} | {a:.4f} ({a - b:+.4f}) | {h:.4f} ({h - b:+.4f}) |"
    ar = [m["sts:ar-ar"]["spearman"] for m in (base, v1, half)]
    assert f"| STS17 ar-ar | {ar[0]:.4f} | {ar[1]:.4f} ({ar[1] - ar[0]:+.4f}) |" in text
    assert text.splitlines()[0] == "| metric | base | v1 | v1, merged α 0.5 |"
    mono = [metrics(f) for f in (x / "base-mono", x / "guard-s0" / "mono", x / "merge0.5-s0" / "mono")]
    es = [m["sts:es-es"]["spearman"] for m in mono]
    assert (
        f"| es-es | {es[0]:.4f} | {es[1]:.4f} ({es[1] - es[0]:+.4f}) | {es[2]:.4f} ({es[2] - es[0]:+.4f}) |"
        in text
    )
    means = [sum(v["spearman"] for v in m.values()) / 3 for m in mono]
    assert (
        text.rstrip()
        .splitlines()[-1]
        .startswith(f"| mean | {means[0]:.4f} | {means[1]:.4f} ({means[1] - means[0]:+.4f})")
    )


def test_experiment_g_tables_against_the_results_files(tmp_path):
    """bench/experiment_mined_tables.py: each accuracy is the mean of both directions of the
    language's pair in results.json, each change that minus the base, the intervals contain it,
    the mining cells are mine.json's and the guard row the STS Spearman of each run."""
    import json

    import numpy as np

    x = exp_fixtures.build_exp_g(tmp_path)
    text = _run(BENCH / "experiment_mined_tables.py", str(x))

    def acc(folder, lang):
        task = next(
            t for t in json.loads((folder / "results.json").read_text())["tasks"] if t["kind"] == "multiway"
        )
        pair = next(p for p in task["per_pair"] if set(p.split("-", 1)) == {f"{lang}_Latn", "eng_Latn"})
        m = task["per_pair"][pair]
        return (m["accuracy_src2tgt"] + m["accuracy_tgt2src"]) / 2

    runs = [x / "mined/rounds/round-1/measure", x / "mined/rounds/round-2/measure", x / "gold-run/measure"]
    for lang in ("hau", "yor"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {lang} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        base = acc(x / "base", lang)
        assert cells[1] == f"{base:.3f}"
        for cell, run in zip(cells[2:5], runs, strict=True):
            after = acc(run, lang)
            value, delta, low, high = map(float, re.findall(r"[-+]?\d+\.\d+", cell)[:4])
            assert value == pytest.approx(after, abs=6e-4) and delta == pytest.approx(after - base, abs=6e-4)
            assert low - 6e-4 <= delta <= high + 6e-4
        gold = acc(runs[2], lang) - base
        assert cells[5] == (f"{(acc(runs[1], lang) - base) / gold:.0%}" if gold > 0 else "–")
    assert "| pcm |" not in text.split("Mining against")[0]  # no FLORES rows
    assert "| pcm | 101 | 41 | 0.850 / 0.600 / 0.700 | 81 | 0.900 / 0.700 / 0.800 |" in text
    guard = next(line for line in text.splitlines() if line.startswith("| Spearman |"))
    spearman = [
        next(t for t in json.loads((f / "results.json").read_text())["tasks"] if t["name"] == "sts:en-en")[
            "metrics"
        ]["spearman"]
        for f in [x / "base", *runs]
    ]
    assert guard.startswith(f"| Spearman | {spearman[0]:.4f} |")
    assert all(f"{s:.4f} ({s - spearman[0]:+.4f})" in guard for s in spearman[1:])
    assert np.isfinite(spearman).all()
