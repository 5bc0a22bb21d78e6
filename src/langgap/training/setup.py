"""Everything a training run needs before its first step, gathered in one :class:`Run`.

:func:`setup` checks the data and options (before any model is loaded), builds the Accelerator,
the student, the teacher cache and the loss, the optimizer and LR schedule, restores a checkpoint
on ``resume`` and writes ``config.json``. The loop in :mod:`langgap.training.loop` then only reads
the :class:`Run`. Each builder takes its part of the config: the inputs ``data``, ``optim`` and
``eval`` (:func:`~langgap.training.inputs.read_inputs`), the student ``model``, the loss and
teacher ``objective`` (:func:`~langgap.training.objective.build_objective`), the optimizer and
schedule ``optim`` (:func:`plan_steps`, :func:`prepare_training`).
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
from langgap.training.config import (
    DataConfig,
    ModelConfig,
    ObjectiveConfig,
    OptimConfig,
    TrainConfig,
    resolve_mixed_precision,
)
from langgap.training.evaluate import Evaluator, StudentEncoder
from langgap.training.freeze import freeze
from langgap.training.inputs import Inputs, pool_texts, read_inputs, write_holdout
from langgap.training.objective import build_objective
from langgap.training.teacher import TeacherCache, build_teacher_cache, language_priority
from langgap.training.transplant import TransplantStats, transplant
from langgap.types import Encoder, ProgressFn

log = logging.getLogger(__name__)

# settings that do not change what is trained (a resume may change them without a warning);
# interpolate changes only what is saved at the end
NOT_TRAINING = tuple(
    "eval_every save_every eval_bitext eval_sts english_guard guard_threshold interpolate".split()
)


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
    input_length: int | None = None  # the base model's max length: the saved model reads this many tokens
    transplant: TransplantStats | None = None  # --tokenizer: how the new vocabulary's rows were made
    start_weights: dict[str, Any] | None = None  # --interpolate < 1: the starting weights (on the CPU)

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


@dataclass(frozen=True)
class Steps:
    """The run's length in optimizer steps."""

    per_epoch: int  # batches in epoch 0 (later epochs may differ by a batch or so)
    total: int  # optimizer steps of the whole run
    warmup: int  # of them, linear warm-up


