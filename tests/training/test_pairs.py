"""Training pairs: the pool's data hash, the same-language file names and language-balanced draws
(the composer is tested in test_composer.py)."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.data.readers import read_bitext
from langgap.errors import InputError
from langgap.training.pairs import Pair, PairPool, balanced_order, read_mono_pairs


def _write(folder, name: str, rows: list[tuple[str, str]]):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")
    return path


def test_data_hash_is_stable_and_ignores_paths(tmp_path):
    """A checkpoint pins its training data by this hash: it must not change between versions
    (the stored values below were written by this code; a checkpoint of today resumes tomorrow)
    nor with where the files are, and it must change with the texts, languages or pools."""
    rows, mono = [("one", "eins"), ("two", "zwei")], [("ein Satz", "noch ein Satz")]
    here = PairPool.build([read_bitext(_write(tmp_path / "a", "en-de.tsv", rows))])
    there = PairPool.build([read_bitext(_write(tmp_path / "b" / "c", "en-de.tsv", rows))])
    assert (
        here.sha256() == there.sha256() == "a74c4b2d77aa9af2e18bf6327a4785752b7d1f05d8a58d6c222b4c16d5774cfb"
    )
    with_mono = PairPool.build(
        [read_bitext(_write(tmp_path / "a", "en-de.tsv", rows))],
        [read_mono_pairs(_write(tmp_path, "deu.tsv", mono))],
    )
    assert with_mono.sha256() == "f43b4935ec5f65abc564a8f24f4c0ecc534e2a1bb6877d8b04e55256c86faced"
    other_langs = PairPool.build([read_bitext(_write(tmp_path / "d", "en-fr.tsv", rows))])
    assert other_langs.sha256() != here.sha256()
    swapped = PairPool(cross=here.mono, mono=here.cross, simcse=False)  # same pairs, other pools
    assert swapped.sha256() != PairPool(cross=here.cross, mono=here.mono, simcse=False).sha256()


def test_two_language_name_for_same_language_pairs_says_what_to_do(tmp_path):
    path = _write(tmp_path, "deu-eng.tsv", [("a", "b")])
    want = (
        f"{path}: the name gives two languages (deu, eng); same-language pairs need one, e.g. 'deu.tsv' "
        "or 'deu-deu.tsv' (cross-language files go to --pairs)"
    )
    with pytest.raises(InputError) as e:
        read_mono_pairs(path)
    assert str(e.value) == want


def test_balanced_order_goes_through_each_language_pairs_shuffle_before_repeating():
    """Each language pair's draws come from its own shuffle: every one of its pairs once before any
    repeats (small pairs repeat within an epoch, but only after a full pass)."""
    pairs = [Pair(f"deu{i}", f"eng{i}", "deu", "eng", f"d:{i}") for i in range(7)]
    pairs += [Pair(f"swh{i}", f"eng{i}", "swh", "eng", f"s:{i}") for i in range(3)]
    for alpha in (0.0, 0.5):
        order = balanced_order(pairs, alpha, np.random.default_rng(4))
        assert len(order) == len(pairs)
        for lang, n in (("deu", 7), ("swh", 3)):
            drawn = [i for i in order if pairs[i].lang_a == lang]
            for start in range(0, len(drawn), n):
                block = drawn[start : start + n]
                assert len(set(block)) == len(block), (alpha, lang, drawn)  # no repeat inside a pass
        swh = [i for i in order if pairs[i].lang_a == "swh"]
        assert alpha > 0 or len(swh) > 3  # alpha 0: swh drawn as often as deu, so it repeats
