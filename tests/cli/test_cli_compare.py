"""`langgap compare` through the real entry point: happy path and each kind of bad input."""

from __future__ import annotations

import json

import pytest

import langgap.cli.compare  # noqa: F401  (registers the command until main() imports it)
from conftest import write_bitext, write_multiway
from langgap.measuring import measure
from langgap.tasks import bitext_task, multiway_task


@pytest.fixture
def runs(tmp_path, toy):
    tasks = [
        bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 60)),
        multiway_task(write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 40), "eng,deu,fra"),
    ]
    measure(toy(gap=2.5, noise=1.2), tasks, projection_points=0).save(tmp_path / "runs" / "base")
    measure(toy(gap=0.3, noise=0.4), tasks, projection_points=0).save(tmp_path / "runs" / "tuned")
    return tmp_path / "runs" / "base", tmp_path / "runs" / "tuned"


def test_compare_happy_path(cli, runs, tmp_path):
    a, b = runs
    code, out, err = cli(["compare", a, b, "--out", tmp_path / "cmp", "--n-boot", 300, "--n-perm", 300])
    assert code == 0, err
    assert "bitext:deu-eng" in out and "pair cos" in out and "▲ better" in out
    assert "…" not in out  # nothing cropped at 80 columns
    assert "better" in err and "wrote" in err
    d = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert d["a"]["path"] == str(a) and d["b"]["path"] == str(b)
    assert d["settings"] == {**d["settings"], "n_boot": 300, "n_perm": 300, "seed": 0}
    pc = [c for c in d["changes"] if c["task"] == "bitext:deu-eng" and c["metric"] == "pair_cosine"][0]
    assert pc["delta"] > 0 and pc["significant"] and pc["verdict"] == "better"
    for name in ("compare.md", "compare.html", "compare.png"):
        assert (tmp_path / "cmp" / name).stat().st_size > 0


def test_default_out_is_next_to_run_b(cli, runs):
    a, b = runs
    code, _, err = cli(["compare", a, b / "results.json", "--n-boot", 50, "--n-perm", 50, "-q"])
    assert code == 0, err
    assert (b.parent / "tuned-vs-base" / "compare.json").is_file()


def test_no_common_task_exit_2(cli, runs, tmp_path, toy):
    a, _ = runs
    other = bitext_task(write_bitext(tmp_path / "fra-eng.tsv", "fra", "eng", 20))
    measure(toy(), [other], projection_points=0).save(tmp_path / "other")
    code, _, err = cli(["compare", a, tmp_path / "other", "--out", tmp_path / "cmp"])
    assert code == 2 and err.startswith("error: no task in common") and "Traceback" not in err
    assert "bitext:fra-eng" in err


def test_schema_version_mismatch_exit_2(cli, runs, tmp_path):
    a, b = runs
    p = b / "results.json"
    d = json.loads(p.read_text())
    d["schema_version"] = 99
    p.write_text(json.dumps(d))
    code, _, err = cli(["compare", a, b, "--out", tmp_path / "cmp"])
    assert code == 2 and "schema version 99" in err and str(p) in err and "Traceback" not in err


def test_directory_without_results_exit_2(cli, runs, tmp_path):
    a, _ = runs
    (tmp_path / "empty").mkdir()
    code, _, err = cli(["compare", tmp_path / "empty", a, "--out", tmp_path / "cmp"])
    assert code == 2 and "no results.json" in err and "empty" in err
    assert not (tmp_path / "cmp").exists()


def test_changed_data_file_exit_2(cli, runs, tmp_path, toy):
    a, _ = runs
    path = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 61)  # rewritten after run A
    measure(toy(), [bitext_task(path)], projection_points=0).save(tmp_path / "changed")
    code, _, err = cli(["compare", a, tmp_path / "changed", "--out", tmp_path / "cmp"])
    assert code == 2 and "data file deu-eng.tsv differs" in err and "refusing to compare" in err


def test_bad_n_boot_exit_2(cli, runs):
    a, b = runs
    code, _, err = cli(["compare", a, b, "--n-boot", 0])
    assert code == 2 and "--n-boot and --n-perm must be >= 1" in err


def test_compare_names_every_setting_that_differs(cli, tmp_path):
    from conftest import ToyEncoder, write_bitext
    from langgap.measuring import measure
    from langgap.tasks import bitext_task

    tasks = [bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 40))]
    measure(ToyEncoder(gap=1.0), tasks, projection_points=0).save(tmp_path / "k4")
    measure(ToyEncoder(gap=1.0), tasks, projection_points=0, k=8, seed=3).save(tmp_path / "k8")
    code, _, err = cli(["compare", tmp_path / "k4", tmp_path / "k8", "--out", tmp_path / "cmp", "-q"])
    assert code == 0, err
    assert "differs: config.k 4 → 8" in err and "differs: config.seed 0 → 3" in err
    assert "model.name" not in err  # the same model: not listed
    d = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert d["differences"] == {"config.k": [4, 8], "config.seed": [0, 3]}
    assert "Settings that differ (A → B): config.k 4 → 8; config.seed 0 → 3." in (
        tmp_path / "cmp" / "compare.md"
    ).read_text(encoding="utf-8")
