"""``langgap tokens``: which languages can a model's tokenizer read?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from langgap.cli import app, options
from langgap.cli.options import DEFAULT_MODEL, writing
from langgap.cli.output import console, out_console, progress_bar, rich_table


@app.command()
def tokens(
    model: Annotated[
        str, typer.Option(help="HF id or local path of the model (or tokenizer).")
    ] = DEFAULT_MODEL,
    multiway: options.Multiway = None,
    langs: options.Langs = None,
    bitext: options.Bitext = None,
    sts: options.Sts = None,
    sample: options.Sample = None,
    max_length: Annotated[
        int | None,
        typer.Option(help="Input limit in tokens for the truncation share (default: the model's)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write tokens.json and tokens.png into this folder.")
    ] = None,
    quiet: options.Quiet = False,
) -> None:
    """Tokenizer coverage per language: unknown tokens and characters, tokens per word, split words,
    byte pieces, truncation, vocabulary share; languages the model cannot read are flagged."""
    from langgap import atomic
    from langgap.encoders.hf import load_tokenizer
    from langgap.measuring import load_tasks
    from langgap.report.document import write_tokens
    from langgap.report.tables import tokens_table
    from langgap.tasks import build_tasks
    from langgap.tokens import coverage_report, language_texts, unreadable

    if out is not None:
        out = atomic.check_out_dir(out, ("tokens.json",), "langgap tokens output (tokens.json)")
    tasks = build_tasks(
        sample=sample, bitext=bitext or [], multiway=multiway or [], langs=langs, sts=sts or []
    )
    texts = language_texts([corpus for _, corpus in load_tasks(tasks)])
    tokenizer, limit = load_tokenizer(model, "model")
    with progress_bar(quiet) as bar:
        job = bar.add_task("tokenizing", total=len(texts), info="languages")
        report = coverage_report(
            tokenizer,
            texts,
            model=model,
            max_length=limit if max_length is None else max_length,
            progress=lambda done, total: bar.update(job, completed=done, total=total),
        )
    written = {}
    if out is not None:
        with writing(out, "coverage report"):
            written = write_tokens(report, out)
    if not quiet:
        out_console.print(rich_table(tokens_table(report)))
        for what, found in unreadable(report).items():
            if found:
                console.print(f"{what}: {'; '.join(found)}", soft_wrap=True, markup=False)
        if written:
            console.print(
                f"wrote {' and '.join(str(p) for p in written.values())}", soft_wrap=True, markup=False
            )
