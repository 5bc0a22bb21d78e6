"""The training loop on Hugging Face Accelerate: ours, short and readable (setup in
:mod:`langgap.training.setup`).

One optimizer step takes ``grad_accum`` batches from the :class:`BatchComposer` (each batch its
own in-batch negatives; ``cache_chunk`` gives large batches on small memory instead). Under
``accelerate launch`` every process composes the same global batch and takes its contiguous
slice (:func:`shard`); ``gather`` makes the negatives those of the whole batch again, so N
processes train as one process would on the global batch. AdamW, linear warm-up then linear
decay, gradient clipping, mixed precision through ``Accelerator(mixed_precision=...)``.

Determinism and resume
    Before step ``n`` the torch generator is seeded with ``(seed, n, process)``, so dropout
    masks depend only on the step, not on what ran before (evaluation, a restart). Batches are a
    pure function of (seed, epoch, position) (see the composer). A checkpoint holds the weights,
    AdamW moments, LR scheduler and GradScaler (``accelerator.save_state``) and the composer's
    position, so ``resume=True`` continues with the same batches, masks and optimizer state: on
    the same machine it reaches the same weights as an uninterrupted run (tested bitwise).

Outputs under ``out``: ``model/`` (a sentence-transformers folder whose ``query`` prompt is the
training prompt and its default, so ``SentenceTransformer(path).encode`` embeds as the student
did), ``config.json`` (the resolved config), ``train_log.jsonl`` (one line per step),
``eval_history.jsonl`` and ``checkpoints/step-<n>/``. The library prints nothing: progress goes
to the ``progress`` / ``on_eval`` callbacks and ``logging``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from langgap import atomic
from langgap.encoders.st import forward, model_shape, save_model, token_lengths
from langgap.losses import cached_backward
from langgap.training.card import model_card
from langgap.training.checkpoint import append_jsonl, last_checkpoint, list_checkpoints, save_checkpoint
from langgap.training.composer import BatchComposer
from langgap.training.config import TrainConfig
from langgap.training.evaluate import StudentEncoder
from langgap.training.guards import TrainingCollapsed
from langgap.training.language_guard import LanguageGuardStopped, stopped_by
from langgap.training.merge import interpolate
from langgap.training.pairs import Batch
from langgap.training.setup import Run, setup, shard
from langgap.training.teacher import oriented, teacher_texts
from langgap.training.transplant import TransplantStats
from langgap.types import Encoder, ProgressFn

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, float, float], None]  # (step, total, loss, pairs/s)
EvalCallback = Callable[[dict[str, Any]], None]
PREFETCH_STEPS = 32  # the teacher embeds this many steps' texts at a time
_SEEDING = "per step: torch.manual_seed(step_seed(seed, step, process)) before step n"

__all__ = ["TrainResult", "TrainingCollapsed", "TrainingDiverged", "shard", "step_seed", "train"]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing was saved after the last good checkpoint."""


@dataclass
class TrainResult:
    out: Path
    model_dir: Path
    step: int  # optimizer steps done
    total_steps: int
    losses: list[float]  # per step of this call (after a resume: from the checkpoint on)
    eval_history: list[dict[str, Any]]
    model: Any  # the trained SentenceTransformer
    prompt: str  # the training prompt, recorded in the saved model as its default 'query' prompt
    teacher_stats: dict[str, int] | None = None  # texts the teacher embedded / found in the disk cache
    transplant: TransplantStats | None = None  # --tokenizer: how the new vocabulary's rows were made


def step_seed(seed: int, step: int, process: int) -> int:
    """The torch seed of optimizer step ``step`` on process ``process`` (dropout masks)."""
    return int(np.random.SeedSequence([seed, step, process]).generate_state(1)[0])


