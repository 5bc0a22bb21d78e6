"""Same-language STS guards (--guard-sts): each language's own Spearman against its start,
flagged past --guard-sts-warn, training stopped past --guard-sts-stop with the last good
checkpoint named; the values reach eval_history.jsonl, the terminal and the model card."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import spearmanr

from langgap.errors import InputError
from langgap.training.config import EvalConfig
from langgap.training.language_guard import LanguageGuards, stopped_by


def _sts(path, lang1, lang2, n=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = [f"{rng.uniform(0, 5):.3f}\t{lang1}:{i}\t{lang2}:{i + 1000}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_each_file_is_scored_against_its_first_value(toy, tmp_path):
    f = _sts(tmp_path / "ar-ar.tsv", "ar", "ar")
    guards = LanguageGuards([str(f)], warn=0.01, stop=0.5)
    first = guards.check(toy())["sts:ar-ar"]
    assert first["language"] == "ar" and first["drop"] == 0 and first["value"] == first["baseline"]
    score, s1, s2 = zip(*(line.split("\t") for line in f.read_text().splitlines()), strict=True)
    enc = toy(noise=3.0)  # another encoder: another rho
    a, b = enc.encode(list(s1)), enc.encode(list(s2))
    cos = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    rho = spearmanr(cos, [float(x) for x in score]).statistic
    later = guards.check(enc)["sts:ar-ar"]
    assert later["value"] == pytest.approx(rho, abs=1e-6) and later["baseline"] == first["value"]
    assert later["drop"] == pytest.approx(first["value"] - rho)
    assert later["warning"] == (later["drop"] > 0.01) and later["stop"] == (later["drop"] > 0.5)


def test_stopped_by_names_each_fallen_guard():
    record = {
        "sts:ar-ar": {"language": "ar", "drop": 0.1234, "stop": True},
        "sts:es-es": {"language": "es", "drop": 0.2, "stop": False},
    }
    assert stopped_by(record) == ["sts:ar-ar (ar) fell by 0.1234"] and stopped_by({}) == []


def test_bad_guard_settings_are_refused(tmp_path):
    cross = _sts(tmp_path / "en-ar.tsv", "en", "ar")
    with pytest.raises(
        InputError,
        match=r"--guard-sts .*en-ar.tsv: a same-language STS file guards one language, this one pairs en with ar",
    ):
        LanguageGuards([str(cross)])
    with pytest.raises(InputError, match=r"--guard-sts-stop must be > 0, got 0"):
        EvalConfig(guard_sts=("x",), guard_sts_stop=0)
    with pytest.raises(InputError, match="--guard-sts-warn and --guard-sts-stop need --guard-sts FILE"):
        EvalConfig(guard_sts_stop=0.05)


def _fake_rhos(monkeypatch, values):
    """The guard's measure returns these Spearman values, one per call."""
    import langgap.training.language_guard as lg

    seq = iter(values)
    monkeypatch.setattr(
        lg,
        "measure",
        lambda enc, loaded, **kw: SimpleNamespace(tasks=[SimpleNamespace(metrics={"spearman": next(seq)})]),
    )


def test_a_fall_past_the_stop_ends_training_with_the_last_good_checkpoint(
    cli, tiny_model_dir, tmp_path, monkeypatch
):
    from conftest import write_bitext

    pairs = write_bitext(tmp_path / "xx-yy.tsv", "xx", "yy", 40)
    guard = tmp_path / "xx-xx.tsv"
    guard.write_text(
        "".join(f"{i % 5}\tw{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(100, 120)), encoding="utf-8"
    )
    out = tmp_path / "run"
    args = ["train", "--model", tiny_model_dir, "--pairs", pairs, "--batch-size", 8, "--max-steps", 4,
            "--eval-every", 1, "--save-every", 1, "--guard-sts", guard, "--out", out]  # fmt: skip
    _fake_rhos(monkeypatch, [0.80, 0.78, 0.76, 0.70])
    code, stdout, err = cli([*args, "--guard-sts-stop", "0.08"])
    assert code == 1
    assert (
        f"error: step 3: sts:xx-xx (xx) fell by 0.1000, more than --guard-sts-stop 0.08; training stopped; "
        f"the last good checkpoint is {out / 'checkpoints' / 'step-2'}"
    ) in err.replace("\n", " ")
    history = [json.loads(x) for x in (out / "eval_history.jsonl").read_text().splitlines()]
    rows = [(r["step"], r["language_guards"]["sts:xx-xx"]) for r in history]
    assert [(s, g["value"], g["warning"], g["stop"]) for s, g in rows] == [
        (0, 0.80, False, False), (1, 0.78, True, False), (2, 0.76, True, False), (3, 0.70, True, True)
    ]  # fmt: skip
    assert all(g["baseline"] == 0.80 for _, g in rows)
    assert "xx guard 0.7800 (-0.0200): sts:xx-xx fell" in stdout + err
    # resumed with a looser stop: the baseline comes from the history (no new starting value)
    _fake_rhos(monkeypatch, [0.795])
    code, _, err = cli([*args, "--guard-sts-stop", "0.5", "--resume"])
    assert code == 0, err
    last = json.loads((out / "eval_history.jsonl").read_text().splitlines()[-1])
    assert (last["step"], last["language_guards"]["sts:xx-xx"]["baseline"]) == (4, 0.80)
    card = (out / "model" / "README.md").read_text(encoding="utf-8")
    assert "| sts:xx-xx (xx guard) | STS ρ ↑ | 0.8000 | 0.7950 | -0.0050 |" in card
