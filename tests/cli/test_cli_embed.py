"""`langgap embed` through the real entry point: a run, a resume, each kind of bad input (one
line, exit 2, nothing written or damaged), Ctrl-C, and 2 processes under torchrun against 1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faults.helpers import snapshot


def lines_file(path: Path, n: int = 23) -> Path:
    path.write_text(
        "".join(f"w{i % 200} w{(i * 7) % 200} w{(i * 3) % 50}\n" for i in range(n)), encoding="utf-8"
    )
    return path


def embed_args(model, file, out, *extra):
    return ["embed", file, "--out", out, "--model", model, "--rows-per-shard", "5", *extra]


def test_run_then_rerun(cli, tiny_model_dir, tmp_path):
    file, out = lines_file(tmp_path / "in.txt"), tmp_path / "emb"
    code, _, err = cli(embed_args(tiny_model_dir, file, out))
    assert code == 0, err
    assert "configured 'query' prompt" in err and "embedded 23 texts into 5 shards" in err
    assert "5 of 5 shards complete (float16)" in err
    m = json.loads((out / "manifest.json").read_text())
    assert m["model"]["prompt"] == "query: " and m["dtype"] == "float16" and m["rows_per_shard"] == 5
    before = snapshot(out)
    code, _, err = cli(embed_args(tiny_model_dir, file, out))
    assert code == 0 and "nothing to embed: 5 shards were complete from an earlier run" in err, err
    assert snapshot(out) == before


def test_default_rows_per_shard_is_the_library_default():
    from langgap.cli.embed import DEFAULT_ROWS_PER_SHARD
    from langgap.embed import DEFAULT_ROWS_PER_SHARD as LIBRARY

    assert DEFAULT_ROWS_PER_SHARD == LIBRARY


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", r"in\.txt: file is empty"),
        (b"w1 w2\nw3\n\nw4\n", r"in\.txt:3: empty line \(one text per line\)"),
        (b"w1\nw2 \xff w3\n", r"in\.txt:2: invalid UTF-8 at byte 3 of the line"),
        (None, r"in\.txt: cannot read \(No such file or directory\)"),
    ],
)
def test_bad_input_file(cli, tiny_model_dir, tmp_path, monkeypatch, content, message):
    from langgap import encoders

    monkeypatch.setattr(encoders, "load_encoder", lambda *a, **k: pytest.fail("a model was loaded"))
    file, out = tmp_path / "in.txt", tmp_path / "emb"
    if content is not None:
        file.write_bytes(content)
    code, _, err = cli(embed_args(tiny_model_dir, file, out))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert __import__("re").search(message, err) and err.startswith("error: "), err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    "case", ["out is a file", "out under a file", "foreign folder", "device", "model typo"]
)
def test_bad_options(cli, tiny_model_dir, tmp_path, monkeypatch, case):
    from langgap import encoders

    monkeypatch.setattr(encoders, "load_encoder", lambda *a, **k: pytest.fail("a model was loaded"))
    file, out, model, extra = lines_file(tmp_path / "in.txt"), tmp_path / "emb", str(tiny_model_dir), []
    if case == "out is a file":
        out.write_text("x")
    elif case == "out under a file":
        (tmp_path / "f").write_text("x")
        out = tmp_path / "f" / "emb"
    elif case == "foreign folder":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif case == "device":
        extra = ["--device", "tpu9"]
    else:
        model = model + "x"
    before = snapshot(tmp_path)
    code, _, err = cli(embed_args(model, file, out, *extra))
    expected = {
        "out is a file": "is a file; give a folder",
        "out under a file": "which is a file; give a folder",
        "foreign folder": "holds other files (notes.txt, ...) and no langgap embed folder",
        "device": "--device 'tpu9': not a device name",
        "model typo": "no such file or directory (did you mean",
    }[case]
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(tmp_path) == before


def test_resume_with_other_settings_or_a_changed_input_is_refused(cli, tiny_model_dir, tmp_path):
    file, out = lines_file(tmp_path / "in.txt"), tmp_path / "emb"
    assert cli(embed_args(tiny_model_dir, file, out))[0] == 0
    (out / "shard-00002.npy").unlink()
    before = snapshot(out)
    for extra, message in [
        (["--dtype", "float32"], "was embedded with --dtype float16, this run asks for float32"),
        (["--prompt", ""], "other model settings: prompt 'query: ' (this run: '')"),
        (["--max-length", "8"], "other model settings: max length 64 (this run: 8)"),
    ]:
        code, _, err = cli(embed_args(tiny_model_dir, file, out, *extra))
        assert code == 2 and message in err, err
    code, _, err = cli([*embed_args(tiny_model_dir, file, out), "--rows-per-shard", "4"])
    assert code == 2 and "--rows-per-shard 5, this run asks for 4" in err, err
    file.write_text(file.read_text() + "w9\n", encoding="utf-8")
    code, _, err = cli(embed_args(tiny_model_dir, file, out))
    assert code == 2 and "changed since" in err and "give a new --out" in err, err
    assert snapshot(out) == before


def test_ctrl_c_says_what_was_kept_and_the_same_command_continues(cli, tiny_model_dir, tmp_path, monkeypatch):
    from langgap import embed as em

    file, out = lines_file(tmp_path / "in.txt"), tmp_path / "emb"
    real, calls = em.write_shard, []

    def interrupt_third(folder, name, array):
        calls.append(name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(folder, name, array)

    monkeypatch.setattr(em, "write_shard", interrupt_third)
    code, _, err = cli(embed_args(tiny_model_dir, file, out))
    assert code == 130, err
    assert (
        f"interrupted: 2 of 5 shards in {out} are complete and kept" in err and "run the same command" in err
    )
    assert "Traceback" not in err
    monkeypatch.undo()
    code, _, err = cli(embed_args(tiny_model_dir, file, out))
    assert code == 0 and "embedded 13 texts into 3 shards (2 complete from an earlier run skipped)" in err, (
        err
    )
    assert cli(embed_args(tiny_model_dir, file, tmp_path / "whole"))[0] == 0
    assert snapshot(out) == snapshot(tmp_path / "whole")


def torchrun(processes: int) -> list[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes),
            "--master_port", str(port), "--master_addr", "127.0.0.1"]  # fmt: skip


def test_two_processes_under_torchrun_write_the_shards_of_one(tmp_path, tiny_model_dir):
    """Each process embeds every second shard; the folder is byte for byte the one-process one,
    manifest included, and only the main process prints."""
    file = lines_file(tmp_path / "in.txt", n=37)  # 8 shards: 4 per process, the last one short
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2] / "src"), env.get("PYTHONPATH", "")]
    )

    def run(launcher: list[str], out: Path) -> str:
        cmd = [str(a) for a in [*launcher, "-m", "langgap", *embed_args(tiny_model_dir, file, out)]]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stderr

    run([sys.executable], tmp_path / "one")
    err = run(torchrun(2), tmp_path / "two")
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert len(one) == 9 and one == two
    assert np.load(tmp_path / "two" / "shard-00007.npy").shape == (2, 32)
    assert err.count("8 of 8 shards complete") == 1 and err.count("configured 'query' prompt") == 1, err
    assert "process 1 of 2: embedded 20 texts into 4 shards" in err, err
