"""Every input and output is checked before any model is loaded or text encoded: one line, exit 2."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import langgap.encoders as encoders
import langgap.encoders.st as st


@pytest.fixture
def no_model(monkeypatch):
    """Loading any model (or building any encoder) fails the test: the check must come first."""
    monkeypatch.setattr(encoders, "load_encoder", lambda *a, **k: pytest.fail("an encoder was built"))
    monkeypatch.setattr(st, "load_model", lambda *a, **k: pytest.fail("a model was loaded"))


def _one_line_error(code, err, message):
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def _measure(cli, model, data, out, *extra):
    return cli(["measure", "--model", model, "--bitext", data["bitext"], "--out", out, *extra])


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: p.write_text("x") and p, "is a file; give a folder"),
        (lambda p: p.write_text("x") and p / "run", "which is a file; give a folder"),
        (lambda p: (p.mkdir(), (p / "notes.txt").write_text("mine")) and p, "holds other files (notes.txt"),
    ],
    ids=["out-is-a-file", "out-under-a-file", "out-holds-other-files"],
)
def test_bad_out_refused_before_the_model(cli, tiny_model_dir, data, tmp_path, no_model, make, message):
    out = make(tmp_path / "target")
    _one_line_error(*_measure(cli, tiny_model_dir, data, out)[::2], message)
    assert cli(["train", "--model", tiny_model_dir, "--pairs", data["bitext"], "--out", out])[0] == 2


def _mount_tmpfs(path, size="256k") -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def test_read_only_out_refused_before_the_model(cli, tiny_model_dir, data, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    if _mount_tmpfs(ro):  # a real read-only file system
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True)
    else:  # no mount rights here: the same refusal, raised by a patched mkdir
        import langgap.atomic as atomic

        real = atomic.Path.mkdir

        def ro_mkdir(self, *a, **k):
            if str(self).startswith(str(ro)):
                raise OSError(30, "Read-only file system")
            return real(self, *a, **k)

        ro.mkdir()
        monkeypatch.setattr(atomic.Path, "mkdir", ro_mkdir)
    try:
        monkeypatch.setattr(st, "load_model", lambda *a, **k: pytest.fail("a model was loaded"))
        _one_line_error(
            *_measure(cli, tiny_model_dir, data, ro / "run")[::2],
            "cannot write there (Read-only file system)",
        )
    finally:
        subprocess.run(["umount", str(ro)], capture_output=True)


@pytest.mark.parametrize("device,message", [("cuda", "sees 0 CUDA device"), ("tpu9", "not a device name")])
def test_unusable_device(cli, tiny_model_dir, data, tmp_path, monkeypatch, device, message):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(st, "load_model", lambda *a, **k: pytest.fail("a model was loaded"))
    _one_line_error(*_measure(cli, tiny_model_dir, data, tmp_path / "run", "--device", device)[::2], message)


def test_model_path_typo_and_training_run_folder(cli, tiny_model_dir, data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny_model_dir, tmp_path / "runs" / "aligned" / "model")
    (tmp_path / "runs" / "aligned" / "train_log.jsonl").write_text("")
    code, _, err = _measure(cli, "runs/alignedx", data, tmp_path / "run")
    _one_line_error(code, err, "runs/alignedx: no such file or directory (did you mean 'runs/aligned'?)")
    code, _, err = _measure(cli, "runs/aligned", data, tmp_path / "run")
    _one_line_error(code, err, "is a langgap training run folder; its model is runs/aligned/model")
    args = ["train", "--model", "runs/alignedx", "--pairs", data["bitext"], "--batch-size", "8"]
    code, _, err = cli([*args, "--out", tmp_path / "t"])
    _one_line_error(code, err, "did you mean 'runs/aligned'?")


def test_offline_hub_id_fails_at_once(cli, data, tmp_path):
    code, _, err = _measure(cli, "someorg/not-downloaded", data, tmp_path / "run")
    _one_line_error(code, err, "HF_HUB_OFFLINE is set")
