"""The report of a run: ``report.md`` (PNG files beside it) and ``report.html`` (one
self-contained file, every figure inlined as a base64 PNG, no external URL).

:func:`build_document` turns :class:`~langgap.results.Results` into a list of blocks (headings,
text, tables, figures, notes; :mod:`langgap.report.blocks`), whose two renderers lay the same
blocks out, so both files always carry the same content.
"""

from __future__ import annotations

import json
from pathlib import Path

from langgap import atomic
from langgap.report import html as h
from langgap.report.blocks import (
    Block,
    Bullets,
    FigureBlock,
    Heading,
    Note,
    TableBlock,
    Text,
    render_html,
    render_markdown,
)
from langgap.report.charts import coverage_bars
from langgap.report.headline import headline
from langgap.report.plots import available_figures
from langgap.report.tables import (
    Table,
    coverage_table,
    languages_table,
    legend,
    pairs_table,
    summary_table,
    tasks_tables,
)
from langgap.results import RUN_FILES, Results
from langgap.tokens import unreadable

__all__ = [
    "Block",
    "build_document",
    "render_html",
    "render_markdown",
    "save_run",
    "write_report",
    "write_tokens",
]


def _model_lines(results: Results) -> list[str]:
    m = results.model
    lines = [f"**model**: `{m.get('name')}`" + (f" ({m['kind']})" if m.get("kind") else "")]
    if m.get("path") and m.get("path") != m.get("name"):
        lines.append(f"**path**: `{m['path']}`")
    if m.get("offline_copy"):
        lines.append(f"**offline copy**: {m['offline_copy']}")
    prompt = m.get("prompt")
    prompt_name = f" (configured prompt `{m['prompt_name']}`)" if m.get("prompt_name") else ""
    lines.append(
        f"**prompt**: `{prompt!r}`{prompt_name}; **pooling**: `{m.get('pooling')}`; "
        f"**dimension**: {m.get('dimension')}"
    )
    t, e = results.timing, results.encoding
    lines.append(
        f"**created**: {results.created}; encode {t.get('encode', 0):.1f} s, total {t.get('total', 0):.1f} s; "
        f"texts encoded {e.get('encoded', 0)}, from cache {e.get('from_cache', 0)}"
    )
    if results.versions:
        lines.append("**versions**: " + ", ".join(f"{k} {v}" for k, v in results.versions.items()))
    return lines


def data_table(results: Results) -> Table:
    rows = [[str(d["path"]), str(d["rows"]), str(d["sha256"])[:12] + "…"] for d in results.data]
    return ("Data files", ["file", "rows", "sha256"], rows)


def build_document(results: Results) -> list[Block]:
    """Every block of the report, figures rendered to PNG (each figure that applies, a note for
    each that does not)."""
    blocks: list[Block] = [Heading(f"langgap report: {results.model.get('name', 'model')}", 1)]
    lines = [f"**{t.name}**: {headline(t)}" for t in results.tasks if headline(t)]
    lines += [
        f"**tokenizer**: {what}: {', '.join(langs)}"
        for what, langs in unreadable(results.coverage).items()
        if langs
    ]
    if lines:
        blocks += [Heading("At a glance"), Bullets(lines)]
    if results.summary:
        blocks.append(TableBlock(summary_table(results)))
    blocks += [
        Heading("Model"),
        Bullets(_model_lines(results)),
        Heading("Results"),
        Text(
            "Accuracies, cosines and correlations are fractions; `→` is source→target retrieval; "
            "↑ marks a metric where higher is better, ↓ one where lower is better."
        ),
        *[TableBlock(t) for t in tasks_tables(results)],
        Bullets(legend(results)),
        *coverage_blocks(results),
    ]

    # figures before the long detail tables: the language clusters are what a reader looks for
    specs, skipped = available_figures(results)
    figures: list[FigureBlock] = []
    for spec in specs:
        fig = spec.make()
        if fig is None:
            skipped.append(f"{spec.title}: no data, figure skipped")
            continue
        figures.append(FigureBlock(spec.name, spec.title, spec.caption, h.figure_png(fig)))
    blocks.append(Heading("Figures"))
    for b in figures:
        blocks += [Heading(b.title, 3), b]
    if not figures:
        blocks.append(Text("No figure applies to this run."))
    blocks += [Note(s) for s in skipped]

    details = [t for t in results.tasks if t.per_pair or t.per_language]
    if details:
        blocks.append(Heading("Per language pair and per language"))
    for t in details:
        if t.per_pair:
            blocks.append(TableBlock(pairs_table(results, t.name)))
        if t.per_language:
            blocks.append(TableBlock(languages_table(results, t.name)))
    blocks += [Heading("Data"), TableBlock(data_table(results))]
    return blocks


