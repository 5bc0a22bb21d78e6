"""What the commands print: the two consoles, rich tables from table data, progress bars."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from langgap.report.tables import Table as TableData

console = Console(stderr=True)  # progress, notes, warnings
out_console = Console()  # results (tables)


def rich_table(data: TableData) -> Table:
    """A rich table from ``(title, headers, rows)``; the first column left-aligned, no wrap."""
    title, headers, rows = data
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for r in rows:
        table.add_row(*r)
    return table


def progress_bar(quiet: bool = False) -> Progress:
    """The bar every long command draws on stderr: what, bar, done/total, ``info`` field, times.

    Add tasks with ``bar.add_task(description, total=None, info="texts")``.
    """
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    )


def log_warnings() -> None:
    """Library warnings as one line each on stderr."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
