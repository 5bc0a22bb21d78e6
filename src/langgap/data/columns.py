"""Corpora from tables: which columns hold what, and the same validation as the TSV readers.

Columns are given (``PATH#A,B``, see :mod:`langgap.data.sources`) or inferred:

- bitext (``#SRC,TGT``): the columns named by the two languages (``deu``, ``translation.deu``,
  ``sentence_deu``), else ``sentence1``/``sentence2``, ``src``/``tgt``, ``source``/``target``,
  ``text1``/``text2``, ``anchor``/``positive``, else the two ``translation.*`` fields of a HF translation dataset, else the
  only two text columns. Languages: given (``deu,eng=PATH``), else from the name
  (``deu-eng.parquet``, a Hub config ``de-en``), else from the columns when they are language codes.
- STS (``#SCORE,S1,S2``): the number column named ``score``, ``label``, ``similarity_score``,
  ``similarity``, ``relatedness_score`` or ``gold`` (else the only number column), and the text
  columns ``sentence1``/``sentence2`` (else ``s1``/``s2``, ``text1``/``text2``, else the only two).
- multi-way (``#LANG,LANG,...``): one column per language; inferred, every text column named by a
  language code (``deu``, ``zho_Hans``, ``sentence_deu_Latn``, ``translation.de``; not ``id``,
  ``url``, ``src``, ``tgt`` and a few other short names that are rarely languages).

Every cell is checked as a TSV field is: ``path:row N: column 'x': problem`` for a missing
value, a value of the wrong type, an empty text or a score that is not a finite number (rows
count from 1, the header not counted). Results record the source (with ``@SPLIT``) and a content
hash: the sha256 of the column names and values read, so runs on the same data stay paired
whatever the file's encoding or compression.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from langgap.data.corpora import Bitext, DataFile, MultiWay, STSSet
from langgap.data.names import COLUMN_LANG, check_langs, languages_from_name
from langgap.data.sources import TableSource
from langgap.data.tables import Table
from langgap.errors import InputError, did_you_mean
from langgap.text import parse_finite

_PREFIXES = ("translation.", "sentence_")
_TEXT_PAIRS = (
    ("sentence1", "sentence2"),
    ("src", "tgt"),
    ("source", "target"),
    ("text1", "text2"),
    ("anchor", "positive"),  # sentence-transformers training datasets (--mono-pairs)
)
_STS_PAIRS = (("sentence1", "sentence2"), ("s1", "s2"), ("text1", "text2"))
_SCORE_NAMES = ("score", "label", "similarity_score", "similarity", "relatedness_score", "gold")
# short column names that look like language codes but rarely are ("id" is also Indonesian)
_NOT_LANGUAGES = frozenset({"id", "idx", "uid", "url", "src", "tgt", "key", "row", "tag", "doc"})


def column_language(name: str) -> str | None:
    """The language a column is named by (``deu``, ``translation.de``, ``sentence_eng_Latn``)."""
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name if COLUMN_LANG.match(name) and name not in _NOT_LANGUAGES else None


def _given(table: Table, cols: tuple[str, ...], roles: Sequence[str]) -> tuple[str, ...]:
    if roles and len(cols) != len(roles):
        raise InputError(
            f"{table.label}: expected {len(roles)} columns ({', '.join(roles)}), got {len(cols)}"
        )
    for c in cols:
        if c not in table.kinds:
            raise InputError(
                f"{table.label}: no column {c!r}{did_you_mean(c, table.kinds)}; "
                f"columns: {', '.join(table.kinds)}"
            )
    if len(set(cols)) != len(cols):
        raise InputError(f"{table.label}: a column is named twice: {', '.join(cols)}")
    return cols


def _texts(table: Table) -> list[str]:
    return [c for c, k in table.kinds.items() if k == "text"]


def _by_language(table: Table, lang: str) -> str | None:
    return next((c for c in (lang, *(p + lang for p in _PREFIXES)) if c in table.kinds), None)


def _bitext_columns(table: Table, langs: tuple[str, str] | None) -> tuple[str, str] | None:
    if langs is not None:
        a, b = _by_language(table, langs[0]), _by_language(table, langs[1])
        if a and b and a != b:
            return a, b
    for a, b in _TEXT_PAIRS:
        if a in table.kinds and b in table.kinds:
            return a, b
    for group in ([c for c in table.kinds if c.startswith("translation.")], _texts(table)):
        if len(group) == 2:
            return group[0], group[1]
    return None


def _text_cell(label: str, row: int, col: str, value: Any) -> str:
    where = f"{label}:row {row}: column {col!r}"
    if value is None:
        raise InputError(f"{where}: missing value")
    if not isinstance(value, str):
        raise InputError(f"{where}: expected text, got {type(value).__name__} {value!r:.60}")
    if not value.strip():
        raise InputError(f"{where}: empty text")
    return value


def _score_cell(label: str, row: int, col: str, value: Any) -> float:
    where = f"{label}:row {row}: column {col!r}"
    if value is None:
        raise InputError(f"{where}: missing value")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"{where}: expected a number, got {type(value).__name__} {value!r:.60}")
    return parse_finite(value if isinstance(value, str) else repr(float(value)), f"{where}: score")


def text_column(table: Table, col: str) -> list[str]:
    """The validated texts of ``col`` (:class:`InputError` names the first bad row)."""
    return [_text_cell(table.label, i, col, v) for i, v in enumerate(table.column(col), start=1)]


def score_column(table: Table, col: str) -> np.ndarray:
    """The validated scores of ``col`` as float64 (numbers, or numeric text as in a CSV file)."""
    values = [_score_cell(table.label, i, col, v) for i, v in enumerate(table.column(col), start=1)]
    return np.asarray(values, dtype=np.float64)


def content_hash(columns: dict[str, Sequence[Any]]) -> str:
    """sha256 of the column names and the values read (scores as ``repr(float)``), row by row."""
    h = hashlib.sha256("\x1f".join(columns).encode("utf-8") + b"\x1e")
    for row in zip(*columns.values(), strict=True):
        h.update(
            "\x1f".join(v if isinstance(v, str) else repr(float(v)) for v in row).encode("utf-8") + b"\x1e"
        )
    return h.hexdigest()


def _nonempty(table: Table) -> None:
    if table.rows == 0:
        raise InputError(f"{table.label}: no rows")


def _pair_langs(
    table: Table, src: TableSource, langs: Sequence[str] | None, cols: Sequence[str]
) -> tuple[str, str]:
    if langs is not None:
        return check_langs(table.label, langs)
    found = languages_from_name(src.base_stem)
    if found is None:
        by_col = [column_language(c) for c in cols]
        if by_col[0] and by_col[1]:
            return by_col[0], by_col[1]
        raise InputError(
            f"{table.label}: cannot tell the languages from the name or the columns ({', '.join(cols)}); "
            "name it like 'deu-eng.parquet' or give them before it: deu,eng=PATH"
        )
    return found


def bitext_from_table(table: Table, src: TableSource, langs: Sequence[str] | None = None) -> Bitext:
    """A :class:`Bitext` from a table's source and target columns (given or inferred)."""
    _nonempty(table)
    if src.columns is not None:
        cols = _given(table, src.columns, ("source", "target"))
    else:
        hint = check_langs(table.label, langs) if langs is not None else languages_from_name(src.base_stem)
        found = _bitext_columns(table, hint)
        if found is None:
            raise InputError(
                f"{table.label}: cannot tell which columns hold the two sides (text columns: "
                f"{', '.join(_texts(table)) or 'none'}); give them as PATH#SRC,TGT"
            )
        cols = found
    a_lang, b_lang = _pair_langs(table, src, langs, cols)
    a, b = text_column(table, cols[0]), text_column(table, cols[1])
    file = DataFile(table.label, content_hash({cols[0]: a, cols[1]: b}), table.rows)
    return Bitext(a_lang, b_lang, a, b, file)


