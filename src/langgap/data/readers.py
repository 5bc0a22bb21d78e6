"""Readers for the input formats, with validation that names file, line and problem.

- bitext TSV: ``src<TAB>tgt`` per line; languages from the name ``xxx-yyy.tsv`` or given.
- multi-way folder: one ``<lang>.txt`` per language (FLORES style ``deu_Latn.txt``), equal
  line counts, line ``i`` of every file the same sentence.
- STS TSV: ``score<TAB>s1<TAB>s2`` per line, any score scale.
- mining set (BUCC style): a folder ``<src>-<tgt>/`` holding ``src.txt`` and ``tgt.txt`` (one
  sentence per line) and ``gold.tsv`` (``src_line<TAB>tgt_line``, 1-based, the known
  translations among them); or three files ``SRC,TGT,GOLD``.

Bitext, STS and multi-way data may also be tables (Parquet, JSON lines, CSV, a saved Hugging
Face dataset, a Hub dataset): :mod:`langgap.data.sources` tells them apart by the spec and
:mod:`langgap.data.columns` reads them with the same checks (``path:row N: column 'x': message``).

Every problem raises :class:`langgap.errors.InputError` with ``path:line: message``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from langgap.data.columns import bitext_from_table, multiway_from_table, sts_from_table
from langgap.data.corpora import Bitext, DataFile, MiningSet, MultiWay, STSSet
from langgap.data.names import LANG_NAME, languages_from_name, resolve_langs
from langgap.data.sources import table_source
from langgap.data.tables import load_table
from langgap.errors import InputError, did_you_mean
from langgap.text import decode_line, parse_finite


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def read_lines(path: str | Path) -> tuple[list[str], DataFile]:
    """Read a UTF-8 text file into lines (no line ends) and its :class:`DataFile` record.

    Raises:
        InputError: unreadable file, empty file, invalid UTF-8 (with the line number).
    """
    path = Path(path)
    raw = _read_bytes(path)
    if not raw.strip():
        raise InputError(f"{path}: file is empty")
    text_lines = raw.split(b"\n")
    if text_lines and text_lines[-1] == b"":
        text_lines.pop()
    lines: list[str] = []
    for no, b in enumerate(text_lines, start=1):
        lines.append(decode_line(b, path, no))
    return lines, DataFile(str(path), hashlib.sha256(raw).hexdigest(), len(lines))


def _fields(path: Path, no: int, line: str, n: int, what: str) -> list[str]:
    parts = line.split("\t")
    if len(parts) != n:
        raise InputError(f"{path}:{no}: expected {n} tab-separated fields ({what}), got {len(parts)}")
    for k, p in enumerate(parts, start=1):
        if not p.strip():
            raise InputError(f"{path}:{no}: field {k} is empty")
    return parts


def split_spec(spec: str) -> tuple[str | None, str]:
    """``"deu,eng=path"`` -> ``("deu,eng", "path")``; ``"path"`` -> ``(None, "path")``.

    A spec naming an existing file is a path even if it holds ``=``.
    """
    if "=" in spec and not Path(spec).exists():
        langs, path = spec.split("=", 1)
        return langs, path
    return None, spec


def read_bitext(path: str | Path, langs: Sequence[str] | None = None) -> Bitext:
    """Read a bitext TSV (``src<TAB>tgt``) or a table (:mod:`langgap.data.columns`).

    Args:
        path: the file; languages come from its name ``xxx-yyy.tsv`` unless ``langs`` is given.
            A table spec (``deu-eng.parquet``, ``pairs.jsonl#de,en``, ``hf:OWNER/NAME@test``)
            is read through :mod:`langgap.data.tables`.
        langs: ``(src_lang, tgt_lang)`` to override the file name.
    """
    table = table_source(path)
    if table is not None:
        return bitext_from_table(*load_table(table), langs)
    path = Path(path)
    src_lang, tgt_lang = resolve_langs(path, langs)
    lines, file = read_lines(path)
    src, tgt = [], []
    for no, line in enumerate(lines, start=1):
        a, b = _fields(path, no, line, 2, "source, target")
        src.append(a)
        tgt.append(b)
    return Bitext(src_lang, tgt_lang, src, tgt, file)


def read_sts(path: str | Path, langs: Sequence[str] | None = None) -> STSSet:
    """Read an STS TSV (``score<TAB>s1<TAB>s2``) or a table (``en-de.parquet#score,s1,s2``);
    languages from ``xx-yy.tsv`` or ``langs``."""
    table = table_source(path)
    if table is not None:
        return sts_from_table(*load_table(table), langs)
    path = Path(path)
    lang1, lang2 = resolve_langs(path, langs)
    lines, file = read_lines(path)
    scores, s1, s2 = [], [], []
    for no, line in enumerate(lines, start=1):
        score, a, b = _fields(path, no, line, 3, "score, sentence 1, sentence 2")
        scores.append(parse_finite(score, f"{path}:{no}: score"))
        s1.append(a)
        s2.append(b)
    if len(set(scores)) < 2:
        raise InputError(f"{path}: all gold scores are equal; Spearman is undefined")
    return STSSet(lang1, lang2, np.asarray(scores, dtype=np.float64), s1, s2, file)


def read_multiway(path: str | Path, langs: Sequence[str] | None = None) -> MultiWay:
    """Read a multi-way folder (one ``<lang>.txt`` per language, equal line counts) or a table
    with one column per language (``flores.parquet``, ``saved@dev#eng_Latn,deu_Latn``).

    Args:
        path: the folder. Files whose name starts with ``_`` or ``.`` are ignored.
        langs: the languages to read (file stems or column languages, e.g. ``deu_Latn``); default all.
    """
    table = table_source(path)
    if table is not None:
        return multiway_from_table(*load_table(table), langs)
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a directory (expected one <lang>.txt file per language)")
    available = {p.stem: p for p in sorted(folder.glob("*.txt")) if not p.name.startswith(("_", "."))}
    if not available:
        raise InputError(f"{folder}: no <lang>.txt files found")
    if langs is None:
        wanted = list(available)
    else:
        wanted = [lang.strip() for lang in langs if lang.strip()]
        if len(wanted) < 2:
            raise InputError(f"--langs needs at least two languages, got {list(langs)!r}")
        for lang in wanted:
            if lang not in available:
                raise InputError(
                    f"{folder}: no file for language {lang!r} (expected {folder / (lang + '.txt')})"
                    + did_you_mean(lang, available)
                )
        if len(set(wanted)) != len(wanted):
            raise InputError(f"--langs lists a language twice: {wanted}")
    texts: dict[str, list[str]] = {}
    files: dict[str, DataFile] = {}
    for lang in wanted:
        lines, file = read_lines(available[lang])
        for no, line in enumerate(lines, start=1):
            if not line.strip():
                raise InputError(f"{available[lang]}:{no}: empty line")
        texts[lang], files[lang] = lines, file
    counts = {lang: len(t) for lang, t in texts.items()}
    if len(set(counts.values())) > 1:
        first = wanted[0]
        odd = next(lang for lang in wanted if counts[lang] != counts[first])
        raise InputError(
            f"{folder}: unequal line counts: {available[first].name} has {counts[first]} lines, "
            f"{available[odd].name} has {counts[odd]}"
        )
    return MultiWay(texts, files, str(folder))


def _mining_paths(spec: str) -> tuple[Path, Path, Path, str]:
    """``(src, tgt, gold, name)`` of a mining folder or of ``SRC,TGT,GOLD``."""
    folder = Path(spec)
    if folder.is_dir():
        paths = [folder / "src.txt", folder / "tgt.txt", folder / "gold.tsv"]
        for p in paths:
            if not p.is_file():
                raise InputError(
                    f"{folder}: no {p.name} (a mining folder holds src.txt, tgt.txt and gold.tsv)"
                )
        return paths[0], paths[1], paths[2], folder.name
    parts = spec.split(",")
    if len(parts) != 3:
        raise InputError(
            f"--mining {spec}: not a folder; expected a folder with src.txt, tgt.txt, gold.tsv or "
            "three files SRC,TGT,GOLD"
        )
    return Path(parts[0]), Path(parts[1]), Path(parts[2]), Path(parts[2]).stem


def _mining_langs(
    src: Path, tgt: Path, gold: Path, name: str, langs: Sequence[str] | None, folder: bool
) -> tuple[str, str]:
    named = all(LANG_NAME.match(p.stem) and p.stem not in ("src", "tgt") for p in (src, tgt))
    if langs is None and not folder and named:
        return src.stem, tgt.stem
    if langs is None and languages_from_name(name) is None:
        raise InputError(
            f"{gold}: cannot tell the languages of the mining set; name its folder like 'deu-eng' "
            "(or its files deu.txt, eng.txt) or give them (--mining deu,eng=PATH)"
        )
    where = (gold.parent if folder else gold) if langs else Path(name)  # given: refusals name the set
    return resolve_langs(where, langs)


def mining_languages(spec: str | Path, langs: Sequence[str] | None = None) -> tuple[str, str] | None:
    """The languages of a mining set from its names alone, as :func:`read_mining` will read
    them (``None`` when they cannot be told, which reading then reports)."""
    try:
        src, tgt, gold, name = _mining_paths(str(spec))
        return _mining_langs(src, tgt, gold, name, langs, Path(str(spec)).is_dir())
    except InputError:
        return None


def _gold_pairs(path: Path, n_src: int, n_tgt: int) -> tuple[list[tuple[int, int]], DataFile]:
    lines, file = read_lines(path)
    gold: list[tuple[int, int]] = []
    seen: dict[tuple[int, int], int] = {}
    for no, line in enumerate(lines, start=1):
        fields = _fields(path, no, line, 2, "source line, target line")
        try:
            i, j = int(fields[0]), int(fields[1])
        except ValueError:
            raise InputError(f"{path}:{no}: line numbers must be integers, got {line!r}") from None
        for value, n, side in ((i, n_src, "source"), (j, n_tgt, "target")):
            if not 1 <= value <= n:
                raise InputError(f"{path}:{no}: {side} line {value} is outside 1..{n} (1-based line numbers)")
        if (i, j) in seen:
            raise InputError(f"{path}:{no}: the pair {i}, {j} repeats line {seen[(i, j)]}")
        seen[(i, j)] = no
        gold.append((i - 1, j - 1))
    return gold, file


def read_mining(spec: str | Path, langs: Sequence[str] | None = None) -> MiningSet:
    """Read a BUCC-style mining set: a folder ``<src>-<tgt>/`` with ``src.txt``, ``tgt.txt``
    and ``gold.tsv``, or ``"SRC,TGT,GOLD"`` (languages from the file stems ``deu.txt``/``eng.txt``
    or the gold file's name ``deu-eng.tsv``, else ``langs``).

    ``gold.tsv`` lines are ``src_line<TAB>tgt_line`` (1-based line numbers of the two sides).
    """
    src_path, tgt_path, gold_path, name = _mining_paths(str(spec))
    folder = Path(str(spec)).is_dir()
    src_lang, tgt_lang = _mining_langs(src_path, tgt_path, gold_path, name, langs, folder)
    sides = []
    for path in (src_path, tgt_path):
        lines, file = read_lines(path)
        for no, line in enumerate(lines, start=1):
            if not line.strip():
                raise InputError(f"{path}:{no}: empty line")
        sides.append((lines, file))
    (src, src_file), (tgt, tgt_file) = sides
    gold, gold_file = _gold_pairs(gold_path, len(src), len(tgt))
    stems = (f"{name}.src", f"{name}.tgt") if folder else (src_path.stem, tgt_path.stem)
    files = {"src": src_file, "tgt": tgt_file, "gold": gold_file}
    return MiningSet(src_lang, tgt_lang, src, tgt, gold, files, str(spec), stems)