def train(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    on_eval: EvalCallback | None = None,
    teacher: Encoder | None = None,
    encode_progress: ProgressFn | None = None,
) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.data``'s pairs and save it under ``cfg.output.out`` (see the module docstring).

    Args:
        cfg: the run's settings.
        resume: continue from the last checkpoint in ``<out>/checkpoints`` (InputError if none).
        progress: ``progress(step, total, loss, pairs_per_s)`` after every optimizer step.
        on_eval: called with each evaluation record (also appended to ``eval_history.jsonl``).
        teacher: a frozen teacher encoder to use instead of loading ``cfg.objective.teacher``.
        encode_progress: ``progress(done, total)`` while the teacher embeds the training texts.
    Raises:
        InputError: bad data, options, model or teacher; ``resume`` without a checkpoint.
        TrainingDiverged: a NaN / infinite loss (no optimizer step or checkpoint after it).
    """
    run = setup(cfg, resume=resume, teacher=teacher, encode_progress=encode_progress)
    if not resume and run.evaluator:
        evaluate(run, 0, on_eval)
    stream, losses = _stream(run.composer), []
    t_start, t_train, pairs = time.perf_counter(), 0.0, 0
    run.model.train()
    for step in range(run.start + 1, run.total + 1):
        if (step - run.start - 1) % PREFETCH_STEPS == 0:
            prefetch_teacher(run)
        t0 = time.perf_counter()
        torch.manual_seed(step_seed(cfg.optim.seed, step, run.rank))
        value, lr = optimizer_step(run, stream, step)
        t_train += time.perf_counter() - t0
        pairs += cfg.optim.batch_size * cfg.optim.grad_accum
        losses.append(value)
        if run.main:
            record = {"step": step, "epoch": run.composer.epoch, "loss": value, "lr": lr}
            record |= {"pairs_per_s": pairs / t_train, "elapsed": run.elapsed + time.perf_counter() - t_start}
            append_jsonl(run.out / "train_log.jsonl", record)
        if cfg.output.report_to:
            train_values = {"loss": value, "lr": lr, "pairs_per_s": pairs / t_train}
            run.accelerator.log({f"train/{k}": v for k, v in train_values.items()}, step=step)
        if cfg.output.save_every and step % cfg.output.save_every == 0:
            state = {"composer": run.composer.state_dict(), "seeding": _SEEDING, "frozen": run.frozen}
            save_checkpoint(run.accelerator, run.out, step, state)
        if run.evaluator and ((cfg.eval.eval_every and step % cfg.eval.eval_every == 0) or step == run.total):
            evaluate(run, step, on_eval)
        if progress is not None:
            progress(step, run.total, value, pairs / t_train)
    teacher_stats = run.teacher.stats if run.teacher is not None else None
    if run.teacher is not None:
        run.teacher.close()
    model_dir = run.out / "model"
    if run.start_weights is not None:  # --interpolate: part of the way back to the start, measured
        run.st.load_state_dict(interpolate(run.start_weights, run.st.state_dict(), cfg.output.interpolate))
        if run.evaluator:
            evaluate(run, run.total, on_eval, {"interpolated": cfg.output.interpolate})
    if run.main:
        with atomic.staged_dir(model_dir) as tmp:  # a crash while saving leaves no half-written model/
            save_model(run.st, tmp, run.prompt, run.input_length)
            atomic.write_text(tmp / "README.md", card(run))
    if cfg.output.report_to:
        run.accelerator.end_training()
    run.accelerator.wait_for_everyone()
    step = max(run.start, run.total)
    return TrainResult(
        run.out,
        model_dir,
        step,
        run.total,
        losses,
        run.history,
        run.st,
        run.prompt,
        teacher_stats,
        run.transplant,
    )


def prefetch_teacher(run: Run) -> None:
    """Teacher embeddings of the next :data:`PREFETCH_STEPS` steps' texts, ahead of need: the main
    process embeds them (into the disk cache), the others then read them from it."""
    if run.teacher is None:
        return
    batches = list(run.composer.upcoming(PREFETCH_STEPS * run.cfg.optim.grad_accum))
    texts = teacher_texts(run.cfg.objective, batches, run.order)
    if run.main:
        run.teacher.prefetch(texts)
    run.accelerator.wait_for_everyone()
    if not run.main:
        run.teacher.prefetch(texts)


def optimizer_step(run: Run, stream: Iterator[Batch], step: int) -> tuple[float, float]:
    """``grad_accum`` batches, one clipped AdamW step; returns (mean loss, learning rate used)."""
    cfg, acc = run.cfg.optim, run.accelerator
    loss = torch.zeros((), device=run.device)
    for k in range(cfg.grad_accum):
        last = k == cfg.grad_accum - 1
        with contextlib.nullcontext() if last else acc.no_sync(run.model):
            loss += micro_step(run, next(stream), 1.0 / cfg.grad_accum)
    value = float(acc.reduce(loss / cfg.grad_accum, reduction="mean"))
    if not math.isfinite(value):
        good = last_checkpoint(run.out)
        where = (
            f"the last good checkpoint is {good} (continue with --resume, e.g. with a lower --lr)"
            if good
            else "no checkpoint was saved before it"
        )
        raise TrainingDiverged(
            f"step {step}: the loss is {value}; training stopped and nothing was saved; {where}"
        )
    if cfg.max_grad_norm:
        acc.clip_grad_norm_(run.model.parameters(), cfg.max_grad_norm)
    lr = run.scheduler.get_last_lr()[0]
    run.optimizer.step()
    if not acc.optimizer_step_was_skipped:
        run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    return value, lr


def micro_step(run: Run, batch: Batch, scale: float) -> Tensor:
    """Forward and backward of this process's rows of one batch, the loss scaled by ``scale``;
    returns the unscaled loss (detached)."""
    rows = oriented(batch, run.order)[run.rows]
    first, second = [r[0] for r in rows], [r[1] for r in rows]
    langs = [r[2] for r in rows] + [r[3] for r in rows]  # for --preserve's same-language pairs

    def emb(texts: list[str]) -> Tensor:
        return forward(run.model, run.st, texts, run.prompt, run.device).float()

    if run.cfg.optim.cache_chunk:
        c, acc = run.cfg.optim.cache_chunk, run.accelerator
        # fp16: cached_backward calls backward itself, so it applies the GradScaler's scale here
        grow = acc.scaler.get_scale() if acc.scaler is not None else 1.0

        def chunks(t: list[str]) -> list[list[str]]:
            return [t[i : i + c] for i in range(0, len(t), c)]

        loss = cached_backward(
            emb,
            chunks(first),
            chunks(second),
            lambda a, b: run.loss_of(a, b, first, second, langs) * (scale * grow),
            no_sync=lambda: acc.no_sync(run.model),
        )
        return loss / (scale * grow)
    n = len(first)
    e = bucketed(emb, first + second, run.cfg.optim.length_buckets, run.st)  # (2n, D)
    loss = run.loss_of(e[:n], e[n:], first, second, langs)
    run.accelerator.backward(loss * scale)
    return loss.detach()


def bucketed(emb: Callable[[list[str]], Tensor], texts: list[str], buckets: int, st: Any) -> Tensor:
    """``emb(texts)`` in ``buckets`` forwards of texts of similar token length (less padding when
    lengths vary, as across FLORES' scripts), the rows back in input order; ``1``: one forward."""
    if buckets <= 1 or len(texts) < 2 * buckets:
        return emb(texts)
    order = np.argsort(token_lengths(st, texts), kind="stable")
    parts = [emb([texts[i] for i in chunk]) for chunk in np.array_split(order, buckets)]
    back = torch.as_tensor(np.argsort(order, kind="stable"), device=parts[0].device)
    return torch.cat(parts)[back]  # (N, D)


def card(run: Run) -> str:
    """The saved model's README.md (:func:`langgap.training.card.model_card`)."""
    pool = run.composer.pool.cross + run.composer.pool.mono
    dimension, trained_at = model_shape(run.st)
    return model_card(
        run.cfg.data,
        run.cfg.to_json(),
        base=run.cfg.model.name,
        languages=sorted({lang for p in pool for lang in (p.lang_a, p.lang_b)}),
        dimension=dimension,
        max_length=run.input_length or trained_at,
        trained_at=trained_at,
        steps=run.total,
        pairs=len(run.composer.pool.cross),
        prompt=run.prompt,
        history=run.history,
    )


def evaluate(run: Run, step: int, on_eval: EvalCallback | None, note: dict[str, Any] | None = None) -> None:
    """Score the student now (main process), log the record (with ``note``'s keys); every process
    waits for it, and all stop together when the collapse guard fired
    (:class:`~langgap.training.guards.TrainingCollapsed`)."""
    collapsed = fallen = 0.0
    if run.main:
        record = run.evaluator.run(StudentEncoder(run.st, run.prompt), step) | (note or {})
        run.history.append(record)
        append_jsonl(run.out / "eval_history.jsonl", record)
        if on_eval is not None:
            on_eval(record)
        if run.cfg.output.report_to:
            scores = {
                f"eval/{t}/{k}": v
                for t, m in record.get("tasks", {}).items()
                for k, v in m.items()
                if isinstance(v, float)
            }
            run.accelerator.log(scores, step=step)
        collapsed = float(record.get("collapse", {}).get("collapsed", False))
        fallen = float(bool(stopped_by(record.get("language_guards", {}))))
    flags = run.accelerator.reduce(torch.tensor([collapsed, fallen], device=run.device), reduction="sum")
    if float(flags[1]) > 0:
        raise LanguageGuardStopped(language_guard_message(run, step))
    if float(flags[0]) > 0:
        good = last_checkpoint(run.out)
        where = f"the last good checkpoint is {good}" if good else "no checkpoint was saved before it"
        raise TrainingCollapsed(
            f"step {step}: the embeddings collapsed (probe sentences' mean cosine reached "
            f"--collapse-threshold {run.cfg.eval.collapse_threshold:g}); training stopped; {where} "
            "(resume from it with a lower --lr, or change the objective)"
        )


def language_guard_message(run: Run, step: int) -> str:
    """Which same-language guards stopped training at ``step``, and the newest checkpoint saved
    at or before the last evaluation where every guard held (main process's history)."""
    fell = stopped_by(run.history[-1].get("language_guards", {})) if run.history else []
    held = [r["step"] for r in run.history if not stopped_by(r.get("language_guards", {}))]
    good = [path for s, path in list_checkpoints(run.out) if held and s <= max(held)]
    where = (
        f"the last good checkpoint is {good[-1]}" if good else "no checkpoint was saved while the guards held"
    )
    return (
        f"step {step}: {'; '.join(fell) or 'a same-language guard fell'}, more than --guard-sts-stop "
        f"{run.cfg.eval.guard_sts_stop:g}; training stopped; {where}"
    )


def _stream(composer: BatchComposer) -> Iterator[Batch]:
    while True:  # the composer moves on to the next epoch after the last batch of one
        yield from composer
