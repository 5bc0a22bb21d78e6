"""Every number langgap reports stays what it was (the golden fixture of tests/golden/).

``tests/golden/make_golden.py`` stored synthetic embeddings for real data files (the built-in
sample, Tatoeba deu-eng, STS17 en-de, four FLORES dev languages) and every value
``langgap measure --embeddings`` reported on them (raw, ``--adapt procrustes``, ``--adapt
center``) and ``langgap compare`` found between two such runs. Refactors must reproduce each
stored value exactly; new metrics may add keys, never change existing ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from golden.make_golden import HERE, derive_b, golden_runs


def _contains(expected, actual, where: str) -> None:
    """``actual`` holds every key of ``expected`` with the identical value (extra keys allowed)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}: {key!r} is gone"
            _contains(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _contains(e, a, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != stored {expected!r}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from conftest import run_cli

    class _Quiet:
        def readouterr(self):
            return "", ""

    tmp = tmp_path_factory.mktemp("golden")
    derive_b(HERE / "emb_a", tmp / "emb_b")
    return golden_runs(lambda args: run_cli(args, _Quiet()), HERE / "emb_a", tmp / "emb_b", tmp)


@pytest.fixture(scope="module")
def expected():
    return json.loads((HERE / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("run", ["a", "b", "a_procrustes", "a_center"])
def test_every_stored_number_is_reproduced(runs, expected, run):
    _contains(expected[run], json.loads(json.dumps(runs[run])), run)


def test_every_stored_comparison_is_reproduced(runs, expected):
    """Each stored (task, metric) change, in the stored order; a new metric may add rows (and so
    change the counts), never alter a stored one."""
    actual = json.loads(json.dumps(runs["compare"]))
    assert actual["tasks"] == expected["compare"]["tasks"]
    by_key = {(c["task"], c["metric"]): c for c in actual["changes"]}
    stored = [(c["task"], c["metric"]) for c in expected["compare"]["changes"]]
    assert [k for k in by_key if k in set(stored)] == stored
    for c in expected["compare"]["changes"]:
        _contains(c, by_key[(c["task"], c["metric"])], f"compare.{c['task']}.{c['metric']}")


def test_fixture_is_not_trivial(expected):
    """The stored runs exercise every task kind and metric family, with values away from 0 and 1."""
    kinds = {t["kind"] for t in expected["a"]["tasks"]}
    assert kinds == {"sample", "bitext", "sts", "multiway"}
    s = expected["a"]["summary"]
    assert 0.1 < s["bitext_accuracy"] < 0.9 and 0.1 < s["multiway_xsim_error"] < 0.9
    assert expected["compare"]["counts"]["better"] and expected["compare"]["counts"]["worse"]
    assert Path(HERE / "emb_a" / "deu-eng.npy").is_file()
