"""`langgap train` through the real entry point: a run end to end, --config, NaN, each bad input."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest


def write_pairs(path: Path, n: int = 32, start: int = 0) -> Path:
    path.write_text(
        "".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(start, start + n)), encoding="utf-8"
    )
    return path


@pytest.fixture
def pairs(tmp_path) -> Path:
    return write_pairs(tmp_path / "xx-yy.tsv")


def base(model: Path, pairs: Path, out: Path) -> list:
    return ["train", "--model", model, "--pairs", pairs, "--batch-size", 8, "--lr", "1e-3", "--out", out]


def test_train_then_measure(cli, tiny_model_dir, pairs, tmp_path):
    bt = write_pairs(tmp_path / "eng-deu.tsv", n=16, start=150)
    out = tmp_path / "run"
    args = base(tiny_model_dir, pairs, out) + [
        "--objective",
        "soft",
        "--labels",
        "average",
        "--tcm-weight",
        0.5,
    ]
    args += [
        "--max-steps",
        4,
        "--eval-bitext",
        bt,
        "--eval-every",
        2,
        "--save-every",
        2,
        "--freeze-embeddings",
    ]
    code, stdout, err = cli(args)
    assert code == 0, err
    assert "eval step 0: bitext:eng-deu accuracy_src2tgt" in err and "eval step 4:" in err
    assert f"model saved to {out / 'model'}" in stdout
    hint = next(line for line in stdout.splitlines() if "langgap measure --model" in line)
    assert (out / "model" / "config_sentence_transformers.json").is_file()
    conf = json.loads((out / "config.json").read_text())["config"]
    assert (conf["objective"], conf["labels"], conf["tcm_weight"], conf["freeze_embeddings"]) == (
        "soft",
        "average",
        0.5,
        True,
    )
    assert len((out / "eval_history.jsonl").read_text().splitlines()) == 3
    # the hint runs as printed
    command = shlex.split(hint.split("measure it: ", 1)[1])
    assert command[:2] == ["langgap", "measure"]
    code, stdout, err = cli(command[1:])
    assert code == 0, err
    res = json.loads((out / "measure" / "results.json").read_text())
    assert res["model"]["prompt"] == "query: "  # the recorded training prompt is the default
    # resume a finished run: nothing left to do, the model is saved again
    code, stdout, err = cli(args + ["--resume"])
    assert code == 0, err
    assert "trained 4 steps" in stdout


def test_config_file_and_overrides(cli, tiny_model_dir, pairs, tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text(
        f'model = "{tiny_model_dir}"\npairs = ["{pairs}"]\nobjective = "mse"\nmax-steps = 5\n'
        f'batch_size = 8\nsave_every = 0\nout = "{tmp_path / "from-toml"}"\n'
    )
    code, stdout, err = cli(["train", "--config", toml, "--max-steps", 2, "--quiet"])
    assert code == 0, err
    conf = json.loads((tmp_path / "from-toml" / "config.json").read_text())["config"]
    assert (conf["objective"], conf["max_steps"], conf["batch_size"]) == ("mse", 2, 8)
    assert (stdout, err) == ("", "")  # --quiet: silent but for errors


def test_nan_loss_exits_non_zero_with_checkpoint_kept(cli, tiny_model_dir, pairs, tmp_path, monkeypatch):
    import langgap.losses.contrastive as contrastive_mod

    real, calls = contrastive_mod.info_nce, []

    def poisoned(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs) * (float("nan") if len(calls) == 3 else 1.0)

    monkeypatch.setattr(contrastive_mod, "info_nce", poisoned)
    out = tmp_path / "run"
    code, _, err = cli(base(tiny_model_dir, pairs, out) + ["--max-steps", 6, "--save-every", 2])
    assert code == 1
    assert "error: step 3: the loss is nan; training stopped and nothing was saved" in err
    assert "step-2" in err and "--resume" in err and "Traceback" not in err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-2"]


@pytest.fixture(scope="module")
def narrow_model_dir(tiny_hf_dir, tmp_path_factory) -> Path:
    """The tiny model with a Dense 32 -> 16 head: a teacher of another dimension."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models

    word = st_models.Transformer(str(tiny_hf_dir), max_seq_length=64)
    st = SentenceTransformer(modules=[word, st_models.Pooling(32, "mean"), st_models.Dense(32, 16)])
    folder = tmp_path_factory.mktemp("narrow")
    st.save(str(folder))
    return folder


