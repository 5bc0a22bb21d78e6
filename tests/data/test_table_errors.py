"""Tables: one clear message per kind of bad input, naming the source, the row and the column."""

from __future__ import annotations

import math

import pytest

from data.tables_helpers import write_table
from langgap.data import read_bitext, read_multiway, read_sts
from langgap.data import tables as tables_mod
from langgap.data.sources import table_source
from langgap.errors import InputError

GOOD = {"deu": ["a", "b", "c"], "eng": ["x", "y", "z"]}


@pytest.mark.parametrize(
    "fmt, columns, message",
    [
        (
            "jsonl",
            {"deu": ["a", None, "c"], "eng": ["x", "y", "z"]},
            r"deu-eng\.jsonl:row 2: column 'deu': missing value",
        ),
        (
            "jsonl",
            {"deu": ["a", "b", "c"], "eng": ["x", "y", 7]},
            r"deu-eng\.jsonl:row 3: column 'eng': expected text, got int 7",
        ),
        (
            "parquet",
            {"deu": ["a", "  ", "c"], "eng": ["x", "y", "z"]},
            r"deu-eng\.parquet:row 2: column 'deu': empty text",
        ),
        (
            "csv",
            {"deu": ["a", "b", ""], "eng": ["x", "y", "z"]},
            r"deu-eng\.csv:row 3: column 'deu': empty text",
        ),
        (
            "parquet",
            {"deu": [["a"], ["b"], ["c"]], "eng": ["x", "y", "z"]},
            r"deu-eng\.parquet:row 1: column 'deu': expected text, got list",
        ),
        ("parquet", {"deu": [], "eng": []}, r"deu-eng\.parquet: no rows"),
    ],
)
def test_bad_bitext_cells(tmp_path, fmt, columns, message):
    spec = write_table(tmp_path, "deu-eng", columns, fmt)
    with pytest.raises(InputError, match=message):
        read_bitext(spec + "#deu,eng")


@pytest.mark.parametrize(
    "fmt, scores, message",
    [
        (
            "parquet",
            [1.0, math.nan, 2.0],
            r"en-de\.parquet:row 2: column 'score': score 'nan' is not a finite number",
        ),
        ("jsonl", [1.0, None, 2.0], r"en-de\.jsonl:row 2: column 'score': missing value"),
        ("jsonl", [1.0, True, 2.0], r"en-de\.jsonl:row 2: column 'score': expected a number, got bool True"),
        ("csv", ["1", "high", "2"], r"en-de\.csv:row 2: column 'score': score 'high' is not a number"),
        ("csv", ["1", "inf", "2"], r"en-de\.csv:row 2: column 'score': score 'inf' is not a finite number"),
        ("csv", ["1", "", "2"], r"en-de\.csv:row 2: column 'score': score '' is not a number"),
        ("parquet", [3.0, 3.0, 3.0], r"en-de\.parquet: all gold scores are equal; Spearman is undefined"),
    ],
)
def test_bad_sts_scores(tmp_path, fmt, scores, message):
    cols = {"score": scores, "sentence1": ["a", "b", "c"], "sentence2": ["x", "y", "z"]}
    spec = write_table(tmp_path, "en-de", cols, fmt)
    with pytest.raises(InputError, match=message):
        read_sts(spec + "#score,sentence1,sentence2")


@pytest.mark.parametrize(
    "suffix, message",
    [
        ("#deu,engl", r"deu-eng\.parquet: no column 'engl' \(did you mean 'eng'\?\); columns: deu, eng, n"),
        ("#deu", r"deu-eng\.parquet: expected 2 columns \(source, target\), got 1"),
        ("#deu,deu", r"deu-eng\.parquet: a column is named twice: deu, deu"),
        ("#deu,", r"an empty column name after '#'"),
        ("#deu,n", r"deu-eng\.parquet:row 1: column 'n': expected text, got int 1"),
    ],
)
def test_bad_given_columns(tmp_path, suffix, message):
    spec = write_table(tmp_path, "deu-eng", {**GOOD, "n": [1, 2, 3]}, "parquet")
    with pytest.raises(InputError, match=message):
        read_bitext(spec + suffix)


