"""A mining run folder, written whole or not at all (:func:`langgap.atomic.staged_dir`).

- ``mined.tsv``: ``score<TAB>src<TAB>tgt``, every candidate pair of the retrieval mode, best first;
- ``<src>-<tgt>.tsv``: ``src<TAB>tgt``, the pairs with ``score >= threshold`` (best first),
  ready for ``langgap train --pairs``;
- ``mine.json``: the inputs, settings, threshold (and where it came from), search, counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from langgap import atomic
from langgap.metrics.mining import PRF
from langgap.mining import Mined
from langgap.results import package_versions, round_floats

FORMAT = "langgap.mine/1"
RUN_FILES = ("mine.json",)  # marks a folder as an earlier mining run (check_out_dir)


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` to ``path``, streamed: never the whole file in memory."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(lines)


def candidate_lines(mined: Mined) -> Iterator[str]:
    """``score<TAB>src<TAB>tgt`` of every candidate, best first."""
    src, tgt = mined.src.texts, mined.tgt.texts
    for i, j, s in zip(mined.src_ids.tolist(), mined.tgt_ids.tolist(), mined.scores.tolist(), strict=True):
        yield f"{s:.6f}\t{src[i]}\t{tgt[j]}\n"


def pair_lines(
    src: Sequence[str], tgt: Sequence[str], src_ids: np.ndarray, tgt_ids: np.ndarray
) -> Iterator[str]:
    """``src<TAB>tgt`` of the pairs ``(src[src_ids[p]], tgt[tgt_ids[p]])``."""
    for i, j in zip(src_ids.tolist(), tgt_ids.tolist(), strict=True):
        yield f"{src[i]}\t{tgt[j]}\n"


def summary(
    mined: Mined, threshold: float, source: str, pairs_file: str, calibration: PRF | None
) -> dict[str, Any]:
    """What ``mine.json`` holds (also printed by the CLI)."""
    sides = {
        side: {"path": s.source, "language": s.name, "lines": s.lines, "distinct": len(s), "model": s.model}
        for side, s in (("src", mined.src), ("tgt", mined.tgt))
    }
    out: dict[str, Any] = {
        "format": FORMAT,
        "inputs": sides,
        "settings": mined.describe(),
        "threshold": {"value": threshold, "from": source},
        "pairs": {"file": pairs_file, "count": mined.above(threshold)},
        "versions": package_versions(),
    }
    if calibration is not None:
        out["calibration"] = {
            "precision": calibration.precision,
            "recall": calibration.recall,
            "f1": calibration.f1,
            "kept": calibration.kept,
            "correct": calibration.correct,
        }
    return out


def write_mined(
    mined: Mined,
    out: str | Path,
    *,
    threshold: float,
    pairs_file: str,
    source: str = "default",
    calibration: PRF | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the run folder ``out`` (replacing an earlier one in one step; on any failure or
    Ctrl-C ``out`` is as it was). Returns the paths written (final names)."""
    out = Path(out)
    meta = summary(mined, threshold, source, pairs_file, calibration) | (extra or {})
    with atomic.staged_dir(out) as tmp:
        count = mined.above(threshold)  # the first ones: scores decrease
        write_lines(tmp / "mined.tsv", candidate_lines(mined))
        write_lines(
            tmp / pairs_file,
            pair_lines(mined.src.texts, mined.tgt.texts, mined.src_ids[:count], mined.tgt_ids[:count]),
        )
        atomic.write_text(
            tmp / "mine.json", json.dumps(round_floats(meta), indent=2, ensure_ascii=False) + "\n"
        )
    return [out / "mined.tsv", out / pairs_file, out / "mine.json"]
