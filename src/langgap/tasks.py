"""Task declarations and the registry of built-in tasks.

A :class:`Task` is a frozen declaration (what data, which kind); :meth:`Task.load` reads and
validates the data. Built-in tasks live in a registry that refuses duplicates and answers a
typo with "did you mean".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from langgap.data.corpora import Bitext, MultiWay, Sample, STSSet
from langgap.errors import InputError, did_you_mean

TaskKind = Literal["bitext", "multiway", "sts", "sample"]
Corpus = Bitext | MultiWay | STSSet | Sample


@dataclass(frozen=True)
class Task:
    """What to measure.

    Attributes:
        name: unique within a run, e.g. ``bitext:deu-eng``.
        kind: ``bitext`` | ``multiway`` | ``sts`` | ``sample``.
        path: data file or folder (``None``: the built-in sample).
        languages: for bitext/STS the two languages (default: from the file name); for
            multi-way the languages to read (default: all files).
        description: one line for reports.
    """

    name: str
    kind: TaskKind
    path: str | None = None
    languages: tuple[str, ...] | None = None
    description: str = ""

    def load(self) -> Corpus:
        """Read and validate the data (raises :class:`InputError` on bad input)."""
        from langgap.data import load_sample, read_bitext, read_multiway, read_sts

        if self.kind == "sample":
            return load_sample(self.path)
        assert self.path is not None
        if self.kind == "bitext":
            return read_bitext(self.path, self.languages)
        if self.kind == "sts":
            return read_sts(self.path, self.languages)
        return read_multiway(self.path, self.languages)


def _langs(spec: str | None) -> tuple[str, ...] | None:
    return tuple(x.strip() for x in spec.split(",")) if spec else None


def bitext_task(path: str | Path, langs: str | None = None) -> Task:
    """A bitext mining task on ``src<TAB>tgt`` file ``path`` (langs ``"deu,eng"`` optional)."""
    return Task(f"bitext:{Path(path).stem}", "bitext", str(path), _langs(langs))


def sts_task(path: str | Path, langs: str | None = None) -> Task:
    """An STS task on ``score<TAB>s1<TAB>s2`` file ``path``."""
    return Task(f"sts:{Path(path).stem}", "sts", str(path), _langs(langs))


def multiway_task(path: str | Path, langs: str | None = None) -> Task:
    """A multi-way task on a folder of ``<lang>.txt`` files (langs ``"eng_Latn,deu_Latn"``)."""
    return Task(f"multiway:{Path(path).name}", "multiway", str(path), _langs(langs))


def sample_task() -> Task:
    """The built-in sample (10 languages, anchor/positive pairs)."""
    return get_task("sample")


_REGISTRY: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a built-in task; a second task of the same name is an error."""
    if task.name in _REGISTRY:
        raise ValueError(f"task {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


def get_task(name: str) -> Task:
    """A registered task by name, with "did you mean" on a typo."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(
            f"unknown task {name!r}{did_you_mean(name, _REGISTRY)}; known: {sorted(_REGISTRY)}"
        ) from None


def list_tasks() -> list[Task]:
    return list(_REGISTRY.values())


def unique_names(tasks: list[Task]) -> list[Task]:
    """Make task names unique within a run by suffixing ``#2``, ``#3`` ... to repeats."""
    seen: dict[str, int] = {}
    out = []
    for t in tasks:
        seen[t.name] = seen.get(t.name, 0) + 1
        if seen[t.name] > 1:
            t = Task(f"{t.name}#{seen[t.name]}", t.kind, t.path, t.languages, t.description)
        out.append(t)
    return out


register(
    Task(
        "sample",
        "sample",
        None,
        None,
        "built-in anchor/positive pairs in 10 languages, written by the langgap team",
    )
)