def _sts_columns(table: Table) -> tuple[str, str, str]:
    numbers = [c for c, k in table.kinds.items() if k == "number"]
    score = next((c for c in _SCORE_NAMES if c in table.kinds), None)
    if score is None and len(numbers) == 1:
        score = numbers[0]
    pair = next(((a, b) for a, b in _STS_PAIRS if a in table.kinds and b in table.kinds), None)
    texts = [c for c in _texts(table) if c != score]
    if pair is None and len(texts) == 2:
        pair = (texts[0], texts[1])
    if score is None or pair is None:
        raise InputError(
            f"{table.label}: cannot tell the score and text columns (columns: {', '.join(table.kinds)}); "
            "give them as PATH#SCORE,S1,S2"
        )
    return score, pair[0], pair[1]


def sts_from_table(table: Table, src: TableSource, langs: Sequence[str] | None = None) -> STSSet:
    """An :class:`STSSet` from a table's score and two text columns (given or inferred)."""
    _nonempty(table)
    if src.columns is not None:
        score, c1, c2 = _given(table, src.columns, ("score", "sentence 1", "sentence 2"))
    else:
        score, c1, c2 = _sts_columns(table)
    if langs is not None:
        lang1, lang2 = check_langs(table.label, langs)
    else:
        found = languages_from_name(src.base_stem)
        if found is None:
            raise InputError(
                f"{table.label}: cannot tell the languages from the name; name it like 'en-de.parquet' "
                "or give them before it: en,de=PATH"
            )
        lang1, lang2 = found
    scores = score_column(table, score)
    s1, s2 = text_column(table, c1), text_column(table, c2)
    if len(set(scores.tolist())) < 2:
        raise InputError(f"{table.label}: all gold scores are equal; Spearman is undefined")
    file = DataFile(table.label, content_hash({score: scores.tolist(), c1: s1, c2: s2}), table.rows)
    return STSSet(lang1, lang2, scores, s1, s2, file)


