"""The Python API a notebook relies on: every public function stays a function however often it
is called, ``import langgap`` stays cheap, and Python gets the CLI's defaults and run folder."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np

import langgap
from conftest import ToyEncoder, write_bitext
from langgap.tasks import bitext_task, sample_task

FUNCTIONS = (
    "measure",
    "compare",
    "mine",
    "array_side",
    "train",
    "embed_file",
    "load_results",
    "write_report",
    "save_run",
    "load_encoder",
)


def _is_function(name: str) -> bool:
    value = getattr(langgap, name)
    return callable(value) and not isinstance(value, types.ModuleType)


def test_every_public_name_is_what_it_says_however_often_it_is_used():
    for name in langgap.__all__:
        first = getattr(langgap, name)
        assert getattr(langgap, name) is first, name  # the cached object, not a submodule
        assert not isinstance(first, types.ModuleType), name


def test_measure_compare_save_load_report_twice(tmp_path):
    path = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 30)
    runs = []
    for i in range(2):  # a notebook cell run again
        assert all(_is_function(n) for n in FUNCTIONS)
        results = langgap.measure(ToyEncoder(gap=1.0 + i), [bitext_task(path)], projection_points=0)
        written = langgap.save_run(results, tmp_path / f"run{i}")
        runs.append(langgap.load_results(tmp_path / f"run{i}"))
        report = langgap.write_report(runs[-1], tmp_path / f"report{i}")
        assert set(written) >= {"results.json", "items.npz", "report.md", "report.html"}
        assert report["report.md"].is_file()
    for _ in range(2):
        cmp = langgap.compare(tmp_path / "run0", tmp_path / "run1")
        assert cmp.tasks == ["bitext:deu-eng"]
        assert cmp.counts()["better"] >= 1  # a smaller gap retrieves better
    assert all(_is_function(n) for n in FUNCTIONS)


def test_mine_and_embed_file_twice(tmp_path, tiny_model_dir):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 8)).astype(np.float32)
    texts = [f"t{i}" for i in range(6)]
    for _ in range(2):
        src = langgap.array_side("deu", texts, vectors)
        tgt = langgap.array_side("eng", texts, vectors + 0.01)
        mined = langgap.mine(src, tgt, k=2)
        pairs = zip(mined.src_ids, mined.tgt_ids, strict=True)
        assert sorted((src.texts[a], tgt.texts[b]) for a, b in pairs) == [(t, t) for t in texts]
    (tmp_path / "in.txt").write_text("w1 w2\nw3 w4\nw5\n", encoding="utf-8")
    enc = langgap.load_encoder(str(tiny_model_dir), batch_size=2)
    for i in range(2):
        res = langgap.embed_file(enc, tmp_path / "in.txt", tmp_path / f"emb{i}")
        assert res.rows == 3
    assert _is_function("embed_file") and _is_function("mine")


def test_train_twice(tmp_path, tiny_model_dir):
    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(16)), encoding="utf-8")
    for i in range(2):
        out = str(tmp_path / f"train{i}")
        cfg = langgap.TrainConfig.from_flat(
            model=str(tiny_model_dir), pairs=(str(pairs),), batch_size=8, max_steps=2, out=out
        )
        result = langgap.train(cfg)
        assert len(result.losses) == 2 and (result.out / "model").is_dir()
    assert _is_function("train")


def test_import_langgap_is_cheap():
    code = (
        "import sys, langgap; heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', "
        "'matplotlib', 'faiss', 'datasets') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_python_gets_the_cli_defaults_and_the_same_run_folder(cli, tiny_model_dir, tmp_path):
    """The model's 'query' prompt from load_encoder as from `langgap measure`, and save_run's
    folder holds the files the command writes, with the same numbers."""
    code, _, err = cli(["measure", "--model", tiny_model_dir, "--no-cache", "--out", tmp_path / "cli"])
    assert code == 0, err
    assert "using the model's configured 'query' prompt" in err
    enc = langgap.load_encoder(str(tiny_model_dir))
    assert enc.prompt == "query: "
    results = langgap.measure(enc, [sample_task()])
    langgap.save_run(results, tmp_path / "py")
    names = lambda p: sorted(f.name for f in p.iterdir())  # noqa: E731
    assert names(tmp_path / "py") == names(tmp_path / "cli")
    a = json.loads((tmp_path / "cli" / "results.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "py" / "results.json").read_text(encoding="utf-8"))
    assert a["model"]["prompt"] == b["model"]["prompt"] == "query: "
    assert [t["metrics"] for t in a["tasks"]] == [t["metrics"] for t in b["tasks"]]
    assert a["summary"] == b["summary"]


def test_settings_are_checked_in_the_library_as_in_the_cli():
    import pytest

    from langgap.errors import InputError
    from langgap.metrics.registry import Budget

    with pytest.raises(InputError, match="need 4 <= --sample-rows <= --exact-rows, got 9 and 3"):
        langgap.measure(ToyEncoder(), [sample_task()], budget=Budget(exact_rows=3, sample_rows=9))
    with pytest.raises(InputError, match="--k must be >= 1, got 0"):
        langgap.measure(ToyEncoder(), [sample_task()], k=0)
    side = langgap.array_side("deu", ["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(InputError, match=r"--mode 'maxx': expected one of .*did you mean 'max'"):
        langgap.mine(side, side, mode="maxx")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="--k must be >= 1"):
        langgap.mine(side, side, k=0)
