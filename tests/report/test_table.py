"""``langgap.table``: many runs side by side (values, differences with compare's intervals, seed
groups, ranking), its refusals, and table.md / table.json / table.html with the gap heatmap,
rendered in a real headless Chromium."""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import rankdata

import langgap
from conftest import ToyEncoder, write_bitext, write_multiway
from langgap.comparison import compare
from langgap.errors import InputError
from langgap.measuring import measure
from langgap.metrics import registry
from langgap.report.table import table
from langgap.report.table_page import write_table
from langgap.report.table_rows import parse_metric
from langgap.results import load_results
from langgap.tasks import bitext_task, multiway_task, sts_task
from report.test_report_html import LOADED, _chromium

# name -> (language gap, noise) of the toy encoder; x-s0 / x-s1 differ only by the noise ("seed")
RUNS = {"base": (1.0, 0.3), "x-s0": (0.5, 0.3), "x-s1": (0.5, 0.35), "y": (0.2, 0.3)}


def _tasks(d: Path) -> list:
    rng = np.random.default_rng(0)
    (d / "en-de.tsv").write_text(
        "".join(f"{rng.uniform(0, 5):.2f}\teng:{i}\tdeu:{i}\n" for i in range(30)), encoding="utf-8"
    )
    return [
        bitext_task(write_bitext(d / "deu-eng.tsv", "deu", "eng", 40)),
        multiway_task(write_multiway(d / "mw", ["eng", "deu", "fra", "jpn"], 30), "eng,deu,fra,jpn"),
        sts_task(d / "en-de.tsv"),
    ]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Four saved runs on the same data (bitext, 4-language multi-way, STS; the toy encoder)."""
    d = tmp_path_factory.mktemp("data")
    tasks = _tasks(d)
    root = tmp_path_factory.mktemp("runs")
    for name, (gap, noise) in RUNS.items():
        measure(ToyEncoder(gap=gap, noise=noise), tasks).save(root / name)
    return {name: root / name for name in RUNS}


@pytest.fixture(scope="module")
def grouped(runs):
    return table([runs["x-s0"], runs["x-s1"], runs["y"]], baseline=runs["base"], group_seeds=True)


def test_values_are_each_runs_own(runs):
    t = table(list(runs.values()))
    assert [r.name for r in t.runs] == list(RUNS) and t.baseline is None
    assert t.tasks == ["bitext:deu-eng", "multiway:mw", "sts:en-de"]
    res = {n: load_results(p) for n, p in runs.items()}
    for row in t.rows:
        for name, r in res.items():
            task = r.task(row.task)
            want = task.metrics[row.metric] if row.whole_task else task.per_language[row.language][row.metric]
            assert row.values[name] == want
    # every registered table metric of every task, and xSIM error per language of the multi-way task
    mw = [r for r in t.rows if r.task == "multiway:mw"]
    assert {r.language for r in mw if not r.whole_task} == {"eng", "deu", "fra", "jpn"}
    assert {r.metric for r in mw if not r.whole_task} == {"xsim_error"}
    bit = [r for r in t.rows if r.task == "bitext:deu-eng"]
    assert {r.language for r in bit} == {"deu"}
    shown = {m.key for m in registry.METRICS.values() if m.table}
    assert {r.metric for r in bit} == shown & set(res["base"].task("bitext:deu-eng").metrics)
    lang_id = next(r for r in mw if r.metric == "language_id_accuracy")
    assert (
        lang_id.chance == pytest.approx(0.25) and lang_id.label == "lang-ID" and not lang_id.greater_is_better
    )


def test_differences_are_langgap_compares(runs, grouped):
    """Every task-level difference and interval is compare(baseline, run)'s, to the last digit."""
    for name in ("x-s0", "x-s1", "y"):
        cmp = compare(runs["base"], runs[name])
        changes = {(c.task, c.metric): c for c in cmp.changes}
        for row in grouped.rows:
            d = row.deltas[name]
            c = changes.get((row.task, row.metric))
            if row.whole_task and c is not None:
                assert (d.delta, d.ci_low, d.ci_high, d.verdict) == (c.delta, c.ci_low, c.ci_high, c.verdict)
            else:  # per-language rows and metrics without per-item outcomes: the plain difference
                assert d.ci_low is None and d.delta == pytest.approx(row.values[name] - row.values["base"])
    assert sum(d.ci_low is not None for r in grouped.rows for d in r.deltas.values()) >= 20


