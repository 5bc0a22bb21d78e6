"""compare(): two synthetic runs measured with toy encoders on the same files."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import write_bitext, write_multiway
from langgap.comparison import (
    Comparison,
    MetricChange,
    _verdict,
    check_same_data,
    compare,
    greater_is_better,
    metric_items,
    task_inputs,
)
from langgap.errors import InputError
from langgap.measuring import measure
from langgap.metrics import registry
from langgap.metrics.stats import paired_bootstrap_ci, paired_permutation_pvalue
from langgap.report.compare import write_comparison
from langgap.results import load_results, round_floats
from langgap.tasks import bitext_task, multiway_task, sts_task


def _sts(path, n=80):
    """Half the pairs are translations (gold 4-5), half unrelated sentences (gold 0-1)."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(n):
        same = i % 2 == 0
        j = i if same else (i + 7) % n
        gold = rng.uniform(4, 5) if same else rng.uniform(0, 1)
        lines.append(f"{gold:.2f}\teng:{i}\tdeu:{j}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def tasks(tmp_path):
    return [
        bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 80)),
        multiway_task(write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 60), "eng,deu,fra"),
        sts_task(_sts(tmp_path / "en-de.tsv")),
    ]


@pytest.fixture
def runs(tasks, toy):
    """A: a model with a large language gap and noise; B: a smaller gap and less noise."""
    a = measure(toy(gap=2.5, noise=1.2), tasks, projection_points=0)
    b = measure(toy(gap=0.3, noise=0.4), tasks, projection_points=0)
    return a, b


def _get(cmp, task, metric):
    (c,) = [c for c in cmp.changes if c.task == task and c.metric == metric]
    return c


def test_improvement_is_significant_with_the_right_sign(runs):
    a, b = runs
    cmp = compare(a, b, n_boot=500, n_perm=500, seed=0)
    assert cmp.tasks == ["bitext:deu-eng", "multiway:mw", "sts:en-de"]
    metrics = {(c.task, c.metric) for c in cmp.changes}
    assert {
        ("bitext:deu-eng", m)
        for m in (
            "accuracy_src2tgt",
            "accuracy_tgt2src",
            "margin_accuracy_src2tgt",
            "margin_accuracy_tgt2src",
            "pair_cosine",
            "random_cosine",
            "rank_spearman",
        )
    } <= metrics
    assert {("multiway:mw", m) for m in ("pair_cosine", "accuracy_src2tgt", "xsim_error")} <= metrics
    assert ("sts:en-de", "spearman") in metrics

    pc = _get(cmp, "bitext:deu-eng", "pair_cosine")
    assert pc.a == pytest.approx(a.task("bitext:deu-eng").metrics["pair_cosine"], abs=1e-6)
    assert pc.b == pytest.approx(b.task("bitext:deu-eng").metrics["pair_cosine"], abs=1e-6)
    assert pc.delta > 0 and pc.ci_low > 0 and pc.significant and pc.verdict == "better"
    assert pc.p_value == pytest.approx(1 / 501)

    xsim = _get(cmp, "multiway:mw", "xsim_error")
    assert xsim.a == pytest.approx(a.task("multiway:mw").metrics["xsim_error"], abs=1e-6)
    assert not xsim.greater_is_better and xsim.delta < 0 and xsim.ci_high < 0
    assert xsim.verdict == "better"  # lower error is better
    acc = _get(cmp, "multiway:mw", "accuracy_src2tgt")
    assert acc.a == pytest.approx(a.task("multiway:mw").metrics["accuracy_src2tgt"], abs=1e-6)
    assert acc.verdict == "better"

    sts = _get(cmp, "sts:en-de", "spearman")
    assert sts.a == pytest.approx(a.task("sts:en-de").metrics["spearman"], abs=1e-9)
    assert sts.delta > 0 and sts.significant and sts.verdict == "better"

    # the other way round: the same changes, negative, and "worse"
    back = compare(b, a, n_boot=500, n_perm=500, seed=0)
    pc_back = _get(back, "bitext:deu-eng", "pair_cosine")
    assert pc_back.delta == pytest.approx(-pc.delta) and pc_back.verdict == "worse"
    assert _get(back, "multiway:mw", "xsim_error").verdict == "worse"


