"""Zero-training baselines: the math of centering and Procrustes, the row split, and measure()."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ToyEncoder, write_bitext, write_multiway
from langgap.adapt import (
    AdaptConfig,
    Transform,
    adapted_embed,
    apply,
    apply_center,
    check_pivot,
    choose_pivot,
    fit_center,
    fit_corpus,
    fit_procrustes,
    split_rows,
)
from langgap.data import read_bitext, read_multiway, read_sts
from langgap.errors import InputError
from langgap.measuring import measure
from langgap.results import load_results
from langgap.tasks import bitext_task, multiway_task, sample_task, sts_task


def _rotation(d: int, seed: int = 0) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))  # (D, D), orthogonal, uniformly distributed


def _sts(path, n=40):
    rng = np.random.default_rng(0)
    path.write_text(
        "".join(f"{rng.uniform(0, 5):.2f}\teng:{i}\tdeu:{i}\n" for i in range(n)), encoding="utf-8"
    )
    return path


class RotatedEnglish(ToyEncoder):
    """``deu:i`` is exactly ``eng:i`` rotated by a fixed orthogonal matrix; English as the toy."""

    def __init__(self, dim: int = 16) -> None:
        super().__init__(dim=dim, gap=0.0, noise=0.3)
        self.rotation = _rotation(dim, seed=7)

    def encode(self, texts):
        out = []
        for t in texts:
            lang, _, ident = t.partition(":")
            v = super().encode([f"eng:{ident}"])[0].astype(np.float64)
            out.append(v @ self.rotation if lang == "deu" else v)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def cache_key(self) -> str:
        return f"rotated|{self.dim}"


class ChangedOnEvalRows(ToyEncoder):
    """``deu:i`` is ``eng:i`` on the fit rows; on the evaluation rows (``held``) it is shifted by a
    large offset (``center``) or rotated (``procrustes``). What the fit rows teach cannot close the
    gap of the evaluation rows; a transform fitted on them (or on all rows) would, in part or whole.
    """

    def __init__(self, held: np.ndarray, change: str, dim: int = 16) -> None:
        super().__init__(dim=dim, gap=0.0, noise=0.3)
        self.held, self.change = {int(i) for i in held}, change
        self.offset = 2.0 * self._vec("Ldeu")  # (D,), twice a meaning vector's size
        self.rotation = _rotation(dim, seed=7)

    def encode(self, texts):
        out = []
        for t in texts:
            lang, _, ident = t.partition(":")
            v = super().encode([f"eng:{ident}"])[0].astype(np.float64)
            if lang == "deu" and int(ident) in self.held:
                v = v + self.offset if self.change == "center" else v @ self.rotation
            out.append(v)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)

    def cache_key(self) -> str:
        return f"changed-on-eval|{self.change}|{self.dim}|{sorted(self.held)}"


# --- the math -------------------------------------------------------------------------------


def test_fit_procrustes_recovers_a_rotation_exactly():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 16))
    r = _rotation(16)
    w = fit_procrustes(x, x @ r)
    np.testing.assert_allclose(w, r, atol=1e-10)
    np.testing.assert_allclose(w.T @ w, np.eye(16), atol=1e-10)
    # rows are L2-normalised first: rescaling either side changes nothing
    w2 = fit_procrustes(x * rng.uniform(0.1, 10, (200, 1)), 3.0 * (x @ r))
    np.testing.assert_allclose(w2, r, atol=1e-10)


def test_fit_procrustes_is_orthogonal_and_minimises_the_error():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((50, 8)), rng.standard_normal((50, 8))
    w = fit_procrustes(x, y)
    np.testing.assert_allclose(w.T @ w, np.eye(8), atol=1e-10)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    best = np.linalg.norm(xn @ w - yn)
    for seed in range(20):  # no random orthogonal matrix does better
        assert best <= np.linalg.norm(xn @ _rotation(8, seed) - yn) + 1e-12
    with pytest.raises(ValueError, match="equal shapes"):
        fit_procrustes(x, y[:10])


def test_center_and_apply():
    x = {"a": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([[10.0, 0.0]])}
    means = fit_center(x)
    np.testing.assert_allclose(means["a"], [2.0, 3.0])
    np.testing.assert_allclose(apply_center(x["a"], means["a"]), [[-1.0, -1.0], [1.0, 1.0]])
    r = _rotation(2)
    t = Transform(shift=means["a"], rotation=r)
    np.testing.assert_allclose(apply(x["a"], t), (x["a"] - means["a"]) @ r)
    np.testing.assert_allclose(apply(x["a"], Transform()), x["a"])


def test_adapted_embed_transforms_per_language_not_per_text():
    def emb(lang, texts):
        return np.ones((len(texts), 2))

    out = adapted_embed(emb, {"a": Transform(shift=np.array([1.0, 1.0])), "b": Transform()})
    np.testing.assert_allclose(out("a", ["same"]), [[0.0, 0.0]])
    np.testing.assert_allclose(out("b", ["same"]), [[1.0, 1.0]])


# --- the split --------------------------------------------------------------------------------


@pytest.mark.parametrize("n, fraction", [(2, 0.5), (10, 0.5), (101, 0.3), (50, 0.01), (50, 0.99)])
def test_split_rows_disjoint_covering_deterministic(n, fraction):
    fit, held = split_rows(n, fraction, seed=3)
    assert not set(fit.tolist()) & set(held.tolist())
    assert sorted(fit.tolist() + held.tolist()) == list(range(n))
    assert len(fit) == min(n - 1, max(1, round(n * fraction))) and len(held) >= 1
    assert list(fit) == sorted(fit) and list(held) == sorted(held)
    again = split_rows(n, fraction, seed=3)
    assert np.array_equal(fit, again[0]) and np.array_equal(held, again[1])


def test_split_rows_depends_on_seed_and_rejects_bad_input():
    assert not np.array_equal(split_rows(100, 0.5, 0)[0], split_rows(100, 0.5, 1)[0])
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(InputError, match=r"must be in \(0, 1\)"):
            split_rows(10, bad)
        with pytest.raises(InputError, match=r"must be in \(0, 1\)"):
            AdaptConfig("center", bad)
    with pytest.raises(InputError, match="cannot split 1 row"):
        split_rows(1, 0.5)
    with pytest.raises(InputError, match="unknown adapt method 'rotate'"):
        AdaptConfig("rotate")  # type: ignore[arg-type]


def test_subset_keeps_the_data_file_record(tmp_path):
    bt = read_bitext(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 10))
    sub = bt.subset(np.array([1, 4, 7]))
    assert sub.src == ["deu:1", "deu:4", "deu:7"] and sub.tgt == ["eng:1", "eng:4", "eng:7"]
    assert sub.file == bt.file and sub.file.rows == 10 and len(sub) == 3
    sts = read_sts(_sts(tmp_path / "en-de.tsv", 10))
    sub_sts = sts.subset(np.array([0, 9]))
    np.testing.assert_array_equal(sub_sts.scores, sts.scores[[0, 9]])
    assert sub_sts.s2 == ["deu:0", "deu:9"] and sub_sts.file.sha256 == sts.file.sha256
    mw = read_multiway(write_multiway(tmp_path / "mw", ["eng", "deu"], 6))
    assert mw.subset(np.array([5])).texts == {"eng": ["eng:5"], "deu": ["deu:5"]}


def test_choose_pivot(tmp_path):
    deu_fra = read_bitext(write_bitext(tmp_path / "deu-fra.tsv", "deu", "fra", 4))
    assert choose_pivot(deu_fra)[0] == "fra" and "no English side" in choose_pivot(deu_fra)[1]
    eng_deu = read_bitext(write_bitext(tmp_path / "eng-deu.tsv", "eng", "deu", 4))
    assert choose_pivot(eng_deu) == ("eng", "pivot eng (English)")
    mw = read_multiway(write_multiway(tmp_path / "mw", ["deu_Latn", "eng_Latn", "fra_Latn"], 4))
    assert choose_pivot(mw)[0] == "eng_Latn"
    assert choose_pivot(mw, "fra_Latn")[0] == "fra_Latn"
    pivot, why = choose_pivot(eng_deu, "fra_Latn")
    assert pivot == "eng" and "'fra_Latn' is not in this task" in why


def test_float32_embeddings_are_fitted_in_float64():
    """Encoders return float32 (or float16 from disk); the fits work in float64, so a map that is
    exactly a signed permutation (exact in float32) comes back exactly, and a mean is the mean."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((100, 8)).astype(np.float32)
    perm = np.eye(8)[rng.permutation(8)] * rng.choice([-1.0, 1.0], 8)  # orthogonal, exact
    y = (x @ perm.astype(np.float32)).astype(np.float32)  # exact: one nonzero per column
    w = fit_procrustes(x, y)
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, perm, rtol=0, atol=1e-12)
    half = (rng.standard_normal((4000, 4)) + 100).astype(np.float16)  # as stored by --embeddings shards
    mean = fit_center({"deu": half})["deu"]
    np.testing.assert_allclose(mean, half.astype(np.float64).mean(axis=0), rtol=0, atol=1e-12)


