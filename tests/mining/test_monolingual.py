"""One round of mining a folder of monolingual files against a pivot (mining/monolingual.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from langgap.errors import InputError
from langgap.mining.filters import PairFilter
from langgap.mining.monolingual import dev_gold, dev_language, mine_round, mono_files, read_sides, write_round


def write_mono(folder: Path, langs: list[str], pivot: str, shared: int, own: int, seed: int = 0) -> Path:
    """``<lang>.txt`` per language: ``shared`` sentences that translate a pivot line
    (``<lang>:<i>``, :class:`ToyEncoder`'s meaning ``i``) among ``own`` that translate nothing,
    shuffled; the pivot holds every meaning and ``own`` distractors of its own."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for lang in [*langs, pivot]:
        lines = [f"{lang}:{i}" for i in range(shared)] + [f"{lang}:{lang}{j}" for j in range(own)]
        lines = [lines[i] for i in rng.permutation(len(lines))]
        (folder / f"{lang}.txt").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return folder


def test_mono_files_put_the_pivot_last_and_refuse_a_folder_without_it(tmp_path):
    folder = write_mono(tmp_path / "mono", ["hau", "yor"], "eng", 5, 5)
    assert list(mono_files(folder, "eng")) == ["hau", "yor", "eng"]
    with pytest.raises(InputError, match=r"no fra.txt, the --pivot side \(eng, hau, yor\)"):
        mono_files(folder, "fra")
    (folder / "hau.txt").unlink()
    (folder / "yor.txt").unlink()
    with pytest.raises(InputError, match="only eng.txt; add <language>.txt of another language"):
        mono_files(folder, "eng")
    with pytest.raises(InputError, match="not a folder"):
        mono_files(tmp_path / "none", "eng")
    (folder / "not a code.txt").write_text("x\n", encoding="utf-8")
    with pytest.raises(InputError, match="'not a code' is not a language code"):
        mono_files(folder, "eng")


def test_bad_sides_name_the_file_and_line(tmp_path):
    folder = write_mono(tmp_path / "mono", ["hau"], "eng", 5, 5)
    (folder / "hau.txt").write_text("same\nsame\nsame\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"hau.txt: every line is the same sentence"):
        read_sides(mono_files(folder, "eng"), 4)
    (folder / "hau.txt").write_text("a\n\nb\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"hau.txt:2: empty line"):
        read_sides(mono_files(folder, "eng"), 4)
    (folder / "hau.txt").write_bytes(b"ok\n\xff\xfe bad\n")
    with pytest.raises(InputError, match=r"hau.txt.*(UTF-8|utf-8)"):
        read_sides(mono_files(folder, "eng"), 4)
    (folder / "hau.txt").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"hau.txt.*empty"):
        read_sides(mono_files(folder, "eng"), 4)
    (folder / "hau.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(InputError, match="--k 4 is more than the 2 distinct texts"):
        read_sides(mono_files(folder, "eng"), 4)


def test_a_round_finds_the_translations_and_measures_them(tmp_path, toy):
    folder = write_mono(tmp_path / "mono", ["hau", "yor"], "eng", 40, 40)
    sides = read_sides(mono_files(folder, "eng"), 4)
    dev = tmp_path / "hau-eng.tsv"
    dev.write_text("".join(f"hau:{i}\teng:{i}\n" for i in range(40)), encoding="utf-8")
    golds = {"hau": dev_gold(dev, sides["hau"], sides["eng"])}
    seen = []
    result = mine_round(
        sides,
        toy(noise=0.2),
        PairFilter(1.5),  # toy vectors: random cosines are not compressed like E5's
        golds=golds,
        on_language=lambda r: seen.append(r.lang),
    )
    assert seen == ["hau", "yor"]
    for lang in ("hau", "yor"):
        r = result.languages[lang]
        pairs = {
            (r.side.texts[i], sides["eng"].texts[j])
            for i, j in zip(r.kept.src_ids, r.kept.tgt_ids, strict=True)
        }
        right = {(a, b) for a, b in pairs if a.split(":")[1] == b.split(":")[1]}
        assert len(right) == 40 and pairs == right  # every translation, nothing else (toy vectors)
        assert r.summary["kept"] == 40 and r.summary["threshold"] == {"value": 1.5, "from": "given"}
        assert r.summary["candidates"] == 80  # forward: one per distinct hau sentence
    d = result.languages["hau"].summary["dev"]
    kept = result.languages["hau"].summary["kept"]
    assert d["known"] == 40 and d["kept"] == kept and d["precision"] == pytest.approx(d["correct"] / kept)
    assert d["recall"] == pytest.approx(d["correct"] / 40) and d["f1"] > 0.9
    assert "dev" not in result.languages["yor"].summary

    meta = write_round(result, tmp_path / "round-1", {"round": 1, "model": "toy"})
    assert sorted(p.name for p in (tmp_path / "round-1").iterdir()) == [
        "candidates",
        "hau-eng.tsv",
        "mine.json",
        "yor-eng.tsv",
    ]
    cands = (tmp_path / "round-1" / "candidates" / "hau-eng.tsv").read_text(encoding="utf-8").splitlines()
    scores = [float(c.split("\t")[0]) for c in cands]
    assert len(cands) == 80 and scores == sorted(scores, reverse=True)  # every hau sentence, best first
    assert sum(s >= 1.5 for s in scores) == meta["languages"]["hau"]["kept"]  # the kept ones are the top
    assert meta == json.loads((tmp_path / "round-1" / "mine.json").read_text(encoding="utf-8"))
    assert (
        meta["files"] == ["hau-eng.tsv", "yor-eng.tsv"]
        and meta["round"] == 1
        and meta["pivot"]["language"] == "eng"
    )
    rows = (tmp_path / "round-1" / "hau-eng.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == meta["languages"]["hau"]["kept"] and all(
        r.startswith("hau:") and "\teng:" in r for r in rows
    )


def test_calibrated_thresholds_come_from_the_dev_pairs(tmp_path, toy):
    folder = write_mono(tmp_path / "mono", ["hau", "yor"], "eng", 30, 30)
    sides = read_sides(mono_files(folder, "eng"), 4)
    dev = tmp_path / "eng-hau.tsv"  # the other orientation is read too
    dev.write_text("".join(f"eng:{i}\thau:{i}\n" for i in range(30)), encoding="utf-8")
    golds = {"hau": dev_gold(dev, sides["hau"], sides["eng"])}
    result = mine_round(sides, toy(noise=0.2), PairFilter(1.03), golds=golds, calibrate=True)
    assert result.languages["hau"].summary["threshold"]["from"] == "calibrated"
    assert result.languages["yor"].summary["threshold"] == {"value": 1.03, "from": "given"}


def test_no_pair_anywhere_is_an_error_with_the_best_score(tmp_path, toy):
    folder = write_mono(tmp_path / "mono", ["hau"], "eng", 10, 10)
    sides = read_sides(mono_files(folder, "eng"), 4)
    with pytest.raises(
        InputError,
        match=r"no language kept a mined pair: the best margin score was \d\.\d{4} \(hau\), the threshold 9\.0000",
    ):
        mine_round(sides, toy(), PairFilter(9.0))
    assert not (tmp_path / "round-1").exists()


def test_a_language_without_pairs_is_recorded_and_skipped(tmp_path, toy):
    folder = write_mono(tmp_path / "mono", ["hau"], "eng", 30, 0)
    (folder / "yor.txt").write_text("".join(f"yor:none{j}\n" for j in range(30)), encoding="utf-8")
    sides = read_sides(mono_files(folder, "eng"), 4)
    result = mine_round(sides, toy(noise=0.2), PairFilter(1.5))
    assert result.languages["yor"].summary["kept"] == 0 and result.languages["hau"].summary["kept"] > 0
    meta = write_round(result, tmp_path / "r", {})
    assert meta["files"] == ["hau-eng.tsv"] and meta["languages"]["yor"]["kept"] == 0


def test_dev_files_are_checked(tmp_path):
    folder = write_mono(tmp_path / "mono", ["hau", "yor"], "eng", 5, 5)
    sides = read_sides(mono_files(folder, "eng"), 4)
    assert dev_language("d/yor-eng.tsv", sides, "eng") == "yor"
    for name in ("zul-eng.tsv", "hau-fra.tsv", "pairs.tsv"):
        with pytest.raises(InputError, match=rf"--mine-dev {name}: name it <x>-eng.tsv.*\(hau, yor\)"):
            dev_language(name, sides, "eng")
    dev = tmp_path / "hau-eng.tsv"
    dev.write_text("hau:1\teng:1\nhau:99\teng:2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"hau-eng.tsv:2: 'hau:99' is not a line of .*hau.txt"):
        dev_gold(dev, sides["hau"], sides["eng"])
