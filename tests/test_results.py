"""``Results``: a saved run reads back field for field (results.json and items.npz), older files
without the later keys read with their defaults, and bad files are one clear line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from langgap.errors import InputError
from langgap.kinds import TaskKind
from langgap.results import SCHEMA_VERSION, Results, TaskResult, load_results


def _results() -> Results:
    task = TaskResult(
        name="bitext:deu-eng",
        kind=TaskKind.BITEXT,
        languages=["deu", "eng"],
        files=[{"path": "deu-eng.tsv", "sha256": "ab", "rows": 3}],
        metrics={"accuracy": 0.5},
        main_score="accuracy",
        items={"hits": np.array([1.0, 0.0, 0.5])},
    )
    return Results(
        model={"name": "toy", "prompt": "query: "},
        tasks=[task],
        summary={"accuracy": 0.5},
        config={"k": 4, "seed": 0},
        versions={"langgap": "0"},
        timing={"encode": 1.25},
        encoding={"texts": 6},
        created="2026-12-07T16:00:00",
        coverage={"deu": {"unk": 0.1}},
    )


def test_a_saved_run_reads_back_field_for_field(tmp_path):
    res = _results()
    path = res.save(tmp_path / "run")
    assert path == tmp_path / "run" / "results.json"
    back = load_results(tmp_path / "run")
    assert back.to_json() == json.loads(path.read_text(encoding="utf-8"))
    fields = (
        "model",
        "summary",
        "config",
        "versions",
        "timing",
        "encoding",
        "created",
        "schema_version",
        "coverage",
    )
    for field in fields:  # (values that need no rounding)
        assert getattr(back, field) == getattr(res, field), field
    assert back.schema_version == SCHEMA_VERSION and load_results(path).summary == {"accuracy": 0.5}
    np.testing.assert_array_equal(back.tasks[0].items["hits"], [1.0, 0.0, 0.5])


def test_a_file_without_the_later_keys_reads_with_their_defaults(tmp_path):
    _results().save(tmp_path / "run")
    p = tmp_path / "run" / "results.json"
    d = json.loads(p.read_text(encoding="utf-8"))
    for key in ("timing_s", "encoding", "coverage"):
        del d[key]
    p.write_text(json.dumps(d), encoding="utf-8")
    (tmp_path / "run" / "items.npz").unlink()
    back = load_results(tmp_path / "run")
    assert (back.timing, back.encoding, back.coverage) == ({}, {}, {}) and back.tasks[0].items == {}


def test_bad_run_folders_are_one_line(tmp_path):
    with pytest.raises(InputError, match=r"no results.json \(is this a langgap run directory\?\)"):
        load_results(tmp_path)
    p = tmp_path / "results.json"
    p.write_text('{"schema_version": 1,\n  oops}', encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{p}:2: not valid JSON \(Expecting property name"):
        load_results(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(
        InputError, match=r"holds other files \(notes.txt, ...\) and no langgap measure run \(results.json\)"
    ):
        _results().save(tmp_path / "other")


def test_items_are_read_without_pickle(tmp_path):
    _results().save(tmp_path / "run")
    np.savez(tmp_path / "run" / "items.npz", **{"bitext:deu-eng/hits": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="allow_pickle"):
        load_results(tmp_path / "run")