def test_columns_or_languages_that_cannot_be_inferred(tmp_path):
    three = write_table(tmp_path, "deu-eng", {"a": ["1"], "b": ["2"], "c": ["3"]}, "parquet")
    with pytest.raises(
        InputError,
        match=r"cannot tell which columns hold the two sides \(text columns: a, b, c\); give them as PATH#SRC,TGT",
    ):
        read_bitext(three)
    nameless = write_table(tmp_path, "pairs", {"first": ["1"], "second": ["2"]}, "parquet")
    with pytest.raises(
        InputError,
        match=r"pairs\.parquet: cannot tell the languages from the name or the columns \(first, second\)",
    ):
        read_bitext(nameless)
    with pytest.raises(InputError, match=r"expected two languages"):
        read_bitext(nameless, ("deu",))
    sts = write_table(
        tmp_path, "en-de", {"a": [1.0, 2.0], "b": [3.0, 4.0], "s1": ["p", "q"], "s2": ["r", "s"]}, "parquet"
    )
    with pytest.raises(
        InputError,
        match=r"cannot tell the score and text columns \(columns: a, b, s1, s2\); give them as PATH#SCORE,S1,S2",
    ):
        read_sts(sts)
    with pytest.raises(InputError, match=r"expected 3 columns \(score, sentence 1, sentence 2\), got 2"):
        read_sts(sts + "#a,s1")
    sts_nameless = write_table(
        tmp_path, "sim", {"score": [1.0, 2.0], "s1": ["p", "q"], "s2": ["r", "s"]}, "parquet"
    )
    with pytest.raises(
        InputError, match=r"sim\.parquet: cannot tell the languages from the name; .* before it: en,de=PATH"
    ):
        read_sts(sts_nameless)


def test_bad_multiway_tables(tmp_path):
    spec = write_table(tmp_path, "mw", {"eng": ["a", "b"], "deu": ["x", None], "fra": ["u", "v"]}, "jsonl")
    with pytest.raises(InputError, match=r"mw\.jsonl:row 2: column 'deu': missing value"):
        read_multiway(spec)
    assert read_multiway(spec, ["eng", "fra"]).texts == {"eng": ["a", "b"], "fra": ["u", "v"]}
    with pytest.raises(
        InputError, match=r"no column for language 'fre' \(did you mean 'fra'\?\); languages: eng, deu, fra"
    ):
        read_multiway(spec, ["eng", "fre"])
    with pytest.raises(InputError, match=r"--langs lists a language twice"):
        read_multiway(spec, ["eng", "eng"])
    with pytest.raises(InputError, match=r"--langs needs at least two languages"):
        read_multiway(spec, ["eng"])
    one = write_table(tmp_path, "one", {"id": ["1", "2"], "eng": ["a", "b"], "text": ["x", "y"]}, "csv")
    with pytest.raises(
        InputError,
        match=r"one\.csv: a multi-way table needs one text column per language.*text columns: id, eng, text",
    ):
        read_multiway(one)
    with pytest.raises(InputError, match=r"needs at least two language columns"):
        read_multiway(one + "#eng")


