"""Tables (Parquet, JSONL, JSON, CSV, saved datasets): read exactly as the same content in TSV,
columns inferred or given, the spec syntax, and the content hash that keeps runs paired."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import write_multiway
from data.tables_helpers import FORMATS, write_table
from langgap.data import read_bitext, read_multiway, read_sts
from langgap.data.sources import TableSource, source_name, source_stem, table_source
from langgap.errors import InputError
from langgap.tasks import build_tasks

DEU = ["Hallo Welt", "Guten Morgen, Anna", 'Er sagte "ja"', "Zeile\tmit Tab"]
ENG = ["Hello world", "Good morning, Anna", 'He said "yes"', "line with tab"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_bitext_table_equals_its_tsv(tmp_path, fmt):
    tsv = tmp_path / "deu-eng.tsv"
    tsv.write_text("".join(f"{a}\t{b}\n" for a, b in zip(DEU[:3], ENG[:3], strict=True)), encoding="utf-8")
    spec = write_table(tmp_path / fmt, "deu-eng", {"deu": DEU[:3], "eng": ENG[:3], "id": [1, 2, 3]}, fmt)
    if fmt == "csv":  # every CSV cell is text: name the two sides (the id column is text too)
        spec += "#deu,eng"
    got, want = read_bitext(spec), read_bitext(tsv)
    assert (got.src_lang, got.tgt_lang, got.src, got.tgt) == (
        want.src_lang,
        want.tgt_lang,
        want.src,
        want.tgt,
    )
    assert got.file.rows == 3 and got.file.path == spec.split("#")[0]
    # the content hash does not depend on the format: a Parquet and a CSV of the same rows pair up
    assert (
        got.file.sha256
        == read_bitext(
            write_table(tmp_path / "again", "deu-eng", {"deu": DEU[:3], "eng": ENG[:3]}, "parquet")
        ).file.sha256
    )


def test_text_with_tab_and_newline_survives_a_table(tmp_path):
    texts = ["a\tb", "two\nlines", "  padded  "]
    b = read_bitext(write_table(tmp_path, "deu-eng", {"deu": texts, "eng": ["x", "y", "z"]}, "parquet"))
    assert b.src == texts  # a TSV cannot hold these; a table keeps them as they are


@pytest.mark.parametrize("fmt", FORMATS)
def test_sts_table_equals_its_tsv(tmp_path, fmt):
    scores = [0.5, 4.0, -1.25]
    tsv = tmp_path / "en-de.tsv"
    tsv.write_text(
        "".join(f"{s}\t{a}\t{b}\n" for s, a, b in zip(scores, ENG, DEU, strict=False)), encoding="utf-8"
    )
    cols = {"sentence1": ENG[:3], "sentence2": DEU[:3], "score": scores, "idx": [7, 8, 9]}
    spec = write_table(tmp_path / fmt, "en-de", cols, fmt)
    if fmt == "csv":
        spec += "#score,sentence1,sentence2"
    got, want = read_sts(spec), read_sts(tsv)
    assert (got.lang1, got.lang2, got.s1, got.s2) == (want.lang1, want.lang2, want.s1, want.s2)
    assert np.array_equal(got.scores, want.scores) and got.scores.dtype == np.float64


@pytest.mark.parametrize("fmt", FORMATS)
def test_multiway_table_equals_its_folder(tmp_path, fmt):
    folder = write_multiway(tmp_path / "mw", ["eng_Latn", "deu_Latn", "fra_Latn"], 6)
    cols = {
        lang: (folder / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
        for lang in ["eng_Latn", "deu_Latn", "fra_Latn"]
    }
    spec = write_table(tmp_path / fmt, "flores", {"id": list(range(6)), "URL": ["u"] * 6, **cols}, fmt)
    got, want = read_multiway(spec), read_multiway(folder)
    assert got.texts == want.texts and got.languages == ["eng_Latn", "deu_Latn", "fra_Latn"]
    assert sorted(f.path for f in got.files.values()) == sorted(f"{spec}#{lang}" for lang in cols)
    picked = read_multiway(spec, ["fra_Latn", "eng_Latn"])
    assert picked.texts == read_multiway(folder, ["fra_Latn", "eng_Latn"]).texts


def test_multiway_columns_named_sentence_lang_or_given(tmp_path):
    spec = write_table(
        tmp_path,
        "w",
        {"sentence_eng_Latn": ["a", "b"], "sentence_deu_Latn": ["x", "y"], "topic": ["t", "t"]},
        "parquet",
    )
    assert read_multiway(spec).texts == {"eng_Latn": ["a", "b"], "deu_Latn": ["x", "y"]}
    spec = write_table(tmp_path, "v", {"English": ["a", "b"], "German": ["x", "y"]}, "jsonl")
    assert read_multiway(spec + "#German,English").texts == {"German": ["x", "y"], "English": ["a", "b"]}


def test_hf_translation_dataset_columns_and_languages(tmp_path):
    """A HF translation dataset: one ``translation`` dict column keyed by language."""
    import datasets

    rows = [{"de": d, "en": e} for d, e in zip(DEU, ENG, strict=True)]
    folder = tmp_path / "wmt"
    ds = datasets.Dataset.from_dict(
        {"translation": rows},
        features=datasets.Features({"translation": datasets.Translation(languages=["de", "en"])}),
    )
    datasets.DatasetDict(validation=ds).save_to_disk(str(folder))
    b = read_bitext(folder)  # the only split; languages from the dict's keys
    assert (b.src_lang, b.tgt_lang, b.src, b.tgt) == ("de", "en", DEU, ENG)
    assert b.file.path == f"{folder}@validation"
    swapped = read_bitext(f"{folder}#translation.en,translation.de")
    assert (swapped.src_lang, swapped.src) == ("en", ENG)
    named = read_bitext(folder, ("en", "de"))  # languages given: their columns, in that order
    assert (named.src, named.tgt) == (ENG, DEU)


@pytest.mark.parametrize(
    "columns, langs, want",
    [
        ({"sentence1": DEU, "sentence2": ENG, "lang": ["x"] * 4}, None, ("deu", "eng", DEU)),
        ({"tgt": ENG, "src": DEU, "note": ["n"] * 4}, None, ("deu", "eng", DEU)),
        ({"en": ENG, "de": DEU, "x": ["n"] * 4}, ("de", "en"), ("de", "en", DEU)),
        ({"a": DEU, "b": ENG, "n": [1, 2, 3, 4]}, None, ("deu", "eng", DEU)),
    ],
)
def test_bitext_column_inference(tmp_path, columns, langs, want):
    b = read_bitext(write_table(tmp_path, "deu-eng", columns, "parquet"), langs)
    assert (b.src_lang, b.tgt_lang, b.src) == want


def test_languages_from_language_named_columns(tmp_path):
    b = read_bitext(write_table(tmp_path, "pairs", {"fr": ["un", "deux"], "en": ["one", "two"]}, "parquet"))
    assert (b.src_lang, b.tgt_lang, b.src) == ("fr", "en", ["un", "deux"])


def test_sts_inference_picks_the_score_column(tmp_path):
    only = {"id": ["a", "b", "c"], "text1": ["p", "q", "r"], "text2": ["s", "t", "u"], "sim": [1, 2, 3]}
    s = read_sts(write_table(tmp_path, "en-en", only, "jsonl"))
    assert s.s1 == ["p", "q", "r"] and s.scores.tolist() == [1.0, 2.0, 3.0]
    two = {"label": [0.1, 0.9, 0.5], "pair_id": [5, 6, 7], "s1": ["p", "q", "r"], "s2": ["s", "t", "u"]}
    s = read_sts(write_table(tmp_path, "en-de", two, "parquet"))
    assert s.scores.tolist() == [0.1, 0.9, 0.5] and s.s2 == ["s", "t", "u"]


@pytest.mark.parametrize(
    "spec, want",
    [
        ("deu-eng.parquet#de,en", TableSource("deu-eng.parquet", None, ("de", "en"))),
        ("a/b.JSONL", TableSource("a/b.JSONL")),
        (
            "hf:mteb/sts17/en-de@test#score, sentence1 ,sentence2",
            TableSource("hf:mteb/sts17/en-de", "test", ("score", "sentence1", "sentence2")),
        ),
        ("hf:wmt/wmt14@train[:1000]", TableSource("hf:wmt/wmt14", "train[:1000]")),
        ("deu-eng.tsv", None),
        ("corpus.txt#a", None),
        ("notes.tsv#", None),  # not a table: no column list to check
    ],
)
def test_table_specs(spec, want):
    assert table_source(spec) == want


def test_specs_of_existing_paths_and_folders(tmp_path):
    odd = tmp_path / "a#b.parquet"
    odd.write_bytes(b"x")
    assert table_source(odd) == TableSource(str(odd))  # an existing path is taken whole
    assert table_source(write_multiway(tmp_path / "mw", ["eng", "deu"], 2)) is None  # <lang>.txt folder
    saved = write_table(tmp_path, "saved", {"deu": ["a"], "eng": ["b"]}, "saved_dict")
    assert table_source(saved) == TableSource(saved[: -len("@train")], "train")
    assert table_source(saved.replace("@train", "#deu")).columns == ("deu",)


def test_task_names_of_tables(tmp_path):
    assert source_stem("x/deu-eng.parquet#translation.de,translation.en") == "deu-eng"
    assert source_stem("hf:mteb/sts17/en-de@test") == "en-de@test"
    assert source_stem("x/deu-eng.tsv") == "deu-eng"
    assert source_name("x/flores.parquet#eng,deu") == "flores.parquet"
    tasks = build_tasks(bitext=["deu,eng=x/pairs.jsonl#a,b"], sts=["hf:o/sts@test"], multiway=["d/saved@dev"])
    assert [t.name for t in tasks] == ["bitext:pairs", "multiway:saved@dev", "sts:sts@test"]
    assert tasks[0].languages == ("deu", "eng") and tasks[0].path == "x/pairs.jsonl#a,b"


def test_given_columns_pin_the_hash(tmp_path):
    spec = write_table(tmp_path, "deu-eng", {"a": ["1", "2"], "b": ["3", "4"], "c": ["3", "4"]}, "parquet")
    ab, ac = read_bitext(spec + "#a,b"), read_bitext(spec + "#a,c")
    assert ab.tgt == ac.tgt and ab.file.sha256 != ac.file.sha256  # same texts, other column


def test_import_langgap_does_not_import_datasets():
    code = "import sys, langgap, langgap.tasks, langgap.data, langgap.data.readers; print('datasets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_reading_a_table_writes_no_hf_cache_and_prints_nothing(tmp_path, capfd):
    import datasets

    cache = Path(datasets.config.HF_DATASETS_CACHE)
    before = set(cache.rglob("*")) if cache.exists() else set()
    specs = [
        write_table(tmp_path, "deu-eng", {"deu": ["a", "b"], "eng": ["c", "d"]}, f)
        for f in ("parquet", "csv")
    ]
    capfd.readouterr()
    assert [read_bitext(spec).src for spec in specs] == [["a", "b"], ["a", "b"]]
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no progress bars: the library does not print
    assert (set(cache.rglob("*")) if cache.exists() else set()) == before


def test_read_error_is_input_error_not_traceback(tmp_path):
    with pytest.raises(InputError, match=r"no\.parquet: no such file"):
        read_bitext(tmp_path / "no.parquet")


@pytest.mark.parametrize(
    "columns, langs, want",
    [
        # languages given but only one has a column: the usual names decide, not a half match
        ({"de": DEU, "sentence1": DEU, "sentence2": ENG}, ("de", "en"), ("de", "en", ENG)),
        # one name of a known pair without the other: the only two text columns instead
        ({"src": DEU, "other": ENG}, None, ("deu", "eng", DEU)),
        # a translation dataset's two fields win over a third text column
        (
            {"id": ["a", "b", "c", "d"], "translation.de": DEU, "translation.en": ENG},
            None,
            ("deu", "eng", DEU),
        ),
    ],
)
def test_bitext_columns_when_the_first_rule_half_matches(tmp_path, columns, langs, want):
    b = read_bitext(write_table(tmp_path, "deu-eng", columns, "parquet"), langs)
    assert (b.src_lang, b.tgt_lang, b.src if langs is None else b.tgt) == want


@pytest.mark.parametrize("cols", ["fr,notes", "notes,en"])
def test_one_language_named_column_does_not_name_a_pair(tmp_path, cols):
    spec = write_table(
        tmp_path, "pairs", {"fr": ["un", "deux"], "notes": ["a", "b"], "en": ["one", "two"]}, "parquet"
    )
    with pytest.raises(
        InputError, match=r"pairs.parquet: cannot tell the languages from the name or the columns"
    ):
        read_bitext(f"{spec}#{cols}")


def test_sts_text_columns_of_other_names_and_a_score_read_as_text(tmp_path):
    """No known pair of names: the two text columns other than the score, in order; a CSV's score
    column is text, and is still not taken for a sentence."""
    cols = {"score": ["1.5", "0.5", "3"], "premise": ["p", "q", "r"], "hypothesis": ["s", "t", "u"]}
    s = read_sts(write_table(tmp_path, "en-en", cols, "csv"))
    assert (s.s1, s.s2, s.scores.tolist()) == (["p", "q", "r"], ["s", "t", "u"], [1.5, 0.5, 3.0])
    half = {"sentence1": ["p", "q", "r"], "other": ["s", "t", "u"], "score": [1.0, 2.0, 3.0]}
    s = read_sts(write_table(tmp_path, "en-fr", half, "parquet"))  # sentence1 without sentence2
    assert (s.s1, s.s2) == (["p", "q", "r"], ["s", "t", "u"])
    three = {"a": ["p", "q", "r"], "b": ["s", "t", "u"], "c": ["v", "w", "x"], "score": [1.0, 2.0, 3.0]}
    with pytest.raises(InputError, match="cannot tell the score and text columns"):
        read_sts(write_table(tmp_path, "en-es", three, "parquet"))


def test_sts_and_multiway_tables_record_their_rows_and_a_content_hash(tmp_path):
    from langgap.data.columns import content_hash

    cols = {"sentence1": ["p", "q", "r"], "sentence2": ["s", "t", "u"], "score": [1.0, 2.0, 3.0]}
    s = read_sts(write_table(tmp_path, "en-de", cols, "parquet"))
    want = content_hash(
        {"score": [1.0, 2.0, 3.0], "sentence1": ["p", "q", "r"], "sentence2": ["s", "t", "u"]}
    )
    assert (s.file.rows, s.file.sha256) == (3, want)
    m = read_multiway(write_table(tmp_path, "mw", {"eng": ["a", "b"], "deu": ["x", "y"]}, "parquet"))
    assert {lang: (f.rows, f.sha256) for lang, f in m.files.items()} == {
        "eng": (2, content_hash({"eng": ["a", "b"]})),
        "deu": (2, content_hash({"deu": ["x", "y"]})),
    }
