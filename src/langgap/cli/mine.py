"""``langgap mine SRC TGT --out DIR``: translation pairs between two monolingual sides."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from langgap.cli import app, interrupted
from langgap.cli.output import console, log_warnings, progress_bar
from langgap.encoders.onnx import Backend
from langgap.encoders.precision import Precision
from langgap.errors import InputError, did_you_mean

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from langgap.metrics.mining import PRF
    from langgap.mining import Mined
    from langgap.mining.sides import Side

Opt = typer.Option
MODE_ALIASES = {"fwd": "forward", "bwd": "backward", "intersect": "intersection"}  # LASER's spellings


def _choice(option: str, value: str, choices: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    value = (aliases or {}).get(value, value)
    if value not in choices:
        raise InputError(
            f"{option} {value!r}: expected one of {', '.join(choices)}{did_you_mean(value, choices)}"
        )
    return value


def parse_threshold(text: str | None) -> float | None:
    """``--threshold``: a finite number, or ``None`` when not given."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--threshold {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"--threshold {text!r} is not a finite number")
    return value


@app.command()
def mine(
    src: Annotated[
        Path,
        typer.Argument(
            metavar="SRC", help="Source side: a langgap embed folder or a text file (one text per line)."
        ),
    ],
    tgt: Annotated[
        Path, typer.Argument(metavar="TGT", help="Target side: an embed folder or a text file, like SRC.")
    ],
    out: Annotated[Path, Opt(help="Run folder for mined.tsv, <src>-<tgt>.tsv and mine.json.")] = Path(
        "runs/mine"
    ),
    k: Annotated[int, Opt(help="Neighbourhood size of the margin and candidates per text.")] = 4,
    margin: Annotated[str, Opt(help="Margin: ratio | distance | absolute.")] = "ratio",
    mode: Annotated[str, Opt(help="Retrieval: forward | backward | intersection | max.")] = "forward",
    threshold: Annotated[
        str | None,
        Opt(help="Keep pairs with score >= this in <src>-<tgt>.tsv (default: per margin, see README)."),
    ] = None,
    calibrate: Annotated[
        Path | None, Opt(help="src<TAB>tgt file of known pairs among the inputs: use the F1-best threshold.")
    ] = None,
    index: Annotated[str, Opt(help="k-NN index: auto | flat | ivf | ivfpq.")] = "auto",
    nprobe: Annotated[
        int,
        Opt(
            help="IVF lists probed per query (default: the fewest whose recall@k against exact search "
            "reaches 0.99 on 1,000 sampled queries, measured and recorded in mine.json; fewer is faster)."
        ),
    ] = 0,
    src_lang: Annotated[str | None, Opt(help="Language of SRC (default: its file or folder stem).")] = None,
    tgt_lang: Annotated[str | None, Opt(help="Language of TGT (default: its file or folder stem).")] = None,
    model: Annotated[
        str | None, Opt(help="Text files: the model that embeds them (intfloat/multilingual-e5-small).")
    ] = None,
    prompt: Annotated[
        str | None, Opt(help='Text files: literal prefix for every text, e.g. "query: ".')
    ] = None,
    prompt_name: Annotated[str | None, Opt(help="Text files: one of the model's configured prompts.")] = None,
    batch_size: Annotated[int, Opt(help="Text files: texts per forward pass.")] = 64,
    max_length: Annotated[int | None, Opt(help="Text files: truncate to this many tokens.")] = None,
    device: Annotated[str | None, Opt(help="Text files: cuda, mps or cpu (default: automatic).")] = None,
    precision: Annotated[
        Precision, Opt(help="Text files: auto (bf16 where the GPU or CPU has it natively), fp32, fp16, bf16.")
    ] = "auto",
    backend: Annotated[
        Backend,
        Opt(help="Text files: runtime, auto (ONNX Runtime for fp32 on a CPU where installed), torch, onnx."),
    ] = "auto",
    cache: Annotated[
        bool, Opt("--cache/--no-cache", help="Text files: reuse the on-disk embedding cache.")
    ] = True,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="No progress bar or summary.")] = False,
) -> None:
    """Mine translation pairs between SRC and TGT (LASER's margin scoring over FAISS k-NN)."""
    from langgap.atomic import check_out_dir
    from langgap.knn import INDEXES
    from langgap.metrics.mining import MARGINS, MODES
    from langgap.mining.search import check_search
    from langgap.mining.sides import known_pairs, pair_name
    from langgap.mining.write import RUN_FILES

    log_warnings()
    if k < 1:
        raise InputError(f"--k must be >= 1, got {k}")
    if nprobe < 0:
        raise InputError(f"--nprobe must be >= 1 (or 0 for the default), got {nprobe}")
    margin = _choice("--margin", margin, MARGINS)
    mode = _choice("--mode", mode, MODES, MODE_ALIASES)
    index = _choice("--index", index, INDEXES)
    given = parse_threshold(threshold)
    if given is not None and calibrate is not None:
        raise InputError("give --threshold or --calibrate, not both")
    out = check_out_dir(out, RUN_FILES, "langgap mine run (mine.json)")  # before any work
    sides = _read_sides(src, tgt, src_lang, tgt_lang, model is not None or prompt is not None)
    pairs_file = pair_name(sides[0].name, sides[1].name)
    gold = known_pairs(calibrate, *sides) if calibrate is not None else None
    check_search(len(sides[0]), len(sides[1]), index)  # FAISS or a size numpy can do
    cache_note = ""
    try:
        with progress_bar(quiet) as bar:
            if sides[0].blocks is None:
                cache_note = _embed(
                    sides,
                    bar,
                    model,
                    prompt,
                    prompt_name,
                    batch_size,
                    max_length,
                    device,
                    precision,
                    backend,
                    cache,
                    quiet,
                )
            tasks: dict[str, TaskID] = {}

            def on_block(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total, info="texts")
                bar.update(tasks[stage], completed=done, total=total)

            from langgap.metrics.mining import Margin, Mode
            from langgap.mining import mine as run_mine

            mined = run_mine(
                sides[0], sides[1], k=k, margin=cast(Margin, margin), mode=cast(Mode, mode), index=index,
                nprobe=nprobe, progress=on_block,
            )  # fmt: skip
        value, source, calibration = _threshold(mined, given, gold, calibrate)
        written = _write(mined, out, value, source, pairs_file, calibration)
    except KeyboardInterrupt:
        raise interrupted(f"interrupted: nothing was written, {out} is as it was{cache_note}") from None
    if not quiet:
        _print(mined, value, source, calibration, written)


