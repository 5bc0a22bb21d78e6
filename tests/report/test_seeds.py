"""The seed-group rule of ``langgap table --group-seeds`` (:mod:`langgap.report.seeds`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ToyEncoder, write_bitext
from langgap.measuring import measure
from langgap.report.seeds import run_name, seed_key, split_seed, training_config
from langgap.report.table import table
from langgap.results import load_results
from langgap.tasks import bitext_task

TRAIN = {"format": "langgap.train-config/1", "model": "m", "lr": 2e-5, "objective": "soft", "seed": 0}


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    return [bitext_task(write_bitext(d / "deu-eng.tsv", "deu", "eng", 30))]


def _trained(root: Path, name: str, task, *, noise: float = 0.3, k: int = 4, **config) -> Path:
    """``<root>/<name>/config.json`` (a langgap train run) with its measure run in ``measure/``."""
    record = {**TRAIN, "out": str(root / name), "eval_bitext": [f"{name}.tsv"], **config}
    (root / name).mkdir(parents=True)
    (root / name / "config.json").write_text(json.dumps(record), encoding="utf-8")
    measure(ToyEncoder(noise=noise), task, k=k).save(root / name / "measure")
    return root / name / "measure"


def test_names_and_suffixes(tmp_path):
    assert split_seed("recipe-s2") == ("recipe", 2) and split_seed("a-cross0-seed1") == ("a-cross0", 1)
    assert split_seed("b-soft-average") == ("b-soft-average", None) and split_seed("me5-s") == ("me5-s", None)
    (tmp_path / "pilot-s1" / "measure").mkdir(parents=True)
    assert run_name(tmp_path / "pilot-s1" / "measure") == "pilot-s1"
    assert run_name(tmp_path / "pilot-s1" / "measure" / "results.json") == "pilot-s1"


def test_training_config_decides(tmp_path, task):
    a0 = _trained(tmp_path, "a", task, seed=0)
    a1 = _trained(tmp_path, "a-again", task, seed=1, noise=0.35)  # another name: the config decides
    lr = _trained(tmp_path, "a-lr", task, seed=2, lr=5e-5)
    k8 = _trained(tmp_path, "a-k8", task, seed=3, k=8)  # same training, measured with another k
    assert training_config(load_results(a0), a0)["seed"] == 0
    keys = {p.parent.name: seed_key(load_results(p), p)[1] for p in (a0, a1, lr, k8)}
    assert keys["a"] == keys["a-again"]
    assert len({keys["a"], keys["a-lr"], keys["a-k8"]}) == 3
    t = table([a0, a1, lr, k8], group_seeds=True)
    assert t.columns == {"a": ["a", "a-again"], "a-lr": ["a-lr"], "a-k8": ["a-k8"]}
    assert [r.seed for r in t.runs] == [0, 1, 2, 3]


def test_name_pattern_without_training_config(tmp_path, task):
    for name, noise in (("p-seed1", 0.3), ("p-seed2", 0.35), ("q", 0.3), ("q2-s1", 0.4)):
        measure(ToyEncoder(noise=noise), task).save(tmp_path / name)
    t = table([tmp_path / n for n in ("p-seed1", "p-seed2", "q", "q2-s1")], group_seeds=True)
    assert t.columns == {"p": ["p-seed1", "p-seed2"], "q": ["q"], "q2-s1": ["q2-s1"]}
    assert [r.seed for r in t.runs] == [1, 2, 0, 1]


def test_a_repeated_seed_is_not_a_seed_group(tmp_path, task):
    """The same hub model measured twice with the same seed: nothing differs by seed."""
    a, b, c = (measure(ToyEncoder(), task, seed=s) for s in (0, 0, 1))
    t = table([a, b, c], group_seeds=True)
    assert t.columns == {"run1": ["run1", "run3"], "run2": ["run2"]}
