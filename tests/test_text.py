"""One decoder for every text line users give, one parser for every number."""

from __future__ import annotations

import pytest

from langgap.errors import InputError
from langgap.text import decode_line, parse_finite


def test_decode_line_drops_line_ends_and_a_bom_on_line_one_only():
    assert decode_line(b"\xef\xbb\xbfhallo\r\n", "a.txt", 1) == "hallo"
    assert decode_line(b"\xef\xbb\xbfhallo\n", "a.txt", 2) == "\ufeffhallo"  # a BOM mid-file is text
    assert decode_line("grüß".encode(), "a.txt", 3) == "grüß"
    with pytest.raises(InputError, match=r"^a.txt:7: invalid UTF-8 at byte 2 of the line$"):
        decode_line(b"ab\xff\n", "a.txt", 7)


@pytest.mark.parametrize(
    "text, message",
    [("high", "is not a number"), ("nan", "is not a finite number"), ("-inf", "is not a finite number")],
)
def test_parse_finite_names_what_and_value(text, message):
    assert parse_finite(" 1.5e-1 ", "--threshold") == 0.15
    with pytest.raises(InputError, match=rf"^x.tsv:3: score '{text}' {message}$"):
        parse_finite(text, "x.tsv:3: score")
