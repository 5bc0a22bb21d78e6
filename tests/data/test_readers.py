"""Readers: happy paths and one clear message per kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.data import load_sample, read_bitext, read_mining, read_multiway, read_sts
from langgap.data.readers import languages_from_name
from langgap.data.sample import SAMPLE_LANGUAGES
from langgap.errors import InputError


def test_bitext_languages_from_name_and_hash(tmp_path):
    p = tmp_path / "deu-eng.tsv"
    p.write_text("Hallo\tHello\nJa\tYes\n", encoding="utf-8")
    b = read_bitext(p)
    assert (b.src_lang, b.tgt_lang, b.src, b.tgt) == ("deu", "eng", ["Hallo", "Ja"], ["Hello", "Yes"])
    assert b.file.rows == 2 and len(b.file.sha256) == 64


@pytest.mark.parametrize(
    "name, langs",
    [
        ("deu-eng.tsv", ("deu", "eng")),
        ("en-es-wmt.tsv", ("en", "es")),
        ("zho_Hans-eng_Latn.tsv", ("zho_Hans", "eng_Latn")),
        ("notes.tsv", None),
    ],
)
def test_languages_from_name(name, langs):
    assert languages_from_name(name) == langs


def test_bitext_explicit_langs(tmp_path):
    p = tmp_path / "pairs.tsv"
    p.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot tell the languages"):
        read_bitext(p)
    assert read_bitext(p, ("xx", "yy")).src_lang == "xx"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"a\tb\nc\td\te\n", r"deu-eng.tsv:2: expected 2 tab-separated fields \(source, target\), got 3"),
        (b"a\tb\nc\n", r"deu-eng.tsv:2: expected 2 tab-separated fields"),
        (b"a\tb\n\t d\n", r"deu-eng.tsv:2: field 1 is empty"),
        (b"a\tb\nc\xff\td\n", r"deu-eng.tsv:2: invalid UTF-8"),
        (b"", r"deu-eng.tsv: file is empty"),
    ],
)
def test_bitext_bad_input(tmp_path, content, message):
    p = tmp_path / "deu-eng.tsv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_bitext(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_bitext(tmp_path / "deu-eng.tsv")


def test_crlf_and_bom_are_tolerated(tmp_path):
    p = tmp_path / "deu-eng.tsv"
    p.write_bytes(b"\xef\xbb\xbfa\tb\r\nc\td\r\n")
    assert read_bitext(p).src == ["a", "c"] and read_bitext(p).tgt == ["b", "d"]


def test_sts_any_scale_and_errors(tmp_path):
    p = tmp_path / "en-de.tsv"
    p.write_text("0.5\ta\tb\n-1\tc\td\n100\te\tf\n", encoding="utf-8")
    s = read_sts(p)
    assert s.cross_lingual and np.allclose(s.scores, [0.5, -1, 100])
    p.write_text("0.5\ta\tb\nhigh\tc\td\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"en-de.tsv:2: score 'high' is not a number"):
        read_sts(p)
    p.write_text("0.5\ta\tb\n1\tc\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"en-de.tsv:2: expected 3 tab-separated fields"):
        read_sts(p)


def test_multiway(tmp_path):
    for lang, lines in {"eng_Latn": "a\nb\n", "deu_Latn": "x\ny\n", "fra_Latn": "p\nq\n"}.items():
        (tmp_path / f"{lang}.txt").write_text(lines, encoding="utf-8")
    (tmp_path / "_meta.tsv").write_text("ignored\n", encoding="utf-8")
    m = read_multiway(tmp_path, ["eng_Latn", "fra_Latn"])
    assert m.languages == ["eng_Latn", "fra_Latn"] and m.texts["fra_Latn"] == ["p", "q"]
    assert len(read_multiway(tmp_path).languages) == 3


def test_multiway_errors(tmp_path):
    (tmp_path / "eng_Latn.txt").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "deu_Latn.txt").write_text("x\n", encoding="utf-8")
    with pytest.raises(InputError, match="unequal line counts: eng_Latn.txt has 2 lines, deu_Latn.txt has 1"):
        read_multiway(tmp_path, ["eng_Latn", "deu_Latn"])
    with pytest.raises(InputError, match=r"no file for language 'deu_Latm'.*did you mean 'deu_Latn'"):
        read_multiway(tmp_path, ["eng_Latn", "deu_Latm"])
    (tmp_path / "deu_Latn.txt").write_text("x\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"deu_Latn.txt:2: empty line"):
        read_multiway(tmp_path, ["eng_Latn", "deu_Latn"])
    with pytest.raises(InputError, match="not a directory"):
        read_multiway(tmp_path / "eng_Latn.txt")


def test_builtin_sample_is_complete_and_aligned():
    s = load_sample()
    assert s.languages == list(SAMPLE_LANGUAGES)
    assert len(s) >= 100
    for lang in s.languages:
        assert len(s.anchors[lang]) == len(s.positives[lang]) == len(s)
        assert len(set(s.anchors[lang])) == len(s)  # no duplicate anchors
    # translations really differ from English (not copies)
    for lang in s.languages[1:]:
        assert sum(a == e for a, e in zip(s.anchors[lang], s.anchors["eng"], strict=True)) == 0
    assert (
        sum(a != b for a, b in zip(s.anchors["zho_Hans"], s.anchors["zho_Hant"], strict=True)) > len(s) // 2
    )


def _mining_files(folder, src="a\nb\nc\n", tgt="x\ny\n", gold="1\t2\n3\t1\n"):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("src.txt", src), ("tgt.txt", tgt), ("gold.tsv", gold)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_mining_folder_and_three_files(tmp_path):
    folder = _mining_files(tmp_path / "deu-eng")
    m = read_mining(folder)
    assert (m.src_lang, m.tgt_lang, m.src, m.tgt) == ("deu", "eng", ["a", "b", "c"], ["x", "y"])
    assert m.gold == [(0, 1), (2, 0)] and len(m) == 2 and m.kind == "mining"
    assert m.columns() == {"deu-eng.src": [["a", "b", "c"]], "deu-eng.tgt": [["x", "y"]]}
    assert set(m.files) == {"src", "tgt", "gold"} and m.files["gold"].rows == 2
    assert m.subset([1]).gold == [(2, 0)] and m.subset([1]).src == m.src
    # three files: languages from the side files' stems, or the gold file's name, or given
    (tmp_path / "deu.txt").write_text("a\nb\nc\n")
    (tmp_path / "eng.txt").write_text("x\ny\n")
    three = read_mining(f"{tmp_path / 'deu.txt'},{tmp_path / 'eng.txt'},{folder / 'gold.tsv'}")
    assert (three.src_lang, three.tgt_lang, three.gold) == ("deu", "eng", m.gold)
    assert set(three.columns()) == {"deu", "eng"}
    spec = f"{folder / 'src.txt'},{folder / 'tgt.txt'},{folder / 'gold.tsv'}"
    assert read_mining(spec, ("fra", "eng")).src_lang == "fra"
    with pytest.raises(InputError, match="cannot tell the languages"):
        read_mining(spec)
    for sides in ("src.txt,eng.txt", "deu.txt,tgt.txt"):  # src/tgt are layout names, not languages
        (tmp_path / "src.txt").write_text("a\nb\nc\n")
        (tmp_path / "tgt.txt").write_text("x\ny\n")
        a, b = (tmp_path / n for n in sides.split(","))
        with pytest.raises(
            InputError, match=rf"^{folder / 'gold.tsv'}: cannot tell the languages of the mining set"
        ):
            read_mining(f"{a},{b},{folder / 'gold.tsv'}")
    # languages given by hand follow one rule everywhere (mine's --src-lang too): codes, not names
    with pytest.raises(InputError, match=rf"^{folder}: 'klingon' is not a language code; give ISO 639"):
        read_mining(folder, ("klingon", "eng"))
    with pytest.raises(InputError, match=r"gold.tsv: 'elvish' is not a language code"):
        read_mining(spec, ("deu", "elvish"))
    assert read_mining(folder, ("pt-BR", "zh-Hant-TW")).src_lang == "pt-BR"


@pytest.mark.parametrize("code", ["de", "deu", "deu_Latn", "pt-BR", "zh-Hant-TW", "sr_Cyrl", "es-419"])
def test_language_codes_by_hand(code):
    from langgap.data.names import check_code

    assert check_code("--lang", code) == code


@pytest.mark.parametrize("name", ["klingon", "d", "deu eng", "de-", "_deu", "deu,eng", "1de", ""])
def test_names_that_are_not_codes(name):
    from langgap.data.names import check_code

    with pytest.raises(InputError, match=f"^--lang: {name!r} is not a language code"):
        check_code("--lang", name)


@pytest.mark.parametrize(
    ("gold", "message"),
    [
        ("1\t2\n1\n", r"gold.tsv:2: expected 2 tab-separated fields \(source line, target line\), got 1"),
        ("1\tb\n", "gold.tsv:1: line numbers must be integers"),
        ("4\t1\n", "gold.tsv:1: source line 4 is outside 1..3"),
        ("1\t0\n", "gold.tsv:1: target line 0 is outside 1..2"),
        ("1\t2\n2\t1\n1\t2\n", "gold.tsv:3: the pair 1, 2 repeats line 1"),
        ("", "gold.tsv: file is empty"),
    ],
)
def test_mining_bad_gold(tmp_path, gold, message):
    with pytest.raises(InputError, match=message):
        read_mining(_mining_files(tmp_path / "deu-eng", gold=gold))


def test_mining_bad_layout(tmp_path):
    folder = _mining_files(tmp_path / "deu-eng")
    (folder / "tgt.txt").unlink()
    with pytest.raises(InputError, match="no tgt.txt"):
        read_mining(folder)
    with pytest.raises(InputError, match="three files SRC,TGT,GOLD"):
        read_mining(tmp_path / "nothing")
    with pytest.raises(InputError, match="src.txt:2: empty line"):
        read_mining(_mining_files(tmp_path / "fra-eng", src="a\n\nc\n"))
    with pytest.raises(InputError, match="cannot tell the languages"):
        read_mining(_mining_files(tmp_path / "sets"))
