"""``langgap measure``: embed parallel and STS data with a model and report its language gap."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from langgap.cli import app, interrupted
from langgap.cli.output import console, log_warnings, out_console, progress_bar, rich_table
from langgap.encoders.onnx import Backend
from langgap.encoders.precision import Precision
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
            help="Bitext TSV src<TAB>tgt, languages from its name xxx-yyy.tsv or as 'deu,eng=PATH'; or a "
            ".parquet/.jsonl/.csv file, a saved HF dataset folder or hf:OWNER/NAME; "
            "optional @SPLIT and #SRC,TGT columns. Repeatable."
        ),
    ] = None,
    multiway: Annotated[
        list[str] | None,
        typer.Option(
            help="Folder with one <lang>.txt per language (FLORES style), or a table with one column per "
            "language (optional @SPLIT and #COL,COL,...). Repeatable."
        ),
    ] = None,
    langs: Annotated[
        str | None, typer.Option(help="Comma-separated languages to read from --multiway folders or tables.")
    ] = None,
    sts: Annotated[
        list[str] | None,
        typer.Option(
            help="STS TSV score<TAB>s1<TAB>s2, languages from its name xx-yy.tsv or 'en,de=PATH'; or a table "
            "(as --bitext) with optional columns #SCORE,S1,S2. Repeatable."
        ),
    ] = None,
    mining: Annotated[
        list[str] | None,
        typer.Option(
            help="BUCC-style mining set: a folder deu-eng/ with src.txt, tgt.txt, gold.tsv (1-based "
            "src_line<TAB>tgt_line), or SRC,TGT,GOLD; 'deu,eng=PATH' names the languages. Repeatable."
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
    precision: Annotated[
        Precision,
        typer.Option(
            help="Forward pass: auto (bf16 on a GPU or a CPU that has it natively, else fp32), fp32, fp16, bf16."
        ),
    ] = "auto",
    backend: Annotated[
        Backend,
        typer.Option(
            help="Runtime: auto (ONNX Runtime for fp32 on a CPU where installed, else torch), torch, onnx."
        ),
    ] = "auto",
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="Reuse embeddings from the on-disk cache.")
    ] = True,
    k: Annotated[int, typer.Option(help="Neighbourhood size for margin scoring and xSIM.")] = 4,
    exact_rows: Annotated[
        int, typer.Option(help="Quadratic metrics see every row of a task up to this many rows...")
    ] = 5000,
    sample_rows: Annotated[
        int, typer.Option(help="...and a seeded sample of this many rows beyond (bounded memory).")
    ] = 2000,
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
    """Measure the language gap of a model on parallel, STS and mining data (default: the built-in sample)."""
    from langgap.adapt import AdaptConfig, check_pivot
    from langgap.atomic import check_out_dir
    from langgap.encoders.cache import CachedEncoder, default_cache_path
    from langgap.measuring import load_tasks, precomputed_encoder
    from langgap.measuring import measure as run_measure
    from langgap.metrics.registry import Budget
    from langgap.results import RUN_FILES
    from langgap.tasks import build_tasks

    log_warnings()
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    if exact_rows < 4 or not 4 <= sample_rows <= exact_rows:
        raise InputError(f"need 4 <= --sample-rows <= --exact-rows, got {sample_rows} and {exact_rows}")
    budget = Budget(exact_rows, sample_rows)
    adapt_config = AdaptConfig.from_options(adapt, adapt_fit_fraction, adapt_pivot)
    out = check_out_dir(out, RUN_FILES, "langgap measure run (results.json)")  # before any work
    tasks = build_tasks(
        sample=sample,
        bitext=bitext or [],
        multiway=multiway or [],
        langs=langs,
        sts=sts or [],
        mining=mining or [],
    )
    loaded = load_tasks(tasks)  # validate all data before loading a model
    for task, corpus in loaded:
        if task.kind.multilingual and task.path and not langs and not quiet:
            n = len(corpus.all_texts())
            console.print(
                f"{task.path}: all {len(corpus.by_language())} languages ({n:,} texts); "
                "--langs a,b,c measures some of them",
                soft_wrap=True,
                markup=False,
            )
    if adapt_config is not None:
        check_pivot(adapt_config, [corpus for _, corpus in loaded])
    if embeddings is not None:
        encoder: Encoder = precomputed_encoder(embeddings, loaded)
    else:
        encoder = open_encoder(
            model, prompt, prompt_name, batch_size, max_length, device, precision, quiet, backend=backend
        )
    config = {
        "command": "measure",
        "batch_size": batch_size,
        "max_length": max_length,
        "cache": cache,
        "tasks": [
            {"name": t.name, "kind": t.kind.value, "path": t.path, "languages": t.languages} for t in tasks
        ],
    }
    cache_path = default_cache_path() if cache and embeddings is None else None
    stats = {"encoded": 0}  # texts encoded in committed chunks, for the message on Ctrl-C
    try:
        with progress_bar(quiet) as bar:
            job = bar.add_task("encoding", total=None, info="texts")
            progress = lambda done, total: bar.update(job, completed=done, total=total)  # noqa: E731
            with CachedEncoder(encoder, cache_path=cache_path, progress=progress) as cached:
                stats = cached.stats
                results = run_measure(
                    cached, loaded, k=k, seed=seed, adapt=adapt_config, config=config, budget=budget
                )
    except KeyboardInterrupt:
        raise _interrupted_measure(out, stats["encoded"], cache_path) from None
    written = write_run(results, out)
    if not quiet:
        _print(results, adapt_config, seed, [out / name for name in written])


def write_run(results: Results, out: Path) -> list[str]:
    """Results, items and report as one new run folder ``out`` (replaced in one step; a failure
    or Ctrl-C on the way leaves the earlier run as it was)."""
    from langgap.atomic import staged_dir
    from langgap.report.document import build_document, write_report_files

    blocks = build_document(results)
    try:
        with staged_dir(out) as tmp:
            results.write_into(tmp)
            return ["results.json", "items.npz", *write_report_files(blocks, tmp, report_title(results))]
    except KeyboardInterrupt:
        raise interrupted(f"interrupted while writing; {out} is as it was before this run") from None
    except OSError as e:
        raise InputError(
            f"{out}: cannot write the run ({e.strerror or e}); the folder is as it was"
        ) from None


def report_title(results: Results) -> str:
    return f"langgap report: {results.model.get('name', 'model')}"


def _interrupted_measure(out: Path, encoded: int, cache_path: Path | None) -> typer.Exit:
    """Ctrl-C / SIGTERM while encoding or scoring: say what was kept and how to go on; exit 130."""
    kept = (
        f"the {encoded} texts encoded in finished chunks are in the embedding cache {cache_path}: "
        "run the same command again to continue from there"
        if cache_path is not None
        else "nothing was cached (--no-cache or --embeddings)"
    )
    return interrupted(f"interrupted: {out} is as it was before this run; {kept}")


def open_encoder(
    model: str,
    prompt: str | None,
    prompt_name: str | None,
    batch_size: int,
    max_length: int | None,
    device: str | None,
    precision: str,
    quiet: bool,
    *,
    notes: bool = True,
    backend: str = "auto",
) -> Encoder:
    """The model of ``--model``; the CLI says which model (unless ``quiet``), and which prompt it
    uses and whether it is an offline copy (unless ``notes`` is off: the other processes of a launcher)."""
    from langgap.encoders import load_encoder

    encoder = load_encoder(
        model,
        prompt=prompt,
        prompt_name=prompt_name,
        batch_size=batch_size,
        max_length=max_length,
        device=device,
        precision=precision,
        backend=backend,
    )
    if not quiet:  # after loading: a bad --model or --device is the only line printed
        console.print(f"[bold]model[/bold] {model}")
    adopted = (
        prompt is None and prompt_name is None and getattr(encoder, "use_default_prompt", lambda: False)()
    )
    if adopted and getattr(encoder, "prompt", "") and notes:
        console.print(
            f"prompt: using the model's configured 'query' prompt {getattr(encoder, 'prompt', '')!r} "
            "(override with --prompt)"
        )
    note = getattr(encoder, "offline_note", None)
    if note and notes:
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
