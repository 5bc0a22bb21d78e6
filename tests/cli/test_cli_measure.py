"""`langgap measure` through the real entry point: happy paths and each kind of bad input."""

from __future__ import annotations

import json

import pytest

from conftest import write_bitext, write_multiway


def test_default_sample_run(cli, tiny_model_dir, tmp_path):
    code, out, err = cli(["measure", "--model", tiny_model_dir, "--out", tmp_path / "run"])
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [t["kind"] for t in d["tasks"]] == ["sample"]
    assert d["model"]["prompt"] == "query: "  # the model's configured query prompt, said on stderr
    assert "configured 'query' prompt" in err
    assert "sample" in out and "Summary" in out
    report = (tmp_path / "run" / "report.md").read_text()
    assert "projection_0.png" in report and (tmp_path / "run" / "projection_0.png").stat().st_size > 10_000


@pytest.mark.parametrize("command", ["measure", "embed", "mine"])
def test_quiet_prints_nothing_but_the_results_files(cli, tiny_model_dir, tmp_path, command):
    """-q: no model, prompt or summary line on stderr, no table on stdout."""
    text = tmp_path / "deu.txt"
    text.write_text("w1 w2\nw3 w4\nw5 w6\n", encoding="utf-8")
    other = tmp_path / "eng.txt"
    other.write_text("w1 w3\nw4 w5\nw2 w6\n", encoding="utf-8")
    args = {
        "measure": ["measure", "--no-cache"],
        "embed": ["embed", text],
        "mine": ["mine", text, other, "--no-cache", "--k", "2"],
    }[command]
    code, out, err = cli([*args, "--model", tiny_model_dir, "--out", tmp_path / "out", "-q"])
    assert code == 0, err
    assert (out, err) == ("", "")


def test_a_k_larger_than_a_task_is_refused_before_the_model_loads(cli, tmp_path):
    bt = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 35)
    code, _, err = cli(["measure", "--model", tmp_path / "no-model", "--bitext", bt, "--k", "100",
                        "--out", tmp_path / "run"])  # fmt: skip
    assert code == 2 and "--k 100 is more than bitext:deu-eng's 35 rows" in err, err
    assert not (tmp_path / "run").exists()


def test_files_and_second_run_uses_cache(cli, tiny_model_dir, tmp_path):
    bt = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 30)
    mw = write_multiway(tmp_path / "mw", ["eng_Latn", "deu_Latn", "fra_Latn"], 20)
    args = [
        "measure",
        "--model",
        tiny_model_dir,
        "--prompt",
        "",
        "--bitext",
        bt,
        "--multiway",
        mw,
        "--langs",
        "eng_Latn,deu_Latn",
        "--out",
        tmp_path / "run",
    ]
    code, _, err = cli(args)
    assert code == 0, err
    code, _, err = cli(args)
    assert code == 0 and "encoded 0 texts" in err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert d["encoding"]["encoded"] == 0 and d["model"]["prompt"] == ""
    assert d["tasks"][1]["languages"] == ["eng_Latn", "deu_Latn"]


@pytest.mark.parametrize(
    "setup, message",
    [
        (
            lambda p: (p / "deu-eng.tsv").write_text("a\tb\nc\n"),
            r"deu-eng.tsv:2: expected 2 tab-separated fields",
        ),
        (lambda p: (p / "deu-eng.tsv").write_text("a\tb\n\tc\n"), r"deu-eng.tsv:2: field 1 is empty"),
        (lambda p: (p / "deu-eng.tsv").write_bytes(b"a\tb\n\xc3\x28\tc\n"), r"deu-eng.tsv:2: invalid UTF-8"),
    ],
)
def test_bad_bitext_exit_2(cli, tmp_path, setup, message):
    setup(tmp_path)
    code, _, err = cli(["measure", "--bitext", tmp_path / "deu-eng.tsv", "--out", tmp_path / "run"])
    assert code == 2
    assert err.startswith("error: ") and "Traceback" not in err
    import re

    assert re.search(message, err)


def test_bad_multiway_and_langs_exit_2(cli, tmp_path):
    mw = write_multiway(tmp_path / "mw", ["eng_Latn", "deu_Latn"], 5)
    code, _, err = cli(["measure", "--multiway", mw, "--langs", "eng_Latn,swh_Latn"])
    assert code == 2 and "no file for language 'swh_Latn'" in err
    (mw / "deu_Latn.txt").write_text("x\n")
    code, _, err = cli(["measure", "--multiway", mw])
    assert code == 2 and "unequal line counts" in err
    code, _, err = cli(["measure", "--langs", "eng_Latn,deu_Latn"])
    assert code == 2 and "give --multiway too" in err


