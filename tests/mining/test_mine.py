"""``langgap.mining``: sides (de-duplication, embed folders, checks), FAISS and numpy search agree,
mine() against the metric functions on exact neighbours, the run folder and its formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from langgap import knn
from langgap.data.readers import read_bitext
from langgap.errors import InputError
from langgap.metrics import mining
from langgap.metrics.similarity import topk_cosine
from langgap.mining import DEFAULT_THRESHOLDS, Threshold, array_side, choose_threshold, mine, search, sides
from langgap.mining.write import write_mined
from mining.helpers import MODEL, embed_folder, planted


def test_distinct_maps_every_line():
    texts, inverse, first = sides.distinct(["a", "b", "a", "c", "b"])
    assert texts == ["a", "b", "c"] and inverse.tolist() == [0, 1, 0, 2, 1] and first.tolist() == [0, 1, 3]


def test_duplicates_are_mined_once_and_map_back():
    st, sv, tt, tv, _ = planted()
    dup_src = array_side("deu", [*st, st[0], st[5]], np.concatenate([sv, sv[[0, 5]]]))
    dup_tgt = array_side("eng", [*tt, tt[3]], np.concatenate([tv, tv[[3]]]))
    assert len(dup_src) == len(st) and dup_src.lines == len(st) + 2
    assert dup_src.inverse[len(st)] == 0 and dup_tgt.inverse[len(tt)] == 3
    plain = mine(array_side("deu", st, sv), array_side("eng", tt, tv))
    dup = mine(dup_src, dup_tgt)
    assert dup.src_ids.tolist() == plain.src_ids.tolist() and dup.tgt_ids.tolist() == plain.tgt_ids.tolist()
    np.testing.assert_allclose(dup.scores, plain.scores, rtol=1e-6)


@pytest.mark.parametrize("mode", mining.MODES)
@pytest.mark.parametrize("margin", mining.MARGINS)
def test_mine_equals_metric_functions_on_exact_neighbours(mode, margin):
    st, sv, tt, tv, _ = planted(seed=3)
    got = mine(array_side("deu", st, sv), array_side("eng", tt, tv), k=3, margin=margin, mode=mode)
    fs, fi = topk_cosine(sv, tv, 3)
    bs, bi = topk_cosine(tv, sv, 3)
    fb, fsc = mining.best_candidates(fs, fi, fs.mean(1), bs.mean(1), margin)
    bb, bsc = mining.best_candidates(bs, bi, bs.mean(1), fs.mean(1), margin)
    s, t, sc = mining.retrieve(fb, fsc, bb, bsc, mode)
    assert got.src_ids.tolist() == s.tolist() and got.tgt_ids.tolist() == t.tolist()
    np.testing.assert_allclose(got.scores, sc, rtol=1e-5, atol=1e-6)


def test_numpy_fallback_equals_faiss(monkeypatch):
    pytest.importorskip("faiss")
    st, sv, tt, tv, _ = planted(seed=1)
    with_faiss = mine(array_side("deu", st, sv), array_side("eng", tt, tv), mode="max")
    monkeypatch.setattr(knn, "available", lambda: False)
    without = mine(array_side("deu", st, sv), array_side("eng", tt, tv), mode="max")
    assert with_faiss.search["backend"] == "faiss" and without.search["backend"] == "numpy"
    assert with_faiss.src_ids.tolist() == without.src_ids.tolist()
    assert with_faiss.tgt_ids.tolist() == without.tgt_ids.tolist()
    np.testing.assert_allclose(with_faiss.scores, without.scores, rtol=1e-5)


def test_without_faiss_big_sides_are_refused_before_work(monkeypatch):
    monkeypatch.setattr(knn, "available", lambda: False)
    assert search.check_search(search.NUMPY_MAX_ROWS, 10, "auto") == "numpy"
    with pytest.raises(InputError, match=r"50,001 distinct texts on one side.*pip install faiss-cpu"):
        search.check_search(10, search.NUMPY_MAX_ROWS + 1, "auto")
    with pytest.raises(InputError, match="--index ivf needs FAISS: pip install faiss-cpu"):
        search.check_search(10, 10, "ivf")


def test_shard_side_equals_array_side(tmp_path):
    st, sv, tt, tv, _ = planted(seed=2)
    texts = [*st, st[4], st[9]]  # duplicate lines: mined once
    vecs = np.concatenate([sv, sv[[4, 9]]])
    side = sides.shard_side(embed_folder(tmp_path / "emb" / "deu", texts, vecs), None)
    assert side.name == "deu" and side.lines == len(texts) and len(side) == len(st) and side.dim == 16
    ref = array_side("deu", texts, vecs.astype(np.float16).astype(np.float32))
    assert side.texts == ref.texts and side.inverse.tolist() == ref.inverse.tolist()
    np.testing.assert_allclose(
        np.concatenate(list(side.blocks())), np.concatenate(list(ref.blocks())), rtol=1e-6
    )
    assert side.model is not None and side.model["name"] == "toy"
    assert side.source == str(tmp_path / "emb" / "deu")  # mine.json's inputs and messages name the folder


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"name": "other"},
            r"embedded differently \(name 'toy' vs 'other'\); embed both with the same model and prompt$",
        ),
        ({"prompt": ""}, r"embedded differently \(prompt 'query: ' vs ''\)"),
        ({"max_length": 32}, r"embedded differently \(max_length 16 vs 32\)"),
        ({"cache_key": "toy|32"}, r"embedded differently \(cache_key"),
    ],
)
def test_folders_of_another_model_or_prompt_are_refused(tmp_path, change, message):
    st, sv, tt, tv, _ = planted()
    a = sides.shard_side(embed_folder(tmp_path / "deu", st, sv), None)
    b = sides.shard_side(embed_folder(tmp_path / "eng", tt, tv, model=dict(MODEL, **change)), None)
    with pytest.raises(InputError, match=message):
        sides.check_pair(a, b)


def test_sides_without_a_model_record_or_a_dimension_yet_are_not_compared(tmp_path):
    st, sv, tt, tv, _ = planted()
    folder = sides.shard_side(embed_folder(tmp_path / "deu", st, sv), None)
    (tmp_path / "eng.txt").write_text("".join(t + "\n" for t in tt), encoding="utf-8")
    text = sides.text_side(tmp_path / "eng.txt", None, 1000)  # no model record, dimension 0
    assert text.model is None and text.dim == 0 and folder.dim == 16
    sides.check_pair(folder, text)
    sides.check_pair(text, folder)


def test_dimension_mismatch_and_changed_input_are_refused(tmp_path):
    st, sv, tt, tv, _ = planted()
    a = sides.shard_side(embed_folder(tmp_path / "deu", st, sv), None)
    b = sides.shard_side(embed_folder(tmp_path / "eng", tt, tv[:, :8]), None)
    with pytest.raises(InputError, match="has dimension 16, .* 8"):
        sides.check_pair(a, b)
    (tmp_path / "deu.txt").write_text("changed\n" * len(st), encoding="utf-8")
    with pytest.raises(InputError, match="changed since"):
        sides.shard_side(tmp_path / "deu", None)


def test_text_side_checks(tmp_path):
    f = tmp_path / "swh.txt"
    f.write_text("a\tb\nc\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"swh.txt:1: holds a tab"):
        sides.text_side(f, None, 100)
    f.write_text("a\nb\nb\nc\td\n", encoding="utf-8")  # the tab's own line, after a duplicate
    with pytest.raises(InputError, match=r"swh.txt:4: holds a tab"):
        sides.text_side(f, None, 100)
    f.write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        sides.text_side(f, None, 2)
    assert str(e.value) == (
        f"{f}: 3 lines; text files up to 2 lines are embedded in memory, embed bigger ones with "
        "langgap embed and mine the folders"
    )
    side = sides.text_side(f, None, 3)  # exactly the limit: read, every line
    assert (side.name, side.source, side.texts, side.lines) == ("swh", str(f), ["a", "b", "c"], 3)
    assert sides.text_side(f, "deu", 100).name == "deu"
    with pytest.raises(InputError, match="cannot name the pairs file"):
        sides.pair_name("german news", "eng")
    with pytest.raises(InputError) as e:
        sides.pair_name("de-AT", "eng")
    assert str(e.value).endswith("give --src-lang and --tgt-lang as codes like deu, eng or deu_Latn")
    assert sides.pair_name("deu_Latn", "eng_Latn") == "deu_Latn-eng_Latn.tsv"


def test_run_folder_formats_and_pairs_read_back(tmp_path):
    st, sv, tt, tv, gold = planted(seed=4)
    mined = mine(array_side("deu", st, sv), array_side("eng", tt, tv), mode="max")
    threshold = float(np.median(mined.scores))
    written = write_mined(mined, tmp_path / "run", threshold=threshold, pairs_file="deu-eng.tsv")
    assert [p.name for p in written] == ["mined.tsv", "deu-eng.tsv", "mine.json"]
    rows = [line.split("\t") for line in (tmp_path / "run" / "mined.tsv").read_text().splitlines()]
    assert len(rows) == len(mined) and all(len(r) == 3 for r in rows)
    scores = [float(r[0]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert [(r[1], r[2]) for r in rows] == [
        (st[i], tt[j]) for i, j in zip(mined.src_ids, mined.tgt_ids, strict=True)
    ]
    pairs = read_bitext(tmp_path / "run" / "deu-eng.tsv")
    assert (pairs.src_lang, pairs.tgt_lang) == ("deu", "eng")
    assert len(pairs.src) == mined.above(threshold) == sum(s >= threshold for s in mined.scores)
    assert list(zip(pairs.src, pairs.tgt, strict=True)) == [(r[1], r[2]) for r in rows[: len(pairs.src)]]
    meta = json.loads((tmp_path / "run" / "mine.json").read_text())
    assert meta["settings"]["mode"] == "max" and meta["pairs"]["count"] == len(pairs.src)
    assert meta["inputs"]["src"]["distinct"] == len(st) and meta["threshold"]["from"] == "default"


def test_calibration_finds_the_planted_pairs():
    st, sv, tt, tv, gold_lines = planted(n_gold=40, n_src=120, n_tgt=150, seed=5)
    src, tgt = array_side("deu", st, sv), array_side("eng", tt, tv)
    gold = {(int(src.inverse[a]), int(tgt.inverse[b])) for a, b in gold_lines}
    mined = mine(src, tgt)
    best = mined.calibrate(gold)
    assert best.f1 > 0.9
    for t in np.unique(mined.scores):  # no threshold over the candidates does better
        assert mined.evaluate(gold, float(t)).f1 <= best.f1 + 1e-12
    assert mined.evaluate(gold, best.threshold).f1 == pytest.approx(best.f1)
    assert set(DEFAULT_THRESHOLDS) == set(mining.MARGINS)


def test_ivf_measures_nprobe_and_probing_every_list_equals_flat():
    """1,100 texts per side, --index ivf: without nprobe each direction records the measured
    choice; probing all 28 lists (searched list by list) gives exactly the flat index's pairs."""
    pytest.importorskip("faiss")
    st, sv, tt, tv, _ = planted(n_gold=100, n_src=1_100, n_tgt=1_100, seed=6)
    src, tgt = array_side("deu", st, sv), array_side("eng", tt, tv)
    measured = mine(src, tgt, index="ivf").describe()
    assert set(measured["nprobe_by_recall"]) == {"src→tgt", "tgt→src"}
    assert all(m["recall_at_k"] >= 0.99 for m in measured["nprobe_by_recall"].values())
    every = mine(src, tgt, index="ivf", nprobe=10_000, mode="max")
    flat = mine(src, tgt, index="flat", mode="max")
    assert (
        every.search["src→tgt"] == "ivf nlist=28 nprobe=28 on CPU"
        and "nprobe_by_recall" not in every.describe()
    )
    assert every.src_ids.tolist() == flat.src_ids.tolist() and every.tgt_ids.tolist() == flat.tgt_ids.tolist()
    np.testing.assert_allclose(every.scores, flat.scores, rtol=1e-6)


