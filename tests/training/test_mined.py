"""``--mine-from``: rounds of mining and training on the tiny model (training/mined.py, the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import langgap.training.mined as mined_module
from langgap.errors import InputError
from langgap.training.config import TrainConfig
from langgap.training.mined import round_config, train_mined


def write_mono(folder: Path, n: int = 40, distractors: int = 20, seed: int = 0) -> Path:
    """``xx.txt`` (``w{i} w{i+1}``) and the pivot ``yy.txt`` (``w{i} w{i+2}``: the translation
    shares the first word) plus pivot sentences that translate nothing, each side shuffled."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    xx = [f"w{i} w{i + 1}" for i in range(n)]
    yy = [f"w{i} w{i + 2}" for i in range(n)] + [f"{i} {i + 7} {i + 3}" for i in range(distractors)]
    for name, lines in (("xx", xx), ("yy", yy)):
        lines = [lines[i] for i in rng.permutation(len(lines))]
        (folder / f"{name}.txt").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return folder


def config(tmp_path: Path, model: Path, **kw) -> TrainConfig:
    base = dict(
        model=str(model),
        mine_from=str(write_mono(tmp_path / "mono")),
        pivot="yy",
        mine_threshold=1.0,
        batch_size=8,
        max_steps=2,
        lr=1e-3,
        save_every=1,
        out=str(tmp_path / "boot"),
    )
    return TrainConfig.from_flat(**{**base, **kw})


def test_two_rounds_write_pairs_runs_and_a_final_model(tmp_path, tiny_model_dir):
    dev = tmp_path / "xx-yy.tsv"
    dev.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(40)), encoding="utf-8")
    cfg = config(tmp_path, tiny_model_dir, rounds=2, mine_dev=[str(dev)])
    rounds = []
    result = train_mined(cfg, on_round=lambda k, meta: rounds.append((k, meta)))
    out = tmp_path / "boot"
    assert [k for k, _ in rounds] == [1, 2] and result.model_dir == out / "model"
    assert rounds[0][1]["model"] == str(tiny_model_dir)  # round 2 mines with round 1's model
    assert rounds[1][1]["model"] == str(out / "rounds" / "round-1" / "model")
    for k, meta in rounds:
        folder = out / "mined" / f"round-{k}"
        assert sorted(p.name for p in folder.iterdir()) == ["candidates", "mine.json", "xx-yy.tsv"]
        x = meta["languages"]["xx"]
        kept = (folder / "xx-yy.tsv").read_text(encoding="utf-8").splitlines()
        assert len(kept) == x["kept"] > 0 and x["candidates"] == 40
        assert x["dev"]["known"] == 40 and x["dev"]["kept"] == x["kept"]
        assert x["threshold"] == {"value": 1.0, "from": "given"}
        run = json.loads((out / "rounds" / f"round-{k}" / "config.json").read_text(encoding="utf-8"))
        assert run["config"]["pairs"] == [str(folder / "xx-yy.tsv")] and run["config"]["mine_from"] is None
        assert run["config"]["priority"] == ["yy"]  # the pivot side is the soft labels' side
    record = json.loads((out / "rounds.json").read_text(encoding="utf-8"))
    assert [r["round"] for r in record["rounds"]] == [1, 2] and record["config"]["rounds"] == 2
    last = out / "rounds" / "round-2" / "model"
    assert (out / "model" / "model.safetensors").read_bytes() == (last / "model.safetensors").read_bytes()
    card = (out / "model" / "README.md").read_text(encoding="utf-8")
    assert card.startswith((last / "README.md").read_text(encoding="utf-8").rstrip("\n"))
    assert "## Mined training data" in card and "| 2 | xx | 40 | 40 |" in card
    assert "## Mined training data" not in (last / "README.md").read_text(encoding="utf-8")  # not linked


def test_a_stopped_run_resumes_at_its_round_and_step(tmp_path, tiny_model_dir, monkeypatch):
    cfg = config(tmp_path, tiny_model_dir, rounds=2, max_steps=3)
    real, calls = mined_module.train, []

    def stop_in_round_two(run_cfg, **kw):
        calls.append((run_cfg.output.out, kw["resume"]))
        if run_cfg.output.out.endswith("round-2") and len(calls) == 2:

            def progress(step, *_):
                if step == 2:  # after the checkpoint of step 2
                    raise KeyboardInterrupt

            kw["progress"] = progress
        return real(run_cfg, **kw)

    monkeypatch.setattr(mined_module, "train", stop_in_round_two)
    with pytest.raises(KeyboardInterrupt):
        train_mined(cfg)
    out = tmp_path / "boot"
    first = (out / "mined" / "round-1" / "mine.json").stat().st_mtime_ns
    assert not (out / "model").exists() and (out / "mined" / "round-2" / "mine.json").exists()
    with pytest.raises(InputError, match="already holds a --mine-from run: continue it with --resume"):
        train_mined(cfg)
    result = train_mined(cfg, resume=True)
    assert calls[2:] == [(str(out / "rounds" / "round-2"), True)]  # round 1 not trained again
    assert (out / "mined" / "round-1" / "mine.json").stat().st_mtime_ns == first  # nor mined again
    assert result.last is not None and result.last.step == 3
    steps = [
        json.loads(x)["step"]
        for x in (out / "rounds" / "round-2" / "train_log.jsonl").read_text().splitlines()
    ]
    assert steps == [1, 2, 3]
    again = train_mined(cfg, resume=True)  # everything done: the final model, nothing trained
    assert again.last is None and (out / "model" / "config.json").exists()


