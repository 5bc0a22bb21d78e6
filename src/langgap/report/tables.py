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


UP, DOWN = "↑", "↓"  # higher / lower is better


def arrow(key: str) -> str:
    return UP if registry.greater_is_better(key) else DOWN


def summary_chance(results: Results, key: str) -> float | None:
    """The chance level of a summary key: the mean chance of the tasks that carry its metric."""
    entry = registry.lookup(key)
    if entry is None or entry.chance is None:
        return None
    base = key.split("+", 1)[0]
    adapted = "+" in key
    vals = [
        t.metrics[entry.chance]
        for t in results.tasks
        if base in t.metrics and entry.chance in t.metrics and ("adapt" in t.notes) == adapted
    ]
    return sum(vals) / len(vals) if vals else None


def summary_table(results: Results) -> Table:
    """The headline numbers in words: name, value, which way is better, chance level."""
    rows = []
    for key, value in results.summary.items():
        entry = registry.lookup(key)
        name = entry.name + key[len(key.split("+", 1)[0]) :] if entry is not None else key
        rows.append([name, fmt(value), arrow(key), fmt(summary_chance(results, key)).replace("–", "")])
    return ("Summary", ["metric", "value", "better", "chance"], rows)


def tasks_tables(results: Results) -> list[Table]:
    """Per-task metrics, one table per registry group of columns (narrow enough for a terminal);
    each column's label carries its direction (↑ higher is better, ↓ lower)."""
    tables = []
    present = {k for t in results.tasks for k in t.metrics}
    for title, metrics in registry.table_groups(present).items():
        tasks = [t for t in results.tasks if any(m.key in t.metrics for m in metrics)]
        rows = [[t.name, _langs(t.languages), *[fmt(t.metrics.get(m.key)) for m in metrics]] for t in tasks]
        tables.append((title, ["task", "languages", *[f"{m.label} {arrow(m.key)}" for m in metrics]], rows))
    return tables


def legend(results: Results) -> list[str]:
    """One line per column of the task tables: its label, what it measures, direction, chance."""
    present = {k for t in results.tasks for k in t.metrics}
    lines = []
    for metrics in registry.table_groups(present).values():
        for m in metrics:
            chance = (
                f"; chance: {registry.METRICS[m.chance].description}" if m.chance in registry.METRICS else ""
            )
            lines.append(f"**{m.label}** ({m.direction}): {m.name}: {m.description}{chance}")
    return lines


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
