"""measure() end to end on synthetic data with a toy encoder; results round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import write_bitext, write_multiway
from langgap.errors import InputError
from langgap.measuring import load_tasks, measure
from langgap.results import SCHEMA_VERSION, load_results
from langgap.tasks import Task, bitext_task, get_task, multiway_task, sts_task


def _sts(path, n=30):
    rng = np.random.default_rng(0)
    path.write_text(
        "".join(f"{rng.uniform(0, 5):.2f}\teng:{i}\tdeu:{i}\n" for i in range(n)), encoding="utf-8"
    )
    return path


@pytest.fixture
def tasks(tmp_path):
    return [
        bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 50)),
        multiway_task(write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 40), "eng,deu,fra"),
        sts_task(_sts(tmp_path / "en-de.tsv")),
    ]


def test_gap_shows_in_every_metric(tasks, toy):
    no_gap = measure(toy(gap=0.0), tasks)
    gap = measure(toy(gap=2.0), tasks)
    b0, b1 = no_gap.task("bitext:deu-eng").metrics, gap.task("bitext:deu-eng").metrics
    assert b0["accuracy_src2tgt"] == 1.0 and b0["pair_cosine"] > b1["pair_cosine"]
    assert b0["language_id_accuracy"] < 0.8 and b1["language_id_accuracy"] == 1.0
    assert b1["neighbour_purity"] > b0["neighbour_purity"]
    m = gap.task("multiway:mw")
    assert set(m.per_pair) == {"eng-deu", "eng-fra", "deu-fra"}
    assert set(m.per_language["eng"]) == {"xsim_error", "xsim_error_as_source", "xsim_error_as_target"}
    for r in (no_gap, gap):
        for t in r.tasks:
            for key in (
                "accuracy_src2tgt",
                "pair_cosine",
                "xsim_error",
                "spearman",
                "language_id_accuracy",
                "neighbour_purity",
                "margin_accuracy_tgt2src",
                "rank_spearman",
            ):
                if key in t.metrics:
                    assert 0.0 <= t.metrics[key] <= 1.0 or key in ("spearman", "rank_spearman")


def test_each_text_embedded_once(tasks, toy):
    enc = toy()
    r = measure(enc, tasks)
    # eng:i / deu:i appear in the bitext, the multi-way folder and the STS file: encoded once
    assert r.encoding["encoded"] == r.encoding["distinct"] == sum(enc.calls)
    assert sum(enc.calls) == len(
        {f"{lang}:{i}" for lang in ("eng", "deu", "fra") for i in range(50 if lang != "fra" else 40)}
    )


def test_results_json_schema_and_items_roundtrip(tasks, toy, tmp_path):
    r = measure(toy(gap=1.0), tasks, config={"note": "test"})
    r.save(tmp_path / "run")
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert d["schema_version"] == SCHEMA_VERSION
    assert {"name", "dimension"} <= set(d["model"])
    assert "numpy" in d["versions"] and d["config"]["note"] == "test" and d["config"]["k"] == 4
    assert {f["path"].split("/")[-1] for f in d["data"]} >= {"deu-eng.tsv", "en-de.tsv", "eng.txt"}
    assert all(len(f["sha256"]) == 64 and f["rows"] > 0 for f in d["data"])
    kinds = {t["name"]: t["kind"] for t in d["tasks"]}
    assert kinds == {"bitext:deu-eng": "bitext", "multiway:mw": "multiway", "sts:en-de": "sts"}
    back = load_results(tmp_path / "run")
    bt = back.task("bitext:deu-eng")
    assert bt.items["accuracy_src2tgt"].shape == (50,)
    assert bt.items["accuracy_src2tgt"].mean() == pytest.approx(bt.metrics["accuracy_src2tgt"])
    sts = back.task("sts:en-de")
    assert np.allclose(
        sts.items["gold"],
        [float(x.split("\t")[0]) for x in (tmp_path / "en-de.tsv").read_text().splitlines()],
    )


def test_load_results_errors(tmp_path):
    with pytest.raises(InputError, match="no results.json"):
        load_results(tmp_path)
    (tmp_path / "results.json").write_text('{"schema_version": 99}')
    with pytest.raises(InputError, match="schema version 99"):
        load_results(tmp_path)


def test_task_registry():
    assert get_task("sample").kind == "sample"
    with pytest.raises(InputError, match="did you mean 'sample'"):
        get_task("sampel")


def test_sample_task_scores_positive_tables(tmp_path, toy):
    folder = tmp_path / "s"
    folder.mkdir()
    for lang in ("eng", "deu", "jpn"):
        (folder / f"{lang}.tsv").write_text(
            "".join(f"{lang}:{i}\t{lang}:{i}p\n" for i in range(20)), encoding="utf-8"
        )
    r = measure(toy(gap=1.0), [Task("sample", "sample", str(folder))])
    t = r.task("sample")
    assert t.languages == ["eng", "deu", "jpn"]
    assert {"positive_cosine_mono", "positive_cosine_cross", "positive_gap"} <= set(t.metrics)
    assert t.metrics["positive_cosine_mono"] > t.metrics["positive_cosine_cross"]
    assert "projection_xy" in t.items and t.items["projection_xy"].shape == (60, 2)


def test_derangement_has_no_fixed_point():
    from langgap.metrics.alignment import derangement

    for n in range(2, 120):
        for seed in range(3):
            p = derangement(n, seed)
            assert sorted(p.tolist()) == list(range(n)) and not (p == np.arange(n)).any()


class TableEncoder:
    """Looks every text up in a fixed ``{text: vector}`` table."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table

    def encode(self, texts):
        return np.stack([self.table[t] for t in texts]).astype(np.float32)

    def cache_key(self) -> str:
        return f"table|{id(self)}"


