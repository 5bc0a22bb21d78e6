"""Training configuration in parts: one small frozen dataclass per builder, defaults commented.

:class:`TrainConfig` holds seven parts, each read by the code it configures:

============  =====================  ===========================================================
part          class                  read by
============  =====================  ===========================================================
``model``     :class:`ModelConfig`   the student: loading, prompt, freezing, vocabulary transplant
``data``      :class:`DataConfig`    :mod:`~langgap.training.inputs` and the batch composer
``objective`` :class:`ObjectiveConfig` :mod:`~langgap.training.objective` and the teacher
``optim``     :class:`OptimConfig`   the optimizer, schedule, precision and the loop's steps
``eval``      :class:`EvalConfig`    :mod:`~langgap.training.evaluate` and the guards
``output``    :class:`OutputConfig`  the run folder, checkpoints, trackers, the model card
``mine``      :class:`MineConfig`    rounds of ``--mine-from`` (:mod:`~langgap.training.mined`)
============  =====================  ===========================================================

Every setting also has one *flat* name, its command-line option without dashes: the field name,
except ``ModelConfig.name`` (``model``) and ``ObjectiveConfig.kind`` (``objective``). Flat names
are what the CLI, flat TOML files, :meth:`TrainConfig.from_flat` and ``<out>/config.json`` use
(:mod:`langgap.training.settings`). Each part checks its own values when built, so a bad one
fails before any data or model is loaded, with a message naming the option.

Adding a setting: a field with its commented default in one part, its check in that part's
``__post_init__``, and a CLI option of the same name in ``cli/train.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

from langgap.encoders.st import DEFAULT_MODEL
from langgap.errors import InputError
from langgap.training.mine_config import MineConfig
from langgap.training.pairs import check_language_block
from langgap.training.recipes import recipe_sha256
from langgap.training.settings import (
    Layout,
    at_least,
    choice,
    non_negative,
    positive,
    read_toml,
    tuples,
)

Objective = Literal["infonce", "soft", "mse"]
Labels = Literal["priority", "average"]
Init = Literal["mean", "mapped"]
InitMap = Literal["lstsq", "orthogonal"]
MixedPrecision = Literal["auto", "no", "fp16", "bf16"]
ReportTo = Literal["tensorboard", "wandb", "mlflow", "trackio"]
SAME = "SAME"  # teacher = a frozen copy of the starting model


@dataclass(frozen=True)
class ModelConfig:
    """The student model."""

    FLAT: ClassVar[dict[str, str]] = {"name": "model"}

    name: str = DEFAULT_MODEL  # --model: HF id or local path; offline copies found by resolve_model
    prompt: str | None = None  # literal prefix; None: the model's 'query' prompt if any, else none
    prompt_name: str | None = None  # one of the model's configured prompts instead of --prompt
    max_length: int = 64  # tokens per text, prompt included
    freeze_embeddings: bool = False  # keep the (large, multilingual) word-embedding matrix fixed
    freeze_layers: int = 0  # bottom N transformer layers and the input embeddings fixed: no backward
    tokenizer: str | None = None  # another tokenizer for the student (vocabulary transplant, FVT)
    trim_vocab: bool = False  # with --tokenizer: keep only the tokens of the training/eval texts
    init: Init = "mean"  # with --tokenizer: new rows as FVT means, or mapped from --init-from's rows
    init_from: str | None = None  # --init mapped: a model that reads --tokenizer (its input embeddings)
    init_map: InitMap = "lstsq"  # --init mapped: least squares, or orthogonal (equal hidden sizes)

    def __post_init__(self) -> None:
        at_least(self, 1, "max_length")
        at_least(self, 0, "freeze_layers")
        choice(self, "init", get_args(Init))
        choice(self, "init_map", get_args(InitMap))
        if (self.init == "mapped") != bool(self.init_from) or (self.init == "mapped" and not self.tokenizer):
            raise InputError("--init mapped and --init-from MODEL go together, with --tokenizer")
        if self.prompt is not None and self.prompt_name is not None:
            raise InputError("give --prompt or --prompt-name, not both")
        if self.trim_vocab and not self.tokenizer:
            raise InputError("--trim-vocab trims the vocabulary of --tokenizer; give --tokenizer too")


@dataclass(frozen=True)
class DataConfig:
    """The training pairs and how batches mix them."""

    pairs: tuple[str, ...] = ()  # cross-language src<TAB>tgt files, languages from xxx-yyy.tsv
    mono_pairs: tuple[str, ...] = ()  # same-language anchor<TAB>positive files (deu.tsv)
    multiway: str | None = None  # a FLORES-style folder (<lang>.txt): pairs of every language to --pivot
    mine_from: str | None = None  # a folder of unaligned <lang>.txt: pairs mined to --pivot (MineConfig)
    langs: tuple[str, ...] = ()  # the --multiway languages to read (default: all)
    pivot: str | None = None  # --multiway: the language every other is paired with (and priority first)
    all_pairs: bool = False  # --multiway: every language pair, not only those with the pivot
    holdout_rows: float = 0.0  # --multiway: seeded share of rows kept out of training (0 = none)
    sampling_alpha: float | None = None  # language pairs drawn with p ∝ n^alpha (None: one flat shuffle)
    language_block: int = 1  # with sampling_alpha: consecutive pairs drawn from one language pair
    cross_lingual_fraction: float = 1.0  # share of cross-language pairs per batch, in [0, 1]

    def __post_init__(self) -> None:
        tuples(self, "pairs", "mono_pairs", "langs")
        r = self.cross_lingual_fraction
        if not (math.isfinite(r) and 0 <= r <= 1):
            raise InputError(f"--cross-lingual-fraction must be in [0, 1], got {r:g}")
        if not 0.0 <= self.holdout_rows < 1.0:
            raise InputError(
                f"--holdout-rows must be in [0, 1) (0: none held out), got {self.holdout_rows:g}"
            )
        if (self.langs or self.all_pairs or self.holdout_rows) and not self.multiway:
            raise InputError(
                "--langs, --all-pairs and --holdout-rows describe --multiway; give --multiway too"
            )
        if self.pivot and not (self.multiway or self.mine_from):
            raise InputError("--pivot is the language --multiway or --mine-from pairs with; give one of them")
        if self.mine_from and not self.pivot:
            raise InputError(
                "--mine-from needs --pivot LANG (its file is what every language is mined against)"
            )
        check_language_block(self.language_block, self.sampling_alpha)
        if self.multiway and not self.pivot and not self.all_pairs:
            raise InputError("--multiway needs --pivot LANG (pairs to it) or --all-pairs")
        if self.langs and self.pivot and self.pivot not in self.langs:
            raise InputError(
                f"--pivot {self.pivot} is not among --langs ({', '.join(self.langs)}): add it to --langs"
            )


@dataclass(frozen=True)
class ObjectiveConfig:
    """The loss and its frozen teacher (:mod:`langgap.training.objective` builds the loss)."""

    FLAT: ClassVar[dict[str, str]] = {"kind": "objective"}

    kind: Objective = "infonce"  # --objective: infonce | soft (Park et al. 2024) | mse (Reimers & Gurevych)
    labels: Labels = "priority"  # soft labels from the priority side, or the average of both
    teacher: str = SAME  # SAME = frozen copy of the starting model, or an HF id / path
    teacher_prompt: str | None = None  # None: SAME -> the student's prompt; others -> their 'query'
    tcm_weight: float = 0.0  # weight of the monolingual TCM terms of the soft loss (0 = off)
    temperature: float = 0.05  # student logits: cosine / temperature
    teacher_temperature: float = 0.05  # soft labels' own temperature (Park et al. use 0.1)
    margin: float = 0.0  # additive margin on positives (LaBSE uses 0.3)
    priority: tuple[str, ...] = ()  # language order for priority labels / MSE source side;
    # languages not listed follow, by number of distinct sentences (most first)
    gather: bool = True  # in-batch negatives from all processes (no effect on one process)
    preserve: float = 0.0  # weight of the same-language relational term against the starting model

    def __post_init__(self) -> None:
        tuples(self, "priority")
        non_negative(self, "preserve")
        if self.preserve and self.teacher != SAME:
            raise InputError(
                "--preserve holds same-language similarities to the starting model's: it needs "
                f"--teacher SAME, not {self.teacher!r}"
            )
        choice(self, "kind", get_args(Objective))
        choice(self, "labels", get_args(Labels))
        positive(self, "temperature", "teacher_temperature")
        non_negative(self, "tcm_weight", "margin")
        if not self.teacher:
            raise InputError("--teacher must be SAME or a model id / path")


@dataclass(frozen=True)
class OptimConfig:
    """Steps, batches, AdamW and its schedule, precision, seeds, and how a batch is embedded."""

    epochs: int = 1  # passes over the primary pairs (see BatchComposer)
    max_steps: int | None = None  # optimizer steps; overrides epochs
    batch_size: int = 32  # pairs per batch over all processes (the in-batch negatives)
    grad_accum: int = 1  # batches per optimizer step (gradients summed; negatives stay per batch)
    lr: float = 2e-5  # peak AdamW learning rate
    warmup_ratio: float = 0.1  # share of steps of linear warm-up, then linear decay to 0
    weight_decay: float = 0.01  # AdamW, not on biases and norms
    max_grad_norm: float = 1.0  # gradient clipping (0 = off)
    mixed_precision: MixedPrecision = "auto"  # auto: bf16 / fp16 where the GPU has it, "no" on a CPU
    seed: int = 0  # batches, held-out rows, probe sentences and per-step dropout seeds
    cache_chunk: int = 0  # GradCache mini-batch size, texts per forward (0 = off)
    length_buckets: int = 2  # forwards per batch, texts sorted by length (1 = one; 24% faster on FLORES
    # pairs, docs/benchmarks.md); one forward below 2 texts per bucket; no effect with cache_chunk

    def __post_init__(self) -> None:
        choice(self, "mixed_precision", get_args(MixedPrecision))
        at_least(self, 1, "epochs", "grad_accum", "length_buckets")
        at_least(self, 2, "batch_size")
        at_least(self, 0, "cache_chunk", "seed")
        if self.max_steps is not None and self.max_steps < 1:
            raise InputError(f"--max-steps must be >= 1, got {self.max_steps}")
        positive(self, "lr")
        non_negative(self, "weight_decay", "max_grad_norm")
        if not 0 <= self.warmup_ratio < 1:
            raise InputError(f"--warmup-ratio must be in [0, 1), got {self.warmup_ratio}")


GUARD_STS_WARN = 0.01  # --guard-sts-warn's default (its check tells "not given" by it)


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation during training and the guards that watch it."""

    eval_bitext: tuple[str, ...] = ()  # bitext TSVs scored with langgap's metrics
    eval_sts: tuple[str, ...] = ()  # STS TSVs scored with langgap's metrics
    english_guard: str | None = None  # English STS (score, s1, s2) or paraphrase (a, b) file
    guard_threshold: float = 0.02  # warn when the guard falls by more than this vs the start
    collapse_threshold: float = 0.98  # stop when 64 probe sentences' mean cosine reaches this
    eval_every: int = 0  # steps between evaluations (0: only before training and at the end)
    guard_sts: tuple[str, ...] = ()  # same-language STS files (ar-ar, es-es, ...): each language's own guard
    guard_sts_warn: float = GUARD_STS_WARN  # flag a guard whose Spearman falls by more than this vs the start
    guard_sts_stop: float | None = None  # stop training when one falls by more than this (None: never)

    def __post_init__(self) -> None:
        tuples(self, "eval_bitext", "eval_sts", "guard_sts")
        non_negative(self, "guard_threshold", "guard_sts_warn")
        if self.guard_sts_stop is not None and not self.guard_sts_stop > 0:
            raise InputError(f"--guard-sts-stop must be > 0, got {self.guard_sts_stop:g}")
        if (self.guard_sts_stop is not None or self.guard_sts_warn != GUARD_STS_WARN) and not self.guard_sts:
            raise InputError("--guard-sts-warn and --guard-sts-stop need --guard-sts FILE")
        at_least(self, 0, "eval_every")
        if not 0.0 < self.collapse_threshold <= 1.0:
            raise InputError(f"--collapse-threshold must be in (0, 1], got {self.collapse_threshold:g}")


