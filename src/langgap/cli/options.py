"""What the commands share: option definitions, opening the model with the notes a user sees,
and writing an output folder (a failure or Ctrl-C leaves it as it was).

An option used by several commands is defined here once, as an ``Annotated`` type that a command
uses with its default (``model: options.Model = DEFAULT_MODEL``), so its flag and help read the
same in every command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from langgap.cli import interrupted
from langgap.cli.output import console
from langgap.encoders.onnx import Backend as BackendName
from langgap.encoders.precision import Precision as PrecisionName
from langgap.encoders.resolve import DEFAULT_MODEL
from langgap.errors import InputError

if TYPE_CHECKING:
    from langgap.types import Encoder

__all__ = ["DEFAULT_MODEL", "open_encoder", "writing"]

# -- the model and how it embeds -----------------------------------------------------------------
Model = Annotated[str, typer.Option(help="HF id, local path, or openai:http://HOST:PORT/v1#MODEL.")]
Prompt = Annotated[str | None, typer.Option(help='Literal prefix for every text, e.g. "query: ".')]
PromptName = Annotated[
    str | None,
    typer.Option(help="One of the model's configured prompts (default: 'query' if the model has it)."),
]
BatchSize = Annotated[int, typer.Option(help="Texts per forward pass.")]
MaxLength = Annotated[
    int | None, typer.Option(help="Truncate texts to this many tokens (default: the model's).")
]
Device = Annotated[str | None, typer.Option(help="cuda, mps or cpu (default: automatic).")]
Precision = Annotated[
    PrecisionName,
    typer.Option(
        help="Forward pass: auto (bf16 on a GPU or a CPU that has it natively, else fp32), fp32, fp16, bf16."
    ),
]
Backend = Annotated[
    BackendName,
    typer.Option(
        help="Runtime: auto (ONNX Runtime for fp32 on a CPU where installed, else torch), torch, onnx."
    ),
]
Cache = Annotated[bool, typer.Option("--cache/--no-cache", help="Reuse embeddings from the on-disk cache.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, tables or summary.")]

# -- evaluation data -----------------------------------------------------------------------------
Bitext = Annotated[
    list[str] | None,
    typer.Option(
        help="Bitext TSV src<TAB>tgt, languages from its name xxx-yyy.tsv or as 'deu,eng=PATH'; or a "
        ".parquet/.jsonl/.csv file, a saved HF dataset folder or hf:OWNER/NAME; "
        "optional @SPLIT and #SRC,TGT columns. Repeatable."
    ),
]
Multiway = Annotated[
    list[str] | None,
    typer.Option(
        help="Folder with one <lang>.txt per language (FLORES style), or a table with one column per "
        "language (optional @SPLIT and #COL,COL,...). Repeatable."
    ),
]
Langs = Annotated[
    str | None, typer.Option(help="Comma-separated languages to read from --multiway folders or tables.")
]
Sts = Annotated[
    list[str] | None,
    typer.Option(
        help="STS TSV score<TAB>s1<TAB>s2, languages from its name xx-yy.tsv or 'en,de=PATH'; or a table "
        "(as --bitext) with optional columns #SCORE,S1,S2. Repeatable."
    ),
]
Sample = Annotated[
    bool | None,
    typer.Option(
        "--sample/--no-sample",
        help="Include the built-in sample (default: only when no other data is given).",
    ),
]


def open_encoder(
    model: str,
    prompt: str | None,
    prompt_name: str | None,
    batch_size: int,
    max_length: int | None,
    device: str | None,
    precision: str,
    backend: str,
    *,
    quiet: bool,
    notes: bool = True,
) -> Encoder:
    """:func:`langgap.encoders.load_encoder` with the command's options; then the CLI says which
    model, which prompt it adopted and whether it is an offline copy (nothing with ``quiet``; the
    notes not from the other processes of a launcher, ``notes=False``)."""
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
    if notes and not quiet and getattr(encoder, "prompt_adopted", False):
        console.print(
            f"prompt: using the model's configured 'query' prompt {getattr(encoder, 'prompt', '')!r} "
            "(override with --prompt)"
        )
    note = getattr(encoder, "offline_note", None)
    if note and notes and not quiet:
        console.print(f"[yellow]using the {note}[/yellow]")
    return encoder


@contextmanager
def writing(out: Path, what: str) -> Iterator[None]:
    """Around the write of an output folder that is replaced in one step: a write error is one
    line (exit 2) and Ctrl-C says what was kept (exit 130); either way ``out`` is as it was."""
    try:
        yield
    except KeyboardInterrupt:
        raise interrupted(f"interrupted while writing; {out} is as it was before this command") from None
    except OSError as e:
        raise InputError(
            f"{out}: cannot write the {what} ({e.strerror or e}); the folder is as it was"
        ) from None
