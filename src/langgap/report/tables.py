"""Table data shared by the terminal (rich) and markdown reports.

A table is ``(title, headers, rows)`` with rows of strings; renderers only lay them out.
"""

from __future__ import annotations

from langgap.metrics import registry
from langgap.results import Results

Table = tuple[str, list[str], list[list[str]]]

# per-pair columns of the detail tables, in this order (when any pair has them)
PAIR_KEYS = (
    "pair_cosine",
    "random_cosine",
    "rank_spearman",
    "accuracy_src2tgt",
    "accuracy_tgt2src",
    "xsim_error_src2tgt",
    "xsim_error_tgt2src",
    "positive_cosine_src2tgt",
    "positive_cosine_tgt2src",
)


def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def summary_table(results: Results) -> Table:
    rows = [[k, fmt(v)] for k, v in results.summary.items()]
    return ("Summary", ["metric", "value"], rows)


def tasks_tables(results: Results) -> list[Table]:
    """Per-task metrics, one table per registry group of columns (narrow enough for a terminal)."""
    tables = []
    present = {k for t in results.tasks for k in t.metrics}
    for title, metrics in registry.table_groups(present).items():
        tasks = [t for t in results.tasks if any(m.key in t.metrics for m in metrics)]
        rows = [[t.name, _langs(t.languages), *[fmt(t.metrics.get(m.key)) for m in metrics]] for t in tasks]
        tables.append((title, ["task", "languages", *[m.label for m in metrics]], rows))
    return tables


def _langs(langs: list[str]) -> str:
    return "-".join(langs) if len(langs) <= 2 else f"{len(langs)} languages"


def pairs_table(results: Results, task_name: str) -> Table:
    t = results.task(task_name)
    keys = [k for k in PAIR_KEYS if any(k in m for m in t.per_pair.values())]
    rows = [[pair, *[fmt(m.get(k)) for k in keys]] for pair, m in t.per_pair.items()]
    return (f"{task_name}: per language pair", ["pair", *keys], rows)


def languages_table(results: Results, task_name: str) -> Table:
    t = results.task(task_name)
    keys = sorted({k for m in t.per_language.values() for k in m})
    rows = [[lang, *[fmt(m.get(k)) for k in keys]] for lang, m in t.per_language.items()]
    return (f"{task_name}: per language", ["language", *keys], rows)