def test_resume_needs_a_started_run(tmp_path, tiny_model_dir):
    with pytest.raises(InputError, match="--resume: .* holds no --mine-from run"):
        train_mined(config(tmp_path, tiny_model_dir), resume=True)


def test_round_config_trains_the_mined_files_beside_the_runs_own_pairs(tmp_path, tiny_model_dir):
    cfg = config(tmp_path, tiny_model_dir, pairs=["a/xx-zz.tsv"], rounds=3, mine_cap=5)
    one = round_config(cfg, 2, "prev/model", [Path("m/xx-yy.tsv")])
    assert one.model.name == "prev/model" and one.data.pairs == ("a/xx-zz.tsv", "m/xx-yy.tsv")
    assert one.data.mine_from is None and one.data.pivot is None and not one.mine.used
    assert one.output.out == str(tmp_path / "boot" / "rounds" / "round-2") and one.optim == cfg.optim


def test_plain_training_refuses_mine_from(tmp_path, tiny_model_dir):
    from langgap.training.loop import train

    with pytest.raises(InputError, match="--mine-from trains in rounds"):
        train(config(tmp_path, tiny_model_dir))


def test_cli_runs_the_rounds_and_prints_each(tmp_path, tiny_model_dir, cli):
    mono = write_mono(tmp_path / "mono")
    out = tmp_path / "boot"
    args = [
        "train",
        "--model",
        tiny_model_dir,
        "--mine-from",
        mono,
        "--pivot",
        "yy",
        "--mine-threshold",
        "1.0",
    ]
    args += ["--rounds", "2", "--max-steps", "1", "--batch-size", "8", "--save-every", "0", "--out", out]
    code, stdout, stderr = cli(args)
    assert code == 0, stderr
    assert "round 1 of 2:" in stderr and "round 2 of 2:" in stderr  # progress notes: stderr
    assert "  xx: 40 sentences, " in stderr and "trained 2 rounds on mined pairs" in stdout
    assert (out / "model" / "config.json").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--pivot", "zz"], r"no zz.txt, the --pivot side \(xx, yy\)"),
        (["--rounds", "0"], "--rounds must be >= 1, got 0"),
        (["--mine-dev", "DEV"], r"--mine-dev .*pairs.tsv: name it <x>-yy.tsv"),
        (["--mine-calibrate"], "--mine-calibrate finds each language's threshold on --mine-dev"),
        (["--mine-threshold", "9"], None),  # no pair: after the model is loaded, still nothing written
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, tiny_model_dir, cli, extra, message):
    mono = write_mono(tmp_path / "mono")
    (tmp_path / "pairs.tsv").write_text("w1 w2\tw1 w3\n", encoding="utf-8")
    extra = [str(tmp_path / "pairs.tsv") if x == "DEV" else x for x in extra]
    args = ["train", "--model", tiny_model_dir, "--mine-from", mono, "--pivot", "yy", "--max-steps", "1"]
    args += ["--batch-size", "8", "--out", tmp_path / "boot", *extra]
    if "--pivot" in extra:
        args[5:7] = []
    code, stdout, stderr = cli(args)
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    if message is None:
        assert "no language kept a mined pair: the best margin score was" in lines[0]
    else:
        assert __import__("re").search(message, lines[0]), lines[0]
    assert not (tmp_path / "boot" / "mined").exists() and not (tmp_path / "boot" / "model").exists()


def test_terminal_lines_of_a_round(tmp_path):
    from langgap.cli.train_mined import interrupted_note, language_line

    x = {
        "distinct": 1200,
        "kept": 800,
        "threshold": {"value": 1.03, "from": "default"},
        "dropped": {"threshold": 300, "identical": 0, "length": 12, "repeated": 88, "cap": 0},
        "dev": {"precision": 0.91, "recall": 0.8, "f1": 0.85},
    }
    assert language_line("hau", x) == (
        "  hau: 1,200 sentences, 800 pairs kept (score >= 1.0300, default); dropped 300 threshold, "
        "12 length, 88 repeated; --mine-dev: precision 0.910, recall 0.800, F1 0.850"
    )
    assert "the same command starts" in interrupted_note(str(tmp_path / "boot"))
    (tmp_path / "boot" / "mined").mkdir(parents=True)
    assert "continue with the same command and --resume" in interrupted_note(str(tmp_path / "boot"))


def test_a_vocabulary_swap_happens_in_round_1_only(tmp_path, tiny_model_dir):
    """--tokenizer (with --init mapped) changes round 1's student; later rounds start from a model
    that already has the new vocabulary, so they carry none of it (before, round 2's config was
    refused: --init mapped without --tokenizer)."""
    cfg = config(
        tmp_path, tiny_model_dir, rounds=2, tokenizer="tok", trim_vocab=True, init="mapped", init_from="src"
    )
    first = round_config(cfg, 1, "start", [])
    assert (first.model.tokenizer, first.model.trim_vocab, first.model.init, first.model.init_from) == (
        "tok",
        True,
        "mapped",
        "src",
    )
    second = round_config(cfg, 2, "round-1/model", [])
    assert (second.model.tokenizer, second.model.trim_vocab, second.model.init, second.model.init_from) == (
        None,
        False,
        "mean",
        None,
    )
    assert second.model.init_map == cfg.model.init_map and second.model.max_length == cfg.model.max_length