def test_choose_threshold_calibrated_given_or_default():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(5, 6)).astype(np.float32)
    texts = [f"t{i}" for i in range(5)]
    mined = mine(array_side("deu", texts, vectors), array_side("eng", texts, vectors + 0.01), k=2)
    gold = {(i, i) for i in range(5)}
    best = choose_threshold(mined, gold=gold)
    assert best.how == "calibrated" and best.calibration == mined.calibrate(gold)
    assert best.value == best.calibration.threshold and best.calibration.f1 == 1.0
    assert choose_threshold(mined, threshold=1.5) == Threshold(1.5, "given")
    assert choose_threshold(mined) == Threshold(DEFAULT_THRESHOLDS["ratio"], "default")
    with pytest.raises(InputError, match="^give --threshold or --calibrate, not both$"):
        choose_threshold(mined, threshold=1.0, gold=gold)


def test_mine_json_whole_and_a_pair_at_the_threshold_kept(tmp_path):
    """mine.json key by key (a machine-readable format), written as indented UTF-8 text; a pair
    scored exactly at the threshold is kept (``>=``)."""
    from langgap.metrics.mining import PRF
    from langgap.results import package_versions

    st, sv, tt, tv, _ = planted(seed=4)
    mined = mine(array_side("deu", st, sv), array_side("eng", tt, tv), mode="max")
    threshold = float(mined.scores[5])  # the 6th best score exactly
    assert mined.scores[6] < threshold  # no tie: exactly 6 pairs kept
    calib = PRF(threshold, 0.5, 0.25, 1 / 3, 6, 3)
    run = tmp_path / "run"
    extra = {"note": "Straße"}
    write_mined(
        mined,
        run,
        threshold=threshold,
        pairs_file="deu-eng.tsv",
        source="given",
        calibration=calib,
        extra=extra,
    )
    text = (tmp_path / "run" / "mine.json").read_text(encoding="utf-8")
    assert text.startswith('{\n  "format": "langgap.mine/1",\n') and text.endswith("}\n")
    assert '"note": "Straße"' in text  # UTF-8 as it is, not \u escapes
    meta = json.loads(text)

    def side(s):
        return {
            "path": s.source,
            "language": s.name,
            "lines": s.lines,
            "distinct": len(s),
            "model": s.model,
        }

    assert meta == {
        "format": "langgap.mine/1",
        "inputs": {"src": side(mined.src), "tgt": side(mined.tgt)},
        "settings": {"k": 4, "margin": "ratio", "mode": "max", "candidates": len(mined), **mined.search},
        "threshold": {"value": pytest.approx(threshold, abs=1e-6), "from": "given"},
        "pairs": {"file": "deu-eng.tsv", "count": 6},
        "versions": package_versions(),
        "calibration": {
            "precision": 0.5,
            "recall": 0.25,
            "f1": pytest.approx(1 / 3, abs=1e-6),
            "kept": 6,
            "correct": 3,
        },
        "note": "Straße",
    }
    assert len((tmp_path / "run" / "deu-eng.tsv").read_text(encoding="utf-8").splitlines()) == 6


