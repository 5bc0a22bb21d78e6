"""Markdown building blocks: a table. Documents are rendered by :mod:`langgap.report.blocks`."""

from __future__ import annotations

from langgap.report.tables import Table


def md_table(table: Table) -> str:
    title, headers, rows = table
    out = [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"