def _read_sides(
    src: Path, tgt: Path, src_lang: str | None, tgt_lang: str | None, model_given: bool
) -> list[Side]:
    """Both sides, checked before any model is loaded: two embed folders of one model and
    dimension, or two text files."""
    from langgap.mining import TEXT_MAX_LINES
    from langgap.mining.sides import check_pair, shard_side, text_side

    folders = [p.is_dir() for p in (src, tgt)]
    if folders[0] != folders[1]:
        folder, text = (src, tgt) if folders[0] else (tgt, src)
        raise InputError(
            f"{folder} is an embed folder and {text} a text file: give two embed folders or two text files"
        )
    if folders[0]:
        if model_given:
            console.print("note: --model/--prompt are for text files; the embed folders' vectors are used")
        sides = [shard_side(src, src_lang), shard_side(tgt, tgt_lang)]
    else:
        sides = [text_side(src, src_lang, TEXT_MAX_LINES), text_side(tgt, tgt_lang, TEXT_MAX_LINES)]
    check_pair(*sides)
    return sides


def _embed(sides: list[Side], bar: Progress, model: str | None, prompt: str | None, prompt_name: str | None,
           batch_size: int, max_length: int | None, device: str | None, precision: str, backend: str,
           cache: bool, quiet: bool) -> str:  # fmt: skip
    """Embed two text sides with one model through the embedding cache; returns the note for an
    interruption (what the cache kept)."""
    from langgap.cli.measure import open_encoder
    from langgap.encoders.cache import CachedEncoder, default_cache_path
    from langgap.mining.sides import attach

    encoder = open_encoder(model or "intfloat/multilingual-e5-small", prompt, prompt_name, batch_size,
                           max_length, device, precision, quiet, notes=not quiet, backend=backend)  # fmt: skip
    cache_path = default_cache_path() if cache else None
    job = bar.add_task("encoding", total=None, info="texts")
    progress = lambda done, total: bar.update(job, completed=done, total=total)  # noqa: E731
    with CachedEncoder(encoder, cache_path=cache_path, progress=progress) as cached:
        vectors = cached.encode(sides[0].texts + sides[1].texts)
        if not quiet:
            stats = cached.stats
            console.print(f"encoded {stats['encoded']:,} texts ({stats['from_cache']:,} from the cache)")
    attach(sides[0], vectors[: len(sides[0])])
    attach(sides[1], vectors[len(sides[0]) :])
    return "" if cache_path is None else f"; the embeddings are in the cache {cache_path}"


