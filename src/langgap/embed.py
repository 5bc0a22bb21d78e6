"""``embed_file(encoder, path, out)``: a text file of any size (one text per line) into a shard
folder (:mod:`langgap.encoders.shards`: ``.npy`` shards of a fixed row count plus a manifest).

- **Streaming.** The main process scans the input once (sha256, line count, the byte offset of
  each shard's first line); each shard's lines are then read on their own, so memory holds one
  shard's texts and embeddings, never the file.
- **Resumable.** A shard file exists only when complete (written atomically), and a rerun skips
  complete shards: a killed run loses at most the shard each process had in flight. A rerun with
  other settings (model, prompt, max length, rows per shard, dtype) or on a changed input is
  refused with an :class:`~langgap.errors.InputError` before anything is written.
- **Distributed.** Under ``accelerate launch`` / ``torchrun`` (:func:`langgap.accel.processes`),
  shard ``i`` is embedded by process ``i % count``. The main process scans and writes the
  manifest and shares the plan, or its error, with the others, which then read only their
  shards' lines.
- **Batching.** Each shard is encoded in chunks of ``chunk_rows`` rows through the encoder's own
  ``encode`` (:class:`~langgap.encoders.st.SentenceTransformerEncoder` batches a chunk by token
  count, as ``langgap measure`` does); progress is reported after every chunk.

The library never prints: ``progress(rows_done, rows_total)`` counts the rows this process embeds
in this run (shards already complete are not in the total).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from langgap import atomic
from langgap.accel import Processes, processes
from langgap.encoders.shards import (
    DTYPES,
    MANIFEST,
    Manifest,
    read_lines,
    read_manifest,
    scan_input,
    shard_done,
    write_manifest,
    write_shard,
)
from langgap.errors import InputError
from langgap.types import Encoder, ProgressFn, describe_encoder

# 50,000 rows: about 5 minutes of e5-small on 2 CPU cores (160 Tatoeba sentences/s in
# docs/benchmarks.md; longer texts take longer) and seconds on a GPU, so a kill loses little; a
# shard is 38 MB in float16 at D = 384 (100 MB at D = 1024); a billion lines make 20,000 files.
DEFAULT_ROWS_PER_SHARD = 50_000
CHUNK_ROWS = 4096  # rows per encode call: token-sorted batches within it, a progress report after it

T = TypeVar("T")


@dataclass(frozen=True)
class InputPlan:
    """The input as the main process scanned it: resolved path, sha256, lines, the shard table."""

    path: Path
    sha256: str
    lines: int
    shards: list[dict[str, int | str]]


@dataclass(frozen=True)
class EmbedResult:
    """What one process did: shards it wrote and skipped (complete before), rows it embedded and
    how long that took; ``complete`` counts the folder's complete shards after every process ended."""

    out: Path
    shards: int
    complete: int
    written: int
    skipped: int
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        """Sentences per second of this process."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _on_main(procs: Processes, fn: Callable[[], T]) -> T:
    """``fn()`` on the main process; its value, or the same :class:`InputError`, on every process."""
    value: tuple[str, Any] | None = None
    if procs.main:
        try:
            value = ("ok", fn())
        except InputError as e:
            value = ("error", str(e))
    kind, payload = procs.share(value)
    if kind == "error":
        raise InputError(payload)
    return payload  # type: ignore[no-any-return]


def _old_manifest(out: Path) -> Manifest | None:
    return read_manifest(out) if (out / MANIFEST).exists() else None


def _check_input(old: Manifest, out: Path, path: Path, sha: str, rows_per_shard: int, dtype: str) -> None:
    """Refuse to continue ``out`` on another input or with another shard size or dtype."""
    was = old.input
    if sha != was["sha256"]:
        if str(path) == str(was["path"]):
            what = f"{path}: changed since {out} was embedded from it"
        else:
            what = f"{out} holds the embeddings of another file ({was['path']})"
        raise InputError(
            f"{what} (sha256 {sha[:12]}… vs {str(was['sha256'])[:12]}… in its manifest); "
            "give a new --out (or delete the folder to start over)"
        )
    for option, now, then in (
        ("--rows-per-shard", rows_per_shard, old.rows_per_shard),
        ("--dtype", dtype, old.dtype),
    ):
        if now != then:
            raise InputError(
                f"{out} was embedded with {option} {then}, this run asks for {now}; "
                "give the same settings to continue it, or a new --out"
            )


def plan_input(
    path: str | Path,
    out: str | Path,
    *,
    rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
    dtype: str = "float16",
    procs: Processes | None = None,
) -> InputPlan:
    """Scan ``path`` once (on the main process) and check it against an earlier manifest in
    ``out``; every process gets the plan, or raises the same :class:`InputError` (an unreadable or
    empty file, invalid UTF-8 or an empty line, a changed input, another shard size or dtype)."""
    procs = procs if procs is not None else processes()
    if dtype not in DTYPES:
        raise InputError(f"--dtype {dtype!r}: expected one of {', '.join(DTYPES)}")

    def scan() -> InputPlan:
        source = Path(path).expanduser().resolve()
        sha, lines, table = scan_input(source, rows_per_shard)
        old = _old_manifest(Path(out))
        if old is not None:
            _check_input(old, Path(out), source, sha, rows_per_shard, dtype)
        return InputPlan(source, sha, lines, table)

    return _on_main(procs, scan)


def model_record(encoder: Encoder) -> dict[str, Any]:
    """What the manifest says about the model: its ``describe()`` (less the per-process device)
    plus its cache key, which :meth:`Manifest.settings` compares on a rerun."""
    record = describe_encoder(encoder)
    record.pop("device", None)
    key = getattr(encoder, "cache_key", None)
    record["cache_key"] = key() if callable(key) else None
    for name in ("prompt", "max_length"):
        record.setdefault(name, None)
    return record


_EXPLAIN = ("name", "prompt", "max_length", "precision", "pooling", "path")


def _check_settings(out: Path, new: Manifest) -> None:
    """Refuse to continue ``out`` when its manifest was written with other settings."""
    old = _old_manifest(out)
    if old is None or old.settings() == new.settings():
        return
    _check_input(old, out, Path(new.input["path"]), str(new.input["sha256"]), new.rows_per_shard, new.dtype)
    diffs = [
        f"{k.replace('_', ' ')} {old.model.get(k)!r} (this run: {new.model.get(k)!r})"
        for k in _EXPLAIN
        if old.model.get(k) != new.model.get(k)
    ]
    raise InputError(
        f"{out} was embedded with other model settings: {'; '.join(diffs) or 'the model files changed'}; "
        "give the same settings to continue it, or a new --out"
    )


def _start(out: Path, manifest: Manifest) -> bool:
    """Main process: check an earlier manifest, clean a killed run's temporary files, write."""
    _check_settings(out, manifest)
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic.clean_stale_files(out)
        write_manifest(out, manifest)
    except OSError as e:
        raise InputError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    return True