@pytest.mark.parametrize(
    "extra, setup, message",
    [
        (
            [],
            lambda p: p.write_text("w1 w2\tw1 w3\nw4 w5\n"),
            r"xx-yy.tsv:2: expected 2 tab-separated fields",
        ),
        ([], lambda p: p.write_text("w1 w2\t\n"), r"xx-yy.tsv:1: field 2 is empty"),
        ([], lambda p: p.write_text(""), r"xx-yy.tsv: file is empty"),
        (["--objective", "infonc"], None, r"unknown --objective 'infonc' \(did you mean 'infonce'\?\)"),
        (
            ["--labels", "prority"],
            None,
            r"unknown --labels 'prority' \(did you mean 'priority'\?\); expected",
        ),
        (["--cross-lingual-fraction", "1.5"], None, r"--cross-lingual-fraction must be in \[0, 1\], got 1.5"),
        (
            ["--cross-lingual-fraction", "-0.1"],
            None,
            r"--cross-lingual-fraction must be in \[0, 1\], got -0.1",
        ),
        (["--resume"], None, r"--resume: no checkpoint in .*checkpoints"),
        (
            ["--objective", "mse", "--teacher", "NARROW"],
            None,
            r"mse needs a teacher of the student's dimension",
        ),
        (["--config", "missing.toml"], None, r"missing.toml: no such file"),
        (["--freeze-layers", "3"], None, r"^error: --freeze-layers 3: the model has 2 transformer layers$"),
        (["--freeze-layers", "-1"], None, r"^error: --freeze-layers must be >= 0, got -1$"),
        (["--length-buckets", "0"], None, r"^error: --length-buckets must be >= 1, got 0$"),
    ],
)
def test_bad_input_exits_2(cli, tiny_model_dir, narrow_model_dir, pairs, tmp_path, extra, setup, message):
    import re

    if setup is not None:
        setup(pairs)
    extra = [narrow_model_dir if x == "NARROW" else x for x in extra]
    code, _, err = cli(base(tiny_model_dir, pairs, tmp_path / "run") + ["--max-steps", 2] + extra)
    assert code == 2, err
    assert re.search(message, err), err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not (tmp_path / "run" / "model").exists()


def test_soft_labels_accept_a_teacher_of_another_dimension(
    cli, tiny_model_dir, narrow_model_dir, pairs, tmp_path
):
    args = base(tiny_model_dir, pairs, tmp_path / "run")
    code, _, err = cli(args + ["--objective", "soft", "--teacher", narrow_model_dir, "--max-steps", 2, "-q"])
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["resolved"]["teacher_dim"] == 16


def test_freeze_layers_and_length_buckets_reach_the_config(cli, tiny_model_dir, pairs, tmp_path):
    """--freeze-layers from the command line and from a TOML file; --length-buckets defaults to 2."""
    out = tmp_path / "run"
    code, _, err = cli(base(tiny_model_dir, pairs, out) + ["--max-steps", 1, "--freeze-layers", 1, "-q"])
    assert code == 0, err
    conf = json.loads((out / "config.json").read_text())["config"]
    assert (conf["freeze_layers"], conf["length_buckets"]) == (1, 2)
    toml = tmp_path / "run.toml"
    toml.write_text("freeze-layers = 1\nlength_buckets = 3\n")
    out = tmp_path / "toml"
    code, _, err = cli(
        base(tiny_model_dir, pairs, out) + ["--config", toml, "--max-steps", 1, "--length-buckets", 1]
    )
    assert code == 0, err
    conf = json.loads((out / "config.json").read_text())["config"]
    assert (conf["freeze_layers"], conf["length_buckets"]) == (1, 1)


def test_the_measure_hint_measures_the_held_out_rows(cli, tiny_model_dir, tmp_path):
    """After --holdout-rows the hint measures the folder of rows training never saw, and it runs."""
    mw = tmp_path / "mw"
    mw.mkdir()
    for lang in ("eng", "deu"):
        (mw / f"{lang}.txt").write_text("".join(f"w{i} w{i + 1}\n" for i in range(40)), encoding="utf-8")
    out = tmp_path / "run"
    args = ["train", "--model", tiny_model_dir, "--multiway", mw, "--pivot", "eng", "--holdout-rows", "0.25",
            "--max-steps", 1, "--batch-size", 8, "--save-every", 0, "--out", out]  # fmt: skip
    code, stdout, err = cli(args)
    assert code == 0, err
    assert "trained 1 step;" in stdout
    hint = stdout.split("measure it: ", 1)[1].strip()
    assert f"--multiway {out / 'holdout'}" in hint
    code, _, err = cli(shlex.split(hint)[1:])
    assert code == 0, err
    res = json.loads((out / "measure" / "results.json").read_text())
    assert [t["kind"] for t in res["tasks"]] == ["multiway"]
    assert {(Path(d["path"]).parent, d["rows"]) for d in res["data"]} == {(out / "holdout", 10)}


def test_a_config_file_says_what_it_set(cli, tiny_model_dir, pairs, tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('objective = "mse"\nmax-steps = 5\nbatch_size = 8\nsave_every = 0\nlr = 2e-5\n')
    args = ["train", "--config", toml, "--model", tiny_model_dir, "--pairs", pairs, "--max-steps", 1,
            "--out", tmp_path / "run"]  # fmt: skip
    code, _, err = cli(args)
    assert code == 0, err
    line = next(x for x in err.splitlines() if x.startswith(f"{toml} set: "))
    assert "objective=mse" in line and "batch_size=8" in line and "save_every=0" in line
    assert "max_steps" not in line and "lr=" not in line  # given on the command line / the default
