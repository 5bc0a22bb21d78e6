"""Which inputs are tables, and the spec syntax that names their split and columns.

A data spec (``--bitext``, ``--sts``, ``--multiway``, ``--pairs``) names a table when its source is

- a ``.parquet``, ``.jsonl``, ``.json`` or ``.csv`` file;
- a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk`` (it holds
  ``state.json`` or ``dataset_dict.json``);
- a Hugging Face Hub dataset ``hf:OWNER/NAME`` or ``hf:OWNER/NAME/CONFIG``.

The spec is ``SOURCE[@SPLIT][#COLUMN,COLUMN...]``: ``@SPLIT`` picks a split of a saved
``DatasetDict`` or a Hub dataset (Hub slices such as ``train[:1000]`` too); ``#...`` names the
columns to read, in the order of the TSV fields (bitext ``#SRC,TGT``, STS ``#SCORE,S1,S2``,
multi-way one column per language), nested fields with a dot (``#translation.de,translation.en``).
A spec naming an existing path is that path, whatever ``@`` or ``#`` it holds. Anything else
(``deu-eng.tsv``, a folder of ``<lang>.txt``) is read by the TSV readers as before.

Stdlib only: deciding what a spec names never imports ``datasets``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from langgap.errors import InputError

TABLE_SUFFIXES = (".parquet", ".jsonl", ".json", ".csv")
HUB_PREFIX = "hf:"
_SPLIT = re.compile(r"^[^/.@#]+$")  # "test", "train[:1000]"; no "/" or "." (those are paths)
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w.-]+)?$")


def is_saved_dataset(folder: Path) -> bool:
    """A folder written by ``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``)."""
    return folder.is_dir() and any((folder / n).is_file() for n in ("state.json", "dataset_dict.json"))


@dataclass(frozen=True)
class TableSource:
    """A parsed table spec.

    Attributes:
        source: the file, the saved folder, or ``hf:OWNER/NAME[/CONFIG]``.
        split: ``@SPLIT`` (``None``: the only split, or a file's one table).
        columns: ``#A,B`` (``None``: inferred).
    """

    source: str
    split: str | None = None
    columns: tuple[str, ...] | None = None

    @property
    def kind(self) -> Literal["file", "folder", "hub"]:
        if self.source.startswith(HUB_PREFIX):
            return "hub"
        return "folder" if Path(self.source).is_dir() else "file"

    @property
    def hub_id(self) -> tuple[str, str | None]:
        """``(OWNER/NAME, CONFIG or None)`` of a Hub source."""
        parts = self.source[len(HUB_PREFIX) :].split("/")
        return "/".join(parts[:2]), (parts[2] if len(parts) > 2 else None)

    @property
    def label(self) -> str:
        """What errors and results name: the source, with ``@SPLIT`` when one was picked."""
        return self.source + (f"@{self.split}" if self.split else "")

    @property
    def base_stem(self) -> str:
        """The name languages are read from: ``deu-eng`` of ``deu-eng.parquet``, a Hub config or name."""
        if self.kind == "hub":
            name, config = self.hub_id
            return config or name.split("/")[-1]
        return Path(self.source).stem if self.kind == "file" else Path(self.source).name

    @property
    def stem(self) -> str:
        """Task and ``--embeddings`` name: :attr:`base_stem` with ``@SPLIT``."""
        return self.base_stem + (f"@{self.split}" if self.split else "")

    def with_split(self, split: str) -> TableSource:
        return TableSource(self.source, split, self.columns)


def _is_table(source: str) -> bool:
    if source.startswith(HUB_PREFIX):
        return True
    path = Path(source)
    return is_saved_dataset(path) or (not path.is_dir() and path.suffix.lower() in TABLE_SUFFIXES)


def _columns(spec: str, text: str) -> tuple[str, ...]:
    cols = tuple(c.strip() for c in text.split(","))
    if not all(cols):
        raise InputError(f"{spec}: an empty column name after '#' (give them as #COLUMN,COLUMN)")
    return cols


def table_source(spec: str | Path) -> TableSource | None:
    """The table ``spec`` names, or ``None`` for a TSV file or a folder of text files.

    Raises:
        InputError: a malformed Hub id, an empty column name, or ``@SPLIT`` on a file.
    """
    spec = str(spec)
    if Path(spec).exists():
        return TableSource(spec) if _is_table(spec) else None
    base, hash_, text = spec.rpartition("#") if "#" in spec else (spec, "", "")
    source, split = base, None
    head, at, tail = base.rpartition("@")
    if at and head and _SPLIT.match(tail):
        source, split = head, tail
    if not _is_table(source):
        return None
    out = TableSource(source, split, _columns(spec, text) if hash_ else None)
    if out.kind == "hub" and not _HUB_ID.match(source[len(HUB_PREFIX) :]):
        raise InputError(f"{spec}: a Hub dataset is hf:OWNER/NAME or hf:OWNER/NAME/CONFIG")
    if split is not None and out.kind == "file":
        raise InputError(
            f"{spec}: @{split} picks a split of a saved dataset folder or a Hub dataset; a file holds one table"
        )
    return out


def source_stem(spec: str | Path) -> str:
    """A task's name for ``spec``: a table's :attr:`TableSource.stem`, else the file's stem."""
    table = table_source(spec)
    return table.stem if table is not None else Path(spec).stem


def source_name(spec: str | Path) -> str:
    """A multi-way task's name for ``spec``: a table's file or folder name, else the folder's."""
    table = table_source(spec)
    if table is None:
        return Path(spec).name
    return (table.stem if table.kind == "hub" else Path(table.source).name) + (
        f"@{table.split}" if table.split and table.kind != "hub" else ""
    )