def test_fit_procrustes_shape_message():
    with pytest.raises(ValueError, match=r"^fit_procrustes needs equal shapes, got \(5, 3\) and \(4, 3\)$"):
        fit_procrustes(np.ones((5, 3)), np.ones((4, 3)))


def test_choose_pivot_notes_say_why(tmp_path):
    """The note written next to the adapted numbers, word for word, for every way a pivot is chosen."""
    deu_fra = read_bitext(write_bitext(tmp_path / "deu-fra.tsv", "deu", "fra", 4))
    assert choose_pivot(deu_fra) == ("fra", "pivot fra: the task has no English side, so its target language")
    assert choose_pivot(deu_fra, "ita") == (
        "fra",
        "pivot fra: the task has neither 'ita' nor English, so its target language",
    )
    assert choose_pivot(deu_fra, "deu") == ("deu", "pivot deu (--adapt-pivot)")
    mw = read_multiway(write_multiway(tmp_path / "mw", ["deu", "fra"], 4))
    assert choose_pivot(mw) == ("deu", "pivot deu: the task has no English side, so its first language")


def _lang_dependent_emb(lang: str, texts: list[str]) -> np.ndarray:
    """An embedding lookup where the language matters: ``lang:i`` -> meaning ``i`` plus an offset per
    lookup language (as a chain of per-language transforms would be)."""
    offset = {"deu": 3.0, "eng": -2.0, "de": 1.0, "en": -1.0}[lang]
    return (
        np.array([[float(t.split(":")[1]), 1.0 + (float(t.split(":")[1]) % 3) * 0.5] for t in texts]) + offset
    )