def coverage_blocks(results: Results) -> list[Block]:
    """The tokenizer-coverage section: which languages the model can read, next to their gap."""
    blocks: list[Block] = [Heading("Tokenizer coverage")]
    table = coverage_table(results)
    if table is None:
        why = results.coverage.get("skipped", "not measured (a run from before langgap measured coverage)")
        return [*blocks, Note(f"tokenizer coverage skipped: {why}")]
    blocks.append(
        Text(
            "How the model's tokenizer cuts each language's texts (`langgap tokens` gives the same for any "
            "model): unknown tokens and characters, tokens per word, words split into pieces. A large gap in "
            "a language the tokenizer cannot read is a vocabulary problem, not an alignment one."
        )
    )
    return [*blocks, TableBlock(table)]


REPORT_FILES = ("report.md", "report.html")


def report_title(results: Results) -> str:
    """The title of a run's ``report.html``."""
    return f"langgap report: {results.model.get('name', 'model')}"


def write_report(results: Results, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.md`` with its PNG figures and a self-contained ``report.html`` into ``out_dir``.

    The folder is rebuilt in one step (:func:`langgap.atomic.staged_dir`): a measure run's
    ``results.json`` and ``items.npz`` there are kept, every other file (figures of an earlier
    report) is replaced; a failure on the way leaves the folder as it was.

    Returns:
        ``{file name: path}`` of every file written (``report.md``, ``report.html``, ``*.png``).
    """
    out = atomic.check_out_dir(out_dir, (*RUN_FILES, *REPORT_FILES), "langgap run or report")
    blocks = build_document(results)  # figures are drawn before anything is written
    with atomic.staged_dir(out, keep=RUN_FILES) as tmp:
        written = write_report_files(blocks, tmp, report_title(results))
    return {name: out / name for name in written}


def save_run(results: Results, out_dir: str | Path) -> dict[str, Path]:
    """Save ``results`` as the run folder ``langgap measure --out`` writes: ``results.json``,
    ``items.npz``, ``report.md`` with its figures and ``report.html``.

    The folder is replaced as a whole, in one step (:func:`langgap.atomic.staged_dir`); a failure
    or Ctrl-C on the way leaves an earlier run there as it was. A non-empty folder that is not a
    measure run is refused (:class:`~langgap.errors.InputError`) before anything is drawn.

    Returns:
        ``{file name: path}`` of every file written.
    """
    out = atomic.check_out_dir(out_dir, RUN_FILES, "langgap measure run (results.json)")
    blocks = build_document(results)
    with atomic.staged_dir(out) as tmp:
        results.write_into(tmp)
        written = ["results.json", "items.npz", *write_report_files(blocks, tmp, report_title(results))]
    return {name: out / name for name in written}


def write_tokens(report: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write ``langgap tokens``' ``tokens.json`` (:func:`langgap.tokens.coverage_report`) and its
    chart ``tokens.png`` as the folder ``out_dir``, replaced in one step (a failure on the way
    leaves it as it was); a non-empty folder of something else is refused."""
    out = atomic.check_out_dir(out_dir, ("tokens.json",), "langgap tokens output (tokens.json)")
    png = h.figure_png(coverage_bars(report))
    with atomic.staged_dir(out) as tmp:
        atomic.write_text(tmp / "tokens.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        atomic.write_bytes(tmp / "tokens.png", png)
    return {"tokens.json": out / "tokens.json", "tokens.png": out / "tokens.png"}


def write_report_files(blocks: list[Block], folder: Path, title: str) -> list[str]:
    """Write the PNG figures, ``report.md`` and ``report.html`` of ``blocks`` into ``folder``."""
    written = []
    for b in blocks:
        if isinstance(b, FigureBlock):
            atomic.write_bytes(folder / f"{b.name}.png", b.png)
            written.append(f"{b.name}.png")
    atomic.write_text(folder / "report.md", render_markdown(blocks))
    atomic.write_text(folder / "report.html", render_html(blocks, title))
    return [*written, "report.md", "report.html"]
