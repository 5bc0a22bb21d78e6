"""The unchanged ``langgap train`` command under a 2-process launcher trains like one process.

``torchrun --nproc_per_node 2 -m langgap train ...`` (what ``accelerate launch`` does on GPUs; on
CPU Accelerate picks up the launcher's environment and uses gloo). Every process composes the same
global batch and takes its half; with gathered negatives the loss, and so after DDP's gradient
averaging every update, equals one process on the whole batch. Dropout is off in this copy of the
tiny model, since the masks are per process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def no_dropout_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    cfg["hidden_dropout_prob"] = cfg["attention_probs_dropout_prob"] = 0.0
    (dst / "config.json").write_text(json.dumps(cfg))
    return dst


def test_two_processes_reach_the_weights_of_one(tmp_path, tiny_model_dir):
    model = no_dropout_copy(tiny_model_dir, tmp_path / "model")
    rows = [f"w{i} w{i + 1}\tw{i} w{i + 2}\n" for i in range(48)]
    pairs = tmp_path / "xx-yy.tsv"
    pairs.write_text("".join(rows), encoding="utf-8")
    args = ["-m", "langgap", "train", "--model", model, "--pairs", pairs, "--objective", "infonce"]
    args += ["--batch-size", "8", "--max-steps", "3", "--lr", "1e-3", "--save-every", "0", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}

    def run(launcher: list[str], out: Path) -> dict[str, torch.Tensor]:
        cmd = [str(a) for a in [*launcher, *args, "--out", out]]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return load_file(str(out / "model" / "model.safetensors"))

    one = run([sys.executable], tmp_path / "one")
    port = ["--master_port", str(free_port()), "--master_addr", "127.0.0.1"]
    two = run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", *port], tmp_path / "two"
    )
    start = load_file(str(model / "model.safetensors"))
    assert one.keys() == two.keys()
    moved = max((one[k] - start[k]).abs().max().item() for k in one)
    assert moved > 1e-3  # it trained
    for k in one:
        torch.testing.assert_close(two[k], one[k], atol=1e-5, rtol=1e-4, msg=k)
    log = json.loads((tmp_path / "two" / "config.json").read_text())["resolved"]
    assert log["processes"] == 2