@dataclass(frozen=True)
class OutputConfig:
    """Where the run goes: its folder, checkpoints, a tracker, the recipe it is recorded under, and
    how far the saved model moves from its starting weights (``interpolate``)."""

    out: str = "runs/train"  # run folder: model/, checkpoints/, logs, config.json
    save_every: int = 500  # steps between checkpoints (0 = none); the last 2 are kept
    report_to: ReportTo | None = None  # an Accelerate tracker: tensorboard | wandb | mlflow | trackio
    recipe: str | None = None  # the recipe (name or file) these settings started from (recorded only)
    recipe_sha256: str | None = None  # the sha256 of that recipe's file (recorded only)
    interpolate: float = 1.0  # model/ = (1 - a) * starting + a * trained weights (WiSE-FT); 1: as trained

    def __post_init__(self) -> None:
        at_least(self, 0, "save_every")
        if not 0.0 <= self.interpolate <= 1.0:  # also refuses NaN
            raise InputError(
                f"--interpolate must be in [0, 1] (1: the trained weights), got {self.interpolate}"
            )
        if self.report_to not in (None, *get_args(ReportTo)):
            raise InputError(
                f"--report-to {self.report_to!r}: expected tensorboard, wandb, mlflow or trackio"
            )


PARTS = {
    "model": ModelConfig,
    "data": DataConfig,
    "objective": ObjectiveConfig,
    "optim": OptimConfig,
    "eval": EvalConfig,
    "output": OutputConfig,
    "mine": MineConfig,
}
LAYOUT = Layout(PARTS)


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on, in parts; written flat to ``<out>/config.json``.

    Build it from parts (``TrainConfig(objective=ObjectiveConfig(kind="soft"))``, the other parts
    default) or from flat settings (:meth:`from_flat`, the option names).
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    mine: MineConfig = field(default_factory=MineConfig)

    def __post_init__(self) -> None:
        for name, cls in PARTS.items():
            if not isinstance(getattr(self, name), cls):
                raise TypeError(f"TrainConfig.{name} must be a {cls.__name__}, got {getattr(self, name)!r}")
        if self.mine.used and not self.data.mine_from:
            raise InputError("--rounds and the --mine-* options describe --mine-from DIR; give it too")

    @classmethod
    def from_flat(cls, **settings: Any) -> TrainConfig:
        """Build from flat settings (the option names, ``-`` or ``_``): names and types checked,
        e.g. ``TrainConfig.from_flat(model="intfloat/multilingual-e5-small", objective="soft", lr=5e-5)``."""
        return cls._build(LAYOUT.check(settings, "config"))

    @classmethod
    def _build(cls, flat: dict[str, Any]) -> TrainConfig:
        parts = LAYOUT.split(flat)
        return cls(**{name: PARTS[name](**values) for name, values in parts.items()})

    @classmethod
    def from_sources(
        cls, toml_path: str | Path | None, overrides: dict[str, Any], recipe: str | Path | None = None
    ) -> TrainConfig:
        """A recipe's values (if any), then a TOML file's, then ``overrides`` (flat: the CLI options
        given, ``None`` = not given). Each source is checked on its own (its errors name its file);
        the values are checked together once merged."""
        values: dict[str, Any] = {}
        for source in (recipe, toml_path):
            if source is not None:
                values.update(read_settings(source))
        if recipe is not None:
            values["recipe_sha256"] = recipe_sha256(recipe)
        values.update(LAYOUT.check({k: v for k, v in overrides.items() if v is not None}, "options"))
        return cls._build(values)

    def replace(self, **settings: Any) -> TrainConfig:
        """A copy with some flat settings changed (checked as in :meth:`from_flat`)."""
        return self._build({**LAYOUT.check(self.to_json(), "config"), **LAYOUT.check(settings, "config")})

    def to_json(self) -> dict[str, Any]:
        """Flat ``{option name: value}`` (tuples as lists), the ``config`` of ``config.json``."""
        out: dict[str, Any] = {}
        for flat, (part, name) in LAYOUT.names.items():
            value = getattr(getattr(self, part), name)
            out[flat] = list(value) if isinstance(value, tuple) else value
        return out