def test_same_encoder_twice_is_no_change(tasks, toy):
    a = measure(toy(gap=1.0), tasks, projection_points=0)
    b = measure(toy(gap=1.0), tasks, projection_points=0)
    cmp = compare(a, b, n_boot=200, n_perm=200)
    assert cmp.changes and all(c.verdict == "no-change" and not c.significant for c in cmp.changes)
    for c in cmp.changes:
        assert c.delta == 0 and c.p_value == 1.0 and c.ci_low == c.ci_high == 0.0


def test_changed_data_file_is_refused(tmp_path, toy):
    path = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 30)
    a = measure(toy(), [bitext_task(path)], projection_points=0)
    write_bitext(path, "deu", "eng", 31)  # same task name, one more line
    b = measure(toy(), [bitext_task(path)], projection_points=0)
    sha_a, sha_b = a.tasks[0].files[0]["sha256"], b.tasks[0].files[0]["sha256"]
    with pytest.raises(InputError, match="data file deu-eng.tsv differs") as e:
        compare(a, b)
    assert "'bitext:deu-eng'" in str(e.value) and sha_a in str(e.value) and sha_b in str(e.value)


def test_no_common_task_and_missing_items(tmp_path, toy):
    a = measure(toy(), [bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 20))])
    b = measure(toy(), [bitext_task(write_bitext(tmp_path / "fra-eng.tsv", "fra", "eng", 20))])
    with pytest.raises(InputError, match="no task in common: A has bitext:deu-eng; B has bitext:fra-eng"):
        compare(a, b)
    for t in a.tasks:
        t.items.clear()
    with pytest.raises(InputError, match="no per-item outcomes"):
        compare(a, a)


def test_lower_is_better_metrics():
    assert not greater_is_better("xsim_error") and not greater_is_better("random_cosine")
    assert greater_is_better("accuracy_src2tgt") and greater_is_better("spearman")
    # direction comes from the metric registry, never from the key's spelling
    assert greater_is_better("some_error_rate")
    assert greater_is_better("pair_cosine") and greater_is_better("spearman")


def test_round_trip_and_writers(runs, tmp_path):
    a, b = runs
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    cmp = compare(tmp_path / "a", tmp_path / "b", n_boot=200, n_perm=200)
    direct = compare(load_results(tmp_path / "a"), load_results(tmp_path / "b"), n_boot=200, n_perm=200)
    assert [c.delta for c in cmp.changes] == [c.delta for c in direct.changes]
    paths = write_comparison(cmp, tmp_path / "cmp")
    d = json.loads(paths["json"].read_text())
    assert d["a"]["path"] == str(tmp_path / "a") and d["b"]["model"] == "ToyEncoder"
    assert d["a"]["created"] == a.created and d["settings"]["n_boot"] == 200
    row = d["changes"][0]
    assert set(row) >= {"task", "metric", "a", "b", "delta", "ci_low", "ci_high", "p_value", "verdict"}
    assert all(len(str(v).split(".")[-1]) <= 6 for v in row.values() if isinstance(v, float))
    md = paths["md"].read_text()
    assert "| task | metric | A | B | Δ (B−A) | 95% CI | p | verdict |" in md and "▲ better" in md
    html = paths["html"].read_text()
    assert html.startswith("<!doctype html>") and "data:image/png;base64," in html and "http" not in html
    assert paths["png"].stat().st_size > 5_000