def test_fit_and_apply_look_up_each_language_by_its_name(tmp_path):
    """``emb(lang, texts)`` gets the language the texts are in, when fitting and when applying."""
    bt = read_bitext(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 6))
    means = {lang: t.shift for lang, t in fit_corpus(bt, _lang_dependent_emb, "center").items()}
    np.testing.assert_allclose(means["deu"], _lang_dependent_emb("deu", bt.src).mean(axis=0))
    np.testing.assert_allclose(means["eng"], _lang_dependent_emb("eng", bt.tgt).mean(axis=0))
    out = adapted_embed(_lang_dependent_emb, {"deu": Transform(), "eng": Transform()})
    np.testing.assert_allclose(out("deu", bt.src), _lang_dependent_emb("deu", bt.src))
    np.testing.assert_allclose(out("eng", bt.src), _lang_dependent_emb("eng", bt.src))


def test_fit_corpus_refuses_what_procrustes_cannot_fit(tmp_path):
    bt = read_bitext(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 6))
    sts = read_sts(_sts(tmp_path / "en-de.tsv", n=6))
    with pytest.raises(ValueError, match="^procrustes needs parallel rows; a sts corpus has none$"):
        fit_corpus(sts, _lang_dependent_emb, "procrustes", "eng")
    with pytest.raises(ValueError, match=r"^pivot 'fra' is not a language of this corpus \(deu, eng\)$"):
        fit_corpus(bt, _lang_dependent_emb, "procrustes", "fra")
    with pytest.raises(ValueError, match=r"^pivot None is not a language of this corpus \(deu, eng\)$"):
        fit_corpus(bt, _lang_dependent_emb, "procrustes")


