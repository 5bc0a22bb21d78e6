"""`langgap table` through the real entry point: happy path and each kind of bad input (one line,
exit status 2)."""

from __future__ import annotations

import json

import pytest

import langgap.cli.table  # noqa: F401  (registers the command until main() imports it)
from conftest import write_bitext, write_multiway
from langgap.measuring import measure
from langgap.tasks import bitext_task, multiway_task


@pytest.fixture
def runs(tmp_path, toy):
    tasks = [
        bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 40)),
        multiway_task(write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 30), "eng,deu,fra"),
    ]
    out = {}
    for name, gap, noise in (("base", 2.5, 1.2), ("tuned-s0", 0.3, 0.4), ("tuned-s1", 0.3, 0.5)):
        measure(toy(gap=gap, noise=noise), tasks, projection_points=0).save(tmp_path / "runs" / name)
        out[name] = tmp_path / "runs" / name
    return out


def _one_line_exit_2(code: int, err: str) -> None:
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_table_happy_path(cli, runs, tmp_path):
    args = ["table", runs["tuned-s0"], runs["tuned-s1"], "--baseline", runs["base"], "--group-seeds"]
    code, out, err = cli([*args, "--metric", "pair_cosine", "--out", tmp_path / "t", "--n-boot", 200])
    assert code == 0, err
    assert "Ranking" in out and "tuned" in out and "base" in out
    assert "3 runs, 2 tasks" in err and "table.md" in err
    d = json.loads((tmp_path / "t" / "table.json").read_text(encoding="utf-8"))
    assert d["columns"] == {"base": ["base"], "tuned": ["tuned-s0", "tuned-s1"]}
    assert d["ranking"][0]["column"] == "tuned" and d["settings"]["n_boot"] == 200
    assert {r["metric"] for r in d["rows"]} == {"pair_cosine"}
    for name in ("table.md", "table.html", "table.png"):
        assert (tmp_path / "t" / name).stat().st_size > 0
    # the same folder again is replaced; another kind of folder is refused
    assert cli([*args, "--out", tmp_path / "t", "-q"])[0] == 0
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = cli([*args, "--out", tmp_path / "busy"])
    _one_line_exit_2(code, err)
    assert (tmp_path / "busy" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_one_run_exit_2(cli, runs, tmp_path):
    code, _, err = cli(["table", runs["base"], "--out", tmp_path / "t"])
    _one_line_exit_2(code, err)
    assert "two or more runs, got 1" in err and not (tmp_path / "t").exists()


def test_runs_on_different_data_exit_2(cli, runs, tmp_path, toy):
    other = bitext_task(write_bitext(tmp_path / "fra-eng.tsv", "fra", "eng", 20))
    measure(toy(), [other], projection_points=0).save(tmp_path / "other")
    code, _, err = cli(["table", runs["base"], tmp_path / "other", "--out", tmp_path / "t"])
    _one_line_exit_2(code, err)
    assert "share no task" in err and "other: bitext:fra-eng" in err and "base: bitext:deu-eng" in err


def test_baseline_on_other_data_exit_2(cli, runs, tmp_path, toy):
    other = bitext_task(write_bitext(tmp_path / "fra-eng.tsv", "fra", "eng", 20))
    measure(toy(), [other], projection_points=0).save(tmp_path / "other")
    code, _, err = cli(
        ["table", runs["base"], runs["tuned-s0"], "--baseline", tmp_path / "other", "--out", tmp_path / "t"]
    )
    _one_line_exit_2(code, err)
    assert "--baseline" in err and "no task on the runs' data" in err


def test_unregistered_metric_exit_2(cli, runs, tmp_path):
    code, _, err = cli(
        [
            "table",
            runs["base"],
            runs["tuned-s0"],
            "--metric",
            "bitext:deu-eng:pair_cosin",
            "--out",
            tmp_path / "t",
        ]
    )
    _one_line_exit_2(code, err)
    assert "'pair_cosin' is not a registered metric (did you mean 'pair_cosine'?)" in err


def test_bad_options_exit_2(cli, runs, tmp_path):
    code, _, err = cli(["table", runs["base"], runs["tuned-s0"], "--n-boot", 0, "--out", tmp_path / "t"])
    _one_line_exit_2(code, err)
    code, _, err = cli(["table", runs["base"], tmp_path / "missing", "--out", tmp_path / "t"])
    _one_line_exit_2(code, err)
    assert "no results.json" in err