def test_figure_with_many_tasks(runs):
    """100+ tasks: the figure grows tall and stays readable (one row per task)."""
    from dataclasses import replace

    from langgap.report.compare import comparison_figure

    a, b = runs
    cmp = compare(a, b, n_boot=50, n_perm=50)
    many = [replace(c, task=f"{c.task}#{i}") for i in range(40) for c in cmp.changes]
    big = replace(cmp, changes=many, tasks=list(dict.fromkeys(c.task for c in many)))
    fig = comparison_figure(big)
    assert len(big.tasks) == 120 and fig.get_figheight() > 15
    assert len(fig.axes) == len({c.metric for c in many})
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_mining_set_compared_over_gold_pairs(tmp_path, toy):
    """A mining set measured with a gapped noisy model (A) and an aligned one (B): F1, precision
    and recall at both thresholds come with intervals over the gold pairs, B better on F1."""
    from conftest import write_mining
    from langgap.tasks import mining_task

    task = mining_task(str(write_mining(tmp_path / "deu-eng", "deu", "eng", gold=60, distractors=60)))
    a = measure(toy(gap=2.5, noise=1.5), [task], projection_points=0)
    b = measure(toy(gap=0.0, noise=0.3), [task], projection_points=0)
    (ta,), (tb,) = a.tasks, b.tasks
    assert ta.kind == "mining" and ta.main_score == "mining_f1" and len(ta.items["gold_found_best"]) == 60
    assert tb.metrics["mining_f1"] == 1.0 and ta.metrics["mining_f1"] < 0.9
    assert a.summary["mining_f1"] == ta.metrics["mining_f1"]
    cmp = compare(a, b, n_boot=300, n_perm=300, seed=0)
    got = {c.metric for c in cmp.changes}
    assert got == {f"mining_{m}{s}" for m in ("f1", "precision", "recall") for s in ("", "_default")}
    f1 = _get(cmp, task.name, "mining_f1")
    assert f1.n_items == 60 and f1.a == pytest.approx(ta.metrics["mining_f1"], abs=1e-6)
    assert f1.verdict == "better" and f1.ci_low > 0 and f1.ci_low <= f1.delta <= f1.ci_high


def _change(task: str, metric: str, verdict: str, delta: float) -> MetricChange:
    return MetricChange(
        task=task,
        kind="bitext",
        metric=metric,
        a=0.5,
        b=0.5 + delta,
        delta=delta,
        ci_low=delta - 0.01,
        ci_high=delta + 0.01,
        p_value=0.123456789,
        significant=verdict != "no-change",
        greater_is_better=True,
        verdict=verdict,  # type: ignore[arg-type]
        n_items=10,
    )


def test_counts_and_json_of_a_comparison():
    verdicts = ["better", "no-change", "worse", "better", "no-change", "no-change"]
    changes = [_change("t", f"m{i}", v, 0.1 * i) for i, v in enumerate(verdicts)]
    cmp = Comparison(
        a={"path": "a"}, b={"path": "b"}, changes=changes, tasks=["t"], only_a=["x"], only_b=["y", "z"]
    )
    assert cmp.counts() == {"better": 2, "worse": 1, "no-change": 3}
    assert Comparison(a={}, b={}, changes=[], tasks=[]).counts() == {"better": 0, "worse": 0, "no-change": 0}
    out = cmp.to_json()
    assert list(out) == [
        "a",
        "b",
        "settings",
        "differences",
        "tasks",
        "only_a",
        "only_b",
        "counts",
        "changes",
    ]
    assert (out["only_a"], out["only_b"], out["counts"]) == (["x"], ["y", "z"], cmp.counts())
    assert [c["metric"] for c in out["changes"]] == [f"m{i}" for i in range(6)]
    assert out["changes"][0]["p_value"] == round_floats(0.123456789)


@pytest.mark.parametrize(
    "delta, significant, gib, want",
    [
        (0.1, False, True, "no-change"),  # not significant: whatever the sign
        (0.0, True, True, "no-change"),
        (float("nan"), True, True, "no-change"),
        (1.0, True, True, "better"),
        (-0.1, True, True, "worse"),
        (0.1, True, False, "worse"),  # lower is better
        (-1.0, True, False, "better"),
    ],
)
def test_verdict_rule(delta, significant, gib, want):
    """MetricChange's rule: better/worse by the sign of delta and the direction when significant."""
    assert _verdict(delta, significant, gib) == want


def test_run_info_records_where_and_what(runs):
    a, b = runs
    a.model["prompt"] = "query: "  # as a run of an E5 model records it
    cmp = compare(a, b, n_boot=20, n_perm=20, a_path="runs/a")
    assert cmp.a == {
        "path": "runs/a",
        "model": a.model.get("name"),
        "prompt": "query: ",
        "created": a.created,
        "schema_version": a.schema_version,
    }
    assert cmp.b["path"] is None  # not read from a directory