def test_seed_groups_mean_and_sd(grouped):
    assert grouped.columns == {"base": ["base"], "x": ["x-s0", "x-s1"], "y": ["y"]}
    row = next(r for r in grouped.rows if r.metric == "pair_cosine" and r.task == "multiway:mw")
    pair = [row.values["x-s0"], row.values["x-s1"]]
    assert row.column(["x-s0", "x-s1"]) == (statistics.mean(pair), statistics.stdev(pair))
    assert row.column(["y"]) == (row.values["y"], None)
    assert [(r.name, r.seed) for r in grouped.runs] == [("base", 0), ("x-s0", 0), ("x-s1", 1), ("y", 0)]


def test_ranking_is_the_mean_rank_by_direction(grouped):
    """Parity with scipy's rankdata (average ties) on each row, oriented by the registry."""
    per_col: dict[str, list[float]] = {c: [] for c in grouped.columns}
    for row in grouped.rows:
        if not row.whole_task or not registry.ranked(row.metric):
            continue
        vals = {c: row.column(runs)[0] for c, runs in grouped.columns.items()}
        sign = -1 if registry.greater_is_better(row.metric) else 1
        for c, rank in zip(vals, rankdata([sign * v for v in vals.values()]), strict=True):
            per_col[c].append(float(rank))
    want = sorted(((c, statistics.mean(r), len(r)) for c, r in per_col.items()), key=lambda x: x[1])
    assert [c for c, _, _ in grouped.ranking] == [c for c, _, _ in want]
    for (_, s, n), (_, ws, wn) in zip(grouped.ranking, want, strict=True):
        assert s == pytest.approx(ws) and n == wn
    assert grouped.ranking[-1][0] == "base"  # the gap-1.0 toy model is worst on most rows


def test_metric_selection(runs):
    t = table([runs["base"], runs["y"]], metrics=["bitext:deu-eng:accuracy_src2tgt", "xsim_error"])
    picked = [(r.task, r.language, r.metric) for r in t.rows]
    assert picked[0] == ("bitext:deu-eng", "deu", "accuracy_src2tgt")
    assert picked[1:] == [("multiway:mw", lang, "xsim_error") for lang in ("", "eng", "deu", "fra", "jpn")]
    assert parse_metric("sts:en-de:spearman") == ("sts:en-de", "spearman")
    assert parse_metric("spearman") == ("*", "spearman")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"metrics": ["xsim_eror"]},
            r"'xsim_eror' is not a registered metric \(did you mean 'xsim_error'\?\)",
        ),
        (
            {"metrics": ["bitext:deu-en:pair_cosine"]},
            r"no task 'bitext:deu-en'.*did you mean 'bitext:deu-eng'",
        ),
        ({"metrics": ["sts:en-de:xsim_error"]}, r"task 'sts:en-de' has no 'xsim_error'"),
    ],
)
def test_bad_metric(runs, kwargs, match):
    with pytest.raises(InputError, match=match):
        table([runs["base"], runs["y"]], **kwargs)


def test_refusals(runs, tmp_path):
    with pytest.raises(InputError, match="needs two or more runs, got 1"):
        table([runs["base"]])
    d = tmp_path / "other"
    d.mkdir()
    other = [bitext_task(write_bitext(d / "fra-eng.tsv", "fra", "eng", 20))]
    measure(ToyEncoder(), other).save(tmp_path / "fra")
    with pytest.raises(InputError, match=r"share no task.*base: bitext:deu-eng.*fra: bitext:fra-eng"):
        table([runs["base"], tmp_path / "fra"])
    with pytest.raises(InputError, match=r"--baseline .*fra: no task on the runs' data"):
        table([runs["base"], runs["y"]], baseline=tmp_path / "fra")
    # the same task name on other data (deu-eng.tsv with other rows): named, refused
    moved = [bitext_task(write_bitext(d / "deu-eng.tsv", "deu", "eng", 25))]
    measure(ToyEncoder(), moved).save(tmp_path / "moved")
    with pytest.raises(
        InputError, match=r"on different data: bitext:deu-eng .*data file deu-eng.tsv differs"
    ):
        table([tmp_path / "moved", runs["y"]])


