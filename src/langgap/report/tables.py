"""Table data shared by the terminal (rich) and markdown reports.

A table is ``(title, headers, rows)`` with rows of strings; renderers only lay them out.
"""

from __future__ import annotations

from langgap.metrics import registry
from langgap.report.charts import bitext_language
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
    if not registry.ranked(key):
        return ""
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
        tables.append(
            (title, ["task", "languages", *[f"{m.label} {arrow(m.key)}".rstrip() for m in metrics]], rows)
        )
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


COVERAGE_KEYS = (
    "fertility",
    "unk_char_rate",
    "unk_rate",
    "split_word_rate",
    "byte_fallback_rate",
    "truncated_rate",
    "vocab_share",
)


def language_gaps(results: Results) -> dict[str, dict[str, float]]:
    """Per language, its gap in this run: bitext accuracy (mean of both directions, for the
    non-English side of a bitext) and xSIM error (multi-way and sample tasks)."""
    out: dict[str, dict[str, float]] = {}
    for t in results.tasks:
        if "adapt" in t.notes:
            continue
        acc = [t.metrics[k] for k in ("accuracy_src2tgt", "accuracy_tgt2src") if t.metrics.get(k) is not None]
        if acc and not t.kind.multilingual and t.kind.parallel:
            out.setdefault(bitext_language(t), {})["bitext_accuracy"] = sum(acc) / len(acc)
        for lang, m in t.per_language.items():
            if m.get("xsim_error") is not None:
                out.setdefault(lang, {})["xsim_error"] = m["xsim_error"]
    return out


def coverage_table(results: Results) -> Table | None:
    """Each language's tokenizer coverage next to its gap (is a gap a tokenizer problem?),
    languages the model cannot read first; ``None`` when the run has no coverage."""
    langs = results.coverage.get("languages")
    if not langs:
        return None
    gaps = language_gaps(results)
    order = {"cannot read": 0, "reads poorly": 1, "reads": 2}
    rows = []
    for lang, c in sorted(
        langs.items(), key=lambda kv: (order[kv[1]["verdict"]], -kv[1]["unk_char_rate"], kv[0])
    ):
        unit = "/char" if c["fertility_unit"] == "character" else "/word"
        cells = [f"{c['fertility']:.2f}{unit}", *[f"{100 * c[k]:.1f}%" for k in COVERAGE_KEYS[1:]]]
        gap = gaps.get(lang, {})
        rows.append(
            [
                lang,
                c["verdict"] + (f": {c['reason']}" if c["reason"] else ""),
                *cells,
                fmt(gap.get("bitext_accuracy")),
                fmt(gap.get("xsim_error")),
            ]
        )
    headers = ["language", "tokenizer", *[f"{registry.label(k)} {arrow(k)}".rstrip() for k in COVERAGE_KEYS]]
    return ("Tokenizer coverage and the gap per language", [*headers, "bitext acc ↑", "xSIM err ↓"], rows)


def tokens_table(report: dict) -> Table:
    """``langgap tokens``' table: worst-read languages first; the reasons of flagged languages go
    below it (:func:`langgap.tokens.unreadable`), so the table stays narrow."""
    rows = []
    by_need = sorted(
        report["languages"].items(), key=lambda kv: (-kv[1]["unk_char_rate"], -kv[1]["fertility"], kv[0])
    )
    for lang, c in by_need:
        unit = "ch" if c["fertility_unit"] == "character" else "w"
        rates = ("unk_char_rate", "unk_rate", "split_word_rate", "byte_fallback_rate", "truncated_rate")
        digits = {"split_word_rate": 0}
        shares = [f"{100 * c[key]:.{digits.get(key, 1)}f}%" for key in rates]
        rows.append([lang, c["verdict"], f"{c['fertility']:.2f}/{unit}", *shares])
    headers = ["language", "reads?", "tokens/", "UNK chars", "UNK toks", "split", "bytes", "trunc"]
    return (f"Tokenizer coverage: {report['model']}", headers, rows)