def _multiway_columns(table: Table, src: TableSource) -> dict[str, str]:
    if src.columns is not None:
        cols = _given(table, src.columns, ())
        return {column_language(c) or c: c for c in cols}
    found: dict[str, str] = {}
    for c in _texts(table):  # the first column of a language wins ("de" before "translation.de")
        lang = column_language(c)
        if lang is not None:
            found.setdefault(lang, c)
    if len(found) < 2:
        raise InputError(
            f"{table.label}: a multi-way table needs one text column per language, named by its code "
            f"(deu, eng_Latn, sentence_deu_Latn); text columns: {', '.join(_texts(table)) or 'none'}; "
            "give them as PATH#COL,COL"
        )
    return found


def multiway_from_table(table: Table, src: TableSource, langs: Sequence[str] | None = None) -> MultiWay:
    """A :class:`MultiWay` from one column per language; ``langs`` selects among them."""
    _nonempty(table)
    columns = _multiway_columns(table, src)
    if langs is None:
        wanted = list(columns)
    else:
        wanted = [lang.strip() for lang in langs if lang.strip()]
        if len(wanted) < 2:
            raise InputError(f"--langs needs at least two languages, got {list(langs)!r}")
        for lang in wanted:
            if lang not in columns:
                raise InputError(
                    f"{table.label}: no column for language {lang!r}{did_you_mean(lang, columns)}; "
                    f"languages: {', '.join(columns)}"
                )
        if len(set(wanted)) != len(wanted):
            raise InputError(f"--langs lists a language twice: {wanted}")
    if len(wanted) < 2:
        raise InputError(f"{table.label}: a multi-way table needs at least two language columns")
    texts = {lang: text_column(table, columns[lang]) for lang in wanted}
    files = {
        lang: DataFile(f"{table.label}#{columns[lang]}", content_hash({columns[lang]: t}), table.rows)
        for lang, t in texts.items()
    }
    return MultiWay(texts, files, table.label)
