"""Figures (matplotlib, Agg backend). Each function returns a Figure; callers save it.

A figure function returns ``None`` when its input holds no data for it (an STS figure for a
run without STS files); :func:`available_figures` says up front which figures apply to a run
and, for the others, why they are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import combinations
from typing import TYPE_CHECKING, Literal

import numpy as np

from langgap.results import Results, TaskResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PairMetric = Literal["pair_cosine", "xsim_error"]
_MARKERS = "o^sDv<>ph*"
_MONO, _CROSS = "tab:blue", "tab:orange"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _tasks(results: Results | Sequence[TaskResult]) -> list[TaskResult]:
    return list(results.tasks if isinstance(results, Results) else results)


def _label_size(n: int) -> float:
    """Tick-label font size (points) for ``n`` labels on one axis: smaller as ``n`` grows."""
    return 9.0 if n <= 20 else 7.5 if n <= 40 else 6.5 if n <= 80 else 6.0


def _bar_height_in(n: int) -> float:
    """Figure height (inches) for ``n`` horizontal bars: about 0.17 inch (12 points) per bar."""
    return max(2.6, 1.1 + 0.17 * n)


def language_projection(task: TaskResult, *, lines: int = 5) -> Figure:
    """2-D projection of the task's embeddings coloured by language; the first ``lines``
    sentences are joined across languages so translation pairs can be followed.

    Beyond 20 languages colours repeat, so markers change too (every (colour, marker) pair is
    unique up to 200 languages) and the legend gets several smaller columns.
    """
    plt = _pyplot()
    xy = task.items["projection_xy"]
    lang_idx = task.items["projection_lang"]
    rows = task.items["projection_row"]
    langs = task.languages
    n = len(langs)
    ncol = max(1, math.ceil(n / 25))
    fig, ax = plt.subplots(figsize=(8 + 1.2 * (ncol - 1), 6.5), dpi=110)
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    for r in range(min(lines, int(rows.max()) + 1)):
        sel = rows == r
        ax.plot(xy[sel, 0], xy[sel, 1], color="0.6", linewidth=0.7, zorder=1)
    for i, lang in enumerate(langs):
        sel = lang_idx == i
        ax.scatter(
            xy[sel, 0],
            xy[sel, 1],
            s=14 if n <= 20 else 9,
            alpha=0.8,
            color=cmap(i % cmap.N),
            marker=_MARKERS[(i // cmap.N) % len(_MARKERS)],
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
    multi = [t for t in have if t.kind in ("sample", "multiway")]
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


_HEATMAP = {
    "pair_cosine": ("mean cosine of translation pairs", "viridis"),
    "xsim_error": ("xSIM error (row = source, column = target; lower is better)", "magma_r"),
}


def pair_heatmap(task: TaskResult, metric: PairMetric | str = "pair_cosine") -> Figure | None:
    """Heatmap of a per-pair metric of a multi-way or sample task (see :func:`pair_matrix`).

    Values are written in the cells when there are at most 16 languages. ``None`` for other
    task kinds or when no pair carries ``metric``.
    """
    if task.kind not in ("multiway", "sample") or not task.per_pair:
        return None
    mat = pair_matrix(task, metric)
    if mat is None:
        return None
    plt = _pyplot()
    n = len(task.languages)
    title, cmap_name = _HEATMAP.get(metric, (metric, "viridis"))
    side = min(max(4.8, 1.8 + 0.42 * n), 26.0)
    fig, ax = plt.subplots(figsize=(side + 1.2, side), dpi=110)
    cmap = plt.get_cmap(cmap_name).with_extremes(bad="0.92")
    lo, hi = float(np.nanmin(mat)), float(np.nanmax(mat))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    im = ax.imshow(np.ma.masked_invalid(mat), cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    size = _label_size(n)
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
class CosinePair:
    label: str
    pair: np.ndarray  # (N,) cosine of each translation pair
    random: np.ndarray  # (N,) cosine of each row with a non-translation partner

    @property
    def gap(self) -> float:
        return float(np.nanmean(self.pair) - np.nanmean(self.random))


def cosine_pairs(tasks: Results | Sequence[TaskResult]) -> list[CosinePair]:
    """Every language pair with per-row translation and random-pair cosines in ``items``."""
    found: list[tuple[TaskResult, str, CosinePair]] = []
    for t in _tasks(tasks):
        if t.kind == "bitext":
            keys = [("-".join(t.languages), "pair_cosine", "random_pair_cosine")]
        elif t.kind in ("multiway", "sample"):
            keys = [
                (f"{a}-{b}", f"{a}-{b}/pair_cosine", f"{a}-{b}/random_pair_cosine")
                for a, b in combinations(t.languages, 2)
            ]
        else:
            continue
        for label, kp, kr in keys:
            if kp in t.items and kr in t.items:
                found.append((t, label, CosinePair(label, t.items[kp], t.items[kr])))
    counts: dict[str, int] = {}
    for _, label, _ in found:
        counts[label] = counts.get(label, 0) + 1
    # the same pair from two tasks: name the task too
    return [
        c
        if counts[label] == 1
        else CosinePair(t.name if t.kind == "bitext" else f"{t.name} {label}", c.pair, c.random)
        for t, label, c in found
    ]


def cosine_histograms(tasks: Results | Sequence[TaskResult], *, max_panels: int = 24) -> Figure | None:
    """Translation-pair vs random-pair cosine histograms, one small panel per language pair.

    With more than ``max_panels`` pairs only those with the smallest gap (mean translation
    cosine minus mean random-pair cosine) are drawn, and the title says so. ``None`` when no
    task has per-row cosines (``items``).
    """
    pairs = cosine_pairs(tasks)
    if not pairs:
        return None
    total = len(pairs)
    if total > max_panels:
        pairs = sorted(pairs, key=lambda c: c.gap)[:max_panels]
    plt = _pyplot()
    n = len(pairs)
    ncols = min(n, 4 if n <= 12 else 6)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(2.3 * ncols + 0.4, 1.75 * nrows + 0.9), dpi=110, sharex=True, squeeze=False
    )
    values = np.concatenate([np.concatenate([c.pair, c.random]) for c in pairs])
    values = values[np.isfinite(values)]
    lo, hi = (float(values.min()), float(values.max())) if len(values) else (-1.0, 1.0)
    bins = np.linspace(lo, hi if hi > lo else lo + 1e-3, 31)
    for ax, c in zip(axes.flat, pairs, strict=False):
        ax.hist(c.random, bins=bins, density=True, alpha=0.6, color=_CROSS, label="random pairs")
        ax.hist(c.pair, bins=bins, density=True, alpha=0.6, color=_MONO, label="translation pairs")
        ax.set_title(f"{c.label}  (gap {c.gap:.2f})", fontsize=8)
        ax.tick_params(labelsize=6.5)
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="upper right", fontsize=8, frameon=False, ncol=2)
    what = (
        f"the {n} of {total} language pairs with the smallest gap"
        if total > n
        else f"{n} language pair{'s' if n != 1 else ''}"
    )
    fig.suptitle(f"Cosine of translation pairs vs random pairs: {what}", fontsize=10, x=0.02, ha="left")
    fig.supxlabel("cosine", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


_ENGLISH = {"en", "eng", "english"}


def _is_english(lang: str) -> bool:
    low = lang.lower()
    return low in _ENGLISH or low.startswith(("eng_", "en_", "en-"))


def bitext_language(task: TaskResult) -> str:
    """The label of a bitext task in per-language plots: its non-English language, else ``a-b``."""
    langs = task.languages
    other = [lang for lang in langs if not _is_english(lang)]
    return other[0] if len(other) == 1 and len(langs) == 2 else "-".join(langs)


def bitext_accuracies(results: Results | Sequence[TaskResult]) -> list[tuple[str, float]]:
    """``(label, accuracy)`` per bitext task, accuracy = mean of both retrieval directions."""
    rows = []
    for t in _tasks(results):
        vals = [t.metrics[k] for k in ("accuracy_src2tgt", "accuracy_tgt2src") if k in t.metrics]
        vals = [v for v in vals if v is not None]
        if t.kind == "bitext" and vals:
            rows.append((t, bitext_language(t), float(np.mean(vals))))
    counts: dict[str, int] = {}
    for _, label, _ in rows:
        counts[label] = counts.get(label, 0) + 1
    return [(label if counts[label] == 1 else f"{label} ({t.name})", v) for t, label, v in rows]


def _hbars(ax: Axes, labels: list[str], values: list[float], colors: list[str]) -> None:
    n = len(labels)
    size = _label_size(n)
    ax.barh(range(n), values, color=colors, height=0.72)
    ax.set_yticks(range(n), labels, fontsize=size)
    ax.set_ylim(-0.6, n - 0.4)
    ax.tick_params(axis="x", labelsize=8)
    for i, v in enumerate(values):
        ax.text(max(v, 0) + 0.01, i, f"{v:.3f}", va="center", fontsize=size - 1, color="0.25")


def bitext_accuracy_bars(results: Results | Sequence[TaskResult]) -> Figure | None:
    """Bitext retrieval accuracy per language (mean of both directions), sorted, best on top.

    One horizontal bar per bitext task, labelled by its non-English language; the figure grows
    by about 0.17 inch per bar and fonts shrink, so 100+ languages stay readable. ``None``
    without bitext tasks.
    """
    rows = bitext_accuracies(results)
    if not rows:
        return None
    rows.sort(key=lambda r: (r[1], r[0]))  # barh draws bottom-up: the best ends on top
    plt = _pyplot()
    n = len(rows)
    fig, ax = plt.subplots(figsize=(7.5, _bar_height_in(n)), dpi=110)
    _hbars(ax, [r[0] for r in rows], [r[1] for r in rows], [_MONO] * n)
    mean = float(np.mean([r[1] for r in rows]))
    ax.axvline(mean, color="0.3", linestyle="--", linewidth=1, label=f"mean {mean:.3f}")
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("accuracy (mean of src→tgt and tgt→src)", fontsize=9)
    ax.set_title(
        f"Bitext retrieval accuracy per language ({n} bitext file{'s' if n != 1 else ''})", fontsize=10
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.margins(y=0)
    fig.tight_layout()
    return fig


def _cross(task: TaskResult) -> bool:
    flag = task.metrics.get("cross_lingual")
    return bool(flag) if flag is not None else len(set(task.languages)) > 1


def sts_bars(results: Results | Sequence[TaskResult]) -> Figure | None:
    """STS Spearman per STS task: same-language (mono) and cross-language bars in two colours,
    each group sorted, with the mono and cross means as dashed lines. ``None`` without STS."""
    tasks = [t for t in _tasks(results) if t.kind == "sts" and t.metrics.get("spearman") is not None]
    if not tasks:
        return None
    mono = sorted((t for t in tasks if not _cross(t)), key=lambda t: t.metrics["spearman"])
    cross = sorted((t for t in tasks if _cross(t)), key=lambda t: t.metrics["spearman"])
    ordered = cross + mono  # bottom-up: mono on top
    plt = _pyplot()
    n = len(ordered)
    fig, ax = plt.subplots(figsize=(7.5, _bar_height_in(n)), dpi=110)
    values = [t.metrics["spearman"] for t in ordered]
    labels = [t.name.removeprefix("sts:") for t in ordered]
    _hbars(ax, labels, values, [_CROSS if _cross(t) else _MONO for t in ordered])
    from matplotlib.patches import Patch

    handles: list = [Patch(color=_MONO, label="same language"), Patch(color=_CROSS, label="cross-language")]
    for group, color, name in ((mono, _MONO, "mono"), (cross, _CROSS, "cross")):
        if group:
            m = float(np.mean([t.metrics["spearman"] for t in group]))
            handles.append(
                ax.axvline(m, color=color, linestyle="--", linewidth=1.2, label=f"{name} mean {m:.3f}")
            )
    ax.set_xlim(min(0.0, min(values) - 0.05), 1.1)
    ax.set_xlabel("Spearman ρ of cosine vs gold score", fontsize=9)
    ax.set_title(
        f"STS: Spearman per file ({len(mono)} same-language, {len(cross)} cross-language)", fontsize=10
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
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
    tasks = results.tasks
    for i, t in enumerate(projection_tasks(tasks)):
        method = t.notes.get("projection", "2-D projection (method not recorded)")
        specs.append(
            FigureSpec(
                f"projection_{i}",
                f"{t.name}: language clusters",
                f"{t.name}: {method}, coloured by language; grey lines join the translations of the "
                "first 5 sentences. Points that cluster by colour are a language gap.",
                partial(language_projection, t),
            )
        )
    if not specs:
        skipped.append("no 2-D projection stored (no multi-language task): language projection skipped")
    multi = [t for t in tasks if t.kind in ("multiway", "sample") and t.per_pair]
    for i, t in enumerate(multi):
        if pair_matrix(t, "pair_cosine") is not None:
            specs.append(
                FigureSpec(
                    f"pair_cosine_{i}",
                    f"{t.name}: translation cosine per language pair",
                    f"{t.name}: mean cosine between a sentence and its translation, per language pair "
                    "(symmetric). Low cells are pairs the model keeps apart.",
                    partial(pair_heatmap, t, "pair_cosine"),
                )
            )
        if pair_matrix(t, "xsim_error") is not None:
            specs.append(
                FigureSpec(
                    f"xsim_error_{i}",
                    f"{t.name}: xSIM error per direction",
                    f"{t.name}: xSIM error (ratio-margin retrieval error) from the row language (source) "
                    "to the column language (target); lower is better.",
                    partial(pair_heatmap, t, "xsim_error"),
                )
            )
    if not multi:
        skipped.append("no multi-way or sample data: per-pair heatmaps skipped")
    pairs = cosine_pairs(tasks)
    if pairs:
        cap = 24
        shown = (
            f"the {cap} of {len(pairs)} pairs with the smallest gap are shown"
            if len(pairs) > cap
            else f"{len(pairs)} pair{'s' if len(pairs) != 1 else ''}"
        )
        specs.append(
            FigureSpec(
                "cosine_histograms",
                "Translation vs random-pair cosines",
                "Distribution of the cosine between a sentence and its translation (blue) and between a "
                f"sentence and an unrelated one in the other language (orange), per language pair ({shown}). "
                "Overlap means translations are not told apart from unrelated sentences.",
                partial(cosine_histograms, tasks, max_panels=cap),
            )
        )
    elif any(t.kind in ("bitext", "multiway", "sample") for t in tasks):
        skipped.append(
            "no per-item cosines (items.npz missing or from an older run): cosine histograms skipped"
        )
    else:
        skipped.append("no translation pairs: cosine histograms skipped")
    if bitext_accuracies(tasks):
        specs.append(
            FigureSpec(
                "bitext_accuracy",
                "Bitext accuracy per language",
                "Bitext mining accuracy per language (nearest neighbour by cosine, mean of both "
                "directions), sorted; the dashed line is the mean.",
                partial(bitext_accuracy_bars, tasks),
            )
        )
    else:
        skipped.append("no bitext data: bitext accuracy figure skipped")
    if any(t.kind == "sts" for t in tasks):
        specs.append(
            FigureSpec(
                "sts_spearman",
                "STS Spearman per file",
                "STS Spearman correlation per file, same-language (blue) and cross-language (orange); "
                "dashed lines are the group means, their distance is the STS gap.",
                partial(sts_bars, tasks),
            )
        )
    else:
        skipped.append("no STS data: STS figure skipped")
    return specs, skipped


def save(fig: Figure, path) -> None:
    fig.savefig(path, bbox_inches="tight")
    _pyplot().close(fig)
