"""Table data shared by the terminal (rich) and markdown reports.

A table is ``(title, headers, rows)`` with rows of strings; renderers only lay them out.
"""

from __future__ import annotations

from langgap.results import Results

Table = tuple[str, list[str], list[list[str]]]

_GROUPS = {
    "Retrieval (bitext mining)": [
        ("accuracy_src2tgt", "acc→"),
        ("accuracy_tgt2src", "acc←"),
        ("margin_accuracy_src2tgt", "margin→"),
        ("margin_accuracy_tgt2src", "margin←"),
        ("xsim_error", "xSIM err"),
    ],
    "Alignment and language signal": [
        ("pair_cosine", "pair cos"),
        ("random_cosine", "rand cos"),
        ("rank_spearman", "rank ρ"),
        ("spearman", "STS ρ"),
        ("language_id_accuracy", "lang-ID"),
        ("neighbour_purity", "purity"),
    ],
    "Paraphrase (anchor/positive cosine)": [
        ("positive_cosine_mono", "same language"),
        ("positive_cosine_cross", "across languages"),
        ("positive_gap", "gap"),
    ],
}


def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def summary_table(results: Results) -> Table:
    rows = [[k, fmt(v)] for k, v in results.summary.items()]
    return ("Summary", ["metric", "value"], rows)


def tasks_tables(results: Results) -> list[Table]:
    """Per-task metrics, one table per group of columns (narrow enough for a terminal)."""
    tables = []
    for title, columns in _GROUPS.items():
        cols = [(k, h) for k, h in columns if any(k in t.metrics for t in results.tasks)]
        tasks = [t for t in results.tasks if any(k in t.metrics for k, _ in cols)]
        if not cols:
            continue
        rows = [[t.name, _langs(t.languages), *[fmt(t.metrics.get(k)) for k, _ in cols]] for t in tasks]
        tables.append((title, ["task", "languages", *[h for _, h in cols]], rows))
    return tables


def _langs(langs: list[str]) -> str:
    return "-".join(langs) if len(langs) <= 2 else f"{len(langs)} languages"


def pairs_table(results: Results, task_name: str) -> Table:
    t = results.task(task_name)
    keys = [
        k
        for k in (
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
        if any(k in m for m in t.per_pair.values())
    ]
    rows = [[pair, *[fmt(m.get(k)) for k in keys]] for pair, m in t.per_pair.items()]
    return (f"{task_name}: per language pair", ["pair", *keys], rows)


def languages_table(results: Results, task_name: str) -> Table:
    t = results.task(task_name)
    keys = sorted({k for m in t.per_language.values() for k in m})
    rows = [[lang, *[fmt(m.get(k)) for k in keys]] for lang, m in t.per_language.items()]
    return (f"{task_name}: per language", ["language", *keys], rows)
