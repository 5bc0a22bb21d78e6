"""Evaluation during training: langgap's own metrics on the student, plus the English guard.

:class:`StudentEncoder` puts the model being trained behind the
:class:`~langgap.types.Encoder` protocol (eval mode and no gradient while it encodes, back to
train mode after); :class:`Evaluator` runs :func:`langgap.measuring.measure` on it with the
``--eval-bitext`` / ``--eval-sts`` data (read and validated before training starts) and
returns one JSON-ready record per evaluation. Embeddings are never cached on disk: the
student's weights change between evaluations.

English guard
    A file in English, either STS (``score<TAB>s1<TAB>s2``, scored by Spearman) or paraphrase
    pairs (``a<TAB>b``, scored by ``cosine_gap``: mean paraphrase cosine minus mean cosine of
    non-paraphrases, which, unlike the raw cosine, a collapsing space does not improve). Its
    value before training is the baseline; a drop of more than ``threshold`` is logged as a
    warning and marked in the record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from langgap.data.corpora import Corpus
from langgap.data.readers import read_lines, split_spec
from langgap.encoders.precision import resolve_precision
from langgap.encoders.st import encode_live, inference_copy
from langgap.errors import InputError
from langgap.kinds import TaskKind
from langgap.measuring import load_tasks, measure
from langgap.tasks import Task, bitext_task, sts_task
from langgap.training.config import EvalConfig
from langgap.training.guards import CollapseGuard
from langgap.training.language_guard import LanguageGuards

log = logging.getLogger(__name__)


class StudentEncoder:
    """The student (a ``SentenceTransformer``) as an encoder, with the training prompt.

    ``precision`` (``auto`` by default) is the inference precision of ``langgap measure``
    (:mod:`langgap.encoders.precision`): on a CPU with native bf16 the evaluation runs on a bf16
    copy of the student, made once per encoder (one evaluation), while training keeps fp32.
    """

    def __init__(self, model: Any, prompt: str, batch_size: int = 64, precision: str = "auto") -> None:
        self.model, self.prompt, self.batch_size = model, prompt, batch_size
        self.precision = resolve_precision(precision, model.device)
        self._runs: Any = None  # the model the forward passes run on (a cast copy or the model)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._runs is None:
            self._runs = inference_copy(self.model, self.precision)
        return encode_live(self._runs, texts, self.prompt, self.batch_size, self.precision)

    def describe(self) -> dict[str, Any]:
        return {"kind": "student", "prompt": self.prompt, "precision": self.precision}


def guard_task(path: str) -> tuple[Task, str]:
    """The English guard as a task and the metric it is judged by, from the file's first line."""
    lines, _ = read_lines(path)
    fields = lines[0].split("\t")
    name = f"guard:{Path(path).stem}"
    if len(fields) == 3:
        return Task(name, TaskKind.STS, path, ("en", "en")), "spearman"
    if len(fields) == 2:
        return Task(name, TaskKind.BITEXT, path, ("en", "en")), "cosine_gap"
    raise InputError(
        f"{path}:1: the English guard needs an STS file (score<TAB>s1<TAB>s2) or paraphrase pairs "
        f"(a<TAB>b), got {len(fields)} tab-separated fields"
    )


class Evaluator:
    """Scores a student on fixed evaluation data; see the module docstring.

    Args:
        bitext: bitext TSV paths (``deu,eng=PATH`` to give the languages).
        sts: STS TSV paths (``en,de=PATH`` likewise).
        english_guard: English STS or paraphrase file, or ``None``.
        threshold: the guard's allowed drop from its value before training.
    """

    def __init__(
        self,
        bitext: Sequence[str] = (),
        sts: Sequence[str] = (),
        english_guard: str | None = None,
        threshold: float = 0.02,
        collapse: CollapseGuard | None = None,
        language_guards: LanguageGuards | None = None,
    ) -> None:
        tasks = [bitext_task(p, lg) for lg, p in map(split_spec, bitext)]
        tasks += [sts_task(p, lg) for lg, p in map(split_spec, sts)]
        self.tasks: list[tuple[Task, Corpus]] = load_tasks(tasks)
        self.guard: tuple[Task, Corpus] | None = None
        self.guard_metric = ""
        if english_guard is not None:
            task, self.guard_metric = guard_task(english_guard)
            self.guard = load_tasks([task])[0]
        self.threshold = threshold
        self.baseline: float | None = None
        self.collapse = collapse
        self.language_guards = language_guards or LanguageGuards()

    def __bool__(self) -> bool:
        return (
            bool(self.tasks)
            or self.guard is not None
            or self.collapse is not None
            or bool(self.language_guards)
        )

    def texts(self) -> dict[str, list[str]]:
        """Every evaluation text, per file (both columns), for the training/evaluation overlap check."""
        pairs = self.tasks + ([self.guard] if self.guard is not None else [])
        return {corpus.source: corpus.all_texts() for _, corpus in pairs} | self.language_guards.texts()

    def guard_value(self, encoder: StudentEncoder) -> float | None:
        if self.guard is None:
            return None
        res = measure(encoder, [self.guard], projection_points=0)
        return float(res.tasks[0].metrics[self.guard_metric])

    def run(self, encoder: StudentEncoder, step: int) -> dict[str, Any]:
        """Evaluate now; the first guard value seen becomes the baseline. Returns the record."""
        t0 = time.perf_counter()
        record: dict[str, Any] = {"step": step, "precision": encoder.precision}
        if self.tasks:
            res = measure(encoder, self.tasks, projection_points=0)
            record["summary"] = res.summary
            record["tasks"] = {t.name: {"main_score": t.main_score, **t.metrics} for t in res.tasks}
        value = self.guard_value(encoder)
        if value is not None:
            if self.baseline is None:
                self.baseline = value
            drop = self.baseline - value
            warn = drop > self.threshold
            assert self.guard is not None
            record["english_guard"] = {
                "task": self.guard[0].name,
                "metric": self.guard_metric,
                "value": value,
                "baseline": self.baseline,
                "drop": drop,
                "threshold": self.threshold,
                "warning": warn,
            }
            if warn:
                log.warning(
                    "English guard: %s on %s fell by %.4f (%.4f -> %.4f) at step %d, more than %g",
                    self.guard_metric,
                    self.guard[0].path,
                    drop,
                    self.baseline,
                    value,
                    step,
                    self.threshold,
                )
        if self.language_guards:
            record["language_guards"] = guards = self.language_guards.check(encoder)
            for name, g in guards.items():
                if g["warning"]:
                    fell = (g["language"], name, g["drop"], g["baseline"], g["value"], step)
                    log.warning("%s guard %s fell by %.4f (%.4f -> %.4f) at step %d", *fell)
        if self.collapse is not None:
            record["collapse"] = self.collapse.check(encoder)
        record["seconds"] = time.perf_counter() - t0
        return record


def build_evaluator(cfg: EvalConfig, probe: Sequence[str]) -> Evaluator:
    """The evaluator of ``cfg``, its collapse guard watching the ``probe`` sentences
    (:func:`~langgap.training.guards.probe_texts` of the training pairs)."""
    collapse = CollapseGuard(probe, cfg.collapse_threshold)
    languages = LanguageGuards(cfg.guard_sts, cfg.guard_sts_warn, cfg.guard_sts_stop)
    return Evaluator(
        cfg.eval_bitext, cfg.eval_sts, cfg.english_guard, cfg.guard_threshold, collapse, languages
    )
