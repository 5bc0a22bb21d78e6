"""Decoding text lines and parsing numbers, with errors that name the file, line and value.

Every reader of user files goes through these two functions, so a UTF-8 byte-order mark, a
Windows line end, invalid UTF-8 or a non-finite number is treated the same wherever it appears.
"""

from __future__ import annotations

import math
from pathlib import Path

from langgap.errors import InputError

BOM = b"\xef\xbb\xbf"


def decode_line(raw: bytes, path: str | Path, no: int) -> str:
    """Line ``no`` (1-based) of ``path`` as text: its line end (``\\n``, ``\\r\\n``) removed, a UTF-8
    byte-order mark dropped from line 1.

    Raises:
        InputError: ``path:no: invalid UTF-8 at byte B of the line``.
    """
    text = raw.rstrip(b"\n").rstrip(b"\r")
    if no == 1 and text.startswith(BOM):
        text = text[len(BOM) :]
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}:{no}: invalid UTF-8 at byte {e.start} of the line") from None


def parse_finite(text: str, what: str) -> float:
    """``text`` as a finite float; ``what`` names it in the error (``"--threshold"``,
    ``"data.tsv:3: score"``).

    Raises:
        InputError: ``<what> '<text>' is not a number`` or ``... is not a finite number``.
    """
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{what} {text!r} is not a finite number")
    return value
