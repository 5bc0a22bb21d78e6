"""``report.md``: model, data, tables and figures in one markdown file (PNG figures beside it).

The content comes from :mod:`langgap.report.document`, which writes ``report.html`` from the
same blocks; :func:`write_report` stays as the markdown-only entry point.
"""

from __future__ import annotations

from pathlib import Path

from langgap.report.tables import Table
from langgap.results import Results


def md_table(table: Table) -> str:
    title, headers, rows = table
    out = [f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def write_report(results: Results, out_dir: str | Path) -> Path:
    """Write ``report.md`` and its PNG figures (and ``report.html``) into ``out_dir``; returns
    the path of ``report.md``. See :func:`langgap.report.document.write_reports`."""
    from langgap.report.document import write_reports  # document imports md_table from here

    return write_reports(results, out_dir)["report.md"]
