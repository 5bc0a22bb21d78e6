"""``langgap embed FILE --out DIR``: a text file of any size into float16 ``.npy`` shards plus a
manifest; resumable, and split between the processes of ``accelerate launch`` / ``torchrun``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from langgap.cli import app, interrupted, options
from langgap.cli.options import DEFAULT_MODEL
from langgap.cli.output import console, log_warnings, progress_bar
from langgap.errors import InputError

if TYPE_CHECKING:
    from rich.progress import Progress

    from langgap.accel import Processes
    from langgap.embed import EmbedResult

Opt = typer.Option
DEFAULT_ROWS_PER_SHARD = 50_000  # = langgap.embed.DEFAULT_ROWS_PER_SHARD (not imported: it loads torch)


@app.command()
def embed(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="UTF-8 text file, one text per line (any size).")
    ],
    out: Annotated[Path, Opt(help="Shard folder: manifest.json and shard-00000.npy, ... (new or resumed).")],
    model: options.Model = DEFAULT_MODEL,
    prompt: options.Prompt = None,
    prompt_name: options.PromptName = None,
    batch_size: options.BatchSize = 64,
    max_length: options.MaxLength = None,
    device: Annotated[
        str | None, Opt(help="cuda, mps or cpu (default: automatic; each launcher process its own GPU).")
    ] = None,
    precision: options.Precision = "auto",
    backend: options.Backend = "auto",
    dtype: Annotated[Literal["float16", "float32"], Opt(help="Type of the stored embeddings.")] = "float16",
    rows_per_shard: Annotated[
        int, Opt(help="Rows per shard file (the last one may have fewer).")
    ] = DEFAULT_ROWS_PER_SHARD,
    quiet: options.Quiet = False,
) -> None:
    """Embed a text file of any size into .npy shards plus a manifest (resumable; distributed
    under accelerate launch / torchrun)."""
    from langgap.accel import processes
    from langgap.atomic import check_out_dir
    from langgap.embed import embed_file, plan_input
    from langgap.encoders.shards import MANIFEST
    from langgap.encoders.st import check_device, resolve_model

    log_warnings()
    out = check_out_dir(out, [MANIFEST], "langgap embed folder (manifest.json)")  # before any work
    if batch_size < 1 or (max_length is not None and max_length < 1):
        raise InputError(f"--batch-size and --max-length must be >= 1, got {batch_size} and {max_length}")
    check_device(device)
    if not model.startswith("openai:"):
        resolve_model(model)  # a path typo or an unreachable Hub id: before the scan of a big file
    procs = processes()
    plan = plan_input(file, out, rows_per_shard=rows_per_shard, dtype=dtype, procs=procs)
    if device is None and procs.count > 1:
        device = str(procs.device)  # one GPU per process (cuda:<local rank>)
    show = procs.main and not quiet
    encoder = options.open_encoder(
        model,
        prompt,
        prompt_name,
        batch_size,
        max_length,
        device,
        precision,
        backend,
        quiet=not show,
        notes=procs.main,
    )
    bar = progress_bar(not show)
    who = f" (process 1 of {procs.count}: one shard in {procs.count})" if procs.count > 1 else ""
    job = bar.add_task(f"embedding{who}", total=None, info="", visible=False)
    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if total == 0:
            return
        bar.start()  # drawn from the first report on, so bad input stays a single line
        rate = done / max(time.perf_counter() - t0, 1e-9)
        bar.update(job, completed=done, total=total, visible=True, info=f"{rate:,.0f} sentences/s")

    try:
        result = embed_file(
            encoder,
            file,
            out,
            rows_per_shard=rows_per_shard,
            dtype=dtype,
            procs=procs,
            progress=progress,
            plan=plan,
        )
    except KeyboardInterrupt:
        _stop(bar)
        raise _interrupted_embed(out, procs) from None
    finally:
        _stop(bar)
    if show:
        _print(result, procs, dtype)


def _stop(bar: Progress) -> None:
    if bar.live.is_started:
        bar.stop()


def _interrupted_embed(out: Path, procs: Processes) -> typer.Exit:
    """Ctrl-C / SIGTERM: how many shards are complete, and that the same command continues."""
    from langgap.embed import complete_shards

    complete, total = complete_shards(out)
    if total == 0:
        return interrupted(f"interrupted before any shard was written to {out}", show=procs.main)
    return interrupted(
        f"interrupted: {complete} of {total} shards in {out} are complete and kept (a shard is written "
        "whole or not at all); run the same command again to continue from there",
        show=procs.main,
    )


def _print(result: EmbedResult, procs: Processes, dtype: str) -> None:
    who = f"process 1 of {procs.count}: " if procs.count > 1 else ""
    skipped = f" ({result.skipped} complete from an earlier run skipped)" if result.skipped else ""
    done = (
        f"{who}embedded {result.rows:,} texts into {result.written} shards{skipped} in {result.seconds:.1f} s "
        f"({result.rate:,.0f} sentences/s)"
        if result.written
        else f"{who}nothing to embed: {result.skipped} shards were complete from an earlier run"
    )
    console.print(done, soft_wrap=True, highlight=False)
    console.print(
        f"{result.out}: {result.complete} of {result.shards} shards complete ({dtype}); "
        f"read it with langgap.encoders.shards.ShardSet({str(result.out)!r})",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
