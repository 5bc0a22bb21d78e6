"""Help screens that stay whole at 80 columns (typer's rich help, adjusted in one place).

typer lays each option out as a table row of up to six columns and renders its help and default
side by side (``rich.columns.Columns``); at 80 columns rich then cuts names, defaults and paths
with an ellipsis (``--teacher-tempera…``, ``intfloat/multilingual-e…``). Here an option is three
cells: its names (``--gather`` with ``--no-gather`` below it), never cut; the type of one value;
and the help with its default as one paragraph that folds where a word is longer than the
column. The command list reads each command's first paragraph as one line of prose (typer's
rich mode kept the docstring's line breaks, breaking descriptions mid-sentence). Imported for
its effect by ``langgap.cli``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from typer import rich_utils
from typer.core import TyperArgument, TyperOption

HELP_MIN_WIDTH = 16  # the help column folds down to this before any name would be cut


class _Folding:
    """A help paragraph that lets the table shrink its column below its longest word."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        m = Measurement.get(console, options, self.text)
        return Measurement(min(m.minimum, HELP_MIN_WIDTH), m.maximum)


def _names(param: TyperOption | TyperArgument) -> Text:
    """``--gather`` / ``--no-gather`` on two lines; an argument by its name; ``*`` if required."""
    if isinstance(param, TyperArgument):
        first = param.display_name_raw.upper() + ("..." if param.nargs != 1 else "")
    else:
        first = ", ".join(param.opts)
    lines = [first, *([", ".join(param.secondary_opts)] if param.secondary_opts else [])]
    star = "* " if param.required else ""
    text = Text(star, style=rich_utils.STYLE_REQUIRED_SHORT)
    text.append("\n".join(lines), style=rich_utils.STYLE_OPTION)
    return text


def _plain_default(part: Text) -> Text:
    """``[default: infonce]``, not typer's ``[default: (infonce)]`` for a default given as text."""
    shown = re.fullmatch(r"\[default: \((.*)\)\]", part.plain)
    return Text(f"[default: {shown[1]}]", style=part.style) if shown else part


def _help(param: TyperOption | TyperArgument, ctx: Any, markup_mode: Any) -> _Folding:
    """typer's help, default and ``[required]`` as one paragraph."""
    columns = rich_utils._get_parameter_help(param=param, ctx=ctx, markup_mode=markup_mode)
    parts = [_plain_default(r) if isinstance(r, Text) else Text(str(r)) for r in columns.renderables]
    text = Text(" ").join(parts)
    text.overflow = "fold"
    return _Folding(text)


def options_panel(
    *,
    name: str,
    params: list[TyperOption] | list[TyperArgument],
    ctx: Any,
    markup_mode: Any,
    console: Console,
) -> None:
    """Replaces ``typer.rich_utils._print_options_panel`` (same keyword arguments)."""
    if not params:
        return
    table = Table(show_header=False, expand=True, box=None, padding=(0, 1), pad_edge=False)
    table.add_column(no_wrap=True)  # names: whole
    table.add_column(no_wrap=True, style=rich_utils.STYLE_TYPES)
    table.add_column(ratio=1)
    for param in params:
        shown = param.display_type_rich(ctx=ctx) or ""
        limits = param._get_number_range_help_str()
        kind = shown + (rich_utils.RANGE_STRING.format(limits) if limits else "")
        table.add_row(_names(param), kind, _help(param, ctx, markup_mode))
    border = rich_utils.STYLE_OPTIONS_PANEL_BORDER
    console.print(Panel(table, border_style=border, title=name, title_align=rich_utils.ALIGN_OPTIONS_PANEL))


def _first_paragraph(original: Callable[..., Any]) -> Callable[..., Any]:
    def one_line(*, help_text: str, markup_mode: Any) -> Any:
        first = inspect.cleandoc(help_text).split("\n\n")[0]
        return original(help_text=" ".join(first.split()), markup_mode=markup_mode)

    return one_line


def _one_value(original: Callable[..., str | None]) -> Callable[..., str | None]:
    """No ``<bool>`` after a flag (``--resume``, ``--cache/--no-cache``): flags take no value; a
    repeatable option or argument shows the type of one value (``<str>``, not ``<list[str]>``)."""

    def shown(self: TyperOption | TyperArgument, ctx: object) -> str | None:
        if getattr(self, "is_flag", False):
            return None
        text = original(self, ctx)
        return f"<{text[6:-2]}>" if text and text.startswith("<list[") and text.endswith("]>") else text

    return shown


def _usage_name(self: TyperArgument) -> str:
    """Usage lines read ``langgap mine [OPTIONS] SRC TGT`` (click's convention), not ``{SRC}``."""
    name = self.display_name_raw.upper()
    return (name if self.required else f"[{name}]") + ("..." if self.nargs != 1 else "")


rich_utils._print_options_panel = options_panel  # type: ignore[assignment]
rich_utils._make_command_help = _first_paragraph(rich_utils._make_command_help)  # type: ignore[assignment]
TyperOption.display_type_rich = _one_value(TyperOption.display_type_rich)  # type: ignore[method-assign]
TyperArgument.display_type_rich = _one_value(TyperArgument.display_type_rich)  # type: ignore[method-assign]
TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
