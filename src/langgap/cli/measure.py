"""``langgap measure``: embed parallel and STS data with a model and report its language gap."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from langgap.cli import app
from langgap.errors import InputError
from langgap.report.tables import Table as TableData
from langgap.report.tables import summary_table, tasks_tables
from langgap.types import Encoder

console = Console(stderr=True)
out_console = Console()


def rich_table(data: TableData) -> Table:
    title, headers, rows = data
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for r in rows:
        table.add_row(*r)
    return table


def _split_spec(spec: str) -> tuple[str | None, str]:
    """``"deu,eng=path"`` -> ``("deu,eng", "path")``; ``"path"`` -> ``(None, "path")``."""
    if "=" in spec and not Path(spec).exists():
        langs, path = spec.split("=", 1)
        return langs, path
    return None, spec


@app.command()
def measure(
    model: Annotated[
        str, typer.Option(help="HF id, local path, or openai:http://HOST:PORT/v1#MODEL.")
    ] = "intfloat/multilingual-e5-small",
    prompt: Annotated[str | None, typer.Option(help='Literal prefix for every text, e.g. "query: ".')] = None,
    prompt_name: Annotated[
        str | None,
        typer.Option(help="One of the model's configured prompts (default: 'query' if the model has it)."),
    ] = None,
    bitext: Annotated[
        list[str] | None,
        typer.Option(
            help="Bitext TSV src<TAB>tgt, languages from its name xxx-yyy.tsv or as 'deu,eng=PATH'. Repeatable."
        ),
    ] = None,
    multiway: Annotated[
        list[str] | None,
        typer.Option(help="Folder with one <lang>.txt per language (FLORES style). Repeatable."),
    ] = None,
    langs: Annotated[
        str | None, typer.Option(help="Comma-separated languages to read from --multiway folders.")
    ] = None,
    sts: Annotated[
        list[str] | None,
        typer.Option(
            help="STS TSV score<TAB>s1<TAB>s2, languages from its name xx-yy.tsv or 'en,de=PATH'. Repeatable."
        ),
    ] = None,
    sample: Annotated[
        bool | None,
        typer.Option(
            "--sample/--no-sample",
            help="Include the built-in sample (default: only when no other data is given).",
        ),
    ] = None,
    embeddings: Annotated[
        Path | None,
        typer.Option(help="Folder of precomputed .npy embeddings, one per input file (instead of --model)."),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Run directory for results.json, items.npz, report.md, report.html.")
    ] = Path("runs/measure"),
    batch_size: Annotated[int, typer.Option(help="Texts per forward pass.")] = 64,
    max_length: Annotated[
        int | None, typer.Option(help="Truncate inputs to this many tokens (default: the model's).")
    ] = None,
    device: Annotated[str | None, typer.Option(help="cuda, mps or cpu (default: automatic).")] = None,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="Reuse embeddings from the on-disk cache.")
    ] = True,
    k: Annotated[int, typer.Option(help="Neighbourhood size for margin scoring and xSIM.")] = 4,
    seed: Annotated[
        int, typer.Option(help="Seed for the language-ID probe split and the --adapt split.")
    ] = 0,
    adapt: Annotated[
        Literal["center", "procrustes"] | None,
        typer.Option(
            help="Also report a zero-training baseline beside the raw model: 'center' subtracts each "
            "language's mean, 'procrustes' maps each language into English with an orthogonal matrix."
        ),
    ] = None,
    adapt_fit_fraction: Annotated[
        float | None,
        typer.Option(
            help="Share of each task's rows that fit --adapt; raw and adapted are scored on the rest (0.5)."
        ),
    ] = None,
    adapt_pivot: Annotated[
        str | None,
        typer.Option(
            help="Language --adapt procrustes maps onto (default: eng, en or eng_Latn, whichever is there)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables.")] = False,
) -> None:
    """Measure the language gap of a model on parallel and STS data (default: the built-in sample)."""
    from langgap.adapt import AdaptConfig
    from langgap.encoders import load_encoder
    from langgap.encoders.cache import CachedEncoder, default_cache_path
    from langgap.encoders.precomputed import PrecomputedEncoder
    from langgap.measure import check_pivot, corpus_columns, load_tasks
    from langgap.measure import measure as run_measure
    from langgap.report.document import write_reports
    from langgap.tasks import bitext_task, multiway_task, sample_task, sts_task

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    if langs and not multiway:
        raise InputError("--langs selects languages of a --multiway folder; give --multiway too")
    adapt_config = None
    if adapt is None and (adapt_fit_fraction is not None or adapt_pivot is not None):
        raise InputError("--adapt-fit-fraction and --adapt-pivot configure --adapt; give --adapt too")
    if adapt is not None:
        fraction = 0.5 if adapt_fit_fraction is None else adapt_fit_fraction
        if not 0.0 < fraction < 1.0:
            raise InputError(f"--adapt-fit-fraction must be in (0, 1), got {fraction:g}")
        if adapt_pivot is not None and adapt != "procrustes":
            raise InputError(f"--adapt-pivot is used by --adapt procrustes only, not --adapt {adapt}")
        adapt_config = AdaptConfig(adapt, fraction, adapt_pivot)
    tasks = []
    if sample or (sample is None and not (bitext or multiway or sts)):
        tasks.append(sample_task())
    tasks += [bitext_task(p, lg) for lg, p in map(_split_spec, bitext or [])]
    tasks += [multiway_task(p, langs) for p in multiway or []]
    tasks += [sts_task(p, lg) for lg, p in map(_split_spec, sts or [])]
    loaded = load_tasks(tasks)  # validate all data before loading a model
    if adapt_config is not None:
        check_pivot(adapt_config, [corpus for _, corpus in loaded])

    if embeddings is not None:
        files: dict[str, list[list[str]]] = {}
        for _, corpus in loaded:
            for stem, cols in corpus_columns(corpus).items():
                if stem in files and files[stem] != cols:
                    raise InputError(
                        f"two input files share the stem {stem!r}; --embeddings cannot tell their .npy apart"
                    )
                files[stem] = cols
        encoder: Encoder = PrecomputedEncoder(embeddings, files)
    else:
        if not quiet:
            console.print(f"[bold]model[/bold] {model}")
        encoder = load_encoder(
            model,
            prompt=prompt,
            prompt_name=prompt_name,
            batch_size=batch_size,
            max_length=max_length,
            device=device,
        )
        if prompt is None and prompt_name is None and getattr(encoder, "use_default_prompt", lambda: False)():
            console.print(
                f"prompt: using the model's configured 'query' prompt {getattr(encoder, 'prompt', '')!r} (override with --prompt)"
            )
        note = getattr(encoder, "offline_note", None)
        if note:
            console.print(f"[yellow]using the {note}[/yellow]")

    with Progress(
        TextColumn("encoding"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("texts"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    ) as bar:
        job = bar.add_task("encode", total=None)
        cached = CachedEncoder(
            encoder,
            cache_path=default_cache_path() if cache and embeddings is None else None,
            progress=lambda done, total: bar.update(job, completed=done, total=total),
        )
        results = run_measure(
            cached,
            loaded,
            k=k,
            seed=seed,
            adapt=adapt_config,
            config={
                "command": "measure",
                "batch_size": batch_size,
                "max_length": max_length,
                "cache": cache,
                "tasks": [
                    {"name": t.name, "kind": t.kind, "path": t.path, "languages": t.languages} for t in tasks
                ],
            },
        )
    results.save(out)
    written = write_reports(results, out)
    if not quiet:
        for table in tasks_tables(results):
            out_console.print(rich_table(table))
        if results.summary:
            out_console.print(rich_table(summary_table(results)))
        s = results.encoding
        console.print(
            f"encoded {s['encoded']} texts ({s['from_cache']} from cache) in {results.timing['encode']:.1f} s; "
            f"total {results.timing['total']:.1f} s"
        )
        if adapt_config is not None:
            console.print(
                f"--adapt {adapt_config.method}: fitted on {adapt_config.fit_fraction:g} of each task's rows "
                f"(seed {seed}); raw and +{adapt_config.method} results are scored on the other rows"
            )
            for t in results.tasks:
                if "adapt_note" in t.notes:
                    console.print(f"{t.name}: {t.notes['adapt_note']}")
        console.print(
            f"wrote {out / 'results.json'}, {out / 'items.npz'}, {written['report.md']}, {written['report.html']}"
        )
