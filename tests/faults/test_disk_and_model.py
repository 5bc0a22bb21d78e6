"""A full disk, a model folder that disappears while a run uses it: a clear message, nothing lost."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import langgap.encoders.st as st
from faults.helpers import leftovers, snapshot


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB file system (tmpfs), unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(
            f"no permission to mount a tmpfs here ({done.stderr.decode().strip()}); "
            "tests/faults/test_atomic_folders.py covers the same failure with an injected ENOSPC"
        )
    yield disk
    subprocess.run(["umount", str(disk)], capture_output=True)


def test_full_disk_leaves_the_earlier_run(cli, tiny_model_dir, data, small_disk):
    out = small_disk / "run"
    args = [
        "measure",
        "--model",
        tiny_model_dir,
        "--prompt",
        "",
        "--bitext",
        data["bitext"],
        "--out",
        out,
        "-q",
    ]
    assert cli([*args, "--seed", "0"])[0] == 0
    old = snapshot(out)
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - 64 * 1024))  # 64 KiB left
    code, _, err = cli([*args, "--seed", "1"])
    assert code == 2 and "No space left on device" in err and "the folder is as it was" in err, err
    assert "Traceback" not in err and snapshot(out) == old and not leftovers(out)
    (small_disk / "filler").unlink()
    assert cli([*args, "--seed", "1"])[0] == 0 and snapshot(out) != old


def test_model_folder_removed_while_training(cli, tiny_model_dir, data, tmp_path, monkeypatch):
    """The teacher (SAME) is loaded from the model folder after the student: gone by then, the run
    stops with one line before anything is written."""
    import langgap.training.setup as setup

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    real = setup.SentenceTransformerEncoder

    def student_then_remove(*args, **kwargs):
        enc = real(*args, **kwargs)
        shutil.rmtree(model, ignore_errors=True)
        return enc

    monkeypatch.setattr(setup, "SentenceTransformerEncoder", student_then_remove)
    out = tmp_path / "run"
    args = ["train", "--model", model, "--pairs", data["bitext"], "--objective", "soft", "--teacher", "SAME"]
    code, _, err = cli([*args, "--batch-size", "8", "--max-steps", "2", "--out", out])
    assert code == 2 and err.startswith("error: ") and "no such file or directory" in err, err
    assert "Traceback" not in err and not out.exists()


def test_model_folder_removed_after_loading_does_not_break_measure(
    cli, tiny_model_dir, data, tmp_path, monkeypatch
):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    real = st.load_model

    def load_then_remove(*args, **kwargs):
        loaded = real(*args, **kwargs)
        shutil.rmtree(model)
        return loaded

    monkeypatch.setattr(st, "load_model", load_then_remove)
    code, _, err = cli(
        ["measure", "--model", model, "--bitext", data["bitext"], "--out", tmp_path / "run", "-q"]
    )
    assert code == 0, err
    assert (tmp_path / "run" / "results.json").is_file()
