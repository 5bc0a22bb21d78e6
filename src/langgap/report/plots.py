"""Figures of a run's language structure (matplotlib, Agg backend), and which figures apply.

:func:`language_projection` draws the 2-D projection coloured by language, :func:`pair_heatmap`
a per-pair metric of a multi-way task; the bar charts and histograms live in
:mod:`langgap.report.charts` and are re-exported here. Each function returns a Figure (callers
save it), or ``None`` when its input holds no data for it (an STS figure for a run without STS
files); :func:`available_figures` says up front which figures apply to a run and, for the
others, why they are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from typing import TYPE_CHECKING, Literal

import numpy as np

from langgap.report.charts import (
    CosinePair,
    bitext_accuracies,
    bitext_accuracy_bars,
    bitext_language,
    cosine_histograms,
    cosine_pairs,
    sts_bars,
)
from langgap.report.mpl import label_size, pyplot, save
from langgap.results import Results, TaskResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CosinePair",
    "FigureSpec",
    "PairMetric",
    "available_figures",
    "bitext_accuracies",
    "bitext_accuracy_bars",
    "bitext_language",
    "cosine_histograms",
    "cosine_pairs",
    "language_projection",
    "pair_heatmap",
    "pair_matrix",
    "projection_tasks",
    "save",
    "sts_bars",
]

PairMetric = Literal["pair_cosine", "xsim_error"]
# Kelly's colours of maximum contrast (white and black left out), then markers: language i gets
# colour i mod 20 and marker i mod 7 (coprime lengths: every pair distinct up to 140 languages)
PALETTE = (
    "#F3C300",
    "#875692",
    "#F38400",
    "#A1CAF1",
    "#BE0032",
    "#C2B280",
    "#848482",
    "#008856",
    "#E68FAC",
    "#0067A5",
    "#F99379",
    "#604E97",
    "#F6A600",
    "#B3446C",
    "#DCD300",
    "#882D17",
    "#8DB600",
    "#654522",
    "#E25822",
    "#2B3D26",
)
_MARKERS = "o^sDvP*"


def language_style(i: int) -> tuple[str, str]:
    """(colour, marker) of the ``i``-th language: distinct for every language up to 140."""
    return PALETTE[i % len(PALETTE)], _MARKERS[i % len(_MARKERS)]


def language_projection(task: TaskResult, *, lines: int = 5) -> Figure:
    """2-D projection of the task's embeddings coloured by language; the first ``lines``
    sentences are joined across languages so translation pairs can be followed.

    Colours come from a 20-colour high-contrast palette and markers change with every language
    (:func:`language_style`: every (colour, marker) pair is unique up to 140 languages); the
    legend gets several smaller columns beyond 25 languages.
    """
    plt = pyplot()
    xy = task.items["projection_xy"]
    lang_idx = task.items["projection_lang"]
    rows = task.items["projection_row"]
    langs = task.languages
    n = len(langs)
    ncol = max(1, math.ceil(n / 25))
    fig, ax = plt.subplots(figsize=(8 + 1.2 * (ncol - 1), 6.5), dpi=110)
    for r in range(min(lines, int(rows.max()) + 1)):
        sel = rows == r
        ax.plot(xy[sel, 0], xy[sel, 1], color="0.6", linewidth=0.7, zorder=1)
    for i, lang in enumerate(langs):
        sel = lang_idx == i
        colour, marker = language_style(i)
        ax.scatter(
            xy[sel, 0],
            xy[sel, 1],
            s=22 if n <= 20 else 12,
            alpha=0.9,
            color=colour,
            marker=marker,
            edgecolors="0.2",
            linewidths=0.3,
            label=lang,
            zorder=2,
        )
    method = task.notes.get("projection", "projection")
    ax.set_title(f"{task.name}: embeddings coloured by language\n{method}; grey lines join translations")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=8 if n <= 20 else 6,
        markerscale=1.0 if n <= 20 else 0.8,
        frameon=False,
        ncol=ncol,
        columnspacing=0.8,
        handletextpad=0.3,
    )
    fig.tight_layout()
    return fig


def projection_tasks(tasks: list[TaskResult]) -> list[TaskResult]:
    """Tasks that carry a projection: multi-language ones, else the first bitext."""
    have = [t for t in tasks if "projection_xy" in t.items]
    multi = [t for t in have if t.kind.multilingual]
    return multi or have[:1]


def pair_matrix(task: TaskResult, metric: str) -> np.ndarray | None:
    """``(L, L)`` matrix of a per-pair metric over ``task.languages`` (NaN where unknown).

    A directional metric (``<metric>_src2tgt`` / ``<metric>_tgt2src`` in ``per_pair["a-b"]``)
    gives ``out[a][b] = src2tgt`` and ``out[b][a] = tgt2src`` (row = source, column = target);
    a symmetric one fills both cells. The diagonal stays NaN. ``None`` when no pair has it.
    """
    langs = task.languages
    pos = {lang: i for i, lang in enumerate(langs)}
    out = np.full((len(langs), len(langs)), np.nan)  # (L, L)
    found = False
    for la, lb in combinations(langs, 2):
        m = task.per_pair.get(f"{la}-{lb}")
        if not m:
            continue
        i, j = pos[la], pos[lb]
        fwd, bwd = m.get(f"{metric}_src2tgt"), m.get(f"{metric}_tgt2src")
        if fwd is not None or bwd is not None:
            out[i, j] = np.nan if fwd is None else fwd
            out[j, i] = np.nan if bwd is None else bwd
            found = True
        elif m.get(metric) is not None:
            out[i, j] = out[j, i] = m[metric]
            found = True
    return out if found else None


_HEATMAP = {  # title and colour map; a directional metric's rows are sources, columns targets
    "pair_cosine": ("mean cosine of translation pairs", "viridis"),
    "xsim_error": ("xSIM error (row = source, column = target; lower is better)", "magma_r"),
}


def pair_heatmap(task: TaskResult, metric: PairMetric | str = "pair_cosine") -> Figure | None:
    """Heatmap of a per-pair metric of a multi-way or sample task (see :func:`pair_matrix`).

    Values are written in the cells when there are at most 16 languages. ``None`` for other
    task kinds or when no pair carries ``metric``.
    """
    if not task.kind.multilingual or not task.per_pair:
        return None
    mat = pair_matrix(task, metric)
    if mat is None:
        return None
    plt = pyplot()
    n = len(task.languages)
    title, cmap_name = _HEATMAP.get(metric, (metric, "viridis"))
    side = min(max(4.8, 1.8 + 0.42 * n), 26.0)
    fig, ax = plt.subplots(figsize=(side + 1.2, side), dpi=110)
    cmap = plt.get_cmap(cmap_name).with_extremes(bad="0.92")
    lo, hi = float(np.nanmin(mat)), float(np.nanmax(mat))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    im = ax.imshow(np.ma.masked_invalid(mat), cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    size = label_size(n)
    ax.set_xticks(range(n), task.languages, rotation=60, ha="right", rotation_mode="anchor", fontsize=size)
    ax.set_yticks(range(n), task.languages, fontsize=size)
    ax.set_xlabel("target" if "row = source" in title else "language", fontsize=9)
    ax.set_ylabel("source" if "row = source" in title else "language", fontsize=9)
    if n <= 16:
        for i in range(n):
            for j in range(n):
                if np.isfinite(mat[i, j]):
                    r, g, b, _ = cmap((mat[i, j] - lo) / (hi - lo))
                    dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                    ax.text(
                        j,
                        i,
                        f"{mat[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=8 if n <= 10 else 6.5,
                        color="white" if dark else "black",
                    )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(f"{task.name}: {title}", fontsize=10)
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class FigureSpec:
    """A figure that applies to a run: ``name`` (file stem), a caption, and how to draw it."""

    name: str
    title: str
    caption: str
    make: Callable[[], Figure | None]


def available_figures(results: Results) -> tuple[list[FigureSpec], list[str]]:
    """The figures that apply to ``results``, and one note per figure that is skipped (and why)."""
    specs: list[FigureSpec] = []
    skipped: list[str] = []
    for part in (_projection_figures, _heatmap_figures, _histogram_figures, _bar_figures):
        more, notes = part(results.tasks)
        specs += more
        skipped += notes
    return specs, skipped


Figures = tuple[list[FigureSpec], list[str]]


def _projection_figures(tasks: list[TaskResult]) -> Figures:
    specs = []
    for i, t in enumerate(projection_tasks(tasks)):
        method = t.notes.get("projection", "2-D projection (method not recorded)")
        caption = (
            f"{t.name}: {method}, coloured by language; grey lines join the translations of the first 5 "
            "sentences. Points that cluster by colour are a language gap."
        )
        specs.append(
            FigureSpec(
                f"projection_{i}", f"{t.name}: language clusters", caption, partial(language_projection, t)
            )
        )
    note = "no 2-D projection stored (no multi-language task): language projection skipped"
    return specs, [] if specs else [note]


def _heatmap_figures(tasks: list[TaskResult]) -> Figures:
    multi = [t for t in tasks if t.kind.multilingual and t.per_pair]
    specs = []
    for i, t in enumerate(multi):
        if pair_matrix(t, "pair_cosine") is not None:
            caption = (
                f"{t.name}: mean cosine between a sentence and its translation, per language pair "
                "(symmetric). Low cells are pairs the model keeps apart."
            )
            title = f"{t.name}: translation cosine per language pair"
            specs.append(
                FigureSpec(f"pair_cosine_{i}", title, caption, partial(pair_heatmap, t, "pair_cosine"))
            )
        if pair_matrix(t, "xsim_error") is not None:
            caption = (
                f"{t.name}: xSIM error (ratio-margin retrieval error) from the row language (source) "
                "to the column language (target); lower is better."
            )
            title = f"{t.name}: xSIM error per direction"
            specs.append(
                FigureSpec(f"xsim_error_{i}", title, caption, partial(pair_heatmap, t, "xsim_error"))
            )
    return specs, [] if multi else ["no multi-way or sample data: per-pair heatmaps skipped"]


def _histogram_figures(tasks: list[TaskResult]) -> Figures:
    pairs = cosine_pairs(tasks)
    if not pairs:
        if any(t.kind.parallel for t in tasks):
            return [], [
                "no per-item cosines (items.npz missing or from an older run): cosine histograms skipped"
            ]
        return [], ["no translation pairs: cosine histograms skipped"]
    cap = 24
    shown = (
        f"the {cap} of {len(pairs)} pairs with the smallest gap are shown"
        if len(pairs) > cap
        else f"{len(pairs)} pair{'s' if len(pairs) != 1 else ''}"
    )
    caption = (
        "Distribution of the cosine between a sentence and its translation (blue) and between a "
        f"sentence and an unrelated one in the other language (orange), per language pair ({shown}). "
        "Overlap means translations are not told apart from unrelated sentences."
    )
    make = partial(cosine_histograms, tasks, max_panels=cap)
    return [FigureSpec("cosine_histograms", "Translation vs random-pair cosines", caption, make)], []


def _bar_figures(tasks: list[TaskResult]) -> Figures:
    specs, skipped = [], []
    if bitext_accuracies(tasks):
        caption = (
            "Bitext mining accuracy per language (nearest neighbour by cosine, mean of both directions), "
            "sorted; the dashed line is the mean."
        )
        make = partial(bitext_accuracy_bars, tasks)
        specs.append(FigureSpec("bitext_accuracy", "Bitext accuracy per language", caption, make))
    else:
        skipped.append("no bitext data: bitext accuracy figure skipped")
    if any(t.metrics.get("spearman") is not None for t in tasks):
        caption = (
            "STS Spearman correlation per file, same-language (blue) and cross-language (orange); "
            "dashed lines are the group means, their distance is the STS gap."
        )
        specs.append(FigureSpec("sts_spearman", "STS Spearman per file", caption, partial(sts_bars, tasks)))
    else:
        skipped.append("no STS data: STS figure skipped")
    return specs, skipped