def test_settings_checked_word_for_word_with_laser_spellings():
    from langgap.mining import check_settings

    assert check_settings(4, "ratio", "fwd", "auto", 0) == ("ratio", "forward", "auto")
    assert check_settings(1, "distance", "intersect", "flat", 3)[1] == "intersection"
    for args, message in [
        ((0, "ratio", "forward", "auto", 0), "--k must be >= 1, got 0"),
        ((4, "ratio", "forward", "auto", -1), "--nprobe must be >= 1 (or 0 for the default), got -1"),
        ((4, "ratoi", "forward", "auto", 0), "--margin 'ratoi': expected one of ratio, distance, absolute (did you mean 'ratio'?)"),
        ((4, "ratio", "forward", "flta", 0), "--index 'flta': expected one of auto, flat, ivf, ivfpq (did you mean 'flat'?)"),
    ]:  # fmt: skip
        with pytest.raises(InputError) as e:
            check_settings(*args)
        assert str(e.value) == message


def test_k_may_equal_the_smaller_side_but_not_exceed_it():
    from langgap.mining import check_k

    rng = np.random.default_rng(0)
    small = array_side("deu", ["a", "b", "c", "a"], rng.normal(size=(4, 3)))  # 3 distinct texts
    big = array_side("eng", [f"t{i}" for i in range(5)], rng.normal(size=(5, 3)))
    check_k(3, small, big)
    with pytest.raises(InputError) as e:
        check_k(4, big, small)
    assert str(e.value) == (
        "--k 4 is more than the 3 distinct texts of deu: the margin would average over the whole "
        "side; give a smaller --k (4 is the usual)"
    )