def test_option_errors_word_for_word(tmp_path):
    with pytest.raises(InputError) as e:
        AdaptConfig("rotate")  # type: ignore[arg-type]
    assert str(e.value) == "unknown adapt method 'rotate'; expected one of center, procrustes"
    corpora = [read_bitext(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 4))]
    with pytest.raises(InputError) as e:
        check_pivot(AdaptConfig("procrustes", pivot="eng_"), corpora)
    assert (
        str(e.value)
        == "--adapt-pivot 'eng_' is a language of no task (did you mean 'eng'?); languages: deu, eng"
    )


# --- measure() with --adapt -------------------------------------------------------------------


@pytest.fixture
def tasks(tmp_path):
    return [
        bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 200)),
        multiway_task(write_multiway(tmp_path / "mw", ["eng", "deu", "fra"], 120)),
        sts_task(_sts(tmp_path / "en-de.tsv")),
    ]


def test_center_removes_a_language_offset(tasks):
    r = measure(ToyEncoder(gap=3.0), tasks, adapt=AdaptConfig("center"), projection_points=0)
    assert [t.name for t in r.tasks] == [
        "bitext:deu-eng",
        "bitext:deu-eng+center",
        "multiway:mw",
        "multiway:mw+center",
        "sts:en-de",
        "sts:en-de+center",
    ]
    raw, cen = r.task("bitext:deu-eng").metrics, r.task("bitext:deu-eng+center").metrics
    assert raw["language_id_accuracy"] == 1.0 and cen["language_id_accuracy"] < 0.7  # chance 0.5
    assert cen["pair_cosine"] > raw["pair_cosine"] + 0.3
    assert cen["neighbour_purity"] < raw["neighbour_purity"]
    raw_mw, cen_mw = r.task("multiway:mw").metrics, r.task("multiway:mw+center").metrics
    assert raw_mw["language_id_accuracy"] == 1.0 and cen_mw["language_id_accuracy"] < 0.55  # chance 1/3
    assert cen_mw["xsim_error"] <= raw_mw["xsim_error"]
    notes = r.task("bitext:deu-eng+center").notes
    assert notes["adapt"] == "center" and notes["adapt_fit_fraction"] == "0.5"
    assert notes["adapt_fit_rows"] == "100" and notes["adapt_eval_rows"] == "100"
    assert "adapt" not in r.task("bitext:deu-eng").notes
    assert "compare with bitext:deu-eng+center" in r.task("bitext:deu-eng").notes["adapt_split"]
    assert r.config["adapt"] == {"method": "center", "fit_fraction": 0.5, "pivot": "auto", "seed": 0}
    assert r.summary["language_id_accuracy+center"] < r.summary["language_id_accuracy"]
    assert "sts_spearman_cross+center" in r.summary and "bitext_accuracy+center" in r.summary


