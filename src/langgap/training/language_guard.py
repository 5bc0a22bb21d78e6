"""Same-language STS guards: every language's own similarity watched while the gap closes.

Closing the gap moves each language's own geometry too: experiment e's recipe took STS17
ar-ar from 0.739 to 0.663, a loss the English guard cannot see. ``--guard-sts`` takes
same-language STS files (``score<TAB>s1<TAB>s2``, both sentences in one language: STS17 ar-ar,
es-es, KorSTS, STS-B translations; ``ar,ar=PATH`` names the language). At every evaluation
each file's Spearman ρ is compared with its value before training: a fall of more than
``--guard-sts-warn`` is flagged (record, terminal, model card); a fall of more than
``--guard-sts-stop`` stops training with :class:`LanguageGuardStopped`, naming the last
checkpoint saved while every guard held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langgap.data.corpora import STSSet
from langgap.data.readers import split_spec
from langgap.errors import InputError
from langgap.measuring import load_tasks, measure
from langgap.tasks import sts_task
from langgap.types import Encoder


class LanguageGuardStopped(RuntimeError):
    """A same-language STS guard fell by more than ``--guard-sts-stop``; training stopped."""


@dataclass
class LanguageGuards:
    """The same-language STS files and their values before training.

    Args:
        specs: ``PATH`` or ``lang,lang=PATH`` of same-language STS files (or tables).
        warn: the fall in Spearman ρ from the start that is flagged.
        stop: the fall that stops training (``None``: never).
    """

    specs: Sequence[str] = ()
    warn: float = 0.01
    stop: float | None = None
    baselines: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.loaded = load_tasks([sts_task(p, lg) for lg, p in map(split_spec, self.specs)])
        for task, corpus in self.loaded:
            assert isinstance(corpus, STSSet)
            if corpus.cross_lingual:
                raise InputError(
                    f"--guard-sts {task.path}: a same-language STS file guards one language, this one "
                    f"pairs {corpus.lang1} with {corpus.lang2} (give it to --eval-sts)"
                )

    def __bool__(self) -> bool:
        return bool(self.loaded)

    def texts(self) -> dict[str, list[str]]:
        """Every guard text per file (the training/evaluation overlap check)."""
        return {corpus.source: corpus.all_texts() for _, corpus in self.loaded}

    def check(self, encoder: Encoder) -> dict[str, dict[str, Any]]:
        """Each file's ρ now against its first value (which this call records if new):
        ``{task: {language, value, baseline, drop, warning, stop}}``."""
        if not self.loaded:
            return {}
        res = measure(encoder, self.loaded, projection_points=0)
        out: dict[str, dict[str, Any]] = {}
        for (task, corpus), result in zip(self.loaded, res.tasks, strict=True):
            assert isinstance(corpus, STSSet)
            value = float(result.metrics["spearman"])
            base = self.baselines.setdefault(task.name, value)
            drop = base - value
            out[task.name] = {
                "language": corpus.lang1,
                "value": value,
                "baseline": base,
                "drop": drop,
                "warning": drop > self.warn,
                "stop": self.stop is not None and drop > self.stop,
            }
        return out


def stopped_by(guards: dict[str, dict[str, Any]]) -> list[str]:
    """The guards of one evaluation record that stop training, as ``name (lang) -0.0123``."""
    return [f"{name} ({g['language']}) fell by {g['drop']:.4f}" for name, g in guards.items() if g["stop"]]
