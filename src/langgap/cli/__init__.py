"""The ``langgap`` command line (typer). Only this package prints."""

from __future__ import annotations

import sys

import typer

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


def main() -> None:
    """Console entry point: bad input is one line on stderr and exit status 2, never a traceback."""
    from langgap.cli import compare as _compare  # noqa: F401  (registers the command)
    from langgap.cli import measure as _measure  # noqa: F401
    from langgap.cli import report as _report  # noqa: F401
    from langgap.cli import train as _train  # noqa: F401

    try:
        app()
    except InputError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