def test_raw_and_adapted_scored_on_the_same_eval_rows(tasks, tmp_path):
    r = measure(ToyEncoder(gap=1.0), tasks, adapt=AdaptConfig("center", 0.3), seed=5)
    for base, n in (("bitext:deu-eng", 200), ("multiway:mw", 120), ("sts:en-de", 40)):
        raw, ada = r.task(base), r.task(f"{base}+center")
        n_eval = n - round(n * 0.3)
        assert raw.items.keys() == ada.items.keys()
        for key, v in raw.items.items():
            assert ada.items[key].shape == v.shape, key
        per_row = [k for k in raw.items if k.endswith(("pair_cosine", "accuracy_src2tgt", "gold"))]
        assert per_row and all(len(raw.items[k]) == n_eval for k in per_row)
        assert ada.notes["adapt_eval_rows"] == str(n_eval) and raw.files == ada.files
    # parity: the raw half equals measuring a file that holds only the evaluation rows
    _, held = split_rows(200, 0.3, seed=5)
    lines = (tmp_path / "deu-eng.tsv").read_text().splitlines(keepends=True)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deu-eng.tsv").write_text("".join(lines[i] for i in held))
    alone = measure(ToyEncoder(gap=1.0), [bitext_task(tmp_path / "sub" / "deu-eng.tsv")], seed=5)
    assert alone.tasks[0].metrics == pytest.approx(r.task("bitext:deu-eng").metrics)
    sts_gold = np.array([float(x.split("\t")[0]) for x in (tmp_path / "en-de.tsv").read_text().splitlines()])
    _, sts_held = split_rows(40, 0.3, seed=5)
    np.testing.assert_allclose(r.task("sts:en-de+center").items["gold"], sts_gold[sts_held])


