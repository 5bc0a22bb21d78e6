"""The ``langgap`` command line (typer). Only this package prints."""

from __future__ import annotations

import signal
import sys

import typer

from langgap.cli import help as _help  # noqa: F401  (help screens whole at 80 columns)
from langgap.errors import InputError

app = typer.Typer(
    name="langgap",
    help="Measure and close the language gap of multilingual text-embedding models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from langgap import __version__

        typer.echo(f"langgap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_version
    ),
) -> None:
    """Measure and close the language gap of multilingual text-embedding models."""


def terminate_as_interrupt(signum: int = 0, frame: object = None) -> None:
    """SIGTERM handler: end a command like Ctrl-C, with its message and exit 130."""
    raise KeyboardInterrupt


class _Interrupt:
    """Whether the running command already said what an interruption kept (else ``main`` does)."""

    explained = False


def interrupted(message: str, *, show: bool = True) -> typer.Exit:
    """Print what an interruption kept and how to go on; return the exit (130) to raise.
    ``show=False``: the message is someone else's to print (the other processes of a launcher)."""
    from langgap.cli.output import console

    if show:
        console.print(message, soft_wrap=True, markup=False, highlight=False)
    _Interrupt.explained = True
    return typer.Exit(130)


def main() -> None:
    """Console entry point: bad input is one line on stderr and exit status 2, never a traceback;
    Ctrl-C and SIGTERM say what was kept and exit 130."""
    from langgap.cli import compare as _compare  # noqa: F401  (registers the command)
    from langgap.cli import embed as _embed  # noqa: F401
    from langgap.cli import measure as _measure  # noqa: F401
    from langgap.cli import merge as _merge  # noqa: F401
    from langgap.cli import mine as _mine  # noqa: F401
    from langgap.cli import report as _report  # noqa: F401
    from langgap.cli import table as _table  # noqa: F401
    from langgap.cli import tokens as _tokens  # noqa: F401
    from langgap.cli import train as _train  # noqa: F401
    from langgap.cli import tune as _tune  # noqa: F401

    signal.signal(signal.SIGTERM, terminate_as_interrupt)
    try:
        try:
            app()
        finally:
            # the command is over: Python's teardown puts SIG_DFL back for handled signals, so a
            # late SIGTERM would turn a finished run's exit status into -15; an ignored one stays so
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except InputError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except SystemExit as e:
        if e.code == 130 and not _Interrupt.explained:  # typer turns KeyboardInterrupt into exit 130
            typer.echo("interrupted before anything was written", err=True)
        raise