def _naive_best(x: np.ndarray, y: np.ndarray, scoring: str, k: int) -> np.ndarray:
    """Per query row of ``x``, its best row of ``y``: plain cosine, or LASER's margin, as loops."""
    cos = np.array([[u @ v / np.linalg.norm(u) / np.linalg.norm(v) for v in y] for u in x])
    if scoring == "cosine":
        return np.array([int(np.argmax(row)) for row in cos])
    best = []
    for i in range(len(x)):
        knn = sorted(range(len(y)), key=lambda j: -cos[i, j])[:k]
        avg_x = np.mean([cos[i, j] for j in knn])
        scores = []
        for j in knn:
            avg_y = np.mean(sorted(cos[:, j], reverse=True)[:k])
            denom = (avg_x + avg_y) / 2
            scores.append(cos[i, j] / denom if scoring == "ratio" else cos[i, j] - denom)
        best.append(knn[int(np.argmax(scores))])
    return np.array(best)


def test_each_retrieval_direction_scored_by_its_own_queries(tmp_path):
    """src->tgt and tgt->src differ on data with hubs; each equals its naive loop."""
    rng = np.random.default_rng(2)
    n, d = 30, 8
    common = 1.5 * rng.standard_normal(d)
    src = common + rng.standard_normal((n, d))
    tgt = src + 0.6 * rng.standard_normal((n, d))
    tgt[:4] = common + 0.2 * rng.standard_normal((4, d))  # hubs: near every source, not their own
    table = {f"deu:{i}": src[i] for i in range(n)} | {f"eng:{i}": tgt[i] for i in range(n)}
    task = bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", n))
    res = measure(TableEncoder(table), [task], projection_points=0).task("bitext:deu-eng")
    rows = np.arange(n)
    for prefix, scoring in (
        ("accuracy", "cosine"),
        ("margin_accuracy", "ratio"),
        ("margin_distance_accuracy", "distance"),
    ):
        s2t = _naive_best(src, tgt, scoring, 4) == rows
        t2s = _naive_best(tgt, src, scoring, 4) == rows
        assert s2t.mean() != t2s.mean(), prefix  # the data tell the directions apart
        np.testing.assert_array_equal(res.items[f"{prefix}_src2tgt"], s2t, err_msg=prefix)
        np.testing.assert_array_equal(res.items[f"{prefix}_tgt2src"], t2s, err_msg=prefix)
        assert res.metrics[f"{prefix}_src2tgt"] == pytest.approx(s2t.mean())
        assert res.metrics[f"{prefix}_tgt2src"] == pytest.approx(t2s.mean())


def test_mining_tasks_are_named_by_their_languages_however_given(tmp_path):
    """A folder, three files and the same set under other language names: each task is named by
    the languages the set is read with, so two runs on the same set compare."""
    from conftest import write_mining
    from langgap.tasks import build_tasks

    folder = write_mining(tmp_path / "deu-eng", "deu", "eng", gold=4, distractors=2)
    for side, lang in (("src", "deu"), ("tgt", "eng")):  # the same set as deu.txt, eng.txt, gold.tsv
        (tmp_path / f"{lang}.txt").write_bytes((folder / f"{side}.txt").read_bytes())
    (tmp_path / "gold.tsv").write_bytes((folder / "gold.tsv").read_bytes())
    files = ",".join(str(tmp_path / n) for n in ("deu.txt", "eng.txt", "gold.tsv"))
    renamed = f"xho,zul={folder}"
    loaded = load_tasks(build_tasks(mining=[str(folder), files, renamed]))
    assert [t.name for t, _ in loaded] == ["mining:deu-eng", "mining:deu-eng#2", "mining:xho-zul"]
    assert [(c.src_lang, c.tgt_lang) for _, c in loaded] == [("deu", "eng"), ("deu", "eng"), ("xho", "zul")]