def read_settings(path: str | Path) -> dict[str, Any]:
    """The flat settings of a TOML file (a recipe or ``--config``), names and types checked;
    errors name the file."""
    return LAYOUT.check(LAYOUT.flatten(read_toml(path), str(path)), str(path))


def resolve_mixed_precision(setting: str, *, cuda: bool, bf16: bool, cpu_bf16: bool = False) -> str:
    """``auto`` -> ``bf16`` on a GPU that supports it, else ``fp16`` on a GPU, else ``no``.

    On a CPU ``auto`` stays ``no``: bf16 autocast training has not been measured faster than fp32
    on a CPU with native bf16 yet (``bench/bench_train.py --variant bf16:mixed_precision=bf16`` measures it),
    and inference under CPU autocast was slower there. ``bf16`` on a CPU without native bf16
    (``cpu_bf16``) is refused: it is emulated, several times slower than fp32.
    """
    if setting == "bf16" and not cuda and not cpu_bf16:
        raise InputError(
            "--mixed-precision bf16: this CPU has no native bf16 (AVX512-BF16 or AMX-BF16), where "
            "bf16 trains far slower than fp32; use --mixed-precision no or auto"
        )
    if setting != "auto":
        return setting
    if not cuda:
        return "no"
    return "bf16" if bf16 else "fp16"
