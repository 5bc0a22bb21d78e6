"""One document, two renderings: typed blocks and the markdown and HTML renderers that lay them out.

A report is a list of blocks (headings, text, bullets, tables, figures, notes);
:func:`render_markdown` and :func:`render_html` turn the same list into ``*.md`` (PNG files
beside it) and one self-contained ``*.html`` (figures inlined), so both always carry the same
content. ``report.md``/``report.html`` (:mod:`langgap.report.document`) and
``compare.md``/``compare.html`` (:mod:`langgap.report.compare`) are both built this way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langgap.report import html as h
from langgap.report.markdown import md_table
from langgap.report.tables import Table

FOLD_ROWS = 60  # HTML tables longer than this start folded (<details>)


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Text:
    """A paragraph; `` `code` `` and ``**bold**`` spans are kept in both renderings."""

    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class TableBlock:
    table: Table


@dataclass(frozen=True)
class FigureBlock:
    name: str  # file stem of the PNG beside the markdown file
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Note:
    text: str


Block = Heading | Text | Bullets | TableBlock | FigureBlock | Note

_MARKDOWN: dict[type, Callable[[Any], list[str]]] = {
    Heading: lambda b: ["#" * b.level + " " + b.text, ""],
    Text: lambda b: [b.text, ""],
    Bullets: lambda b: [*[f"- {i}" for i in b.items], ""],
    TableBlock: lambda b: [md_table(b.table)],
    FigureBlock: lambda b: [f"![{b.title}]({b.name}.png)", "", f"*{b.caption}*", ""],
    Note: lambda b: [f"> **note**: {b.text}", ""],
}
_HTML: dict[type, Callable[[Any], str]] = {
    Heading: lambda b: f"<h{b.level}>{h.esc(b.text)}</h{b.level}>",
    Text: lambda b: h.paragraph_html(b.text),
    Bullets: lambda b: h.bullets_html(b.items),
    TableBlock: lambda b: h.table_html(b.table, fold_over=FOLD_ROWS),
    FigureBlock: lambda b: h.figure_html(b.png, b.caption, b.title),
    Note: lambda b: h.paragraph_html(f"**note**: {b.text}", cls="note"),
}


def render_markdown(blocks: list[Block]) -> str:
    """Markdown; figures link to ``<name>.png`` beside the file."""
    return "\n".join(line for b in blocks for line in _MARKDOWN[type(b)](b)).rstrip() + "\n"


def render_html(blocks: list[Block], title: str) -> str:
    """One self-contained HTML page, figures inlined as base64 PNG."""
    return h.page(title, "\n".join(_HTML[type(b)](b) for b in blocks))