def plan_steps(optim: OptimConfig, per_epoch: int) -> Steps:
    """``max_steps``, else ``epochs`` passes of ``per_epoch`` batches, ``grad_accum`` per step."""
    total = optim.max_steps or max(1, optim.epochs * per_epoch // optim.grad_accum)
    return Steps(per_epoch, total, math.ceil(optim.warmup_ratio * total))


def prepare_training(
    accelerator: Any, st: Any, optim: OptimConfig, frozen_layers: int, steps: Steps
) -> tuple[Any, Any, Any, dict[str, list[float]]]:
    """``(model, optimizer, scheduler, frozen)``: AdamW and its linear schedule, prepared by
    Accelerate; the frozen weights' fingerprints, left out of checkpoints."""
    from transformers import get_linear_schedule_with_warmup

    optimizer = adamw(trainable_groups(st, optim.weight_decay, frozen_layers), optim.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, steps.warmup, steps.total)
    model, optimizer = accelerator.prepare(st, optimizer)
    accelerator.register_for_checkpointing(scheduler)
    frozen = frozen_parameters(model)
    leave_out_of_checkpoints(accelerator, frozen)
    return model, optimizer, scheduler, frozen


def priority_order(composer: BatchComposer, objective: ObjectiveConfig, pivot: str | None) -> list[str]:
    """:func:`language_priority` over the pools batches draw from: ``--priority``, else the pivot first."""
    n_cross, n_mono = composer.per_batch
    used = (composer.pool.cross if n_cross else []) + (composer.pool.mono if n_mono else [])
    return language_priority(used, objective.priority or ((pivot,) if pivot else ()))


def setup(
    cfg: TrainConfig,
    *,
    resume: bool = False,
    teacher: Encoder | None = None,
    encode_progress: ProgressFn | None = None,
) -> Run:
    """Build the :class:`Run` of ``cfg`` (see the module docstring)."""
    out = Path(cfg.output.out)
    check_tracker(cfg.output.report_to)
    precision = mixed_precision(cfg.optim.mixed_precision)  # before any data or model is read
    ckpt = resume_point(out, resume)
    inputs = read_inputs(cfg.data, cfg.optim, cfg.eval)  # bad data fails before any model is loaded
    accelerator = make_accelerator(precision, cfg.output.report_to, out / "logs")
    rows = shard(cfg.optim.batch_size, accelerator.process_index, accelerator.num_processes)
    m = cfg.model
    student = SentenceTransformerEncoder(
        m.name,
        prompt=m.prompt,
        prompt_name=m.prompt_name,
        max_length=m.max_length,
        device=str(accelerator.device),
    )
    st, prompt = student.model, student.prompt
    swapped = swap_tokenizer(st, m, inputs) if m.tokenizer else None  # before freezing and the optimizer
    start = None
    if cfg.output.interpolate < 1.0:  # after a transplant: the weights training starts from
        start = {k: v.detach().to("cpu", copy=True) for k, v in st.state_dict().items()}
    freeze(st, embeddings=m.freeze_embeddings, layers=m.freeze_layers)
    order = priority_order(inputs.composer, cfg.objective, cfg.data.pivot)
    cache = build_teacher_cache(
        cfg.objective, m, [], order, prompt, student.dimension, accelerator.device, teacher, encode_progress
    )
    loss = build_objective(cfg.objective).with_teacher(cache.lookup if cache is not None else None)
    steps = plan_steps(cfg.optim, len(inputs.composer))
    model, optimizer, scheduler, frozen = prepare_training(accelerator, st, cfg.optim, m.freeze_layers, steps)
    run = Run(
        cfg=cfg,
        out=out,
        accelerator=accelerator,
        model=model,
        st=st,
        prompt=prompt,
        optimizer=optimizer,
        scheduler=scheduler,
        composer=inputs.composer,
        evaluator=inputs.evaluator,
        loss_of=loss,
        order=order,
        rows=rows,
        total=steps.total,
        frozen=frozen,
        teacher=cache,
        input_length=student.native_max_length,
        transplant=swapped,
        start_weights=start,
    )
    if ckpt is not None:
        restore(run, ckpt)
    if run.main:
        record(run, student, precision, steps, inputs)
    return run


def record(run: Run, student: Any, precision: str, steps: Steps, inputs: Inputs) -> None:
    """Write ``config.json`` (the flat settings, what they resolved to here, the versions) and
    start the tracker of ``--report-to`` with the settings."""
    cfg, st, cache = run.cfg, run.st, run.teacher
    resolved = {
        "prompt": run.prompt,
        "mixed_precision": precision,
        "priority": run.order,
        "total_steps": steps.total,
        "warmup_steps": steps.warmup,
        "batches_per_epoch": steps.per_epoch,
        "processes": run.accelerator.num_processes,
        "model_path": student.path,
        "training_max_length": cfg.model.max_length,  # texts cut here while training
        "saved_max_length": run.input_length,  # what the saved model reads: the base model's length
        "offline_copy": student.offline_note,
        "student_dim": student.dimension,
        "trainable_parameters": sum(p.numel() for p in st.parameters() if p.requires_grad),
        "teacher_dim": cache.dim if cache is not None else None,
        "eval_overlap": [o.as_dict() for o in inputs.overlap],
        "transplant": run.transplant.__dict__ if run.transplant is not None else None,
        "holdout": _holdout(run.out, cfg.data, cfg.optim.seed, inputs),
    }
    settings = cfg.to_json()
    write_config_file(run.out, {"config": settings, "resolved": resolved, "versions": package_versions()})
    if cfg.output.report_to:
        flat = {k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in settings.items()}
        run.accelerator.init_trackers("langgap", config=flat)


def swap_tokenizer(st: Any, model: ModelConfig, inputs: Inputs) -> TransplantStats:
    """``--tokenizer``: the vocabulary transplant (trimmed to the training and evaluation texts
    with ``--trim-vocab``); see :mod:`langgap.training.transplant`."""
    texts = None
    if model.trim_vocab:
        texts = pool_texts(inputs.composer) + [t for ts in inputs.evaluator.texts().values() for t in ts]
    source = (
        SentenceTransformerEncoder(model.init_from).model
        if model.init == "mapped" and model.init_from
        else None
    )
    stats = transplant(
        st, str(model.tokenizer), texts, source=source, source_name=model.init_from or "", how=model.init_map
    )
    log.info("vocabulary transplant from %s: %s", model.tokenizer, stats)
    return stats


def _holdout(out: Path, data: DataConfig, seed: int, inputs: Inputs) -> dict[str, Any] | None:
    """Write the held-out rows of ``--multiway`` (to measure on) and say which they are."""
    if inputs.held_part is None:
        return None
    folder = write_holdout(out, inputs.held_part)
    return {
        "fraction": data.holdout_rows,
        "seed": seed,
        "folder": str(folder),
        "rows": [int(i) for i in inputs.held],
    }


def restore(run: Run, ckpt: Path) -> None:
    """Continue from checkpoint ``ckpt``: weights, optimizer, schedule, batches, logs, guard."""
    run.start = int(read_sidecar(ckpt)["step"])
    if run.main:
        run.history = rewind_logs(run.out, run.start)
        steps = read_jsonl(run.out / "train_log.jsonl")
        run.elapsed = float(steps[-1].get("elapsed", 0.0)) if steps else 0.0
        warn_changed(run.out / "config.json", run.cfg.to_json(), NOT_TRAINING, TrainConfig().to_json())
        guard = [r["english_guard"]["baseline"] for r in run.history if "english_guard" in r]
        # the guard's baseline is the starting model's value: from the history, else now (st still is it)
        run.evaluator.baseline = (
            guard[0] if guard else run.evaluator.guard_value(StudentEncoder(run.st, run.prompt))
        )
        languages = [r["language_guards"] for r in run.history if r.get("language_guards")]
        if languages:  # the same-language guards' starting values, likewise
            run.evaluator.language_guards.baselines = {k: g["baseline"] for k, g in languages[0].items()}
        else:
            run.evaluator.language_guards.check(StudentEncoder(run.st, run.prompt))
    run.composer.load_state_dict(load_checkpoint(run.accelerator, run.model, ckpt, run.frozen)["composer"])
    log.info("resumed from %s (step %d)", ckpt, run.start)
