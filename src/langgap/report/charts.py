"""Bar charts and histograms of a run: bitext accuracy per language, STS Spearman per file,
translation-pair vs random-pair cosine histograms.

Each function returns a matplotlib Figure (callers save it), or ``None`` when the run holds no
data for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from langgap.report.mpl import label_size, pyplot
from langgap.results import Results, TaskResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_MONO, _CROSS = "tab:blue", "tab:orange"


def _tasks(results: Results | Sequence[TaskResult]) -> list[TaskResult]:
    return list(results.tasks if isinstance(results, Results) else results)


def _bar_height_in(n: int) -> float:
    """Figure height (inches) for ``n`` horizontal bars: about 0.17 inch (12 points) per bar."""
    return max(2.6, 1.1 + 0.17 * n)


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
        if not t.kind.parallel:
            continue
        pair, rand = t.pair_items("pair_cosine"), t.pair_items("random_pair_cosine")
        for label in pair:
            if label in rand:
                found.append((t, label, CosinePair(label, pair[label], rand[label])))
    counts: dict[str, int] = {}
    for _, label, _ in found:
        counts[label] = counts.get(label, 0) + 1
    # the same pair from two tasks: name the task too
    return [
        c
        if counts[label] == 1
        else CosinePair(f"{t.name} {label}" if t.kind.multilingual else t.name, c.pair, c.random)
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
    plt = pyplot()
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
        if t.kind.parallel and not t.kind.multilingual and vals:
            rows.append((t, bitext_language(t), float(np.mean(vals))))
    counts: dict[str, int] = {}
    for _, label, _ in rows:
        counts[label] = counts.get(label, 0) + 1
    return [(label if counts[label] == 1 else f"{label} ({t.name})", v) for t, label, v in rows]


def _hbars(ax: Axes, labels: list[str], values: list[float], colors: list[str]) -> None:
    n = len(labels)
    size = label_size(n)
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
    plt = pyplot()
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
    tasks = [t for t in _tasks(results) if not t.kind.parallel and t.metrics.get("spearman") is not None]
    if not tasks:
        return None
    mono = sorted((t for t in tasks if not _cross(t)), key=lambda t: t.metrics["spearman"])
    cross = sorted((t for t in tasks if _cross(t)), key=lambda t: t.metrics["spearman"])
    ordered = cross + mono  # bottom-up: mono on top
    plt = pyplot()
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


def coverage_bars(report: dict) -> Figure:
    """Tokenizer coverage per language, worst first: share of characters lost to unknown tokens
    (left) and tokens per word or per character (right), red for a language the model cannot read."""
    langs = sorted(
        report["languages"].items(), key=lambda kv: (kv[1]["unk_char_rate"], kv[1]["fertility"], kv[0])
    )
    plt = pyplot()
    n = len(langs)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, _bar_height_in(n)), dpi=110, sharey=True)
    colour = {"cannot read": "#d73027", "reads poorly": "#fc8d59", "reads": _MONO}
    colours = [colour[c["verdict"]] for _, c in langs]
    labels = [lang for lang, _ in langs]
    _hbars(left, labels, [c["unk_char_rate"] for _, c in langs], colours)
    _hbars(right, labels, [c["fertility"] for _, c in langs], colours)
    left.set_xlim(0, 1.15)
    left.set_xlabel("share of characters in unknown tokens", fontsize=9)
    right.set_xlabel("tokens per word (per character: unspaced scripts)", fontsize=9)
    fig.suptitle(f"Tokenizer coverage: {report['model']} (red: cannot read)", fontsize=10)
    fig.tight_layout()
    return fig