def test_array_side_and_the_defaults_of_mine():
    with pytest.raises(ValueError, match="^deu: 3 texts but 2 vectors$"):
        array_side("deu", ["a", "b", "c"], np.zeros((2, 3)))
    side = array_side("deu", ["a", "b"], np.ones((2, 3), dtype=np.float64))
    assert (side.name, side.source) == ("deu", "deu")
    assert np.concatenate(list(side.blocks())).dtype == np.float32
    st, sv, tt, tv, _ = planted(seed=7)
    seen = []
    mined = mine(array_side("deu", st, sv), array_side("eng", tt, tv), progress=lambda *a: seen.append(a))
    assert (mined.k, mined.margin, mined.mode) == (
        4,
        "ratio",
        "forward",
    ) and seen  # progress reaches the search
    assert mined.describe()["k"] == 4


@pytest.mark.parametrize("backend", ["faiss", "numpy"])
def test_each_search_stage_reports_its_progress_to_the_end(monkeypatch, backend):
    """Both directions report under their own stage name, texts done rising to the side's size."""
    if backend == "numpy":
        monkeypatch.setattr(knn, "available", lambda: False)
    else:
        pytest.importorskip("faiss")
    st, sv, tt, tv, _ = planted(n_src=700, n_tgt=600, seed=9)
    src, tgt = array_side("deu", st, sv), array_side("eng", tt, tv)
    seen: list[tuple[str, int, int]] = []
    nn = search.neighbours(
        src, tgt, k=4, progress=lambda stage, done, total: seen.append((stage, done, total))
    )
    for stage, n in (("kNN src→tgt", len(src)), ("kNN tgt→src", len(tgt))):
        calls = [(done, total) for s, done, total in seen if s == stage]
        assert calls and calls[-1] == (n, n) and all(total == n for _, total in calls)
        assert all(a < b for (a, _), (b, _) in zip(calls, calls[1:], strict=False)), calls  # rising
    assert nn.search["backend"] == backend
    if backend == "numpy":
        assert nn.search["src→tgt"] == nn.search["tgt→src"] == "exact (numpy, FAISS not installed)"


