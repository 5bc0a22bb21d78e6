"""Figures of a ``langgap tune`` study: the score of every trial, and the score against each setting.

:func:`history_figure` draws each complete trial's score by trial number, pruned trials at their
last reported score (hollow), and the best score so far as a step line (Optuna's optimization
history). :func:`settings_figure` draws one panel per searched setting: each complete trial's
score against the value it tried (Optuna's slice plot; choices on a categorical axis).
:func:`write_tune_figures` saves both as PNGs next to ``trials.tsv``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgap import atomic
from langgap.report.html import figure_png
from langgap.report.mpl import pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from langgap.training.study import TrialRecord


def history_figure(trials: Sequence[TrialRecord]) -> Figure | None:
    """Score by trial with the best so far; ``None`` when no trial has a score yet."""
    done = [t for t in trials if t.state == "complete" and t.score is not None]
    if not done:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot([t.number for t in done], [t.score for t in done], "o", color="tab:blue", label="complete")
    pruned = [t for t in trials if t.state == "pruned" and t.steps]
    if pruned:
        last = [t.steps[max(t.steps)] for t in pruned]
        ax.plot(
            [t.number for t in pruned], last, "o", mfc="none", color="tab:gray", label="pruned (last report)"
        )
    best, xs, ys = -math.inf, [], []
    for t in done:
        best = max(best, float(t.score or -math.inf))
        xs.append(t.number)
        ys.append(best)
    ax.step(xs, ys, where="post", color="tab:red", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("validation score")
    ax.set_title("langgap tune: score of each trial")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def settings_figure(trials: Sequence[TrialRecord], settings: Sequence[str]) -> Figure | None:
    """One panel per searched setting: score against the value tried; ``None`` without scores."""
    done = [t for t in trials if t.state == "complete" and t.score is not None]
    if not done or not settings:
        return None
    plt = pyplot()
    columns = min(3, len(settings))
    rows = math.ceil(len(settings) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 2.8 * rows), squeeze=False, sharey=True)
    for ax, name in zip(axes.flat, settings, strict=False):
        values = [_plottable(t.params.get(name)) for t in done]
        if all(isinstance(v, int | float) for v in values):
            ax.plot(values, [t.score for t in done], "o", color="tab:blue")
            if min(values) > 0 and max(values) / min(values) >= 20:
                ax.set_xscale("log")
        else:
            labels = sorted({str(v) for v in values})
            ax.plot([labels.index(str(v)) for v in values], [t.score for t in done], "o", color="tab:blue")
            ax.set_xticks(range(len(labels)), labels, rotation=20, fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(settings) :]:
        ax.set_visible(False)
    axes[0][0].set_ylabel("validation score")
    fig.tight_layout()
    return fig


def _plottable(value: Any) -> Any:
    """A number stays a number; a list (a data mix) becomes its short text."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, list):
        return "+".join(Path(v).stem for v in value) or "(none)"
    return value


def write_tune_figures(trials: Sequence[TrialRecord], settings: Sequence[str], out: str | Path) -> list[Path]:
    """``tune_history.png`` and ``tune_settings.png`` in ``out`` (each replaced in one step)."""
    paths = []
    for name, fig in (("history", history_figure(trials)), ("settings", settings_figure(trials, settings))):
        if fig is None:
            continue
        path = Path(out) / f"tune_{name}.png"
        atomic.write_bytes(path, figure_png(fig))
        paths.append(path)
    return paths
