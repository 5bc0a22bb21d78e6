"""``langgap mine SRC TGT --out DIR``: translation pairs between two monolingual sides."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from langgap.cli import app, interrupted, options
from langgap.cli.options import DEFAULT_MODEL, writing
from langgap.cli.output import console, log_warnings, progress_bar

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from langgap.mining import Mined, Threshold
    from langgap.mining.search import StageProgress
    from langgap.mining.sides import Side
    from langgap.types import Encoder

Opt = typer.Option


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
            "reaches 0.99 on 1,000 sampled queries, measured and recorded in mine.json; fewer is faster).",
            show_default="measured",
        ),
    ] = 0,
    src_lang: Annotated[str | None, Opt(help="Language of SRC (default: its file or folder stem).")] = None,
    tgt_lang: Annotated[str | None, Opt(help="Language of TGT (default: its file or folder stem).")] = None,
    model: Annotated[
        str | None, Opt(help=f"Text files: the model that embeds them ({DEFAULT_MODEL}).")
    ] = None,
    prompt: options.Prompt = None,
    prompt_name: options.PromptName = None,
    batch_size: options.BatchSize = 64,
    max_length: options.MaxLength = None,
    device: options.Device = None,
    precision: options.Precision = "auto",
    backend: options.Backend = "auto",
    cache: options.Cache = True,
    quiet: options.Quiet = False,
) -> None:
    """Mine translation pairs between SRC and TGT (LASER's margin scoring over FAISS k-NN). The
    model options apply to text files; embed folders bring their own vectors."""
    from langgap.atomic import check_out_dir
    from langgap.encoders.cache import default_cache_path
    from langgap.errors import InputError
    from langgap.mining import check_k, check_settings, choose_threshold
    from langgap.mining import mine as run_mine
    from langgap.mining.search import check_search
    from langgap.mining.sides import known_pairs, open_sides, pair_name
    from langgap.mining.write import RUN_FILES, write_mined
    from langgap.text import parse_finite

    log_warnings()
    margin_, mode_, index = check_settings(k, margin, mode, index, nprobe)
    given = None if threshold is None else parse_finite(threshold, "--threshold")
    if given is not None and calibrate is not None:
        raise InputError("give --threshold or --calibrate, not both")
    out = check_out_dir(out, RUN_FILES, "langgap mine run (mine.json)")  # before any work
    sides = open_sides(src, tgt, src_lang, tgt_lang)
    if sides[0].blocks is not None and (model is not None or prompt is not None):
        console.print("note: --model/--prompt are for text files; the embed folders' vectors are used")
    check_k(k, *sides)
    pairs_file = pair_name(sides[0].name, sides[1].name)
    gold = known_pairs(calibrate, *sides) if calibrate is not None else None
    check_search(len(sides[0]), len(sides[1]), index)  # FAISS or a size numpy can do
    cache_path: Path | None = None
    encoded = [0]  # texts encoded in finished chunks (in the cache), for the message on Ctrl-C
    try:
        with progress_bar(quiet) as bar:
            if sides[0].blocks is None:
                encoder = options.open_encoder(
                    model or DEFAULT_MODEL,
                    prompt,
                    prompt_name,
                    batch_size,
                    max_length,
                    device,
                    precision,
                    backend,
                    quiet=quiet,
                )
                cache_path = default_cache_path() if cache else None
                _embed(sides, encoder, bar, cache_path, quiet, encoded)
            mined = run_mine(
                *sides, k=k, margin=margin_, mode=mode_, index=index, nprobe=nprobe, progress=_stages(bar)
            )
        chosen = choose_threshold(mined, threshold=given, gold=gold)
        source = _source(chosen, mined, calibrate)
        with writing(out, "run"):
            written = write_mined(
                mined,
                out,
                threshold=chosen.value,
                pairs_file=pairs_file,
                source=source,
                calibration=chosen.calibration,
            )
    except KeyboardInterrupt:
        raise interrupted(
            f"interrupted: nothing was written, {out} is as it was{_kept(cache_path, encoded[0])}"
        ) from None
    if chosen.how == "default" and k != 4 and not quiet:
        console.print(
            f"[yellow]the default threshold {chosen.value:g} was measured at k=4; with --k {k} give "
            "--threshold or --calibrate[/yellow]"
        )
    if chosen.calibration is not None and chosen.calibration.f1 == 0.0 and not quiet:
        console.print(
            f"[yellow]--calibrate {calibrate}: none of its pairs were mined; no pair is kept[/yellow]"
        )
    if not quiet:
        _print(mined, chosen, source, written)


def _embed(
    sides: tuple[Side, Side],
    encoder: Encoder,
    bar: Progress,
    cache_path: Path | None,
    quiet: bool,
    encoded: list[int],
) -> None:
    """Embed the two text sides, with a bar; ``encoded[0]`` follows the texts in finished chunks."""
    from langgap.mining.sides import embed_sides

    job = bar.add_task("encoding", total=None, info="texts")

    def progress(done: int, total: int) -> None:
        encoded[0] = done
        bar.update(job, completed=done, total=total)

    stats = embed_sides(sides, encoder, cache_path=cache_path, progress=progress)
    if not quiet:
        console.print(f"encoded {stats['encoded']:,} texts ({stats['from_cache']:,} from the cache)")


def _kept(cache_path: Path | None, encoded: int) -> str:
    """What an interruption kept of the encoding (nothing to say before it started)."""
    if cache_path is None or encoded == 0:
        return ""
    return f"; the {encoded:,} texts encoded in finished chunks are in the cache {cache_path}: run the same command again to go on from there"


def _stages(bar: Progress) -> StageProgress:
    """One bar per search stage (``src→tgt``, ``tgt→src``), added when it starts."""
    tasks: dict[str, TaskID] = {}

    def on_block(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total, info="texts")
        bar.update(tasks[stage], completed=done, total=total)

    return on_block


def _source(chosen: Threshold, mined: Mined, calibrate: Path | None) -> str:
    """Where the threshold came from, as mine.json and the summary say it."""
    if chosen.how == "calibrated":
        return f"--calibrate {calibrate}"
    return "--threshold" if chosen.how == "given" else f"default for the {mined.margin} margin"


def _print(mined: Mined, chosen: Threshold, source: str, written: list[Path]) -> None:
    say = lambda text: console.print(text, soft_wrap=True, markup=False, highlight=False)  # noqa: E731
    value, calibration = chosen.value, chosen.calibration
    for name, side in (("src", mined.src), ("tgt", mined.tgt)):
        say(f"{name} {side.source} ({side.name}): {side.lines:,} lines, {len(side):,} distinct")
    say(f"k-NN: {mined.search['src→tgt']} (src→tgt), {mined.search['tgt→src']} (tgt→src)")
    if calibration is not None:
        say(
            f"{source}: F1-best threshold {value:.4f}: precision {calibration.precision:.3f}, "
            f"recall {calibration.recall:.3f}, F1 {calibration.f1:.3f} ({calibration.correct} of the "
            f"{calibration.kept} pairs kept are known pairs)"
        )
    say(
        f"mined {len(mined):,} {mined.mode} pairs ({mined.margin} margin, k={mined.k}); "
        f"{mined.above(value):,} with score >= {value:.4f} ({source})"
    )
    if not mined.above(value):
        say(f"no pair has score >= {value:.4f}: {written[1]} is empty (a lower --threshold or --calibrate)")
    say(f"wrote {', '.join(str(p) for p in written)}")
