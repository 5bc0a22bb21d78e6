"""Languages from names: ``deu-eng.tsv`` gives ``("deu", "eng")``, ``deu_Latn`` is a language code.

Shared by the TSV readers and the table readers (a Parquet file ``deu-eng.parquet``, a Hub
config ``en-de``, a column named ``zho_Hans``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from langgap.errors import InputError

# "deu", "en", "zho_Hans"
LANG_NAME = re.compile(r"^[A-Za-z]{2,3}(?:_[A-Za-z]{4})?$")
# "deu-eng.tsv", "en-es-wmt.tsv", "de-test.tsv" (the trailing part is a free tag)
PAIR_NAME = re.compile(r"^([A-Za-z]{2,3}(?:_[A-Za-z]{4})?)-([A-Za-z]{2,3}(?:_[A-Za-z]{4})?)(?:[-_.].*)?$")
# what a language given by hand must look like: ISO 639 with a script or region, FLORES or BCP 47
# style ("deu", "de", "deu_Latn", "pt-BR", "zh-Hant-TW"); "klingon" is a name, not a code
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})*$")
# a column named by a language: lower-case ISO 639 code, optional script ("zho_Hans")
COLUMN_LANG = re.compile(r"^[a-z]{2,3}(?:_[A-Z][a-z]{3})?$")


def languages_from_name(path: str | Path) -> tuple[str, str] | None:
    """``deu-eng.tsv`` -> ``("deu", "eng")``; ``en-es-wmt.tsv`` -> ``("en", "es")``; else None."""
    m = PAIR_NAME.match(Path(path).stem)
    return (m.group(1), m.group(2)) if m else None


def check_langs(where: str, langs: Sequence[str]) -> tuple[str, str]:
    """``langs`` as a pair, or :class:`InputError` unless it is two non-empty languages."""
    if len(langs) != 2 or not all(langs):
        raise InputError(f"{where}: expected two languages, got {list(langs)!r}")
    return check_code(where, langs[0]), check_code(where, langs[1])


def check_code(where: str, lang: str) -> str:
    """``lang`` if it is a language code (:data:`LANGUAGE_CODE`), else :class:`InputError`."""
    if not LANGUAGE_CODE.match(lang):
        raise InputError(
            f"{where}: {lang!r} is not a language code; give ISO 639 codes like deu, de, deu_Latn or pt-BR"
        )
    return lang


def resolve_langs(path: Path, langs: Sequence[str] | None) -> tuple[str, str]:
    """The two languages of a file: ``langs`` when given, else from its name ``xxx-yyy.tsv``."""
    if langs is not None:
        return check_langs(str(path), langs)
    found = languages_from_name(path)
    if found is None:
        raise InputError(
            f"{path}: cannot tell the languages from the file name; name it like 'deu-eng.tsv' "
            "or give them before it: deu,eng=PATH"
        )
    return found
