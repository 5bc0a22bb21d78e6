"""Precomputed embeddings: measure an API model (or anything) from ``.npy`` files.

``--embeddings DIR`` holds one ``.npy`` per input file, named by the file's stem and
row-aligned with it:

- a two-column file (bitext ``deu-eng.tsv``, STS ``en-de.tsv``, sample ``deu.tsv``):
  ``deu-eng.npy`` of shape ``(N, 2, D)``, ``[i, 0]`` the first text of line ``i``,
  ``[i, 1]`` the second;
- a one-column file (multi-way ``deu_Latn.txt``): ``deu_Latn.npy`` of shape ``(N, D)``.

:class:`PrecomputedEncoder` maps each text to its row, so the rest of langgap sees an
ordinary encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from langgap.errors import InputError


class PrecomputedEncoder:
    """Look texts up in precomputed arrays.

    Args:
        folder: the ``--embeddings`` directory.
        files: ``{stem: columns}`` for every input file, ``columns`` a list of 1 or 2 text
            lists (one per column) of equal length.
    """

    def __init__(self, folder: str | Path, files: dict[str, list[list[str]]]) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise InputError(f"--embeddings {self.folder}: not a directory")
        self.vectors: dict[str, np.ndarray] = {}
        self.dim: int | None = None
        for stem, columns in files.items():
            path = self.folder / f"{stem}.npy"
            if not path.is_file():
                raise InputError(
                    f"{path}: missing; --embeddings needs one .npy per input file (stem {stem!r})"
                )
            try:
                arr = np.load(path, allow_pickle=False)
            except (OSError, ValueError) as e:
                raise InputError(f"{path}: not a readable .npy file ({e})") from None
            n = len(columns[0])
            want = (n, 2) if len(columns) == 2 else (n,)
            if arr.ndim != len(want) + 1 or arr.shape[: len(want)] != want:
                shape = "(N, 2, D)" if len(columns) == 2 else "(N, D)"
                raise InputError(
                    f"{path}: shape {arr.shape} does not match its data file ({n} rows, "
                    f"{len(columns)} column(s)); expected {shape} with N={n}"
                )
            if not np.isfinite(arr).all():
                bad = int(np.argwhere(~np.isfinite(arr.reshape(n, -1)).all(axis=1))[0, 0])
                raise InputError(f"{path}: row {bad} holds NaN or infinite values")
            if self.dim is None:
                self.dim = arr.shape[-1]
            elif arr.shape[-1] != self.dim:
                raise InputError(
                    f"{path}: dimension {arr.shape[-1]} differs from the other files ({self.dim})"
                )
            arr = arr.reshape(n, len(columns), -1).astype(np.float32)
            for c, texts in enumerate(columns):
                for i, text in enumerate(texts):
                    self.vectors.setdefault(text, arr[i, c])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            raise InputError(f"--embeddings {self.folder}: no vector for text {missing[0]!r}")
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts])

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "precomputed",
            "name": str(self.folder),
            "path": str(self.folder),
            "prompt": None,
            "pooling": None,
            "dimension": self.dim,
        }
