"""The filters of mined pairs (mining/filters.py) against a naive reading of their rules."""

from __future__ import annotations

import numpy as np
import pytest

from langgap.errors import InputError
from langgap.mining import Mined
from langgap.mining.filters import REASONS, PairFilter, filter_pairs, length_ratio, skeleton
from langgap.mining.sides import Side


def mined(src: list[str], tgt: list[str], rows: list[tuple[int, int, float]]) -> Mined:
    """A Mined of the given candidates (best first) between two sides without vectors."""
    s, t, sc = zip(*rows, strict=True) if rows else ((), (), ())
    sides = [Side(n, n, texts, np.arange(len(texts))) for n, texts in (("xx", src), ("yy", tgt))]
    return Mined(
        sides[0],
        sides[1],
        np.asarray(s, dtype=np.int64),
        np.asarray(t, dtype=np.int64),
        np.asarray(sc, dtype=np.float64),
        4,
        "ratio",
        "forward",
        {},
    )


def naive(src, tgt, rows, threshold, max_ratio, cap):
    """The rules one pair at a time, as the module docstring states them."""
    kept, dropped, used_s, used_t = [], dict.fromkeys(REASONS, 0), set(), set()
    for i, j, score in rows:
        a, b = src[i], tgt[j]
        same = "".join(c for c in a.lower() if c.isalnum()) == "".join(c for c in b.lower() if c.isalnum())
        ratio = max(len(a), len(b)) / min(len(a), len(b))
        if score < threshold:
            dropped["threshold"] += 1
        elif same:
            dropped["identical"] += 1
        elif max_ratio and ratio > max_ratio:
            dropped["length"] += 1
        elif i in used_s or j in used_t:
            dropped["repeated"] += 1
        elif cap and len(kept) >= cap:
            dropped["cap"] += 1
        else:
            kept.append((i, j))
            used_s.add(i)
            used_t.add(j)
    return kept, dropped


SRC = ["a cat sleeps", "Hello, World!", "x", "dogs bark loudly", "the sun", "rain falls", "snow"]
TGT = [
    "un chat dort",
    "hello world",
    "a very long sentence indeed",
    "les chiens aboient",
    "le soleil",
    "la pluie",
]
ROWS = [  # best first
    (0, 0, 1.20),  # kept
    (1, 1, 1.18),  # identical (case and punctuation ignored)
    (2, 2, 1.15),  # length ratio 27
    (3, 3, 1.12),  # kept
    (4, 0, 1.10),  # target 0 already used: repeated
    (5, 5, 1.08),  # kept (or cap)
    (4, 4, 1.05),  # kept (or cap)
    (6, 4, 1.01),  # below 1.03
]


@pytest.mark.parametrize("max_ratio, cap", [(3.0, 0), (0.0, 0), (3.0, 2), (30.0, 3)])
def test_filters_match_the_naive_rules(max_ratio, cap):
    out = filter_pairs(mined(SRC, TGT, ROWS), PairFilter(1.03, max_ratio, cap))
    kept, dropped = naive(SRC, TGT, ROWS, 1.03, max_ratio, cap)
    assert list(zip(out.src_ids.tolist(), out.tgt_ids.tolist(), strict=True)) == kept
    assert out.dropped == dropped
    assert len(out) + sum(out.dropped.values()) == len(ROWS)
    assert np.all(np.diff(out.scores) <= 0)  # still best first


def test_each_filter_drops_what_it_names():
    out = filter_pairs(mined(SRC, TGT, ROWS), PairFilter(1.03, 3.0, 2))
    assert out.dropped == {"threshold": 1, "identical": 1, "length": 1, "repeated": 1, "cap": 2}
    assert list(zip(out.src_ids.tolist(), out.tgt_ids.tolist(), strict=True)) == [(0, 0), (3, 3)]


def test_no_candidates_keep_nothing():
    out = filter_pairs(mined(SRC, TGT, []), PairFilter(1.0))
    assert len(out) == 0 and sum(out.dropped.values()) == 0


def test_skeleton_and_length_ratio():
    assert skeleton("Ｈello,  WORLD!") == skeleton("hello world") == "helloworld"  # NFKC, case, punctuation
    assert skeleton("Ça va") != skeleton("ca va")  # accents are letters: not a copy
    assert length_ratio("ab", "abcdef") == length_ratio("abcdef", "ab") == 3.0
    assert length_ratio("", "abc") == 3.0  # at least one character


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"threshold": float("nan")}, "--mine-threshold must be a finite number"),
        ({"threshold": 1.0, "max_ratio": 0.9}, r"--mine-max-ratio must be >= 1 \(0: no limit\), got 0.9"),
        ({"threshold": 1.0, "cap": -2}, "--mine-cap must be >= 0"),
    ],
)
def test_bad_settings_are_one_clear_line(kw, message):
    with pytest.raises(InputError, match=message):
        PairFilter(**kw)
