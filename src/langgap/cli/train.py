"""``langgap train``: fine-tune an encoder so that translations meet, then measure it again."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from langgap.cli import app, interrupted
from langgap.cli import options as shared
from langgap.cli.options import DEFAULT_MODEL
from langgap.cli.output import console, log_warnings, progress_bar

if TYPE_CHECKING:
    from langgap.training.config import TrainConfig
    from langgap.training.loop import TrainResult
    from langgap.training.transplant import TransplantStats

Opt = typer.Option


def eval_line(record: dict[str, Any]) -> str:
    """One line per evaluation: each task's main score, and the English guard against its start."""
    parts = []
    for name, metrics in record.get("tasks", {}).items():
        key = metrics["main_score"]
        parts.append(escape(f"{name} {key} {metrics[key]:.4f}"))
    collapse = record.get("collapse")
    if collapse:
        parts.append(f"probe mean cosine {collapse['mean_cosine']:.3f} (stops at {collapse['threshold']:g})")
    guard = record.get("english_guard")
    if guard:
        change = guard["value"] - guard["baseline"]
        text = f"English guard {guard['metric']} {guard['value']:.4f} ({change:+.4f} since the start)"
        if guard["warning"]:
            text = f"[yellow]{text}: dropped by more than {guard['threshold']:g}[/yellow]"
        parts.append(text)
    for name, g in record.get("language_guards", {}).items():
        text = f"{g['language']} guard {g['value']:.4f} ({-g['drop']:+.4f})"
        parts.append(
            f"[yellow]{escape(text)}: {escape(name)} fell[/yellow]" if g["warning"] else escape(text)
        )
    if "interpolated" in record:
        parts.append(f"interpolated α {record['interpolated']:g}")
    return f"eval step {record['step']}: " + " | ".join(parts)


def _kept(out: str) -> str:
    """What an interrupted training run leaves: its last checkpoint, or nothing to resume from."""
    from langgap.training.checkpoint import last_checkpoint

    ckpt = last_checkpoint(out)
    if ckpt is None:
        return (
            f"interrupted; no checkpoint was saved yet in {out} (one every --save-every steps): "
            "the same command starts the run again"
        )
    return f"interrupted; {ckpt} is kept: continue with the same command and --resume (--out {out})"