def test_a_baseline_among_the_runs_and_a_single_run_with_a_baseline(runs):
    t = table([runs["base"], runs["y"]], baseline=runs["base"] / "results.json")
    assert [r.name for r in t.runs] == ["base", "y"] and t.baseline == "base"
    t2 = table([runs["y"]], baseline=runs["base"])
    assert [r.name for r in t2.runs] == ["base", "y"]
    assert [r.deltas["y"] for r in t.rows] == [r.deltas["y"] for r in t2.rows]


def test_results_without_items_get_plain_differences(runs):
    base, y = (load_results(runs[n]) for n in ("base", "y"))
    strip = lambda r: replace(r, tasks=[replace(t, items={}) for t in r.tasks])  # noqa: E731
    t = table([strip(y)], baseline=strip(base))
    assert all(d.ci_low is None and d.delta is not None for r in t.rows for d in r.deltas.values())


def test_public_name_stays_the_function(runs):
    for _ in range(2):
        t = langgap.table([runs["base"], runs["y"]], metrics=["pair_cosine"])
        assert callable(langgap.table) and t.rows
    assert langgap.write_table is write_table


# -- the pages ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages(grouped, tmp_path_factory) -> dict[str, Path]:
    return write_table(grouped, tmp_path_factory.mktemp("table") / "out")


def test_files_and_json(grouped, pages):
    assert sorted(pages) == ["html", "json", "md", "png"]
    d = json.loads(pages["json"].read_text(encoding="utf-8"))
    assert d["baseline"] == "base" and d["columns"]["x"] == ["x-s0", "x-s1"]
    assert [x["column"] for x in d["ranking"]] == [c for c, _, _ in grouped.ranking]
    row = d["rows"][0]
    assert row["values"]["y"] == pytest.approx(grouped.rows[0].values["y"], abs=1e-6)
    assert set(row["groups"]) == {"base", "x", "y"} and row["deltas"]["y"]["ci_low"] is not None
    assert set(d["gaps"]) == {"bitext_accuracy", "xsim_error"}
    assert set(d["gaps"]["xsim_error"]) == {"eng", "deu", "fra", "jpn"}


def test_markdown_and_html_carry_the_same_values(grouped, pages):
    md = pages["md"].read_text(encoding="utf-8")
    html = pages["html"].read_text(encoding="utf-8")
    row = next(r for r in grouped.rows if r.metric == "pair_cosine" and r.task == "bitext:deu-eng")
    mean, sd = row.column(["x-s0", "x-s1"])
    d = row.deltas["y"]
    cells = [
        f"{mean:.3f} ± {sd:.3f}",
        f"{row.values['y']:.3f}",
        f"{d.delta:+.3f} [{d.ci_low:+.3f}, {d.ci_high:+.3f}]",
    ]
    for cell in cells:
        assert cell in md and cell in html
    for task in grouped.tasks:
        assert f"### {task}: difference to base" in md and f"<h3>{task}: difference to base</h3>" in html
    assert "![heatmap of the gap per language and run](table.png)" in md
    assert html.count("<table>") == md.count("\n|---")


def test_chromium_renders_the_table_with_its_heatmap(grouped, pages, tmp_path):
    import matplotlib.image as mpimg

    page = pages["html"]
    shot = tmp_path / "shot.png"
    proc = _chromium([f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()], tmp_path / "p1")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1200) and pixels.std() > 0.05
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", LOADED + "</body>"), encoding="utf-8"
    )
    proc = _chromium(["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()], tmp_path / "p2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'data-loaded="1/1"' in proc.stdout  # the heatmap decoded, with a real size
    text = re.sub(r"<[^>]+>", " ", proc.stdout)
    for c, score, _ in grouped.ranking:
        assert re.search(rf"\b{re.escape(c)}\s+{score:.2f}\b", text)
    row = next(r for r in grouped.rows if r.metric == "xsim_error" and r.language == "fra")
    assert f"{row.values['y']:.3f}" in text and "xSIM err ↓" in text
