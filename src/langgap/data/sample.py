"""The built-in sample: anchor/positive pairs written by the langgap team in 10 languages.

``sample/<lang>.tsv`` holds ``anchor<TAB>positive`` lines, row-aligned across languages (see
``sample/README.md``). It is the default data of ``langgap measure``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from langgap.data.corpora import DataFile, Sample
from langgap.data.readers import _fields, read_lines
from langgap.errors import InputError

# English first: it is the pivot of the cross-language tables.
SAMPLE_LANGUAGES = ("eng", "deu", "nld", "fra", "spa", "zho_Hans", "zho_Hant", "jpn", "ara", "tur")


def sample_dir() -> Path:
    """The folder holding the sample TSV files inside the installed package."""
    return Path(str(resources.files("langgap.data") / "sample"))


def load_sample(folder: str | Path | None = None) -> Sample:
    """Load the built-in sample (or a folder of the same format: ``<lang>.tsv`` anchor/positive).

    Raises:
        InputError: a missing file, a malformed line, or files that are not row-aligned.
    """
    root = Path(folder) if folder is not None else sample_dir()
    if folder is None:
        paths = {lang: root / f"{lang}.tsv" for lang in SAMPLE_LANGUAGES}
    else:
        paths = {p.stem: p for p in sorted(root.glob("*.tsv"))}
        if "eng" in paths:
            paths = {"eng": paths["eng"], **{k: v for k, v in paths.items() if k != "eng"}}
    if len(paths) < 2:
        raise InputError(f"{root}: a sample needs at least two <lang>.tsv files")
    anchors: dict[str, list[str]] = {}
    positives: dict[str, list[str]] = {}
    files: dict[str, DataFile] = {}
    for lang, path in paths.items():
        lines, file = read_lines(path)
        pairs = [_fields(path, no, line, 2, "anchor, positive") for no, line in enumerate(lines, start=1)]
        anchors[lang] = [a for a, _ in pairs]
        positives[lang] = [p for _, p in pairs]
        files[lang] = file
    sizes = {lang: len(a) for lang, a in anchors.items()}
    if len(set(sizes.values())) > 1:
        raise InputError(f"{root}: sample files are not row-aligned: line counts {sizes}")
    return Sample(anchors, positives, files, "builtin:sample" if folder is None else str(root))
