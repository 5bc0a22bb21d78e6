"""Figures (matplotlib, Agg backend). Each function returns a Figure; callers save it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from langgap.results import TaskResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def language_projection(task: TaskResult, *, lines: int = 5) -> Figure:
    """2-D projection of the task's embeddings coloured by language; the first ``lines``
    sentences are joined across languages so translation pairs can be followed."""
    plt = _pyplot()
    xy = task.items["projection_xy"]
    lang_idx = task.items["projection_lang"]
    rows = task.items["projection_row"]
    langs = task.languages
    fig, ax = plt.subplots(figsize=(8, 6.5), dpi=110)
    cmap = plt.get_cmap("tab10" if len(langs) <= 10 else "tab20")
    for r in range(min(lines, int(rows.max()) + 1)):
        sel = rows == r
        ax.plot(xy[sel, 0], xy[sel, 1], color="0.6", linewidth=0.7, zorder=1)
    for i, lang in enumerate(langs):
        sel = lang_idx == i
        ax.scatter(xy[sel, 0], xy[sel, 1], s=14, alpha=0.8, color=cmap(i % cmap.N), label=lang, zorder=2)
    method = task.notes.get("projection", "projection")
    ax.set_title(f"{task.name}: embeddings coloured by language\n{method}; grey lines join translations")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=8,
        frameon=False,
        ncol=1 if len(langs) <= 25 else 2,
    )
    fig.tight_layout()
    return fig


def projection_tasks(tasks: list[TaskResult]) -> list[TaskResult]:
    """Tasks that carry a projection: multi-language ones, else the first bitext."""
    have = [t for t in tasks if "projection_xy" in t.items]
    multi = [t for t in have if t.kind in ("sample", "multiway")]
    return multi or have[:1]


def save(fig: Figure, path) -> None:
    fig.savefig(path, bbox_inches="tight")
    _pyplot().close(fig)
