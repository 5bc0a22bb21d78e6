"""``report.md``: model, data, tables and the language projection, in one markdown file."""

from __future__ import annotations

from pathlib import Path

from langgap.report.plots import language_projection, projection_tasks, save
from langgap.report.tables import Table, languages_table, pairs_table, summary_table, tasks_tables
from langgap.results import Results


def md_table(table: Table) -> str:
    title, headers, rows = table
    out = [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def write_report(results: Results, out_dir: str | Path) -> Path:
    """Write ``report.md`` and its PNG figures into ``out_dir``; returns the report path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    m = results.model
    parts = [
        "# langgap report",
        "",
        f"- **model**: `{m.get('name')}`" + (f" ({m['offline_copy']})" if m.get("offline_copy") else ""),
        f"- **prompt**: `{m.get('prompt')!r}`, pooling: `{m.get('pooling')}`, dimension: {m.get('dimension')}",
        f"- **created**: {results.created}; encode {results.timing.get('encode', 0):.1f} s, "
        f"total {results.timing.get('total', 0):.1f} s; texts encoded {results.encoding.get('encoded', 0)}, "
        f"from cache {results.encoding.get('from_cache', 0)}",
        "",
        "## Data",
        "",
        "| file | rows | sha256 |",
        "|---|---|---|",
        *[f"| `{d['path']}` | {d['rows']} | `{d['sha256'][:12]}…` |" for d in results.data],
        "",
        "## Results",
        "",
        "Accuracies, cosines and correlations are fractions; `→` is source→target retrieval.",
        "",
        md_table(summary_table(results)),
        *[md_table(t) for t in tasks_tables(results)],
    ]
    for t in results.tasks:
        if t.per_pair:
            parts.append(md_table(pairs_table(results, t.name)))
        if t.per_language:
            parts.append(md_table(languages_table(results, t.name)))
    figures = projection_tasks(results.tasks)
    if figures:
        parts += ["## Language clusters", ""]
    for i, t in enumerate(figures):
        name = f"projection_{i}.png"
        save(language_projection(t), out / name)
        parts += [
            f"![{t.name}: 2-D projection coloured by language]({name})",
            "",
            f"*{t.notes.get('projection', '')}. Points that cluster by colour are a language gap.*",
            "",
        ]
    path = out / "report.md"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
