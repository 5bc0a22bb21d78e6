"""Errors raised for bad user input.

The CLI turns an :class:`InputError` into one line on stderr and exit status 2; the library
raises it (a ``ValueError``) wherever a file, a line or an option value is wrong, with a
message that names the file, the line and the problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InputError(ValueError):
    """Bad user input: a data file, an option value or a model path."""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
