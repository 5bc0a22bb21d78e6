"""Figure functions on small synthetic runs: the right axes, bars and panels; legible with many
languages; ``None`` and a skip note where a run has no data for a figure."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from matplotlib.figure import Figure

from conftest import ToyEncoder, write_bitext, write_multiway
from langgap.measuring import measure
from langgap.report.plots import (
    available_figures,
    bitext_accuracy_bars,
    bitext_language,
    cosine_histograms,
    language_projection,
    pair_heatmap,
    pair_matrix,
    sts_bars,
)
from langgap.results import Results, TaskResult
from langgap.tasks import bitext_task, multiway_task, sts_task


def _sts(path, a, b, n=30):
    rng = np.random.default_rng(len(str(path)))
    path.write_text(
        "".join(f"{rng.uniform(0, 5):.2f}\t{a}:{i}\t{b}:{i}\n" for i in range(n)), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Results:
    """Two bitext files, a 4-language multi-way folder, one mono and one cross STS file (the
    ``toy`` encoder of conftest with a language gap; measured once for the module)."""
    d = tmp_path_factory.mktemp("data")
    tasks = [
        bitext_task(write_bitext(d / "deu-eng.tsv", "deu", "eng", 40)),
        bitext_task(write_bitext(d / "eng-fra.tsv", "eng", "fra", 40)),
        multiway_task(write_multiway(d / "mw", ["eng", "deu", "fra", "jpn"], 30), "eng,deu,fra,jpn"),
        sts_task(_sts(d / "en-de.tsv", "eng", "deu")),
        sts_task(_sts(d / "en-en.tsv", "eng", "eng")),
    ]
    return measure(ToyEncoder(gap=1.0), tasks)


def _results(tasks: list[TaskResult]) -> Results:
    return Results(
        model={"name": "fake"},
        tasks=tasks,
        summary={},
        config={},
        versions={},
        timing={},
        encoding={},
        created="-",
    )


def _fake_bitext(lang: str, acc: float, rng, n: int = 30, gap: float = 0.3) -> TaskResult:
    return TaskResult(
        f"bitext:{lang}-eng",
        "bitext",
        [lang, "eng"],
        [],
        {"accuracy_src2tgt": acc, "accuracy_tgt2src": acc},
        "accuracy_src2tgt",
        items={"pair_cosine": rng.normal(0.6, 0.1, n), "random_pair_cosine": rng.normal(0.6 - gap, 0.1, n)},
    )


def _fake_multiway(n_lang: int) -> TaskResult:
    langs = [f"l{i:03d}" for i in range(n_lang)]
    per_pair = {
        f"{a}-{b}": {"pair_cosine": 0.5 + 0.001 * i, "xsim_error_src2tgt": 0.1, "xsim_error_tgt2src": 0.2}
        for i, (a, b) in enumerate((a, b) for k, a in enumerate(langs) for b in langs[k + 1 :])
    }
    return TaskResult("multiway:big", "multiway", langs, [], {}, "xsim_error", per_pair=per_pair)


def _visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def test_language_projection(run):
    t = run.task("multiway:mw")
    fig = language_projection(t)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert len(fig.axes[0].collections) == 4  # one scatter per language
    assert [x.get_text() for x in fig.axes[0].get_legend().get_texts()] == ["eng", "deu", "fra", "jpn"]


def test_language_projection_many_languages_stays_legible():
    n, per = 45, 3
    rng = np.random.default_rng(0)
    t = TaskResult(
        "multiway:many",
        "multiway",
        [f"l{i:02d}" for i in range(n)],
        [],
        {},
        "xsim_error",
        notes={"projection": "PCA of 3 sentences per language"},
        items={
            "projection_xy": rng.normal(size=(n * per, 2)),
            "projection_lang": np.repeat(np.arange(n), per),
            "projection_row": np.tile(np.arange(per), n),
        },
    )
    fig = language_projection(t)
    texts = fig.axes[0].get_legend().get_texts()
    assert len(texts) == n and max(x.get_fontsize() for x in texts) <= 6
    assert fig.get_size_inches()[0] > 8  # a second legend column widens the figure
    coll = fig.axes[0].collections
    style = {(tuple(np.round(c.get_facecolor()[0], 3)), c.get_paths()[0].vertices.tobytes()) for c in coll}
    assert len(style) == n  # colours repeat past 20 languages, (colour, marker) pairs do not


def test_pair_heatmap_pair_cosine(run):
    t = run.task("multiway:mw")
    fig = pair_heatmap(t, "pair_cosine")
    assert isinstance(fig, Figure)
    ax, _colorbar = fig.axes
    mat = np.asarray(ax.images[0].get_array().filled(np.nan))
    assert mat.shape == (4, 4) and np.isnan(np.diag(mat)).all()
    assert np.allclose(mat, mat.T, equal_nan=True)
    assert mat[0, 1] == pytest.approx(t.per_pair["eng-deu"]["pair_cosine"])
    assert len(ax.texts) == 12  # every off-diagonal cell annotated (<= 16 languages)
    assert all(lbl.get_rotation() > 0 for lbl in ax.get_xticklabels())


def test_pair_heatmap_xsim_is_directional(run):
    t = run.task("multiway:mw")
    mat = pair_matrix(t, "xsim_error")
    langs = t.languages
    for pair, m in t.per_pair.items():
        a, b = pair.split("-")
        i, j = langs.index(a), langs.index(b)
        assert mat[i, j] == pytest.approx(m["xsim_error_src2tgt"])  # row = source
        assert mat[j, i] == pytest.approx(m["xsim_error_tgt2src"])
    fig = pair_heatmap(t, "xsim_error")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_ylabel() == "source" and fig.axes[0].get_xlabel() == "target"


def test_pair_heatmap_many_languages_not_annotated():
    fig = pair_heatmap(_fake_multiway(20), "xsim_error")
    assert fig is not None and len(fig.axes[0].texts) == 0
    assert fig.axes[0].images[0].get_array().shape == (20, 20)


def test_pair_heatmap_needs_multi_language_task(run):
    assert pair_heatmap(run.task("bitext:deu-eng"), "pair_cosine") is None
    assert pair_heatmap(run.task("sts:en-de"), "pair_cosine") is None
    assert pair_heatmap(run.task("multiway:mw"), "no_such_metric") is None


def test_cosine_histograms_one_panel_per_pair(run):
    fig = cosine_histograms(run.tasks)
    assert isinstance(fig, Figure)
    panels = _visible_axes(fig)
    assert len(panels) == 2 + 6  # two bitext files + 6 pairs of 4 languages
    assert all(len(ax.patches) == 2 * 30 for ax in panels)  # two 30-bin histograms each
    titles = [ax.get_title() for ax in panels]
    # "eng-fra" occurs in the bitext file and the multi-way folder: the task name tells them apart
    assert titles[0].startswith("deu-eng  (gap")
    assert titles[1].startswith("bitext:eng-fra  (gap") and "multiway:mw eng-fra" in " ".join(titles)


def test_cosine_histograms_capped_at_smallest_gaps():
    rng = np.random.default_rng(0)
    tasks = [_fake_bitext(f"x{i:02d}", 0.9, rng, gap=0.02 * i) for i in range(30)]
    fig = cosine_histograms(tasks, max_panels=24)
    assert fig is not None
    panels = _visible_axes(fig)
    assert len(panels) == 24
    title = fig.get_suptitle()
    assert "24 of 30" in title and "smallest gap" in title
    shown = {ax.get_title().split()[0] for ax in panels}
    assert "x00-eng" in shown and "x29-eng" not in shown  # the widest gaps are the ones left out


def test_bitext_accuracy_bars_sorted_and_labelled(run):
    fig = bitext_accuracy_bars(run)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    bars = ax.containers[0]
    assert len(bars) == 2
    widths = [b.get_width() for b in bars]
    assert widths == sorted(widths)  # bottom-up ascending: the best language on top
    assert {x.get_text() for x in ax.get_yticklabels()} == {"deu", "fra"}  # the non-English side
    expected = {
        bitext_language(t): (t.metrics["accuracy_src2tgt"] + t.metrics["accuracy_tgt2src"]) / 2
        for t in run.tasks
        if t.kind == "bitext"
    }
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert widths == pytest.approx([expected[lbl] for lbl in labels])


def test_bitext_accuracy_bars_legible_with_120_languages():
    rng = np.random.default_rng(1)
    few = bitext_accuracy_bars([_fake_bitext(f"x{i:03d}", rng.uniform(), rng) for i in range(5)])
    many = bitext_accuracy_bars([_fake_bitext(f"x{i:03d}", rng.uniform(), rng) for i in range(120)])
    assert few is not None and many is not None
    ax = many.axes[0]
    assert len(ax.containers[0]) == 120 and len(ax.get_yticklabels()) == 120
    assert many.get_size_inches()[1] > 4 * few.get_size_inches()[1]  # height grows with the count
    size = ax.get_yticklabels()[0].get_fontsize()
    points_per_bar = ax.get_position().height * many.get_size_inches()[1] * 72 / 120
    assert size <= 7 and points_per_bar >= size  # labels do not overlap


def test_bitext_language_names():
    t = TaskResult("b", "bitext", ["eng_Latn", "swh_Latn"], [], {}, "accuracy_src2tgt")
    assert bitext_language(t) == "swh_Latn"
    t.languages = ["deu", "fra"]
    assert bitext_language(t) == "deu-fra"


def test_sts_bars_mono_and_cross(run):
    fig = sts_bars(run)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    bars = list(ax.containers[0])
    assert len(bars) == 2
    labels = [x.get_text() for x in ax.get_yticklabels()]
    colours = {lbl: tuple(b.get_facecolor()) for lbl, b in zip(labels, bars, strict=True)}
    assert colours["en-en"] != colours["en-de"]  # mono vs cross
    means = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--")
    expected = sorted(run.task(n).metrics["spearman"] for n in ("sts:en-en", "sts:en-de"))
    assert means == pytest.approx(expected)


def test_missing_data_is_skipped_not_failed(run):
    sts_only = _results([run.task("sts:en-de"), run.task("sts:en-en")])
    assert bitext_accuracy_bars(sts_only) is None and cosine_histograms(sts_only) is None
    specs, skipped = available_figures(sts_only)
    assert [s.name for s in specs] == ["sts_spearman"]
    assert "no bitext data: bitext accuracy figure skipped" in skipped
    assert any("heatmaps skipped" in s for s in skipped) and any("projection skipped" in s for s in skipped)

    no_sts = _results([t for t in run.tasks if t.kind != "sts"])
    assert sts_bars(no_sts) is None
    specs, skipped = available_figures(no_sts)
    assert skipped == ["no STS data: STS figure skipped"]
    assert {s.name for s in specs} == {
        "projection_0",
        "pair_cosine_0",
        "xsim_error_0",
        "cosine_histograms",
        "bitext_accuracy",
    }
    assert all(isinstance(s.make(), Figure) for s in specs)


def test_available_figures_without_items(run):
    """A results.json read back without items.npz: no per-item figures, a note says why."""
    stripped = [replace(t, items={}) for t in run.tasks]
    specs, skipped = available_figures(_results(stripped))
    assert {s.name for s in specs} == {"pair_cosine_0", "xsim_error_0", "bitext_accuracy", "sts_spearman"}
    assert any("items.npz" in s and "cosine histograms skipped" in s for s in skipped)