def test_a_side_without_vectors_and_ivf_indexes_without_faiss_are_refused(monkeypatch):
    from langgap.mining.sides import Side

    st, sv, tt, tv, _ = planted(seed=2)
    bare = Side("eng", "eng", tt, np.arange(len(tt)))  # texts, no vectors attached
    for a, b in ((array_side("deu", st, sv), bare), (bare, array_side("deu", st, sv))):
        with pytest.raises(ValueError, match=r"^a side has no vectors yet \(langgap.mining.sides.attach\)$"):
            search.neighbours(a, b, k=2)
    monkeypatch.setattr(knn, "available", lambda: False)
    for index in ("ivf", "ivfpq"):
        with pytest.raises(InputError, match=rf"^--index {index} needs FAISS: pip install faiss-cpu"):
            search.check_search(10, 10, index)


def test_a_measured_nprobe_is_recorded_with_every_value_tried():
    pytest.importorskip("faiss")
    st, sv, tt, tv, _ = planted(n_gold=100, n_src=1_100, n_tgt=1_100, seed=6)
    record = mine(array_side("deu", st, sv), array_side("eng", tt, tv), index="ivf").describe()[
        "nprobe_by_recall"
    ]
    for way in ("src→tgt", "tgt→src"):
        r = record[way]
        assert set(r) == {"nprobe", "recall_at_k", "k", "target", "queries", "against", "tried"}, way
        assert (r["k"], r["target"], r["queries"], r["against"]) == (4, 0.99, 1000, "exact search")
        assert r["recall_at_k"] >= r["target"] and r["tried"][str(r["nprobe"])] == r["recall_at_k"]


def test_attach_refuses_a_wrong_count_and_blocks_a_big_side_without_overlap():
    vectors = np.random.default_rng(0).normal(size=(70_000, 2))  # more than one 65,536-row block
    big = array_side("deu", [f"t{i}" for i in range(70_000)], vectors)
    blocks = list(big.blocks())
    assert [len(b) for b in blocks] == [65_536, 70_000 - 65_536]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    np.testing.assert_allclose(np.concatenate(blocks), unit, rtol=1e-5, atol=1e-6)
    small = array_side("eng", ["a", "b"], np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^eng: expected 2 vectors, got shape \(3, 3\)$"):
        sides.attach(small, np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"expected 2 vectors, got shape \(2,\)"):
        sides.attach(small, np.ones(2))


def test_mine_itself_refuses_an_ivf_index_without_faiss(monkeypatch):
    st, sv, tt, tv, _ = planted(seed=1)
    monkeypatch.setattr(knn, "available", lambda: False)
    with pytest.raises(InputError, match="^--index ivf needs FAISS"):
        mine(array_side("deu", st, sv), array_side("eng", tt, tv), index="ivf")


def test_a_text_file_before_an_embed_folder_names_the_folder(tmp_path):
    st, sv, tt, tv, _ = planted()
    folder = embed_folder(tmp_path / "eng", tt, tv)
    text = tmp_path / "deu.txt"
    text.write_text("".join(t + "\n" for t in st), encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{folder} is an embed folder and {text} a text file"):
        sides.open_sides(text, folder)
    empty = tmp_path / "plain"
    empty.mkdir()
    with pytest.raises(InputError, match=rf"^{empty} is a folder without manifest.json"):
        sides.open_sides(text, empty)
