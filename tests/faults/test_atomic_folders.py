"""A run killed at any write point leaves its output folder as the old run or the new one.

Every file of a measure / report / compare folder is written through ``langgap.atomic.write_bytes``
into a temporary sibling that replaces the folder in one step. Each test makes one write (or the
final exchange) fail, in turn, and checks the folder byte for byte against the earlier run.
"""

from __future__ import annotations

import errno

import pytest

import langgap.atomic as atomic
from faults.helpers import FailingWrite, leftovers, snapshot

DISK_FULL = OSError(errno.ENOSPC, "No space left on device")
CTRL_C = KeyboardInterrupt()
FAULTS = pytest.mark.parametrize("exc", [DISK_FULL, CTRL_C], ids=["disk-full", "ctrl-c"])


def _measure(cli, model, data, out, seed):
    args = ["measure", "--model", model, "--prompt", "", "--bitext", data["bitext"], "--sts", data["sts"]]
    return cli([*args, "--seed", seed, "--out", out, "-q"])


def _write_points(monkeypatch, run) -> int:
    """How many writes a successful ``run()`` makes (each one a point to fail at)."""
    counter = FailingWrite(atomic.write_bytes)
    monkeypatch.setattr(atomic, "write_bytes", counter)
    code, _, err = run()
    monkeypatch.undo()
    assert code == 0, err
    return counter.calls


def _each_failing(monkeypatch, points, exc, run, check) -> None:
    """``run()`` once per write point (that write raising ``exc``) and once with the final exchange
    failing; ``check(code, err, where)`` after each."""
    real = atomic.write_bytes
    for at in range(1, points + 1):
        monkeypatch.setattr(atomic, "write_bytes", FailingWrite(real, at, exc))
        code, _, err = run()
        check(code, err, f"write {at} of {points}")
    monkeypatch.setattr(atomic, "write_bytes", real)

    def broken_exchange(new, target):
        raise exc

    monkeypatch.setattr(atomic, "replace_dir", broken_exchange)
    code, _, err = run()
    check(code, err, "the final exchange")
    monkeypatch.undo()


def _expect_old(out, old, exc):
    def check(code, err, where):
        assert code == (130 if isinstance(exc, KeyboardInterrupt) else 2), (where, err)
        assert "as it was" in err and "Traceback" not in err, (where, err)
        assert snapshot(out) == old, where
        assert not leftovers(out), where

    return check


@FAULTS
def test_measure_folder_is_old_or_new_at_every_write_point(
    cli, tiny_model_dir, data, tmp_path, monkeypatch, exc
):
    out, scratch = tmp_path / "run", tmp_path / "scratch"
    assert _measure(cli, tiny_model_dir, data, out, 0)[0] == 0
    old = snapshot(out)
    points = _write_points(monkeypatch, lambda: _measure(cli, tiny_model_dir, data, scratch, 1))
    assert points >= 6  # items.npz, results.json, the figures, report.md, report.html
    _each_failing(
        monkeypatch,
        points,
        exc,
        lambda: _measure(cli, tiny_model_dir, data, out, 1),
        _expect_old(out, old, exc),
    )
    assert _measure(cli, tiny_model_dir, data, out, 1)[0] == 0
    new = snapshot(out)
    assert new != old and set(new) == set(snapshot(scratch))  # no file of the old run survives
    assert not leftovers(out)


def test_report_rebuilt_in_place_is_old_or_new(
    cli, tiny_model_dir, data, tmp_path, monkeypatch, exc=DISK_FULL
):
    out = tmp_path / "run"
    assert _measure(cli, tiny_model_dir, data, out, 0)[0] == 0
    (out / "stale.png").write_bytes(b"a figure of an earlier report")
    points = _write_points(monkeypatch, lambda: cli(["report", out, "-q"]))
    (out / "stale.png").write_bytes(b"a figure of an earlier report")
    old = snapshot(out)
    _each_failing(
        monkeypatch, points, exc, lambda: cli(["report", out, "-q"]), _expect_old_report(out, old, exc)
    )
    assert cli(["report", out, "-q"])[0] == 0
    assert "stale.png" not in snapshot(out) and {"results.json", "items.npz", "report.html"} <= set(
        snapshot(out)
    )


def _expect_old_report(out, old, exc):
    def check(code, err, where):
        assert code in ((130,) if isinstance(exc, KeyboardInterrupt) else (2,)), (where, err)
        assert "Traceback" not in err and snapshot(out) == old and not leftovers(out), where

    return check


def test_compare_folder_is_old_or_new(cli, tiny_model_dir, data, tmp_path, monkeypatch, exc=CTRL_C):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "a-vs-b"
    for run, seed in ((a, 0), (b, 1)):
        assert _measure(cli, tiny_model_dir, data, run, seed)[0] == 0
    args = ["compare", a, b, "--out", out, "-q", "--n-boot", "50", "--n-perm", "50"]
    assert cli([*args, "--seed", "0"])[0] == 0
    old = snapshot(out)
    points = _write_points(
        monkeypatch, lambda: cli([*args[:3], "--out", tmp_path / "scratch", *args[5:], "--seed", "1"])
    )
    _each_failing(
        monkeypatch, points, exc, lambda: cli([*args, "--seed", "1"]), _expect_old_report(out, old, exc)
    )
    assert cli([*args, "--seed", "1"])[0] == 0 and snapshot(out) != old