def test_procrustes_maps_a_rotated_copy_of_english(tmp_path):
    tasks = [bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", 100))]
    r = measure(RotatedEnglish(), tasks, adapt=AdaptConfig("procrustes"))
    raw, pro = r.task("bitext:deu-eng").metrics, r.task("bitext:deu-eng+procrustes").metrics
    assert raw["accuracy_src2tgt"] < 0.5 and raw["pair_cosine"] < 0.5
    assert pro["accuracy_src2tgt"] == 1.0 and pro["accuracy_tgt2src"] == 1.0
    assert pro["pair_cosine"] == pytest.approx(1.0, abs=1e-5)
    notes = r.task("bitext:deu-eng+procrustes").notes
    assert notes["adapt_pivot"] == "eng" and notes["adapt"] == "procrustes"


def test_procrustes_on_multiway_sample_and_sts(tmp_path):
    tasks = [
        multiway_task(write_multiway(tmp_path / "mw", ["deu", "fra"], 60)),
        sts_task(_sts(tmp_path / "en-de.tsv")),
        sample_task(),
    ]
    r = measure(ToyEncoder(gap=2.0), tasks, adapt=AdaptConfig("procrustes"), projection_points=20)
    names = [t.name for t in r.tasks]
    assert names == ["multiway:mw", "multiway:mw+procrustes", "sts:en-de", "sample", "sample+procrustes"]
    mw = r.task("multiway:mw+procrustes")
    assert mw.notes["adapt_pivot"] == "deu" and "no English side" in mw.notes["adapt_pivot_note"]
    sts = r.task("sts:en-de")  # no parallel rows: kept raw, on all rows
    assert len(sts.items["gold"]) == 40 and "STS has none" in sts.notes["adapt_note"]
    assert r.task("sample+procrustes").notes["adapt_pivot"] == "eng"
    assert r.task("sample+procrustes").items["projection_xy"].shape == (200, 2)  # 10 languages x 20
    assert (
        r.task("multiway:mw+procrustes").metrics["pair_cosine"] > r.task("multiway:mw").metrics["pair_cosine"]
    )


def test_pivot_and_row_count_errors(tasks, tmp_path):
    with pytest.raises(InputError, match=r"--adapt-pivot 'eng_latn' is a language of no task"):
        measure(ToyEncoder(), tasks, adapt=AdaptConfig("procrustes", pivot="eng_latn"))
    tiny = [bitext_task(write_bitext(tmp_path / "xx-yy.tsv", "xx", "yy", 6))]
    with pytest.raises(InputError, match=r"bitext:xx-yy: 6 rows are too few .*\(3 fit and 3 evaluation"):
        measure(ToyEncoder(), tiny, adapt=AdaptConfig("center"))


def test_adapted_results_roundtrip(tasks, tmp_path):
    r = measure(ToyEncoder(gap=1.0), tasks[:1], adapt=AdaptConfig("procrustes", 0.4, pivot="eng"))
    r.save(tmp_path / "run")
    d = json.loads((tmp_path / "run" / "results.json").read_text())
    assert [t["name"] for t in d["tasks"]] == ["bitext:deu-eng", "bitext:deu-eng+procrustes"]
    assert d["config"]["adapt"]["pivot"] == "eng" and d["config"]["adapt"]["fit_fraction"] == 0.4
    assert len(d["data"]) == 1 and d["data"][0]["rows"] == 200
    back = load_results(tmp_path / "run").task("bitext:deu-eng+procrustes")
    assert back.notes["adapt_pivot_note"] == "pivot eng (--adapt-pivot)"
    assert back.items["accuracy_src2tgt"].shape == (120,)


@pytest.mark.parametrize("method", ["center", "procrustes"])
def test_adapt_is_fitted_on_the_fit_rows_only(tmp_path, method):
    """Fit rows without a gap, evaluation rows with one: the adapted numbers keep the raw gap.

    A transform fitted on the evaluation rows (or on all rows) would see their offset or rotation
    and undo it: every ``+center`` / ``+procrustes`` number would be optimistic.
    """
    n = 100
    _, held = split_rows(n, 0.5, seed=0)
    tasks = [bitext_task(write_bitext(tmp_path / "deu-eng.tsv", "deu", "eng", n))]
    r = measure(ChangedOnEvalRows(held, method), tasks, adapt=AdaptConfig(method), projection_points=0)
    raw, ada = r.task("bitext:deu-eng").metrics, r.task(f"bitext:deu-eng+{method}").metrics
    assert raw["pair_cosine"] < 0.5 and raw["accuracy_src2tgt"] < 0.4  # a gap to close
    # fitted on all rows: pair cosine 0.72 (center), 0.64 (procrustes); on the evaluation rows: 1.0
    assert ada["pair_cosine"] < raw["pair_cosine"] + 0.05
    assert ada["accuracy_src2tgt"] <= raw["accuracy_src2tgt"] + 0.05
    assert ada["language_id_accuracy"] >= raw["language_id_accuracy"] - 0.05
    if method == "procrustes":  # fitted on identical rows: the identity, so nothing changes
        assert ada == pytest.approx(raw, abs=1e-5)


def test_apply_gives_float64_rows_even_for_the_identity():
    """An identity transform still hands the scorers float64 rows, as the fitted ones do."""
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = apply(x, Transform())
    assert out.dtype == np.float64 and np.array_equal(out, x)


def test_split_rows_defaults_to_seed_zero():
    for got, want in zip(split_rows(50, 0.3), split_rows(50, 0.3, seed=0), strict=True):
        assert np.array_equal(got, want)
    assert not np.array_equal(split_rows(50, 0.3)[0], split_rows(50, 0.3, seed=1)[0])


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5, -0.2])
def test_adapt_options_refuse_a_fit_fraction_outside_the_open_interval(fraction):
    """The command-line check names the option (not the dataclass field) at both ends."""
    with pytest.raises(InputError) as e:
        AdaptConfig.from_options("center", fraction)
    assert str(e.value) == f"--adapt-fit-fraction must be in (0, 1), got {fraction:g}"


def test_adapt_options_without_adapt_are_refused_word_for_word():
    for kwargs in ({"fit_fraction": 0.3}, {"pivot": "eng"}):
        with pytest.raises(InputError) as e:
            AdaptConfig.from_options(None, **kwargs)
        assert str(e.value) == "--adapt-fit-fraction and --adapt-pivot configure --adapt; give --adapt too"
    assert AdaptConfig.from_options(None) is None
