"""``langgap train --mine-from DIR``: the rounds of mining and training, as the terminal shows them."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from langgap.cli.output import console

if TYPE_CHECKING:
    from rich.progress import Progress

    from langgap.training.config import TrainConfig
    from langgap.training.loop import EvalCallback, ProgressCallback


def language_line(lang: str, x: dict[str, Any]) -> str:
    """One language of a round: sentences, pairs kept, threshold, what the filters dropped, dev P/R/F1."""
    t, dropped = x["threshold"], {k: v for k, v in x["dropped"].items() if v}
    line = (
        f"  {lang}: {x['distinct']:,} sentences, {x['kept']:,} pairs kept "
        f"(score >= {t['value']:.4f}, {t['from']})"
    )
    if dropped:
        line += "; dropped " + ", ".join(f"{v:,} {k}" for k, v in dropped.items())
    if "dev" in x:
        d = x["dev"]
        line += f"; --mine-dev: precision {d['precision']:.3f}, recall {d['recall']:.3f}, F1 {d['f1']:.3f}"
    return line


def run_mined(
    cfg: TrainConfig,
    resume: bool,
    bar: Progress,
    on_step: ProgressCallback,
    on_eval: EvalCallback,
    quiet: bool,
) -> None:
    """Run :func:`langgap.training.mined.train_mined` with a bar for the encoding and one line
    per round and language; then where the model went."""
    from langgap.training.mined import train_mined

    job = bar.add_task("encoding", total=None, info="texts", start=False, visible=False)

    def on_encode(done: int, total: int) -> None:
        bar.start()
        bar.start_task(job)
        bar.update(job, completed=done, total=total, visible=done < total)

    def on_round(k: int, meta: dict[str, Any]) -> None:
        say = bar.console.print if bar.live.is_started else console.print
        for lang, x in meta["languages"].items():
            if not x["kept"]:
                best = "none" if x.get("best_score") is None else f"{x['best_score']:.4f}"
                say(
                    f"[yellow]warning: round {k}: {lang} kept no pair (best score {best}, "
                    f"threshold {x['threshold']['value']:.4f}); training goes on with the others[/yellow]"
                )
        if quiet:
            return
        total = sum(x["kept"] for x in meta["languages"].values())
        say(f"round {k} of {cfg.mine.rounds}: {total:,} mined pairs with {meta['model']}", markup=False)
        for lang, x in meta["languages"].items():
            say(language_line(lang, x), markup=False, highlight=False, soft_wrap=True)

    result = train_mined(
        cfg, resume=resume, progress=on_step, on_eval=on_eval, encode_progress=on_encode, on_round=on_round
    )
    if bar.live.is_started:
        bar.stop()
    if not quiet:
        rounds = result.record["rounds"]
        typer.echo(
            f"trained {len(rounds)} round{'s' if len(rounds) != 1 else ''} on mined pairs; "
            f"model saved to {result.model_dir} (pairs per round in {Path(cfg.output.out) / 'mined'})"
        )
        model = shlex.quote(str(result.model_dir))
        typer.echo(f"measure it: langgap measure --model {model} --bitext FILE --sts FILE")


def interrupted_note(out: str) -> str:
    """What a Ctrl-C keeps of a ``--mine-from`` run."""
    if not (Path(out) / "mined").is_dir():
        return f"interrupted before the first round's pairs were written: the same command starts {out} again"
    return (
        f"interrupted; the finished rounds and the last checkpoint are kept in {out}: "
        "continue with the same command and --resume"
    )