def test_compare_defaults_and_resample_counts(runs, monkeypatch):
    """2,000 bootstrap and permutation resamples with seed 0 unless told; 1 of each is allowed,
    0 of either is refused word for word."""
    import langgap.comparison as cmp_mod

    seen = []
    monkeypatch.setattr(cmp_mod, "paired_bootstrap_ci", lambda *a, **k: seen.append(k) or (0.0, 0.0))
    monkeypatch.setattr(cmp_mod, "paired_permutation_pvalue", lambda *a, **k: seen.append(k) or 1.0)
    a, b = runs
    out = compare(a, b)
    assert (out.settings["n_boot"], out.settings["n_perm"], out.settings["seed"]) == (2000, 2000, 0)
    assert {(k.get("n_boot"), k.get("n_perm"), k["seed"]) for k in seen} == {(2000, None, 0), (None, 2000, 0)}
    assert compare(a, b, n_boot=1, n_perm=1).settings["n_boot"] == 1
    for n_boot, n_perm in ((0, 5), (5, 0)):
        with pytest.raises(InputError) as e:
            compare(a, b, n_boot=n_boot, n_perm=n_perm)
        assert str(e.value) == f"n_boot and n_perm must be >= 1, got {n_boot} and {n_perm}"


def test_refusals_name_both_runs_word_for_word(runs):
    """Different files, languages, language pairs or item counts: the message lists A and B."""
    a, b = runs
    ta = a.task("multiway:mw")
    tb = copy.deepcopy(b.task("multiway:mw"))
    tb.files = tb.files[:-1]
    names = lambda t: ", ".join(sorted(Path(f["path"]).name for f in t.files))  # noqa: E731
    with pytest.raises(InputError) as e:
        check_same_data(ta, tb)
    assert str(e.value) == (
        f"task 'multiway:mw': the runs read different data files (A: {names(ta)}; B: {names(tb)}); "
        "refusing to compare"
    )
    tb = copy.deepcopy(b.task("multiway:mw"))
    tb.languages = list(reversed(tb.languages))
    with pytest.raises(InputError) as e:
        check_same_data(ta, tb)
    assert str(e.value) == (
        f"task 'multiway:mw': languages differ between the runs (A: {','.join(ta.languages)}; "
        f"B: {','.join(tb.languages)}); refusing to compare"
    )
    tb = copy.deepcopy(b.task("multiway:mw"))
    first = next(iter(tb.per_pair))
    tb.per_pair = {k: v for k, v in tb.per_pair.items() if k != first}
    with pytest.raises(InputError) as e:
        task_inputs(ta, tb)
    assert str(e.value) == (
        f"task 'multiway:mw': language pairs differ between the runs "
        f"(A: {', '.join(ta.per_pair)}; B: {', '.join(tb.per_pair)})"
    )
    ta, tb = a.task("bitext:deu-eng"), copy.deepcopy(b.task("bitext:deu-eng"))
    key = next(iter(task_inputs(ta, tb)))
    n = len(tb.items[key])
    tb.items[key] = tb.items[key][:-1]
    with pytest.raises(InputError) as e:
        task_inputs(ta, tb)
    assert (
        str(e.value) == f"task 'bitext:deu-eng', {key}: A has {n} items, B has {n - 1}; refusing to compare"
    )


def test_a_metric_missing_from_one_run_is_skipped_and_the_rest_compared(runs):
    a, b = runs
    ta, tb = a.task("bitext:deu-eng"), copy.deepcopy(b.task("bitext:deu-eng"))
    full = list(task_inputs(ta, tb))
    del tb.items[full[0]]
    assert list(task_inputs(ta, tb)) == full[1:]
    assert list(task_inputs(tb, ta)) == full[1:]


def test_comparison_records_only_tasks_kinds_directions_and_its_method(runs):
    """Tasks in one run only are listed by side; every change carries its task's kind and its
    metric's direction; ``settings`` says how intervals and p-values were made, key by key."""
    a, b = runs
    a2, b2 = copy.deepcopy(a), copy.deepcopy(b)
    a2.tasks = [t for t in a2.tasks if t.name != "sts:en-de"]  # sts only in B
    b2.tasks = [t for t in b2.tasks if t.name != "multiway:mw"]  # multiway only in A
    cmp = compare(a2, b2, n_boot=50, n_perm=50, seed=3, alpha=0.1)
    assert cmp.tasks == ["bitext:deu-eng"]
    assert (cmp.only_a, cmp.only_b) == (["multiway:mw"], ["sts:en-de"])
    assert {c.kind for c in cmp.changes} == {a.task("bitext:deu-eng").kind}
    for c in cmp.changes:
        assert c.greater_is_better is greater_is_better(c.metric)
    assert cmp.settings == {
        "n_boot": 50,
        "n_perm": 50,
        "seed": 3,
        "confidence": pytest.approx(0.9),
        "interval": "paired bootstrap over items, percentile",
        "p_value": "paired permutation (per-item A/B swap), two-sided, (count+1)/(n_perm+1)",
    }


