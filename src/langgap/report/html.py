"""Self-contained HTML pages: figures embedded as base64 PNG, inline CSS, no network.

Building blocks shared by ``report.html`` and ``compare.html``: a page, a table, a figure.
"""

from __future__ import annotations

import base64
import html
import io
import re
from typing import TYPE_CHECKING

from langgap.report.mpl import save
from langgap.report.tables import Table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d1d1f;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{font-size:1.05rem}
.scroll{max-width:100%;overflow-x:auto;margin:.6rem 0 1.2rem}
table{border-collapse:collapse;font-size:.88rem}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:right}th{background:#f4f4f6}
td:first-child,th:first-child{text-align:left;white-space:nowrap}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}.note{color:#555;font-size:.9rem}
p,li,figcaption{overflow-wrap:anywhere}
code{background:#f4f4f6;padding:0 .2rem;border-radius:3px}
details{margin:.4rem 0 1rem}summary{cursor:pointer;font-weight:600}
"""
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def esc(text: object) -> str:
    return html.escape(str(text))


def inline(text: str) -> str:
    """Escape ``text`` and turn its markdown-style `` `code` `` and ``**bold**`` spans into HTML."""
    out = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", esc(text))
    return _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", out)


def paragraph_html(text: str, *, cls: str | None = None) -> str:
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<p{attr}>{inline(text)}</p>"


def bullets_html(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>"


def figure_png(fig: Figure) -> bytes:
    """Render a matplotlib Figure to PNG bytes and close it."""
    buf = io.BytesIO()
    save(fig, buf)
    return buf.getvalue()


def figure_html(png: bytes, caption: str, alt: str) -> str:
    """An ``<figure>`` with the PNG inlined as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def table_html(table: Table, *, fold_over: int | None = None) -> str:
    """A titled table; with more than ``fold_over`` rows it sits in a closed ``<details>``."""
    title, headers, rows = table
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    grid = f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    if fold_over is not None and len(rows) > fold_over:
        return f"<h3>{esc(title)}</h3><details><summary>show {len(rows)} rows</summary>{grid}</details>"
    return f"<h3>{esc(title)}</h3>{grid}"


def page(title: str, body: str) -> str:
    """A complete HTML document."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_CSS}</style></head>'
        f"<body>{body}</body></html>\n"
    )