def _threshold(
    mined: Mined, given: float | None, gold: set[tuple[int, int]] | None, calibrate: Path | None
) -> tuple[float, str, PRF | None]:
    """The threshold of ``<src>-<tgt>.tsv``: ``--threshold``, the F1-best on ``--calibrate``'s
    known pairs, or the measured default of the margin."""
    from langgap.mining import DEFAULT_THRESHOLDS

    if gold is not None:
        best = mined.calibrate(gold)
        if best.f1 == 0.0:
            console.print(
                f"[yellow]--calibrate {calibrate}: none of its pairs were mined; no pair is kept[/yellow]"
            )
        return best.threshold, f"--calibrate {calibrate}", best
    if given is not None:
        return given, "--threshold", None
    return DEFAULT_THRESHOLDS[mined.margin], f"default for the {mined.margin} margin", None


def _write(
    mined: Mined, out: Path, value: float, source: str, pairs_file: str, calibration: PRF | None
) -> list[Path]:
    from langgap.mining.write import write_mined

    try:
        return write_mined(
            mined, out, threshold=value, pairs_file=pairs_file, source=source, calibration=calibration
        )
    except OSError as e:
        raise InputError(
            f"{out}: cannot write the run ({e.strerror or e}); the folder is as it was"
        ) from None


def _print(mined: Mined, value: float, source: str, calibration: PRF | None, written: list[Path]) -> None:
    say = lambda text: console.print(text, soft_wrap=True, markup=False, highlight=False)  # noqa: E731
    for name, side in (("src", mined.src), ("tgt", mined.tgt)):
        say(f"{name} {side.source} ({side.name}): {side.lines:,} lines, {len(side):,} distinct")
    say(f"k-NN: {mined.search['src→tgt']} (src→tgt), {mined.search['tgt→src']} (tgt→src)")
    if calibration is not None:
        say(f"{source}: F1-best threshold {value:.4f}: precision {calibration.precision:.3f}, "
            f"recall {calibration.recall:.3f}, F1 {calibration.f1:.3f} ({calibration.correct} of the "
            f"{calibration.kept} pairs kept are known pairs)")  # fmt: skip
    say(f"mined {len(mined):,} {mined.mode} pairs ({mined.margin} margin, k={mined.k}); "
        f"{mined.above(value):,} with score >= {value:.4f} ({source})")  # fmt: skip
    if not mined.above(value):
        say(f"no pair has score >= {value:.4f}: {written[1]} is empty (a lower --threshold or --calibrate)")
    say(f"wrote {', '.join(str(p) for p in written)}")
