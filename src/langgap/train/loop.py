"""The training loop on Hugging Face Accelerate: ours, short and readable.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from langgap.encoders.st import SentenceTransformerEncoder
from langgap.errors import InputError
from langgap.losses import cached_backward
from langgap.measure import package_versions
from langgap.train.checkpoint import (
    append_jsonl,
    last_checkpoint,
    load_checkpoint,
    read_sidecar,
    resume_point,
    rewind_logs,
    save_checkpoint,
    warn_changed,
    write_config,
)
from langgap.train.composer import Batch, BatchComposer
from langgap.train.config import TrainConfig, build_composer, resolve_mixed_precision
from langgap.train.evaluate import Evaluator, StudentEncoder
from langgap.train.overlap import Overlap, text_overlap
from langgap.train.teacher import build_teacher_cache, language_priority, make_loss, orient
from langgap.types import Encoder, ProgressFn

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, float, float], None]  # (step, total, loss, pairs/s)
EvalCallback = Callable[[dict[str, Any]], None]
_SEEDING = "per step: torch.manual_seed(step_seed(seed, step, process)) before step n"
_NOT_TRAINING = ("eval_every", "save_every", "eval_bitext", "eval_sts", "english_guard", "guard_threshold")


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


def shard(n: int, index: int, count: int) -> slice:
    """The rows of a global batch of ``n`` that process ``index`` of ``count`` trains on.

    Contiguous and equal: ``slice(index * n // count, (index + 1) * n // count)``; the slices of
    all processes tile ``range(n)`` in order (gathered negatives need equal shapes).
    """
    if not 0 <= index < count:
        raise ValueError(f"process index {index} out of range for {count} processes")
    if n % count:
        raise InputError(f"--batch-size {n} must be divisible by the number of processes ({count})")
    size = n // count
    return slice(index * size, (index + 1) * size)


def embed(model: Any, st: Any, texts: Sequence[str], prompt: str, device: torch.device) -> Tensor:
    """(N, D) sentence embeddings of ``texts`` with gradient: the training twin of ``st.encode``.

    The same preprocessing (the prompt prepended, tokenised, truncated at ``max_seq_length``) and
    the same module chain as ``SentenceTransformer.encode(texts, prompt=prompt)``, in grad mode.
    ``model`` is ``st`` itself or its DDP wrapper (its forward syncs gradients); ``st`` is the
    unwrapped ``SentenceTransformer``.
    """
    features = st.preprocess(list(texts), prompt=prompt or None)
    features = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in features.items()}
    out: Tensor = model(features)["sentence_embedding"]
    return out


def step_seed(seed: int, step: int, process: int) -> int:
    """The torch seed of optimizer step ``step`` on process ``process`` (dropout masks)."""
    return int(np.random.SeedSequence([seed, step, process]).generate_state(1)[0])


def _freeze_embeddings(st: Any) -> None:
    for module in st.modules():
        get = getattr(module, "get_input_embeddings", None)
        if callable(get) and get() is not None:
            get().weight.requires_grad_(False)
            return
    raise InputError("--freeze-embeddings: the model has no input-embedding matrix to freeze")


def _param_groups(st: Any, weight_decay: float) -> list[dict[str, Any]]:
    decay: list[Tensor] = []
    plain: list[Tensor] = []
    for name, p in st.named_parameters():
        if p.requires_grad:
            (plain if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def _adamw(groups: list[dict[str, Any]], lr: float) -> torch.optim.Optimizer:
    """AdamW with the fused kernel where the parameters' device has one (the default of
    transformers' Trainer since torch 2.8), else the per-tensor one.

    Fused matters here: the step over e5's 250k x 384 word-embedding matrix takes 0.048 s fused
    and 0.366 s unfused on 2 CPU cores, about a tenth of a batch of 32 pairs
    (``bench/bench_train_parts.py adamw``, docs/benchmarks.md).
    """
    try:
        return torch.optim.AdamW(groups, lr=lr, fused=True)
    except (RuntimeError, ValueError):  # a device without a fused kernel
        return torch.optim.AdamW(groups, lr=lr)


def _stream(composer: BatchComposer) -> Iterator[Batch]:
    while True:  # the composer moves on to the next epoch after the last batch of one
        yield from composer


def check_overlap(composer: BatchComposer, evaluator: Evaluator) -> list[Overlap]:
    """Evaluation texts that also occur in the training pairs, per file; a warning names each file."""
    pool = composer.pool.cross + composer.pool.mono
    rows = text_overlap((t for p in pool for t in (p.text_a, p.text_b)), evaluator.texts())
    for o in rows:
        if o.shared:
            log.warning(
                "%s: %d of its %d distinct texts (%.1f%%) also occur in the training pairs; "
                "its scores are optimistic",
                o.name,
                o.shared,
                o.texts,
                100 * o.share,
            )
    return rows


def train(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    on_eval: EvalCallback | None = None,
    teacher: Encoder | None = None,
    encode_progress: ProgressFn | None = None,
) -> TrainResult:
    """Train ``cfg.model`` on ``cfg``'s pairs and save it under ``cfg.out`` (see the module docstring).

    Args:
        cfg: the run's settings.
        resume: continue from the last checkpoint in ``<out>/checkpoints`` (InputError if none).
        progress: ``progress(step, total, loss, pairs_per_s)`` after every optimizer step.
        on_eval: called with each evaluation record (also appended to ``eval_history.jsonl``).
        teacher: a frozen teacher encoder to use instead of loading ``cfg.teacher``.
        encode_progress: ``progress(done, total)`` while the teacher embeds the training texts.
    Raises:
        InputError: bad data, options, model or teacher; ``resume`` without a checkpoint.
        TrainingDiverged: a NaN / infinite loss (no optimizer step or checkpoint after it).
    """
    from accelerate import Accelerator, DistributedDataParallelKwargs
    from accelerate.state import AcceleratorState, GradientState
    from transformers import get_linear_schedule_with_warmup

    out = Path(cfg.out)
    ckpt = resume_point(out, resume)
    composer = build_composer(cfg)  # bad data fails before any model is loaded
    evaluator = Evaluator(cfg.eval_bitext, cfg.eval_sts, cfg.english_guard, cfg.guard_threshold)
    overlap = check_overlap(composer, evaluator)
    cuda = torch.cuda.is_available()
    precision = resolve_mixed_precision(
        cfg.mixed_precision, cuda=cuda, bf16=cuda and torch.cuda.is_bf16_supported()
    )
    # Accelerate keeps its settings in process-wide singletons; start each run from fresh ones (the
    # process group, PartialState, is kept) so that a second run in one process may change them
    AcceleratorState._reset_state()
    GradientState._reset_state()
    try:
        accelerator = Accelerator(
            # without a GPU, cpu=True is what makes Accelerate join a launcher's processes (gloo)
            cpu=not cuda and not torch.backends.mps.is_available(),
            mixed_precision=precision,
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
        )
    except ValueError as e:
        raise InputError(f"--mixed-precision {precision}: {e}") from None
    rank, world, device, main = (
        accelerator.process_index,
        accelerator.num_processes,
        accelerator.device,
        accelerator.is_main_process,
    )
    rows = shard(cfg.batch_size, rank, world)

    student = SentenceTransformerEncoder(
        cfg.model,
        prompt=cfg.prompt,
        prompt_name=cfg.prompt_name,
        max_length=cfg.max_length,
        device=str(device),
    )
    if cfg.prompt is None and cfg.prompt_name is None:
        student.use_default_prompt()  # as langgap measure: E5's configured 'query: '
    st, prompt = student.model, student.prompt
    if cfg.freeze_embeddings:
        _freeze_embeddings(st)
    n_cross, n_mono = composer.per_batch  # only the pools batches draw from
    used = (composer.pool.cross if n_cross else []) + (composer.pool.mono if n_mono else [])
    order = language_priority(used, cfg.priority)
    cache = build_teacher_cache(cfg, used, order, prompt, student.dimension, device, teacher, encode_progress)
    loss_of = make_loss(cfg, cache)

    per_epoch = len(composer)  # batches in epoch 0 (later epochs may differ by a batch or so)
    total = cfg.max_steps or max(1, cfg.epochs * per_epoch // cfg.grad_accum)
    warmup = math.ceil(cfg.warmup_ratio * total)
    groups = _param_groups(st, cfg.weight_decay)
    if not any(g["params"] for g in groups):
        raise InputError("no trainable parameters")
    optimizer = _adamw(groups, cfg.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, total)
    model, optimizer = accelerator.prepare(st, optimizer)
    accelerator.register_for_checkpointing(scheduler)

    history: list[dict[str, Any]] = []
    start = 0
    if ckpt is not None:
        start = int(read_sidecar(ckpt)["step"])
        if main:
            history = rewind_logs(out, start)
            warn_changed(out / "config.json", cfg.to_json(), _NOT_TRAINING)
            guard = [r["english_guard"]["baseline"] for r in history if "english_guard" in r]
            # the guard's baseline is the starting model's value: from the history, else now (st still is it)
            evaluator.baseline = guard[0] if guard else evaluator.guard_value(StudentEncoder(st, prompt))
        composer.load_state_dict(load_checkpoint(accelerator, ckpt)["composer"])
        log.info("resumed from %s (step %d)", ckpt, start)
    if main:
        resolved = {
            "prompt": prompt,
            "mixed_precision": precision,
            "priority": order,
            "total_steps": total,
            "warmup_steps": warmup,
            "batches_per_epoch": per_epoch,
            "processes": world,
            "model_path": student.path,
            "offline_copy": student.offline_note,
            "student_dim": student.dimension,
            "teacher_dim": cache.dim if cache is not None else None,
            "eval_overlap": [o.as_dict() for o in overlap],
        }
        write_config(out, {"config": cfg.to_json(), "resolved": resolved, "versions": package_versions()})

    def evaluate(step: int) -> None:
        if main:
            record = evaluator.run(StudentEncoder(st, prompt), step)
            history.append(record)
            append_jsonl(out / "eval_history.jsonl", record)
            if on_eval is not None:
                on_eval(record)
        accelerator.wait_for_everyone()

    def micro_step(batch: Batch, scale: float) -> Tensor:
        first, second = orient(batch, order)
        first, second = first[rows], second[rows]
        if cfg.cache_chunk:
            c = cfg.cache_chunk
            # fp16: cached_backward calls backward itself, so it applies the GradScaler's scale here
            grow = accelerator.scaler.get_scale() if accelerator.scaler is not None else 1.0

            def chunks(t: list[str]) -> list[list[str]]:
                return [t[i : i + c] for i in range(0, len(t), c)]

            loss = cached_backward(
                lambda t: embed(model, st, t, prompt, device).float(),
                chunks(first),
                chunks(second),
                lambda a, b: loss_of(a, b, first, second) * (scale * grow),
                no_sync=lambda: accelerator.no_sync(model),
            )
            return loss / (scale * grow)
        n = len(first)
        e = embed(model, st, first + second, prompt, device).float()  # (2n, D): one forward, one pad
        loss = loss_of(e[:n], e[n:], first, second)
        accelerator.backward(loss * scale)
        return loss.detach()

    if not resume and evaluator:
        evaluate(0)
    stream, losses = _stream(composer), []
    t_start, t_train, pairs = time.perf_counter(), 0.0, 0
    model.train()
    for step in range(start + 1, total + 1):
        t0 = time.perf_counter()
        torch.manual_seed(step_seed(cfg.seed, step, rank))
        loss = torch.zeros((), device=device)
        for k in range(cfg.grad_accum):
            last = k == cfg.grad_accum - 1
            with contextlib.nullcontext() if last else accelerator.no_sync(model):
                loss += micro_step(next(stream), 1.0 / cfg.grad_accum)
        value = float(accelerator.reduce(loss / cfg.grad_accum, reduction="mean"))
        if not math.isfinite(value):
            good = last_checkpoint(out)
            where = (
                f"the last good checkpoint is {good} (continue with --resume, e.g. with a lower --lr)"
                if good
                else "no checkpoint was saved before it"
            )
            raise TrainingDiverged(
                f"step {step}: the loss is {value}; training stopped and nothing was saved; {where}"
            )
        if cfg.max_grad_norm:
            accelerator.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        if not accelerator.optimizer_step_was_skipped:
            scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        t_train += time.perf_counter() - t0
        pairs += cfg.batch_size * cfg.grad_accum
        losses.append(value)
        if main:
            record = {
                "step": step,
                "epoch": composer.epoch,
                "loss": value,
                "lr": lr,
                "pairs_per_s": pairs / t_train,
            }
            append_jsonl(out / "train_log.jsonl", {**record, "elapsed": time.perf_counter() - t_start})
        if cfg.save_every and step % cfg.save_every == 0:
            save_checkpoint(accelerator, out, step, {"composer": composer.state_dict(), "seeding": _SEEDING})
        if evaluator and ((cfg.eval_every and step % cfg.eval_every == 0) or step == total):
            evaluate(step)
        if progress is not None:
            progress(step, total, value, pairs / t_train)

    model_dir = out / "model"
    if main:
        st.prompts = {**(st.prompts or {}), "query": prompt}  # recorded, and the default on load
        st.default_prompt_name = "query"
        st.save(str(model_dir), create_model_card=False)
    accelerator.wait_for_everyone()
    return TrainResult(out, model_dir, max(start, total), total, losses, history, st, prompt)