def test_unreadable_and_empty_files(tmp_path, capfd):
    (tmp_path / "deu-eng.csv").write_text("deu,eng\n", encoding="utf-8")  # a header, no rows
    with pytest.raises(InputError, match=r"deu-eng\.csv: no rows"):
        read_bitext(tmp_path / "deu-eng.csv")
    for name in ("deu-eng.parquet", "deu-eng.jsonl", "deu-eng.csv"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(InputError, match=rf"{name}: file is empty"):
            read_bitext(tmp_path / name)
    (tmp_path / "deu-eng.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match=r"deu-eng\.parquet: cannot read as parquet: \w+"):
        read_bitext(tmp_path / "deu-eng.parquet")
    (tmp_path / "deu-eng.jsonl").write_text('{"deu": "a", "eng": "b"}\n{"deu": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"deu-eng\.jsonl: cannot read as json: \w+"):
        read_bitext(tmp_path / "deu-eng.jsonl")
    (tmp_path / "deu-eng.csv").write_bytes(b"deu,e\xffng\na,b\n")
    with pytest.raises(InputError, match=r"deu-eng\.csv: invalid UTF-8 at byte 5 of the header line"):
        read_bitext(tmp_path / "deu-eng.csv")
    (tmp_path / "deu-eng.csv").write_bytes(b"deu,eng\na,b\nc\xff,d\n")
    with pytest.raises(InputError, match=r"deu-eng\.csv: cannot read as csv: \w+"):
        read_bitext(tmp_path / "deu-eng.csv")
    assert capfd.readouterr() == ("", "")  # datasets' own log lines stay quiet: the message is ours
    (tmp_path / "dir.parquet").mkdir()
    with pytest.raises(InputError, match=r"dir\.parquet: is a directory"):
        read_bitext(tmp_path / "dir.parquet", ("deu", "eng"))


def test_splits_of_saved_datasets(tmp_path):
    both = write_table(tmp_path, "both", GOOD, "saved_dict").removesuffix("@train")
    with pytest.raises(
        InputError, match=r"both: a dataset with splits train, test; pick one as .*both@SPLIT"
    ):
        read_bitext(both, ("deu", "eng"))
    with pytest.raises(
        InputError, match=r"both: no split 'tset' \(did you mean 'test'\?\); splits: train, test"
    ):
        read_bitext(f"{both}@tset", ("deu", "eng"))
    assert read_bitext(f"{both}@test#eng,deu", ("eng", "deu")).src == ["x"]
    single = write_table(tmp_path, "single", GOOD, "saved")
    with pytest.raises(InputError, match=r"single: a saved Dataset without splits; drop @train"):
        read_bitext(f"{single}@train", ("deu", "eng"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "state.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken: cannot load the saved dataset: \w+"):
        read_bitext(broken, ("deu", "eng"))
    with pytest.raises(InputError, match=r"@test picks a split of a saved dataset folder or a Hub dataset"):
        table_source(str(tmp_path / "deu-eng.parquet") + "@test")


def test_hub_offline_is_one_line_and_downloads_nothing(monkeypatch):
    # conftest sets HF_HUB_OFFLINE=1: nothing in the cache, so a clear refusal
    with pytest.raises(
        InputError,
        match=r"^hf:nobody/nothing@test: cannot load the Hub dataset: not in the Hugging Face cache and HF_HUB_OFFLINE is set; ",
    ) as e:
        read_bitext("hf:nobody/nothing@test", ("deu", "eng"))
    assert "\n" not in str(e.value)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(tables_mod, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(
        InputError,
        match=r"^hf:nobody/nothing: the Hugging Face Hub cannot be reached \(HF_HUB_OFFLINE=1 reads a cached copy",
    ):
        read_sts("hf:nobody/nothing", ("en", "de"))
    with pytest.raises(InputError, match=r"a Hub dataset is hf:OWNER/NAME or hf:OWNER/NAME/CONFIG"):
        table_source("hf:just-a-name")


def test_hub_dataset_name_config_and_split_reach_load_dataset(tmp_path, monkeypatch):
    """The Hub path with ``load_dataset`` replaced by a local DatasetDict (no download)."""
    import datasets

    calls = []
    local = datasets.DatasetDict(
        test=datasets.Dataset.from_dict(
            {"score": [1.0, 2.0], "sentence1": ["a", "b"], "sentence2": ["c", "d"]}
        ),
        train=datasets.Dataset.from_dict(
            {"score": [0.0, 5.0], "sentence1": ["e", "f"], "sentence2": ["g", "h"]}
        ),
    )

    def fake_load(name, config, split=None):
        calls.append((name, config, split))
        return local if split is None else local[split]

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    s = read_sts("hf:mteb/sts17-crosslingual-sts/en-de@train")
    assert (s.lang1, s.lang2, s.s1, s.file.path) == (
        "en",
        "de",
        ["e", "f"],
        "hf:mteb/sts17-crosslingual-sts/en-de@train",
    )
    assert calls == [("mteb/sts17-crosslingual-sts", "en-de", "train")]
    with pytest.raises(
        InputError, match=r"hf:mteb/sts17: a dataset with splits test, train; pick one as hf:mteb/sts17@SPLIT"
    ):
        read_sts("hf:mteb/sts17", ("en", "de"))
