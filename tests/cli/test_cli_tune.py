"""``langgap tune`` end to end on the tiny model: trial lines, the recipe it writes trained with
``langgap train --recipe``, a resumed study, ``-q``, and bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import json

import pytest


def _space(tmp_path, tiny_model_dir, body="temperature = { low = 0.02, high = 0.2, log = true }"):
    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(40)))
    val = tmp_path / "val-xx-yy.tsv"
    val.write_text("".join(f"w{i} w{i + 3}\tw{i} w{i + 4}\n" for i in range(60, 76)))
    space = tmp_path / "space.toml"
    space.write_text(
        f'[train]\nmodel = "{tiny_model_dir}"\npairs = ["{pairs}"]\neval_bitext = ["xx,yy={val}"]\n'
        f"batch_size = 8\nmax_steps = 2\neval_every = 1\n\n[space]\n{body}\n"
    )
    return space, pairs


def test_tune_writes_a_recipe_that_train_takes(cli, tmp_path, tiny_model_dir):
    space, pairs = _space(tmp_path, tiny_model_dir)
    out = tmp_path / "tune"
    code, stdout, err = cli(["tune", space, "--trials", 2, "--out", out, "--no-prune"])
    assert code == 0, err
    trials = [x for x in err.splitlines() if x.startswith("trial ")]  # beside the bar, on stderr
    assert trials[0].startswith("trial 0: score ") and "(temperature=" in trials[0]
    assert trials[1].startswith("trial 1: score ") and len(trials) == 2
    lines = stdout.splitlines()
    assert lines[0].startswith("2 trials (2 run now); best: trial ") and len(lines) == 2
    recipe = out / "best.toml"
    assert lines[1] == f"recipe written to {recipe}; train with it: langgap train --recipe {recipe} ..."
    assert (out / "tune_history.png").stat().st_size > 1000 and (
        out / "tune_settings.png"
    ).stat().st_size > 1000
    code, stdout, err = cli(["tune", space, "--trials", 3, "--out", out, "-q"])  # resumed, quiet
    assert (code, stdout) == (0, "") and len((out / "trials.tsv").read_text().splitlines()) == 4
    run = tmp_path / "run"
    code, stdout, err = cli(["train", "--recipe", out / "best.toml", "--model", tiny_model_dir, "--pairs", pairs,
                             "--out", run, "-q"])  # fmt: skip
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())["config"]
    assert config["recipe"] == str(out / "best.toml") and len(config["recipe_sha256"]) == 64
    best = json.loads((out / "tune.json").read_text())["best"]
    assert config["temperature"] == best["params"]["temperature"]
    assert config["max_steps"] == 2 and config["batch_size"] == 8  # the fixed training settings came along
    assert "(file sha256 " in (run / "model" / "README.md").read_text()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("temprature = [0.05]", "unknown setting 'temprature' (did you mean 'temperature'?)"),
        ("lr = { low = 1e-4, high = 1e-5 }", "lr: an empty range (low = 0.0001 is not below high = 1e-05)"),
        ("labels = []", "labels = []: an empty choice"),
    ],
)
def test_bad_spaces_are_one_line_and_write_nothing(cli, tmp_path, tiny_model_dir, body, message):
    space, _ = _space(tmp_path, tiny_model_dir, body)
    code, stdout, err = cli(["tune", space, "--out", tmp_path / "tune"])
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert err.startswith(f"error: {space}: [space] ") and message in err
    assert not (tmp_path / "tune").exists()


def test_a_space_without_validation_data_or_a_bad_recipe(cli, tmp_path):
    space = tmp_path / "s.toml"
    space.write_text("[train]\nbatch_size = 8\n[space]\nlr = { low = 1e-5, high = 1e-4 }\n")
    code, _, err = cli(["tune", space, "--out", tmp_path / "t"])
    assert code == 2 and "[train] gives no validation data (eval_bitext, eval_sts)" in err
    code, _, err = cli(["tune", space, "--recipe", "many-language", "--out", tmp_path / "t"])
    assert code == 2 and "unknown --recipe 'many-language' (did you mean 'many-languages'?" in err
    assert not (tmp_path / "t").exists()
