"""The experiment tables of docs/experiments.md and docs/results.md, unchanged in value: the
``bench/*_tables.py`` scripts, rewritten on ``langgap.table`` / ``load_results``, print exactly
what the scripts they replaced printed (kept in ``tests/bench/legacy/`` as they were at b58b548,
when they parsed ``results.json`` and ``compare.json`` by hand) on small but real experiment
folders (:mod:`exp_fixtures`)."""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import sys
from pathlib import Path

import exp_fixtures
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
LEGACY = Path(__file__).resolve().parent / "legacy"


def _run(script: Path, *args: str) -> str:
    out, argv = io.StringIO(), sys.argv
    sys.argv = [str(script), *args]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    return out.getvalue()


@pytest.mark.parametrize(
    ("script", "build", "extra"),
    [
        ("experiments_tables.py", "build_exp", ()),
        ("experiments_many_tables.py", "build_exp_e", ()),
        ("experiment_d_tables.py", "build_exp_d", ()),
        ("results_tables.py", "build_measure_run", ("--published",)),
    ],
)
def test_rewritten_script_prints_what_the_old_one_did(script, build, extra, tmp_path):
    folder = getattr(exp_fixtures, build)(tmp_path)
    args = [str(folder), *([str(tmp_path / "published.json")] if extra else [])]
    args = [args[0], *extra, *args[1:]]
    old, new = _run(LEGACY / script, *args), _run(BENCH / script, *args)
    assert old.count("\n") > 20 and old == new
    # real numbers, not tables of dashes; and not all the same value
    numbers = re.findall(r"[-+]?\d\.\d{3}", new)
    assert len(numbers) > 40 and len(set(numbers)) > 20
