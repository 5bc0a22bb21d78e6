"""``langgap measure``: embed parallel and STS data with a model and report its language gap."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from langgap.cli import app, interrupted, options
from langgap.cli.options import DEFAULT_MODEL, writing
from langgap.cli.output import console, log_warnings, out_console, progress_bar, rich_table

if TYPE_CHECKING:
    from langgap.adapt import AdaptConfig
    from langgap.data.corpora import Corpus
    from langgap.results import Results
    from langgap.tasks import Task
    from langgap.types import Encoder


@app.command()
def measure(
    model: options.Model = DEFAULT_MODEL,
    prompt: options.Prompt = None,
    prompt_name: options.PromptName = None,
    bitext: options.Bitext = None,
    multiway: options.Multiway = None,
    langs: options.Langs = None,
    sts: options.Sts = None,
    mining: Annotated[
        list[str] | None,
        typer.Option(
            help="BUCC-style mining set: a folder deu-eng/ with src.txt, tgt.txt, gold.tsv (1-based "
            "src_line<TAB>tgt_line), or SRC,TGT,GOLD; 'deu,eng=PATH' names the languages. Repeatable."
        ),
    ] = None,
    sample: options.Sample = None,
    embeddings: Annotated[
        Path | None,
        typer.Option(help="Folder of precomputed .npy embeddings, one per input file (instead of --model)."),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Run directory for results.json, items.npz, report.md, report.html.")
    ] = Path("runs/measure"),
    batch_size: options.BatchSize = 64,
    max_length: options.MaxLength = None,
    device: options.Device = None,
    precision: options.Precision = "auto",
    backend: options.Backend = "auto",
    cache: options.Cache = True,
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
    against: Annotated[
        str | None,
        typer.Option(
            help="A teacher (e.g. the English model of an existing index): it embeds the English texts, "
            "the model the rest; scores whether the model's sentences find the teacher's."
        ),
    ] = None,
    against_langs: Annotated[
        str, typer.Option(help="Comma-separated languages --against embeds.")
    ] = "en,eng,eng_Latn",
    quiet: options.Quiet = False,
) -> None:
    """Measure the language gap of a model on parallel, STS and mining data (default: the built-in sample)."""
    from langgap.adapt import AdaptConfig, check_pivot
    from langgap.atomic import check_out_dir
    from langgap.encoders.cache import CachedEncoder, default_cache_path
    from langgap.errors import InputError
    from langgap.measuring import check_k, load_tasks, precomputed_encoder
    from langgap.measuring import measure as run_measure
    from langgap.metrics.registry import Budget
    from langgap.report.document import save_run
    from langgap.results import RUN_FILES
    from langgap.tasks import build_tasks

    log_warnings()
    budget = Budget(exact_rows, sample_rows).check()
    adapt_config = AdaptConfig.from_options(adapt, adapt_fit_fraction, adapt_pivot)
    if adapt_config is not None and against is not None:
        raise InputError("give --adapt or --against, not both")
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
    check_k(k, loaded)
    if not langs and not quiet:
        _note_languages(loaded)
    if adapt_config is not None:
        check_pivot(adapt_config, [corpus for _, corpus in loaded])
    if embeddings is not None:
        encoder: Encoder = precomputed_encoder(embeddings, loaded)
    else:
        encoder = options.open_encoder(
            model, prompt, prompt_name, batch_size, max_length, device, precision, backend, quiet=quiet
        )
    teacher = _teacher(against, encoder, batch_size, max_length, device, precision, backend)
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
                    cached,
                    loaded,
                    k=k,
                    seed=seed,
                    adapt=adapt_config,
                    config=config,
                    budget=budget,
                    against=teacher,
                    against_langs={x.strip() for x in against_langs.split(",") if x.strip()},
                )
    except KeyboardInterrupt:
        raise _interrupted_measure(out, stats["encoded"], cache_path) from None
    with writing(out, "run"):
        written = save_run(results, out)
    if not quiet:
        _print(results, adapt_config, seed, list(written.values()))


def _note_languages(loaded: list[tuple[Task, Corpus]]) -> None:
    """Say how many languages a multilingual file holds when ``--langs`` chose none."""
    for task, corpus in loaded:
        if task.kind.multilingual and task.path:
            n = len(corpus.all_texts())
            console.print(
                f"{task.path}: all {len(corpus.by_language())} languages ({n:,} texts); "
                "--langs a,b,c measures some of them",
                soft_wrap=True,
                markup=False,
            )


def _teacher(
    against: str | None,
    encoder: Encoder,
    batch_size: int,
    max_length: int | None,
    device: str | None,
    precision: str,
    backend: str,
) -> Encoder | None:
    """``--against``: the teacher, opened with the model's encoding settings (its own prompt) and
    checked to share the model's dimension."""
    if against is None:
        return None
    from langgap.against import check_against

    teacher = options.open_encoder(
        against, None, None, batch_size, max_length, device, precision, backend, quiet=True
    )
    check_against(encoder, teacher, against)
    return teacher


def _interrupted_measure(out: Path, encoded: int, cache_path: Path | None) -> typer.Exit:
    """Ctrl-C / SIGTERM while encoding or scoring: say what was kept and how to go on; exit 130."""
    if cache_path is None:
        kept = "nothing was cached (--no-cache or --embeddings)"
    elif encoded == 0:
        kept = f"no chunk of texts had finished encoding, so the embedding cache {cache_path} gained nothing"
    else:
        kept = (
            f"the {encoded:,} texts encoded in finished chunks are in the embedding cache {cache_path}: "
            "run the same command again to continue from there"
        )
    return interrupted(f"interrupted: {out} is as it was before this run; {kept}")


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