def _to_dtype(array: np.ndarray, dtype: str, where: str) -> np.ndarray:
    out = np.ascontiguousarray(array, dtype=dtype)
    if dtype == "float16" and not np.isfinite(out).all():
        raise InputError(f"{where}: embeddings beyond float16's range (±65504); use --dtype float32")
    return out


def embed_file(
    encoder: Encoder,
    path: str | Path,
    out: str | Path,
    *,
    rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
    dtype: str = "float16",
    procs: Processes | None = None,
    progress: ProgressFn | None = None,
    plan: InputPlan | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> EmbedResult:
    """Embed every line of ``path`` into the shard folder ``out`` (see the module docstring).

    Args:
        encoder: any encoder; row ``r`` of shard ``s`` is ``encoder.encode`` of line
            ``s * rows_per_shard + r``.
        path: UTF-8 text, one non-empty text per line.
        out: the shard folder (new, or one this function wrote with the same settings).
        rows_per_shard: rows of every shard but the last.
        dtype: ``float16`` or ``float32`` of the stored rows.
        procs: the launcher's processes (default :func:`langgap.accel.processes`).
        progress: ``progress(rows_done, rows_total)`` of this process.
        plan: :func:`plan_input`'s result when the caller checked the input already.
        chunk_rows: rows per ``encode`` call.

    Returns:
        :class:`EmbedResult` of this process.

    Raises:
        InputError: bad input (see :func:`plan_input`), or ``out`` embedded with other settings.
    """
    procs = procs if procs is not None else processes()
    if plan is None:
        plan = plan_input(path, out, rows_per_shard=rows_per_shard, dtype=dtype, procs=procs)
    out = Path(out)
    source = {"path": str(plan.path), "sha256": plan.sha256, "lines": plan.lines}
    manifest = Manifest(model_record(encoder), source, rows_per_shard, dtype, plan.shards)
    _on_main(procs, lambda: _start(out, manifest))
    dim = manifest.model.get("dimension")
    dim = dim if isinstance(dim, int) and dim > 0 else None
    mine = [s for i, s in enumerate(plan.shards) if i % procs.count == procs.index]
    todo = [s for s in mine if not shard_done(out, s, dim)]
    total, done, t0 = sum(int(s["rows"]) for s in todo), 0, time.perf_counter()
    if progress is not None:
        progress(0, total)
    for shard in todo:
        texts = read_lines(plan.path, int(shard["offset"]), int(shard["rows"]), int(shard["first_line"]))
        parts = []
        for start in range(0, len(texts), chunk_rows):
            part = np.asarray(encoder.encode(texts[start : start + chunk_rows]))  # (C, D)
            parts.append(part)
            done += len(part)
            if progress is not None:
                progress(done, total)
        array = np.concatenate(parts)  # (rows, D)
        if array.ndim != 2 or len(array) != len(texts):
            raise ValueError(f"the encoder returned shape {array.shape} for {len(texts)} texts")
        write_shard(out, str(shard["file"]), _to_dtype(array, dtype, f"{out / str(shard['file'])}"))
    seconds = time.perf_counter() - t0
    procs.wait()
    complete = sum(shard_done(out, s, dim) for s in plan.shards)
    return EmbedResult(out, len(plan.shards), complete, len(todo), len(mine) - len(todo), done, seconds)


def complete_shards(out: str | Path) -> tuple[int, int]:
    """``(complete, total)`` shards of the folder ``out`` (``(0, 0)`` without a manifest)."""
    out = Path(out)
    old = _old_manifest(out) if out.is_dir() else None
    if old is None:
        return 0, 0
    return sum(shard_done(out, s) for s in old.shards), len(old.shards)
