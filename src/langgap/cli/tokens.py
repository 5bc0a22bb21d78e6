"""``langgap tokens``: which languages can a model's tokenizer read?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from langgap.cli import app
from langgap.cli.output import console, out_console, progress_bar, rich_table
from langgap.errors import InputError


@app.command()
def tokens(
    model: Annotated[str, typer.Option(help="HF id or local path of the model (or tokenizer).")] = (
        "intfloat/multilingual-e5-small"
    ),
    multiway: Annotated[
        list[str] | None,
        typer.Option(help="Folder with one <lang>.txt per language (FLORES style). Repeatable."),
    ] = None,
    langs: Annotated[
        str | None, typer.Option(help="Comma-separated languages of the --multiway folders.")
    ] = None,
    bitext: Annotated[list[str] | None, typer.Option(help="Bitext TSV (xxx-yyy.tsv). Repeatable.")] = None,
    sts: Annotated[list[str] | None, typer.Option(help="STS TSV (xx-yy.tsv). Repeatable.")] = None,
    sample: Annotated[
        bool | None,
        typer.Option("--sample/--no-sample", help="The built-in sample (default: only when no other data)."),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(help="Input limit in tokens for the truncation share (default: the model's)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write tokens.json and tokens.png into this folder.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table.")] = False,
) -> None:
    """Tokenizer coverage per language: unknown tokens and characters, tokens per word, split words,
    byte pieces, truncation, vocabulary share; languages the model cannot read are flagged."""
    from langgap import atomic
    from langgap.encoders.st import load_tokenizer
    from langgap.measuring import load_tasks
    from langgap.tasks import build_tasks
    from langgap.tokens import coverage_report, language_texts, unreadable

    if out is not None:
        out = atomic.check_out_dir(out, ("tokens.json",), "langgap tokens output (tokens.json)")
    tasks = build_tasks(
        sample=sample, bitext=bitext or [], multiway=multiway or [], langs=langs, sts=sts or []
    )
    texts = language_texts([corpus for _, corpus in load_tasks(tasks)])
    tokenizer, limit = load_tokenizer(model)
    with progress_bar(quiet) as bar:
        job = bar.add_task("tokenizing", total=len(texts), info="languages")
        report = coverage_report(
            tokenizer,
            texts,
            model=model,
            max_length=max_length or limit,
            progress=lambda done, total: bar.update(job, completed=done, total=total),
        )
    if out is not None:
        _write(report, out)
    if not quiet:
        out_console.print(rich_table(_table(report)))
        for what, found in unreadable(report).items():
            if found:
                console.print(f"{what}: {'; '.join(found)}", soft_wrap=True, markup=False)
        if out is not None:
            console.print(
                f"wrote {out / 'tokens.json'} and {out / 'tokens.png'}", soft_wrap=True, markup=False
            )


def _table(report: dict) -> tuple[str, list[str], list[list[str]]]:
    """Worst first; the reasons of flagged languages are printed below (the table stays narrow)."""
    rows = []
    by_need = sorted(
        report["languages"].items(), key=lambda kv: (-kv[1]["unk_char_rate"], -kv[1]["fertility"], kv[0])
    )
    for lang, c in by_need:
        unit = "ch" if c["fertility_unit"] == "character" else "w"
        rows.append(
            [lang, c["verdict"], f"{c['fertility']:.2f}/{unit}", f"{100 * c['unk_char_rate']:.1f}%",
             f"{100 * c['unk_rate']:.1f}%", f"{100 * c['split_word_rate']:.0f}%",
             f"{100 * c['byte_fallback_rate']:.1f}%", f"{100 * c['truncated_rate']:.1f}%"]
        )  # fmt: skip
    headers = ["language", "reads?", "tokens/", "UNK chars", "UNK toks", "split", "bytes", "trunc"]
    return (f"Tokenizer coverage: {report['model']}", headers, rows)


def _write(report: dict, out: Path) -> None:
    from langgap import atomic
    from langgap.report.charts import coverage_bars
    from langgap.report.html import figure_png

    png = figure_png(coverage_bars(report))
    try:
        with atomic.staged_dir(out) as tmp:
            atomic.write_text(tmp / "tokens.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
            atomic.write_bytes(tmp / "tokens.png", png)
    except OSError as e:
        raise InputError(f"{out}: cannot write ({e.strerror or e}); the folder is as it was") from None
