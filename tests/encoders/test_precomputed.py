"""Precomputed .npy embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.encoders.precomputed import PrecomputedEncoder
from langgap.errors import InputError


def test_lookup_two_and_one_column_files(tmp_path):
    np.save(tmp_path / "deu-eng.npy", np.arange(12, dtype=np.float32).reshape(2, 2, 3))
    np.save(tmp_path / "fra_Latn.npy", np.ones((2, 3), dtype=np.float32))
    enc = PrecomputedEncoder(
        tmp_path, {"deu-eng": [["Hallo", "Ja"], ["Hello", "Yes"]], "fra_Latn": [["Oui", "Non"]]}
    )
    out = enc.encode(["Yes", "Hallo", "Non"])
    assert np.array_equal(out, [[9, 10, 11], [0, 1, 2], [1, 1, 1]])
    assert enc.describe()["dimension"] == 3
    with pytest.raises(InputError, match="no vector for text 'Nein'"):
        enc.encode(["Nein"])


def test_errors_name_the_file(tmp_path):
    files = {"deu-eng": [["a", "b"], ["c", "d"]]}
    with pytest.raises(InputError, match=r"deu-eng.npy: missing"):
        PrecomputedEncoder(tmp_path, files)
    np.save(tmp_path / "deu-eng.npy", np.zeros((3, 2, 4)))
    with pytest.raises(
        InputError, match=r"deu-eng.npy: shape \(3, 2, 4\) does not match.*expected \(N, 2, D\) with N=2"
    ):
        PrecomputedEncoder(tmp_path, files)
    bad = np.zeros((2, 2, 4))
    bad[1, 0, 2] = np.nan
    np.save(tmp_path / "deu-eng.npy", bad)
    with pytest.raises(InputError, match="row 1 holds NaN"):
        PrecomputedEncoder(tmp_path, files)
    with pytest.raises(InputError, match="not a directory"):
        PrecomputedEncoder(tmp_path / "nothing", files)
