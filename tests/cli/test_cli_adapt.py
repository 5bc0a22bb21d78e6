"""`langgap measure --adapt` through the real entry point: happy paths and bad options."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import write_bitext


def _rotated_npy(tmp_path, n=40, d=8):
    """deu-eng.tsv and deu-eng.npy whose German column is the English one rotated."""
    bt = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", n)
    rng = np.random.default_rng(0)
    eng = rng.standard_normal((n, d))
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    np.save(tmp_path / "deu-eng.npy", np.stack([eng @ q, eng], axis=1))  # (N, 2, D)
    return bt


def test_procrustes_with_precomputed_embeddings(cli, tmp_path):
    bt = _rotated_npy(tmp_path)
    code, out, err = cli(
        [
            "measure",
            "--embeddings",
            tmp_path,
            "--bitext",
            bt,
            "--adapt",
            "procrustes",
            "--out",
            tmp_path / "run",
        ]
    )
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    raw, pro = d["tasks"]
    assert [raw["name"], pro["name"]] == ["bitext:deu-eng", "bitext:deu-eng+procrustes"]
    assert pro["metrics"]["accuracy_src2tgt"] == 1.0 and raw["metrics"]["accuracy_src2tgt"] < 1.0
    assert pro["notes"]["adapt_pivot"] == "eng" and pro["notes"]["adapt_eval_rows"] == "20"
    assert d["config"]["adapt"] == {"method": "procrustes", "fit_fraction": 0.5, "pivot": "auto", "seed": 0}
    assert "bitext_accuracy+procrustes" in d["summary"]
    with np.load(tmp_path / "run" / "items.npz") as z:
        assert (
            z["bitext:deu-eng/accuracy_src2tgt"].shape
            == z["bitext:deu-eng+procrustes/accuracy_src2tgt"].shape
        )
    assert "deu-eng+procrustes" in out and "--adapt procrustes: fitted on 0.5" in err


def test_center_with_tiny_model_and_sts(cli, tiny_model_dir, tmp_path):
    bt = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 30)
    sts = tmp_path / "en-de.tsv"
    sts.write_text("".join(f"{i % 5}\teng : w{i}\tdeu : w{i + 1}\n" for i in range(20)), encoding="utf-8")
    args = ["measure", "--model", tiny_model_dir, "--bitext", bt, "--sts", sts, "--out", tmp_path / "run"]
    code, _, err = cli([*args, "--adapt", "center", "--adapt-fit-fraction", "0.4", "--seed", "2", "-q"])
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    names = [t["name"] for t in d["tasks"]]
    assert names == ["bitext:deu-eng", "bitext:deu-eng+center", "sts:en-de", "sts:en-de+center"]
    assert (
        d["tasks"][1]["notes"]["adapt_fit_rows"] == "12" and d["tasks"][3]["notes"]["adapt_eval_rows"] == "12"
    )
    assert d["config"]["adapt"]["fit_fraction"] == 0.4 and d["config"]["adapt"]["seed"] == 2
    code, _, err = cli([*args, "--adapt", "procrustes", "-q"])  # STS stays raw, on all rows
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [t["name"] for t in d["tasks"]] == ["bitext:deu-eng", "bitext:deu-eng+procrustes", "sts:en-de"]
    assert "STS has none" in d["tasks"][2]["notes"]["adapt_note"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--adapt", "center", "--adapt-fit-fraction", "1.5"],
            r"--adapt-fit-fraction must be in (0, 1), got 1.5",
        ),
        (
            ["--adapt", "center", "--adapt-fit-fraction", "0"],
            r"--adapt-fit-fraction must be in (0, 1), got 0",
        ),
        (["--adapt-fit-fraction", "0.3"], "give --adapt too"),
        (["--adapt", "center", "--adapt-pivot", "eng"], "--adapt-pivot is used by --adapt procrustes only"),
        (
            ["--adapt", "procrustes", "--adapt-pivot", "engl"],
            "'engl' is a language of no task (did you mean 'eng'?)",
        ),
    ],
)
def test_bad_adapt_options_exit_2(cli, tmp_path, extra, message):
    bt = _rotated_npy(tmp_path)
    code, _, err = cli(
        ["measure", "--embeddings", tmp_path, "--bitext", bt, *extra, "--out", tmp_path / "run"]
    )
    assert code == 2 and err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_unknown_adapt_method_exit_2(cli, tmp_path):
    code, _, err = cli(["measure", "--adapt", "foo", "--out", tmp_path / "run"])
    assert code == 2 and "Invalid value for '--adapt'" in err and "'foo'" in err
    assert "center" in err and "procrustes" in err


def test_too_few_rows_exit_2(cli, tmp_path):
    bt = _rotated_npy(tmp_path, n=6)
    code, _, err = cli(["measure", "--embeddings", tmp_path, "--bitext", bt, "--adapt", "center"])
    assert code == 2 and "bitext:deu-eng: 6 rows are too few" in err
