"""Everything a training run needs before its first step, gathered in one :class:`Run`.

:func:`setup` checks the data and options (before any model is loaded), builds the Accelerator,
the student, the teacher cache and the loss, the optimizer and LR schedule, restores a checkpoint
on ``resume`` and writes ``config.json``. The loop in :mod:`langgap.training.loop` then only reads
the :class:`Run`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from langgap.accel import check_tracker, frozen_parameters, leave_out_of_checkpoints, make_accelerator
from langgap.encoders.precision import native_cpu
from langgap.encoders.st import SentenceTransformerEncoder
from langgap.errors import InputError
from langgap.results import package_versions
from langgap.training.checkpoint import (
    load_checkpoint,
    read_jsonl,
    read_sidecar,
    resume_point,
    rewind_logs,
    warn_changed,
)
from langgap.training.checkpoint import write_config as write_config_file
from langgap.training.composer import BatchComposer
from langgap.training.config import TrainConfig, resolve_mixed_precision
from langgap.training.evaluate import Evaluator, StudentEncoder
from langgap.training.freeze import freeze
from langgap.training.guards import CollapseGuard, probe_texts
from langgap.training.inputs import composer_for, read_training, write_holdout
from langgap.training.overlap import Overlap, text_overlap
from langgap.training.teacher import TeacherCache, build_teacher_cache, language_priority, make_loss
from langgap.training.transplant import TransplantStats, transplant
from langgap.types import Encoder, ProgressFn

log = logging.getLogger(__name__)

# settings that do not change what is trained (a resume may change them without a warning)
NOT_TRAINING = ("eval_every", "save_every", "eval_bitext", "eval_sts", "english_guard", "guard_threshold")


@dataclass
class Run:
    """A training run between :func:`setup` and the end of the loop."""

    cfg: TrainConfig
    out: Path
    accelerator: Any
    model: Any  # the student as the loop calls it (DDP-wrapped under a launcher)
    st: Any  # the unwrapped SentenceTransformer
    prompt: str
    optimizer: Any
    scheduler: Any
    composer: BatchComposer
    evaluator: Evaluator
    loss_of: Callable[..., Any]  # loss(a, b, first_texts, second_texts)
    order: list[str]  # language priority (which side of a pair comes first)
    rows: slice  # this process's rows of every global batch
    total: int  # optimizer steps of the whole run
    start: int = 0  # steps already done (a resume)
    history: list[dict[str, Any]] = field(default_factory=list)  # evaluation records
    frozen: dict[str, list[float]] = field(default_factory=dict)  # left out of checkpoints
    teacher: TeacherCache | None = None  # the objective's frozen teacher (lazy; loop prefetches)
    elapsed: float = 0.0  # seconds of training before this process started (a resume)

    @property
    def main(self) -> bool:
        return bool(self.accelerator.is_main_process)

    @property
    def rank(self) -> int:
        return int(self.accelerator.process_index)

    @property
    def device(self) -> Any:
        return self.accelerator.device


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


def mixed_precision(setting: str) -> str:
    """``--mixed-precision`` resolved on this machine (:func:`resolve_mixed_precision`)."""
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    return resolve_mixed_precision(setting, cuda=cuda, bf16=bf16, cpu_bf16=native_cpu("bf16"))


def param_groups(st: Any, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups of the trainable parameters: weight decay on matrices, none on biases and norms."""
    decay: list[torch.Tensor] = []
    plain: list[torch.Tensor] = []
    for name, p in st.named_parameters():
        if p.requires_grad:
            (plain if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def trainable_groups(st: Any, weight_decay: float, frozen_layers: int = 0) -> list[dict[str, Any]]:
    """:func:`param_groups`, refused when nothing is left to train."""
    groups = param_groups(st, weight_decay)
    if not any(g["params"] for g in groups):
        why = f" (--freeze-layers {frozen_layers} froze the whole transformer)"
        raise InputError("no trainable parameters" + (why if frozen_layers else ""))
    return groups


def adamw(groups: list[dict[str, Any]], lr: float) -> torch.optim.Optimizer:
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


def setup(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    teacher: Encoder | None = None,
    encode_progress: ProgressFn | None = None,
) -> Run:
    """Build the :class:`Run` of ``cfg`` (see the module docstring)."""
    from transformers import get_linear_schedule_with_warmup

    out = Path(cfg.out)
    check_tracker(cfg.report_to)
    precision = mixed_precision(cfg.mixed_precision)  # before any data or model is read
    ckpt = resume_point(out, resume)
    cross, mono, held_part, held = read_training(cfg)  # bad data fails before any model is loaded
    composer = composer_for(cfg, cross, mono)
    pool = composer.pool.cross + composer.pool.mono
    collapse = CollapseGuard(
        probe_texts([t for p in pool for t in (p.text_a, p.text_b)], cfg.seed), cfg.collapse_threshold
    )
    evaluator = Evaluator(cfg.eval_bitext, cfg.eval_sts, cfg.english_guard, cfg.guard_threshold, collapse)
    overlap = check_overlap(composer, evaluator)
    accelerator = make_accelerator(precision, cfg.report_to, out / "logs")
    rows = shard(cfg.batch_size, accelerator.process_index, accelerator.num_processes)
    student = SentenceTransformerEncoder(
        cfg.model, prompt=cfg.prompt, prompt_name=cfg.prompt_name, max_length=cfg.max_length,
        device=str(accelerator.device),
    )  # fmt: skip
    st, prompt = student.model, student.prompt
    swapped = swap_tokenizer(st, cfg, composer, evaluator) if cfg.tokenizer else None
    freeze(st, embeddings=cfg.freeze_embeddings, layers=cfg.freeze_layers)
    n_cross, n_mono = composer.per_batch  # only the pools batches draw from
    used = (composer.pool.cross if n_cross else []) + (composer.pool.mono if n_mono else [])
    order = language_priority(used, cfg.priority or ((cfg.pivot,) if cfg.pivot else ()))
    cache = build_teacher_cache(
        cfg, [], order, prompt, student.dimension, accelerator.device, teacher, encode_progress
    )
    per_epoch = len(composer)  # batches in epoch 0 (later epochs may differ by a batch or so)
    total = cfg.max_steps or max(1, cfg.epochs * per_epoch // cfg.grad_accum)
    warmup = math.ceil(cfg.warmup_ratio * total)
    optimizer = adamw(trainable_groups(st, cfg.weight_decay, cfg.freeze_layers), cfg.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, warmup, total)
    model, optimizer = accelerator.prepare(st, optimizer)
    accelerator.register_for_checkpointing(scheduler)
    frozen = frozen_parameters(model)
    leave_out_of_checkpoints(accelerator, frozen)
    run = Run(
        cfg, out, accelerator, model, st, prompt, optimizer, scheduler, composer, evaluator,
        make_loss(cfg, cache), order, rows, total, frozen=frozen, teacher=cache,
    )  # fmt: skip
    if ckpt is not None:
        restore(run, ckpt)
    if run.main:
        resolved = {
            "prompt": prompt,
            "mixed_precision": precision,
            "priority": order,
            "total_steps": total,
            "warmup_steps": warmup,
            "batches_per_epoch": per_epoch,
            "processes": accelerator.num_processes,
            "model_path": student.path,
            "offline_copy": student.offline_note,
            "student_dim": student.dimension,
            "trainable_parameters": sum(p.numel() for p in st.parameters() if p.requires_grad),
            "teacher_dim": cache.dim if cache is not None else None,
            "eval_overlap": [o.as_dict() for o in overlap],
            "transplant": swapped.__dict__ if swapped is not None else None,
            "holdout": _holdout(out, cfg, held_part, held),
        }
        write_config_file(
            out, {"config": cfg.to_json(), "resolved": resolved, "versions": package_versions()}
        )
        if cfg.report_to:
            flat = {
                k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in cfg.to_json().items()
            }
            accelerator.init_trackers("langgap", config=flat)
    return run


def swap_tokenizer(
    st: Any, cfg: TrainConfig, composer: BatchComposer, evaluator: Evaluator
) -> TransplantStats:
    """``--tokenizer``: the vocabulary transplant (trimmed to the training and evaluation texts
    with ``--trim-vocab``); see :mod:`langgap.training.transplant`."""
    texts = None
    if cfg.trim_vocab:
        pool = composer.pool.cross + composer.pool.mono
        texts = [t for p in pool for t in (p.text_a, p.text_b)] + [
            t for ts in evaluator.texts().values() for t in ts
        ]
    stats = transplant(st, str(cfg.tokenizer), texts)
    log.info("vocabulary transplant from %s: %s", cfg.tokenizer, stats)
    return stats


def _holdout(out: Path, cfg: TrainConfig, part: Any, held: Any) -> dict[str, Any] | None:
    """Write the held-out rows of ``--multiway`` (to measure on) and say which they are."""
    if part is None:
        return None
    folder = write_holdout(out, part)
    return {
        "fraction": cfg.holdout_rows,
        "seed": cfg.seed,
        "folder": str(folder),
        "rows": [int(i) for i in held],
    }


def restore(run: Run, ckpt: Path) -> None:
    """Continue from checkpoint ``ckpt``: weights, optimizer, schedule, batches, logs, guard."""
    run.start = int(read_sidecar(ckpt)["step"])
    if run.main:
        run.history = rewind_logs(run.out, run.start)
        steps = read_jsonl(run.out / "train_log.jsonl")
        run.elapsed = float(steps[-1].get("elapsed", 0.0)) if steps else 0.0
        warn_changed(run.out / "config.json", run.cfg.to_json(), NOT_TRAINING)
        guard = [r["english_guard"]["baseline"] for r in run.history if "english_guard" in r]
        # the guard's baseline is the starting model's value: from the history, else now (st still is it)
        run.evaluator.baseline = (
            guard[0] if guard else run.evaluator.guard_value(StudentEncoder(run.st, run.prompt))
        )
    run.composer.load_state_dict(load_checkpoint(run.accelerator, run.model, ckpt, run.frozen)["composer"])
    log.info("resumed from %s (step %d)", ckpt, run.start)