@app.command()
def train(
    model: Annotated[
        str | None, Opt(help="HF id or local path of the model to train.", show_default=DEFAULT_MODEL)
    ] = None,
    prompt: shared.Prompt = None,
    prompt_name: shared.PromptName = None,
    pairs: Annotated[
        list[str] | None,
        Opt(
            help="Cross-language src<TAB>tgt TSV (xxx-yyy.tsv or 'deu,eng=PATH'), folder, glob, or a table: "
            ".parquet/.jsonl/.csv, a saved HF dataset, hf:OWNER/NAME; "
            "optional @SPLIT and #SRC,TGT columns. Repeatable."
        ),
    ] = None,
    mono_pairs: Annotated[
        list[str] | None,
        Opt(help="Same-language anchor<TAB>positive TSV (deu.tsv) or table (deu.parquet). Repeatable."),
    ] = None,
    multiway: Annotated[
        str | None,
        Opt(help="FLORES-style folder (<lang>.txt) or a table, a column per language: pairs to --pivot."),
    ] = None,
    langs: Annotated[str | None, Opt(help="Comma-separated --multiway languages (default: all).")] = None,
    pivot: Annotated[
        str | None, Opt(help="--multiway / --mine-from: the language every other is paired with.")
    ] = None,
    mine_from: Annotated[
        str | None,
        Opt(
            help="Folder of unaligned <lang>.txt (one sentence per line): pairs mined to --pivot, then trained."
        ),
    ] = None,
    rounds: Annotated[
        int | None, Opt(help="--mine-from: mine and train N times, each with the new model (1).")
    ] = None,
    mine_k: Annotated[int | None, Opt(help="--mine-from: neighbours of the margin (4).")] = None,
    mine_threshold: Annotated[
        float | None, Opt(help="--mine-from: margin score a pair must reach (langgap mine's default, 1.03).")
    ] = None,
    mine_calibrate: Annotated[
        bool | None,
        Opt("--mine-calibrate", help="--mine-from: each language's F1-best threshold on --mine-dev."),
    ] = None,
    mine_max_ratio: Annotated[
        float | None, Opt(help="--mine-from: longest / shortest side in characters (3; 0 = no limit).")
    ] = None,
    mine_cap: Annotated[
        int | None, Opt(help="--mine-from: pairs kept per language and round (0 = all).")
    ] = None,
    mine_dev: Annotated[
        list[str] | None,
        Opt(help="--mine-from: known <x>-<pivot>.tsv pairs among the texts; precision/recall/F1 per round."),
    ] = None,
    all_pairs: Annotated[
        bool | None, Opt("--all-pairs/--pivot-pairs", help="--multiway: every pair.")
    ] = None,
    holdout_rows: Annotated[float | None, Opt(help="--multiway: share of rows kept out of training.")] = None,
    sampling_alpha: Annotated[
        float | None,
        Opt(help="Sample language pairs with p ~ n^alpha (XLM-R: 0.3); default: one flat shuffle."),
    ] = None,
    language_block: Annotated[
        int | None, Opt(help="With --sampling-alpha: draw N pairs of one language pair at a time (1).")
    ] = None,
    objective: Annotated[str | None, Opt(help="infonce | soft | mse.", show_default="infonce")] = None,
    labels: Annotated[
        str | None, Opt(help="Soft labels: priority | average.", show_default="priority")
    ] = None,
    teacher: Annotated[
        str | None, Opt(help="SAME (frozen starting model) or a model id / path.", show_default="SAME")
    ] = None,
    teacher_prompt: Annotated[str | None, Opt(help="The teacher's prompt (default: see docs).")] = None,
    tcm_weight: Annotated[float | None, Opt(help="Weight of the soft loss's monolingual terms.")] = None,
    temperature: Annotated[float | None, Opt(help="Student temperature (0.05).")] = None,
    teacher_temperature: Annotated[float | None, Opt(help="Soft labels' temperature (0.05).")] = None,
    margin: Annotated[float | None, Opt(help="Additive margin on the positives (0).")] = None,
    priority: Annotated[str | None, Opt(help="Language order for priority labels, e.g. 'en,de'.")] = None,
    cross_lingual_fraction: Annotated[float | None, Opt(help="Share of cross-language pairs (1.0).")] = None,
    preserve: Annotated[
        float | None,
        Opt(help="Weight of a term holding same-language cosines to the starting model's (0 = off)."),
    ] = None,
    gather: Annotated[bool | None, Opt("--gather/--no-gather", help="Negatives from all processes.")] = None,
    cache_chunk: Annotated[int | None, Opt(help="GradCache mini-batch size (0 = off).")] = None,
    length_buckets: Annotated[
        int | None,
        Opt(help="Forwards per batch, texts sorted by length: less padding (2; 1 = one forward)."),
    ] = None,
    epochs: Annotated[int | None, Opt(help="Passes over the pairs (1).")] = None,
    max_steps: Annotated[int | None, Opt(help="Optimizer steps; overrides --epochs.")] = None,
    batch_size: Annotated[int | None, Opt(help="Pairs per batch over all processes (32).")] = None,
    grad_accum: Annotated[int | None, Opt(help="Batches per optimizer step (1).")] = None,
    lr: Annotated[float | None, Opt(help="Peak learning rate (2e-5).")] = None,
    warmup_ratio: Annotated[float | None, Opt(help="Share of warm-up steps (0.1).")] = None,
    weight_decay: Annotated[float | None, Opt(help="AdamW weight decay (0.01).")] = None,
    max_grad_norm: Annotated[float | None, Opt(help="Gradient clipping (1.0; 0 = off).")] = None,
    max_length: Annotated[int | None, Opt(help="Tokens per text (64).")] = None,
    mixed_precision: Annotated[str | None, Opt(help="auto | no | fp16 | bf16.", show_default="auto")] = None,
    tokenizer: Annotated[
        str | None, Opt(help="Another tokenizer for the student (vocabulary transplant), an id or path.")
    ] = None,
    trim_vocab: Annotated[
        bool | None,
        Opt("--trim-vocab/--no-trim-vocab", help="Keep only the tokens of the training/eval texts."),
    ] = None,
    init: Annotated[
        str | None, Opt(help="--tokenizer's new rows: mean (FVT) | mapped (--init-from's rows, mapped).")
    ] = None,
    init_from: Annotated[str | None, Opt(help="--init mapped: a model that reads --tokenizer.")] = None,
    init_map: Annotated[
        str | None, Opt(help="--init mapped: lstsq | orthogonal (equal hidden sizes).")
    ] = None,
    freeze_embeddings: Annotated[
        bool | None, Opt("--freeze-embeddings/--no-freeze-embeddings", help="Keep word embeddings fixed.")
    ] = None,
    freeze_layers: Annotated[
        int | None,
        Opt(help="Keep the bottom N transformer layers and the input embeddings fixed (0 = none)."),
    ] = None,
    eval_bitext: Annotated[
        list[str] | None, Opt(help="Bitext TSV or table (as --pairs) to evaluate on. Repeatable.")
    ] = None,
    eval_sts: Annotated[
        list[str] | None,
        Opt(help="STS TSV or table (optional @SPLIT, #SCORE,S1,S2) to evaluate on. Repeatable."),
    ] = None,
    english_guard: Annotated[str | None, Opt(help="English STS or paraphrase TSV to watch.")] = None,
    guard_sts: Annotated[
        list[str] | None,
        Opt(help="Same-language STS file (ar-ar, es-es, ...) whose Spearman is watched. Repeatable."),
    ] = None,
    guard_sts_warn: Annotated[
        float | None, Opt(help="Flag a --guard-sts file that falls by more than this (0.01).")
    ] = None,
    guard_sts_stop: Annotated[
        float | None, Opt(help="Stop training when one falls by more than this (default: never).")
    ] = None,
    collapse_threshold: Annotated[
        float | None, Opt(help="Stop when probe sentences' mean cosine reaches this (0.98).")
    ] = None,
    report_to: Annotated[str | None, Opt(help="tensorboard | wandb | mlflow | trackio (Accelerate).")] = None,
    guard_threshold: Annotated[float | None, Opt(help="Warn when the guard drops more (0.02).")] = None,
    eval_every: Annotated[int | None, Opt(help="Steps between evaluations (0: start and end).")] = None,
    save_every: Annotated[int | None, Opt(help="Steps between checkpoints (500; 0 = none).")] = None,
    out: Annotated[Path | None, Opt(help="Run folder (runs/train).")] = None,
    interpolate: Annotated[
        float | None,
        Opt(help="Save (1 - A) * starting + A * trained weights (WiSE-FT; 1 = as trained)."),
    ] = None,
    seed: Annotated[int | None, Opt(help="Seed of batches and dropout (0).")] = None,
    resume: Annotated[bool, Opt("--resume", help="Continue from the last checkpoint in --out.")] = False,
    recipe: Annotated[
        str | None,
        Opt(help="A shipped recipe (--list-recipes) or a recipe FILE.toml; options given here win."),
    ] = None,
    list_recipes: Annotated[bool, Opt("--list-recipes", help="List the shipped recipes and exit.")] = False,
    config: Annotated[Path | None, Opt(help="TOML file of settings; options given here override it.")] = None,
    quiet: shared.Quiet = False,
) -> None:
    """Fine-tune a model so that translations meet (InfoNCE, soft contrastive or MSE distillation)."""
    options = dict(locals())  # the parameters: every TrainConfig option given here (None = not given)
    for key in ("resume", "config", "quiet", "list_recipes"):
        options.pop(key)
    from langgap.training.config import TrainConfig
    from langgap.training.language_guard import LanguageGuardStopped
    from langgap.training.loop import TrainingCollapsed, TrainingDiverged
    from langgap.training.loop import train as run_train
    from langgap.training.recipes import list_recipes as shipped
    from langgap.training.recipes import recipe_path

    if list_recipes:
        for name, description in shipped().items():
            typer.echo(f"{name}: {description}")
        raise typer.Exit()

    log_warnings()
    logging.getLogger("langgap.training.evaluate").setLevel(logging.ERROR)  # the eval line shows the guard
    options["priority"] = [p.strip() for p in priority.split(",") if p.strip()] if priority else None
    options["langs"] = [x.strip() for x in langs.split(",") if x.strip()] if langs else None
    options["out"] = str(out) if out is not None else None
    cfg = TrainConfig.from_sources(config, options, recipe_path(recipe) if recipe else None)
    if (recipe or config) and not quiet:
        defaults, given = TrainConfig().to_json(), {k for k, v in options.items() if v is not None}
        set_by = {k: v for k, v in cfg.to_json().items() if v != defaults.get(k) and k not in given}
        source = " and ".join(x for x in (f"recipe {recipe}" if recipe else "", str(config or "")) if x)
        listed = ", ".join(f"{k}={v}" for k, v in set_by.items()) or "nothing beyond the defaults"
        console.print(f"{source} set: {listed}", soft_wrap=True, markup=False, highlight=False)

    bar = progress_bar(quiet)
    teach = bar.add_task("teacher", total=None, info="texts", start=False, visible=False)
    steps = bar.add_task("training", total=None, info="", visible=False)

    def on_teacher(done: int, total: int) -> None:
        bar.start()  # drawn from the first report on, so bad input stays a single line
        bar.start_task(teach)
        bar.update(teach, completed=done, total=total, visible=True)

    def on_step(step: int, total: int, loss: float, pairs_per_s: float) -> None:
        bar.start()
        info = f"loss {loss:.4f}  {pairs_per_s:,.{0 if pairs_per_s >= 10 else 2}f} pairs/s"
        bar.update(steps, completed=step, total=total, visible=True, info=info)

    def on_eval(record: dict[str, Any]) -> None:
        if not quiet:
            bar.console.print(eval_line(record), soft_wrap=True, highlight=False)

    def stop() -> None:
        if bar.live.is_started:
            bar.stop()

    try:
        if cfg.data.mine_from:
            from langgap.cli.train_mined import run_mined

            run_mined(cfg, resume, bar, on_step, on_eval, quiet)
            return
        result = run_train(cfg, resume=resume, progress=on_step, on_eval=on_eval, encode_progress=on_teacher)
    except (TrainingDiverged, TrainingCollapsed, LanguageGuardStopped) as e:
        stop()
        typer.echo(f"error: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        stop()
        if cfg.data.mine_from:
            from langgap.cli.train_mined import interrupted_note

            raise interrupted(interrupted_note(cfg.output.out)) from None
        raise interrupted(_kept(cfg.output.out)) from None
    finally:
        stop()

    if not quiet:
        _print_result(cfg, result)


def _print_result(cfg: TrainConfig, result: TrainResult) -> None:
    """Where the model went, what --tokenizer changed, and the command that measures it."""
    data = [f"--bitext {shlex.quote(p)}" for p in cfg.eval.eval_bitext]
    data += [f"--sts {shlex.quote(p)}" for p in cfg.eval.eval_sts]
    held_out = Path(cfg.output.out) / "holdout"
    if cfg.data.holdout_rows and held_out.is_dir():  # the rows training never saw
        data.insert(0, f"--multiway {shlex.quote(str(held_out))}")
    model_dir = shlex.quote(str(result.model_dir))
    typer.echo(
        f"trained {result.step} step{'s' if result.step != 1 else ''}; model saved to {result.model_dir} (a sentence-transformers folder; "
        f"its default 'query' prompt is the training prompt {result.prompt!r})"
    )
    if result.transplant is not None:
        typer.echo(vocabulary_line(cfg.model.tokenizer, result.transplant))
    typer.echo(
        f"measure it: langgap measure --model {model_dir} {' '.join(data) or '--bitext FILE --sts FILE'} "
        f"--out {shlex.quote(str(Path(cfg.output.out) / 'measure'))}"
    )


def vocabulary_line(tokenizer: str | None, stats: TransplantStats) -> str:
    """What ``--tokenizer`` changed: the new vocabulary and how its embedding rows were made."""
    trimmed = (
        f", trimmed from {stats.trimmed_from:,} to the training texts' pieces" if stats.trimmed_from else ""
    )
    mapped = (
        f"{stats.mapped:,} mapped from the --init-from model's rows (map R² {stats.map_fit:.3f} on the shared pieces), "
        if stats.map_fit is not None
        else ""
    )
    return (
        f"vocabulary: {stats.vocab_size:,} pieces of {tokenizer}{trimmed}; their rows: {stats.shared:,} copied "
        f"(the same piece in the old vocabulary), {mapped}{stats.averaged:,} the mean of the old pieces of the "
        f"same text, {stats.special:,} special tokens by role, {stats.unseen:,} with no old piece (the mean row)"
    )
