"""Training configuration: one frozen dataclass with commented defaults, optional TOML, CLI on top.

``TrainConfig.from_sources(toml_path, overrides)`` reads a TOML file (keys are the field names,
``-`` or ``_``; relative paths are relative to the working directory) and applies the options
given on the command line over it. Every value is checked here, so a bad one fails before any
data or model is loaded, with a message naming the option.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from langgap.encoders.st import DEFAULT_MODEL
from langgap.errors import InputError, did_you_mean

Objective = Literal["infonce", "soft", "mse"]
Labels = Literal["priority", "average"]
MixedPrecision = Literal["auto", "no", "fp16", "bf16"]
SAME = "SAME"  # teacher = a frozen copy of the starting model

_CHOICES: dict[str, tuple[str, ...]] = {
    "objective": get_args(Objective),
    "labels": get_args(Labels),
    "mixed_precision": get_args(MixedPrecision),
}
_TUPLES = ("pairs", "mono_pairs", "eval_bitext", "eval_sts", "priority", "langs")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; written resolved to ``<out>/config.json``."""

    # -- model ---------------------------------------------------------------------------------
    model: str = DEFAULT_MODEL  # HF id or local path; offline copies found by resolve_model
    prompt: str | None = None  # literal prefix; None: the model's 'query' prompt if any, else none
    prompt_name: str | None = None  # one of the model's configured prompts instead of --prompt
    max_length: int = 64  # tokens per text, prompt included
    freeze_embeddings: bool = False  # keep the (large, multilingual) word-embedding matrix fixed
    freeze_layers: int = 0  # bottom N transformer layers and the input embeddings fixed: no backward
    tokenizer: str | None = None  # another tokenizer for the student (vocabulary transplant, FVT)
    trim_vocab: bool = False  # with --tokenizer: keep only the tokens of the training/eval texts
    # -- data ----------------------------------------------------------------------------------
    pairs: tuple[str, ...] = ()  # cross-language src<TAB>tgt files, languages from xxx-yyy.tsv
    mono_pairs: tuple[str, ...] = ()  # same-language anchor<TAB>positive files (deu.tsv)
    multiway: str | None = None  # a FLORES-style folder (<lang>.txt): pairs of every language to --pivot
    langs: tuple[str, ...] = ()  # the --multiway languages to read (default: all)
    pivot: str | None = None  # --multiway: the language every other is paired with (and priority first)
    all_pairs: bool = False  # --multiway: every language pair, not only those with the pivot
    holdout_rows: float = 0.0  # --multiway: seeded share of rows kept out of training (0 = none)
    sampling_alpha: float | None = None  # language pairs drawn with p ∝ n^alpha (None: one flat shuffle)
    cross_lingual_fraction: float = 1.0  # share of cross-language pairs per batch, in [0, 1]
    # -- objective -----------------------------------------------------------------------------
    objective: Objective = "infonce"  # infonce | soft (Park et al. 2024) | mse (Reimers & Gurevych)
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
    cache_chunk: int = 0  # GradCache mini-batch size, texts per forward (0 = off)
    length_buckets: int = 2  # forwards per batch, texts sorted by token length (less padding; 1 = one;
    # FLORES-length pairs on 2 CPU cores: 24% faster at the same loss, docs/benchmarks.md; one forward below 2 texts per bucket;
    # no effect with cache_chunk, whose chunks are its forwards)
    # -- optimisation --------------------------------------------------------------------------
    epochs: int = 1  # passes over the primary pairs (see BatchComposer)
    max_steps: int | None = None  # optimizer steps; overrides epochs
    batch_size: int = 32  # pairs per batch over all processes (the in-batch negatives)
    grad_accum: int = 1  # batches per optimizer step (gradients summed; negatives stay per batch)
    lr: float = 2e-5  # peak AdamW learning rate
    warmup_ratio: float = 0.1  # share of steps of linear warm-up, then linear decay to 0
    weight_decay: float = 0.01  # AdamW, not on biases and norms
    max_grad_norm: float = 1.0  # gradient clipping (0 = off)
    mixed_precision: MixedPrecision = "auto"  # auto: bf16 / fp16 where the GPU has it, "no" on a CPU
    seed: int = 0  # batches and per-step dropout seeds
    # -- evaluation ----------------------------------------------------------------------------
    eval_bitext: tuple[str, ...] = ()  # bitext TSVs scored with langgap's metrics
    eval_sts: tuple[str, ...] = ()  # STS TSVs scored with langgap's metrics
    english_guard: str | None = None  # English STS (score, s1, s2) or paraphrase (a, b) file
    guard_threshold: float = 0.02  # warn when the guard falls by more than this vs the start
    collapse_threshold: float = 0.98  # stop when 64 probe sentences' mean cosine reaches this
    report_to: str | None = None  # an Accelerate tracker: tensorboard | wandb | mlflow | trackio
    eval_every: int = 0  # steps between evaluations (0: only before training and at the end)
    # -- output --------------------------------------------------------------------------------
    out: str = "runs/train"  # run folder: model/, checkpoints/, logs, config.json
    save_every: int = 500  # steps between checkpoints (0 = none); the last 2 are kept
    recipe: str | None = None  # the shipped recipe these settings started from (recorded only)

    def __post_init__(self) -> None:
        for name in _TUPLES:
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(str(v) for v in value))
        for name, choices in _CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise InputError(
                    f"unknown --{name.replace('_', '-')} {value!r}{did_you_mean(str(value), choices)}; "
                    f"expected one of: {', '.join(choices)}"
                )
        r = self.cross_lingual_fraction
        if not (math.isfinite(r) and 0 <= r <= 1):
            raise InputError(f"--cross-lingual-fraction must be in [0, 1], got {r:g}")
        _at_least(self, 1, "max_length", "epochs", "grad_accum", "length_buckets")
        _at_least(self, 2, "batch_size")
        _at_least(self, 0, "cache_chunk", "eval_every", "save_every", "seed", "freeze_layers")
        if self.max_steps is not None and self.max_steps < 1:
            raise InputError(f"--max-steps must be >= 1, got {self.max_steps}")
        for name in ("temperature", "teacher_temperature", "lr"):
            if not getattr(self, name) > 0:
                raise InputError(f"--{name.replace('_', '-')} must be > 0, got {getattr(self, name)}")
        for name in ("tcm_weight", "margin", "weight_decay", "max_grad_norm", "guard_threshold"):
            if not getattr(self, name) >= 0:
                raise InputError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.warmup_ratio < 1:
            raise InputError(f"--warmup-ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.prompt is not None and self.prompt_name is not None:
            raise InputError("give --prompt or --prompt-name, not both")
        if not self.teacher:
            raise InputError("--teacher must be SAME or a model id / path")
        if not 0.0 <= self.holdout_rows < 1.0:
            raise InputError(f"--holdout-rows must be in (0, 1), got {self.holdout_rows:g}")
        if (self.langs or self.pivot or self.all_pairs or self.holdout_rows) and not self.multiway:
            raise InputError(
                "--langs, --pivot, --all-pairs and --holdout-rows describe --multiway; give --multiway too"
            )
        if self.multiway and not self.pivot and not self.all_pairs:
            raise InputError("--multiway needs --pivot LANG (pairs to it) or --all-pairs")
        if not 0.0 < self.collapse_threshold <= 1.0:
            raise InputError(f"--collapse-threshold must be in (0, 1], got {self.collapse_threshold:g}")
        if self.report_to not in (None, "tensorboard", "wandb", "mlflow", "trackio"):
            raise InputError(
                f"--report-to {self.report_to!r}: expected tensorboard, wandb, mlflow or trackio"
            )
        if self.trim_vocab and not self.tokenizer:
            raise InputError("--trim-vocab trims the vocabulary of --tokenizer; give --tokenizer too")

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, where: str = "config") -> TrainConfig:
        """Build from ``{field: value}`` (keys may use ``-``), checking names and basic types."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in fields:
                raise InputError(f"{where}: unknown setting {key!r}{did_you_mean(name, fields)}")
            kwargs[name] = _coerce(name, str(fields[name].type), value, where)
        return cls(**kwargs)

    @classmethod
    def from_sources(
        cls, toml_path: str | Path | None, overrides: dict[str, Any], recipe: str | Path | None = None
    ) -> TrainConfig:
        """A recipe's values (if any), then a TOML file's, then ``overrides`` (CLI options given,
        ``None`` = not given)."""
        values: dict[str, Any] = {}
        for source in (recipe, toml_path):
            if source is not None:
                values.update(cls.from_dict(read_toml(source), where=str(source)).given(read_toml(source)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values, where=str(toml_path or recipe or "config"))

    @staticmethod
    def given(values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with ``-`` in keys made ``_`` (checked by :meth:`from_dict` before)."""
        return {k.replace("-", "_"): v for k, v in values.items()}

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


def read_toml(path: str | Path) -> dict[str, Any]:
    """The settings of a TOML file: top level, or a ``[train]`` table."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10; tomllib is in the standard library from 3.11
        raise InputError("--config needs Python >= 3.11 (tomllib)") from None
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: invalid TOML: {e}") from None
    table = data.get("train", data)
    if not isinstance(table, dict):
        raise InputError(f"{path}: [train] must be a table")
    return dict(table)


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


def _at_least(cfg: TrainConfig, low: int, *names: str) -> None:
    for name in names:
        if getattr(cfg, name) < low:
            raise InputError(f"--{name.replace('_', '-')} must be >= {low}, got {getattr(cfg, name)}")


def _coerce(name: str, kind: str, value: Any, where: str) -> Any:
    """Check a value's type against the field's annotation (a string, as annotations are lazy)."""
    bad = InputError(f"{where}: {name} = {value!r} is not a valid {kind}")
    if value is None:
        if "None" not in kind:
            raise bad
        return None
    kind = kind.removesuffix(" | None")
    if name in _TUPLES:
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad
        return tuple(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if kind.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        return float(value)
    if not isinstance(value, str):
        raise bad
    return value
