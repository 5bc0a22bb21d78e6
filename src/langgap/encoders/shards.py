"""Embeddings of a big text file on disk: ``.npy`` shards of a fixed row count plus a manifest.

A shard folder (written by ``langgap embed``) holds

- ``manifest.json``: format, the model (name, path, prompt, max length, dimension, cache key),
  the input (path, sha256, line count), ``rows_per_shard``, ``dtype`` (``float16`` by default)
  and per shard its file, first line (0-based), row count and the byte offset of its first line
  in the input (so a process can seek to its shards without reading the file before them);
- ``shard-00000.npy`` ...: one (rows, D) array per shard, row ``r`` the embedding of input line
  ``first_line + r``. A shard file exists only when complete (written atomically).

:class:`ShardSet` reads a finished folder without loading it whole: shards are memory-mapped and
:meth:`ShardSet.blocks` yields float32 row blocks; :meth:`ShardSet.texts` streams the input lines.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from langgap import atomic
from langgap.errors import InputError
from langgap.text import decode_line

FORMAT = "langgap.embed/1"
MANIFEST = "manifest.json"
DTYPES = ("float16", "float32")


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.npy"


@dataclass
class Manifest:
    """What a shard folder holds; see the module docstring."""

    model: dict[str, Any]
    input: dict[str, Any]  # path, sha256, lines
    rows_per_shard: int
    dtype: str
    shards: list[dict[str, int | str]] = field(default_factory=list)  # file, first_line, rows, offset
    format: str = FORMAT

    @property
    def rows(self) -> int:
        return int(self.input["lines"])

    def settings(self) -> dict[str, Any]:
        """What must match for a rerun to continue this folder (model, prompt, length, shards)."""
        model = {k: self.model.get(k) for k in ("name", "prompt", "max_length", "cache_key")}
        return {
            "model": model,
            "input_sha256": self.input["sha256"],
            "rows_per_shard": self.rows_per_shard,
            "dtype": self.dtype,
        }

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def scan_input(path: str | Path, rows_per_shard: int) -> tuple[str, int, list[dict[str, int | str]]]:
    """One streaming pass over a text file (never all of it in memory): its sha256, its line
    count and the shard table. Raises :class:`InputError` for an unreadable or empty file, invalid
    UTF-8 or an empty line (with the line number)."""
    path = Path(path)
    if rows_per_shard < 1:
        raise InputError(f"--rows-per-shard must be >= 1, got {rows_per_shard}")
    h = hashlib.sha256()
    shards: list[dict[str, int | str]] = []
    offset = lines = 0
    try:
        f = open(path, "rb")
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a text file (one text per line)") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    with f:
        for raw in f:
            h.update(raw)
            decoded = decode_line(raw, path, lines + 1)
            if not decoded.strip():
                raise InputError(f"{path}:{lines + 1}: empty line (one text per line)")
            if lines % rows_per_shard == 0:
                shards.append(
                    {"file": shard_name(len(shards)), "first_line": lines, "rows": 0, "offset": offset}
                )
            shards[-1]["rows"] = int(shards[-1]["rows"]) + 1
            lines += 1
            offset += len(raw)
    if lines == 0:
        raise InputError(f"{path}: file is empty")
    return h.hexdigest(), lines, shards


def read_lines(path: str | Path, offset: int, count: int, first_line: int = 0) -> list[str]:
    """``count`` lines of a text file starting at byte ``offset``, which is where its 0-based line
    ``first_line`` starts (a shard's texts; errors name the line)."""
    out: list[str] = []
    with open(path, "rb") as f:
        f.seek(offset)
        for i in range(count):
            raw = f.readline()
            if not raw:
                raise InputError(f"{path}: ended before line {first_line + i + 1} (the file changed?)")
            out.append(decode_line(raw, path, first_line + i + 1))
    return out


def write_manifest(folder: str | Path, manifest: Manifest) -> None:
    atomic.write_text(Path(folder) / MANIFEST, json.dumps(manifest.to_json(), indent=2) + "\n")


def read_manifest(folder: str | Path) -> Manifest:
    path = Path(folder) / MANIFEST
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder}: no {MANIFEST} (is this a folder written by langgap embed?)") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise InputError(f"{path}: not a langgap embed manifest (expected format {FORMAT!r})")
    try:
        return Manifest(**d)
    except TypeError as e:
        raise InputError(f"{path}: malformed manifest ({e})") from None


def write_shard(folder: str | Path, name: str, array: np.ndarray) -> None:
    """Write one shard atomically (a reader sees no shard or the whole one)."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    atomic.write_bytes(Path(folder) / name, buf.getvalue())


def shard_done(folder: str | Path, shard: dict[str, Any], dimension: int | None = None) -> bool:
    """Whether ``shard``'s file exists with its row count (and ``dimension``, when known)."""
    path = Path(folder) / str(shard["file"])
    if not path.is_file():
        return False
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return False
    return (
        arr.ndim == 2 and arr.shape[0] == shard["rows"] and (dimension is None or arr.shape[1] == dimension)
    )


class ShardSet:
    """A finished shard folder: memory-mapped shards, float32 blocks, the input's texts.

    Raises:
        InputError: no manifest, a missing or incomplete shard, shards of different dimension.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self._arrays: list[np.ndarray] = []
        dim = None
        for shard in self.manifest.shards:
            path = self.folder / str(shard["file"])
            if not shard_done(self.folder, shard):
                raise InputError(
                    f"{path}: missing or incomplete; finish the folder with the same langgap embed command"
                )
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            if dim is not None and arr.shape[1] != dim:
                raise InputError(f"{path}: dimension {arr.shape[1]}, the earlier shards have {dim}")
            dim = int(arr.shape[1])
            self._arrays.append(arr)
        self.dim = dim or 0

    def __len__(self) -> int:
        return self.manifest.rows

    @property
    def name(self) -> str:
        """The folder's stem (``emb/swh`` -> ``swh``): the language of mined pairs by default."""
        return self.folder.name

    def blocks(self, rows: int = 65536) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, float32 (B, D) block)`` over all rows in order, ``B <= rows``."""
        start = 0
        for arr in self._arrays:
            for i in range(0, len(arr), rows):
                block = np.asarray(arr[i : i + rows], dtype=np.float32)
                yield start + i, block
            start += len(arr)

    def array(self) -> np.ndarray:
        """All rows as one float32 (N, D) array (N * D * 4 bytes: for sizes that fit)."""
        return (
            np.concatenate([b for _, b in self.blocks()])
            if self._arrays
            else np.zeros((0, self.dim), np.float32)
        )

    def texts(self) -> Iterator[str]:
        """The input's lines in order (its sha256 must still match the manifest's)."""
        path = Path(self.manifest.input["path"])
        if not path.is_file():
            raise InputError(
                f"{self.folder}: its input {path} is gone; the texts of the embeddings are needed"
            )
        for shard in self.manifest.shards:
            yield from read_lines(path, int(shard["offset"]), int(shard["rows"]), int(shard["first_line"]))

    def check_input(self) -> None:
        """Raise :class:`InputError` when the input file no longer has the manifest's sha256."""
        path = Path(self.manifest.input["path"])
        sha, _, _ = scan_input(path, self.manifest.rows_per_shard)
        if sha != self.manifest.input["sha256"]:
            raise InputError(
                f"{path}: changed since {self.folder} was embedded (sha256 {sha[:12]}… vs "
                f"{str(self.manifest.input['sha256'])[:12]}… in the manifest); embed it again"
            )
