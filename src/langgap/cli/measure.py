"""``langgap measure``: embed parallel and STS data with a model and report its language gap."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from langgap.cli import app
from langgap.cli.output import console, log_warnings, out_console, progress_bar, rich_table
from langgap.errors import InputError

if TYPE_CHECKING:
    from langgap.adapt import AdaptConfig
    from langgap.results import Results
    from langgap.types import Encoder


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
    from langgap.adapt import AdaptConfig, check_pivot
    from langgap.encoders.cache import CachedEncoder, default_cache_path
    from langgap.measure import load_tasks, precomputed_encoder
    from langgap.measure import measure as run_measure
    from langgap.report.document import write_reports
    from langgap.tasks import build_tasks

    log_warnings()
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    adapt_config = AdaptConfig.from_options(adapt, adapt_fit_fraction, adapt_pivot)
    tasks = build_tasks(
        sample=sample, bitext=bitext or [], multiway=multiway or [], langs=langs, sts=sts or []
    )
    loaded = load_tasks(tasks)  # validate all data before loading a model
    if adapt_config is not None:
        check_pivot(adapt_config, [corpus for _, corpus in loaded])
    if embeddings is not None:
        encoder: Encoder = precomputed_encoder(embeddings, loaded)
    else:
        encoder = _load_model(model, prompt, prompt_name, batch_size, max_length, device, quiet)
    config = {
        "command": "measure",
        "batch_size": batch_size,
        "max_length": max_length,
        "cache": cache,
        "tasks": [
            {"name": t.name, "kind": t.kind.value, "path": t.path, "languages": t.languages} for t in tasks
        ],
    }
    with progress_bar(quiet) as bar:
        job = bar.add_task("encoding", total=None, info="texts")
        with CachedEncoder(
            encoder,
            cache_path=default_cache_path() if cache and embeddings is None else None,
            progress=lambda done, total: bar.update(job, completed=done, total=total),
        ) as cached:
            results = run_measure(cached, loaded, k=k, seed=seed, adapt=adapt_config, config=config)
    results.save(out)
    written = write_reports(results, out)
    if not quiet:
        _print(results, adapt_config, seed, [out / "results.json", out / "items.npz", *written.values()])


def _load_model(
    model: str,
    prompt: str | None,
    prompt_name: str | None,
    batch_size: int,
    max_length: int | None,
    device: str | None,
    quiet: bool,
) -> Encoder:
    """The model of ``--model`` (the CLI says which prompt it uses and whether it is an offline copy)."""
    from langgap.encoders import load_encoder

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
            f"prompt: using the model's configured 'query' prompt {getattr(encoder, 'prompt', '')!r} "
            "(override with --prompt)"
        )
    note = getattr(encoder, "offline_note", None)
    if note:
        console.print(f"[yellow]using the {note}[/yellow]")
    return encoder


def _print(results: Results, adapt: AdaptConfig | None, seed: int, written: list[Path]) -> None:
    from langgap.report.tables import summary_table, tasks_tables

    for table in tasks_tables(results):
        out_console.print(rich_table(table))
    if results.summary:
        out_console.print(rich_table(summary_table(results)))
    s, t = results.encoding, results.timing
    console.print(
        f"encoded {s['encoded']} texts ({s['from_cache']} from cache) in {t['encode']:.1f} s; total {t['total']:.1f} s"
    )
    if adapt is not None:
        console.print(
            f"--adapt {adapt.method}: fitted on {adapt.fit_fraction:g} of each task's rows "
            f"(seed {seed}); raw and +{adapt.method} results are scored on the other rows"
        )
        for task in results.tasks:
            if "adapt_note" in task.notes:
                console.print(f"{task.name}: {task.notes['adapt_note']}")
    shown = [p for p in written if p.suffix != ".png"]
    console.print(f"wrote {', '.join(str(p) for p in shown)}")