def test_alpha_and_seed_reach_every_interval_and_p_value(runs):
    """The interval of each change is the one ``paired_bootstrap_ci`` gives for the same alpha and
    seed; the p-value the one ``paired_permutation_pvalue`` gives for the same seed."""
    a, b = runs
    cmp = compare(a, b, n_boot=200, n_perm=200, seed=7, alpha=0.3)
    inputs = task_inputs(a.task("bitext:deu-eng"), b.task("bitext:deu-eng"))
    stat, xa, xb = inputs["pair_cosine"]
    c = _get(cmp, "bitext:deu-eng", "pair_cosine")
    assert (c.ci_low, c.ci_high) == paired_bootstrap_ci(stat, xa, xb, n_boot=200, alpha=0.3, seed=7)
    assert c.p_value == paired_permutation_pvalue(stat, xa, xb, n_perm=200, seed=7)
    # float32 cosines are averaged in float64, the precision of every other figure
    assert c.a == np.asarray(a.task("bitext:deu-eng").items["pair_cosine"], dtype=np.float64).mean()
    wider = _get(compare(a, b, n_boot=200, n_perm=200, seed=7, alpha=0.01), "bitext:deu-eng", "pair_cosine")
    assert wider.ci_low < c.ci_low and wider.ci_high > c.ci_high


def test_refusal_messages_of_compare_word_for_word(runs, tmp_path, toy):
    a, b = runs
    empty = copy.deepcopy(a)
    empty.tasks = []
    with pytest.raises(InputError) as e:
        compare(empty, b)
    assert str(e.value) == "no task in common: A has none; B has bitext:deu-eng, multiway:mw, sts:en-de"
    with pytest.raises(InputError) as e:
        compare(b, empty)
    assert str(e.value) == "no task in common: A has bitext:deu-eng, multiway:mw, sts:en-de; B has none"
    other = copy.deepcopy(b)
    other.task("sts:en-de").kind = a.task("bitext:deu-eng").kind
    with pytest.raises(InputError) as e:
        compare(a, other)
    sts_kind, bitext_kind = a.task("sts:en-de").kind, a.task("bitext:deu-eng").kind
    assert str(e.value) == f"task 'sts:en-de': kind {sts_kind!r} in A, {bitext_kind!r} in B"
    bare_a, bare_b = copy.deepcopy(a), copy.deepcopy(b)
    for t in bare_a.tasks + bare_b.tasks:
        t.items.clear()
    with pytest.raises(InputError) as e:
        compare(bare_a, bare_b)
    assert str(e.value) == (
        "tasks in common (bitext:deu-eng, multiway:mw, sts:en-de) have no per-item outcomes in both runs "
        "(is items.npz missing from a run directory?)"
    )


def test_xsim_is_resampled_over_sentences_averaging_both_directions(tmp_path, toy):
    """xSIM's per-item outcome is the mean over every pair and both directions, one row per
    sentence: with two languages (two columns) the compared value is still the task's xSIM error."""
    task = multiway_task(write_multiway(tmp_path / "mw2", ["eng", "deu"], 40), "eng,deu")
    a = measure(toy(gap=1.0, noise=1.0), [task], projection_points=0)
    b = measure(toy(gap=0.2, noise=0.3), [task], projection_points=0)
    ta = a.task(task.name)
    d = ta.per_pair[next(iter(ta.per_pair))]
    assert d["xsim_error_src2tgt"] != d["xsim_error_tgt2src"]  # the two columns differ
    c = _get(compare(a, b, n_boot=50, n_perm=50), task.name, "xsim_error")
    assert c.a == pytest.approx(ta.metrics["xsim_error"], abs=1e-9)
    assert c.n_items == 40
    (rows,) = metric_items(ta, registry.get("xsim_error"), list(ta.per_pair))
    assert rows.shape == (40,) and rows.dtype == np.float64