def test_unreadable_model_path_exit_2(cli, tmp_path):
    code, _, err = cli(["measure", "--model", tmp_path / "missing-model", "--out", tmp_path / "run"])
    assert code == 2 and "no such file or directory" in err and "Traceback" not in err


def test_precomputed_embeddings(cli, tmp_path):
    import numpy as np

    bt = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 12)
    rng = np.random.default_rng(0)
    base = rng.standard_normal((12, 1, 8))
    np.save(
        tmp_path / "deu-eng.npy",
        np.concatenate([base, base + 0.01 * rng.standard_normal((12, 1, 8))], axis=1),
    )
    code, _, err = cli(["measure", "--embeddings", tmp_path, "--bitext", bt, "--out", tmp_path / "run"])
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert d["model"]["kind"] == "precomputed" and d["tasks"][0]["metrics"]["accuracy_src2tgt"] == 1.0
    np.save(tmp_path / "deu-eng.npy", base)
    code, _, err = cli(["measure", "--embeddings", tmp_path, "--bitext", bt, "--out", tmp_path / "run"])
    assert code == 2 and "deu-eng.npy: shape (12, 1, 8) does not match" in err


def test_version_and_python_m(cli):
    code, out, _ = cli(["--version"])
    assert code == 0 and out.startswith("langgap ")
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "langgap", "measure", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--prompt-name" in proc.stdout


def test_multiway_without_langs_says_how_much_it_reads(cli, tiny_model_dir, tmp_path):
    mw = write_multiway(tmp_path / "mw", ["eng_Latn", "deu_Latn", "fra_Latn"], 20)
    code, _, err = cli(["measure", "--model", tiny_model_dir, "--multiway", mw, "--out", tmp_path / "run"])
    assert code == 0, err
    assert f"{mw}: all 3 languages (60 texts); --langs a,b,c measures some of them" in err.replace("\n", " ")


def test_help_shows_flags_without_a_type():
    """Flags show no type, repeatable options the type of one value, usage lines plain names."""
    from typer.testing import CliRunner

    import langgap.cli.compare  # noqa: F401  (each module registers its command)
    import langgap.cli.measure  # noqa: F401
    import langgap.cli.mine  # noqa: F401
    import langgap.cli.report  # noqa: F401
    import langgap.cli.table  # noqa: F401
    import langgap.cli.train  # noqa: F401
    from langgap.cli import app

    for command in ("measure", "train", "compare", "report", "mine", "table"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert "--help" in text and "<bool>" not in text and "<list[" not in text, command
        assert "{" not in text.splitlines()[1], text.splitlines()[1]  # Usage: ... SRC TGT, not {SRC}
    mine_usage = CliRunner().invoke(app, ["mine", "--help"], env={"COLUMNS": "200"}).output.splitlines()[1]
    assert mine_usage.strip() == "Usage: langgap mine [OPTIONS] SRC TGT"
    assert "<int>" in CliRunner().invoke(app, ["measure", "--help"], env={"COLUMNS": "200"}).output


def test_mining_set_in_results_report_and_adapt(cli, tiny_model_dir, tmp_path):
    from conftest import write_mining

    folder = write_mining(tmp_path / "deu-eng", "deu", "eng", gold=20, distractors=30)
    args = ["measure", "--model", tiny_model_dir, "--prompt", "", "--mining", folder]
    code, out, err = cli([*args, "--adapt", "center", "--out", tmp_path / "run"])
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    (task,) = d["tasks"]  # no adapted twin: a mining set does not split
    assert (task["name"], task["kind"], task["languages"]) == ("mining:deu-eng", "mining", ["deu", "eng"])
    assert "do not split" in task["notes"]["adapt_note"] and 0.0 <= task["metrics"]["mining_f1"] <= 1.0
    assert {"mining_f1", "mining_f1_default"} <= set(d["summary"])
    assert "Mining (BUCC-style), at the F1-best threshold" in out
    report = (tmp_path / "run" / "report.md").read_text()
    assert "hidden translations with F1" in report and "| R ↑ | thr |" in report  # a setting: no arrow
    (folder / "gold.tsv").write_text("1\t1\n2\t99\n", encoding="utf-8")
    code, _, err = cli([*args, "--out", tmp_path / "bad"])
    assert code == 2 and "gold.tsv:2: target line 99 is outside 1..50" in err
    assert not (tmp_path / "bad").exists()
