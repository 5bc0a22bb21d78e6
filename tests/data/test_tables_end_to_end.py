"""Tables through measure, compare, train's inputs and the CLI: the same numbers as the TSV."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import write_bitext, write_multiway
from data.tables_helpers import write_table
from langgap.comparison import compare
from langgap.errors import InputError
from langgap.measuring import measure
from langgap.tasks import bitext_task, multiway_task, sts_task
from langgap.training.config import DataConfig
from langgap.training.inputs import expand, read_training


def _bitext_columns(n: int) -> dict[str, list[str]]:
    return {"deu": [f"deu:{i}" for i in range(n)], "eng": [f"eng:{i}" for i in range(n)]}


def test_measure_on_tables_equals_measure_on_tsv(tmp_path, toy):
    tsv = write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 30)
    mw = write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 20)
    gold = [float(i % 5) for i in range(20)]
    (tmp_path / "en-de.tsv").write_text("".join(f"{g}\teng:{i}\tdeu:{i}\n" for i, g in enumerate(gold)))
    table = {
        lang: (mw / f"{lang}.txt").read_text().splitlines() for lang in ("deu", "eng", "fra")
    }  # folder order
    sts_cols = {
        "score": gold,
        "sentence1": [f"eng:{i}" for i in range(20)],
        "sentence2": [f"deu:{i}" for i in range(20)],
    }
    as_tsv = [bitext_task(tsv), multiway_task(mw), sts_task(tmp_path / "en-de.tsv")]
    as_tables = [
        bitext_task(write_table(tmp_path / "t", "deu-eng", _bitext_columns(30), "parquet")),
        multiway_task(write_table(tmp_path / "t", "mw", table, "saved")),
        sts_task(write_table(tmp_path / "t", "en-de", sts_cols, "jsonl")),
    ]
    a = measure(toy(gap=1.0), as_tsv, projection_points=0)
    b = measure(toy(gap=1.0), as_tables, projection_points=0)
    assert [t.name for t in b.tasks] == ["bitext:deu-eng", "multiway:mw", "sts:en-de"]
    for ta, tb in zip(a.tasks, b.tasks, strict=True):
        assert ta.metrics == tb.metrics and ta.per_pair == tb.per_pair and ta.languages == tb.languages


def test_compare_pairs_runs_on_the_same_table_and_refuses_changed_rows(tmp_path, toy):
    spec = write_table(tmp_path, "deu-eng", _bitext_columns(30), "parquet")
    a = measure(toy(gap=2.0), [bitext_task(spec)], projection_points=0)
    b = measure(toy(gap=0.5), [bitext_task(spec)], projection_points=0)
    assert compare(a, b, n_boot=100, n_perm=100).changes
    cols = _bitext_columns(30)
    cols["eng"][3] = "eng:changed"
    write_table(tmp_path, "deu-eng", cols, "parquet")
    c = measure(toy(gap=0.5), [bitext_task(spec)], projection_points=0)
    with pytest.raises(InputError, match="data file deu-eng.parquet differs"):
        compare(a, c)


def test_training_reads_pairs_and_multiway_tables(tmp_path):
    pairs = write_table(tmp_path, "deu-eng", _bitext_columns(8), "csv")
    saved = write_table(
        tmp_path,
        "fra-eng",
        {"fra": [f"fra:{i}" for i in range(5)], "eng": [f"eng:{i}" for i in range(5)]},
        "saved",
    )
    assert expand(saved) == [(None, saved)]  # a saved folder is one table, not a folder of *.tsv
    flores = write_table(
        tmp_path, "flores", {"eng_Latn": ["a", "b", "c", "d"], "swh_Latn": ["w", "x", "y", "z"]}, "parquet"
    )
    data = DataConfig(pairs=(pairs, f"fra,eng={saved}"), multiway=flores, pivot="eng_Latn", holdout_rows=0.25)
    cross, mono, held_part, held = read_training(data)
    assert [(b.src_lang, b.tgt_lang, len(b)) for b in cross] == [
        ("deu", "eng", 8),
        ("fra", "eng", 5),
        ("swh_Latn", "eng_Latn", 3),
    ]
    assert cross[0].src == [f"deu:{i}" for i in range(8)] and len(held) == 1 and held_part is not None
    with pytest.raises(InputError, match=r"--pivot 'deu': no column for language 'deu' in .*flores\.parquet"):
        read_training(DataConfig(multiway=flores, pivot="deu"))


def test_cli_measure_reads_a_table_and_refuses_a_bad_cell(cli, tmp_path):
    spec = write_table(tmp_path, "deu-eng", _bitext_columns(12), "jsonl")
    rng = np.random.default_rng(0)
    base = rng.standard_normal((12, 1, 8))
    np.save(
        tmp_path / "deu-eng.npy",
        np.concatenate([base, base + 0.01 * rng.standard_normal((12, 1, 8))], axis=1),
    )
    code, _, err = cli(
        ["measure", "--embeddings", tmp_path, "--bitext", f"{spec}#deu,eng", "--out", tmp_path / "run"]
    )
    assert code == 0, err
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert d["tasks"][0]["name"] == "bitext:deu-eng" and d["tasks"][0]["metrics"]["accuracy_src2tgt"] == 1.0
    assert d["data"][0]["path"] == spec and len(d["data"][0]["sha256"]) == 64
    cols = _bitext_columns(12)
    cols["eng"][4] = ""
    write_table(tmp_path, "deu-eng", cols, "jsonl")
    code, _, err = cli(["measure", "--bitext", spec, "--out", tmp_path / "run2"])
    assert code == 2 and "Traceback" not in err
    assert err.strip() == f"error: {spec}:row 5: column 'eng': empty text"


def test_mono_pairs_from_a_sentence_transformers_style_table(tmp_path):
    from langgap.training.pairs import read_mono_pairs

    cols = {"anchor": ["a", "b"], "positive": ["c", "d"], "negative": ["e", "f"]}
    mono = read_mono_pairs(write_table(tmp_path, "deu", cols, "parquet"))
    assert (mono.src_lang, mono.tgt_lang, mono.src, mono.tgt) == ("deu", "deu", ["a", "b"], ["c", "d"])
