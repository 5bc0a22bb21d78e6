"""``langgap.atomic`` on its own: folders swapped whole (renameat2 and its fallback), stale
temporaries of dead processes removed and those of live ones kept. (``tests/faults`` interrupts
whole commands at every write.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from langgap import atomic


def _folder(path, **files):
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


@pytest.mark.parametrize("libc", [True, False])
def test_exchange_swaps_two_folders(tmp_path, monkeypatch, libc):
    if not libc:  # an old kernel or a filesystem without RENAME_EXCHANGE: three renames
        monkeypatch.setattr(atomic, "_libc_exchange", lambda a, b: False)
    a, b = _folder(tmp_path / "a", x="new"), _folder(tmp_path / "b", y="old")
    atomic.exchange(a, b)
    assert sorted(p.name for p in a.iterdir()) == ["y"] and sorted(p.name for p in b.iterdir()) == ["x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # no spare left


def test_staged_dir_replaces_a_folder_whole_or_not_at_all(tmp_path):
    out = _folder(tmp_path / "run", old="1", keep="k")
    with atomic.staged_dir(out, keep=["keep"]) as tmp:
        (tmp / "new").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["keep", "new"] and (out / "keep").read_text() == "k"
    with pytest.raises(RuntimeError), atomic.staged_dir(out) as tmp:
        (tmp / "half").write_text("3")
        raise RuntimeError
    assert sorted(p.name for p in out.iterdir()) == ["keep", "new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the failed stage is gone


def test_stale_temporaries_of_dead_processes_go_and_live_ones_stay(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        target = tmp_path / "run"
        gone = _folder(tmp_path / f".run.tmp-{dead.pid}-abcd")
        kept = _folder(tmp_path / f".run.tmp-{live.pid}-abcd")
        other = _folder(tmp_path / f".other.tmp-{dead.pid}-abcd")  # another target's
        atomic.clean_stale(target)
        assert not gone.exists() and kept.exists() and other.exists()
        assert live.poll() is None  # only asked whether it runs: no signal sent to it
        inside = _folder(tmp_path / "shards")
        (inside / f".s0.npy.tmp-{dead.pid}-ab").write_bytes(b"x")
        (inside / f".s1.npy.tmp-{live.pid}-ab").write_bytes(b"x")
        atomic.clean_stale_files(inside)
        assert sorted(p.name for p in inside.iterdir()) == [f".s1.npy.tmp-{live.pid}-ab"]
    finally:
        live.kill()
        live.wait()
