"""Task declarations and the registry of built-in tasks.

A :class:`Task` is a frozen declaration (what data, which kind); :meth:`Task.load` reads and
validates the data. Built-in tasks live in a registry that refuses duplicates and answers a
typo with "did you mean".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from langgap.data import load_sample, read_bitext, read_mining, read_multiway, read_sts
from langgap.data.corpora import Corpus
from langgap.data.readers import mining_languages, split_spec
from langgap.data.sources import source_name, source_stem
from langgap.errors import InputError, did_you_mean
from langgap.kinds import TaskKind

# how each kind reads its data: loader(path, languages) -> corpus
LOADERS: dict[TaskKind, Callable[[str | None, tuple[str, ...] | None], Corpus]] = {
    TaskKind.SAMPLE: lambda path, langs: load_sample(path),
    TaskKind.BITEXT: lambda path, langs: read_bitext(str(path), langs),
    TaskKind.STS: lambda path, langs: read_sts(str(path), langs),
    TaskKind.MULTIWAY: lambda path, langs: read_multiway(str(path), langs),
    TaskKind.MINING: lambda path, langs: read_mining(str(path), langs),
}


@dataclass(frozen=True)
class Task:
    """What to measure.

    Attributes:
        name: unique within a run, e.g. ``bitext:deu-eng``.
        kind: a :class:`~langgap.kinds.TaskKind` (``bitext``, ``multiway``, ``sts``, ``sample``,
            ``mining``).
        path: data file or folder (``None``: the built-in sample); a table spec
            (``deu-eng.parquet#de,en``, ``saved@test``, ``hf:OWNER/NAME@test``, see
            :mod:`langgap.data.sources`); a mining set's folder or ``SRC,TGT,GOLD``.
        languages: for bitext/STS the two languages (default: from the file name); for
            multi-way the languages to read (default: all files).
        description: one line for reports.
    """

    name: str
    kind: TaskKind
    path: str | None = None
    languages: tuple[str, ...] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TaskKind(self.kind))

    def load(self) -> Corpus:
        """Read and validate the data (raises :class:`InputError` on bad input)."""
        return LOADERS[self.kind](self.path, self.languages)


def _langs(spec: str | None) -> tuple[str, ...] | None:
    return tuple(x.strip() for x in spec.split(",")) if spec else None


def bitext_task(path: str | Path, langs: str | None = None) -> Task:
    """A bitext mining task on ``src<TAB>tgt`` file ``path`` or a table (langs ``"deu,eng"`` optional)."""
    return Task(f"bitext:{source_stem(path)}", TaskKind.BITEXT, str(path), _langs(langs))


def sts_task(path: str | Path, langs: str | None = None) -> Task:
    """An STS task on ``score<TAB>s1<TAB>s2`` file ``path`` or a table."""
    return Task(f"sts:{source_stem(path)}", TaskKind.STS, str(path), _langs(langs))


def multiway_task(path: str | Path, langs: str | None = None) -> Task:
    """A multi-way task on a folder of ``<lang>.txt`` files or a table with one column per
    language (langs ``"eng_Latn,deu_Latn"``)."""
    return Task(f"multiway:{source_name(path)}", TaskKind.MULTIWAY, str(path), _langs(langs))


def mining_task(spec: str, langs: str | None = None) -> Task:
    """A BUCC-style mining task on a folder ``deu-eng/`` (``src.txt``, ``tgt.txt``, ``gold.tsv``)
    or on three files ``"SRC,TGT,GOLD"``, named by its languages (``mining:deu-eng``) however it
    is given, so that runs on the same set given either way are compared."""
    found = mining_languages(spec, _langs(langs))
    if found is not None:
        name = "-".join(found)
    else:  # reading it will say why its languages cannot be told
        parts = spec.split(",")
        name = Path(spec).name if len(parts) != 3 or Path(spec).is_dir() else Path(parts[2]).stem
    return Task(f"mining:{name}", TaskKind.MINING, spec, _langs(langs))


def build_tasks(
    *,
    sample: bool | None = None,
    bitext: Sequence[str] = (),
    multiway: Sequence[str] = (),
    langs: str | None = None,
    sts: Sequence[str] = (),
    mining: Sequence[str] = (),
) -> list[Task]:
    """The tasks of ``langgap measure``'s data options (``deu,eng=PATH`` specs allowed).

    ``sample``: include the built-in sample; ``None`` = only when no other data is given.
    """
    if langs and not multiway:
        raise InputError("--langs selects languages of a --multiway folder; give --multiway too")
    tasks = []
    if sample or (sample is None and not (bitext or multiway or sts or mining)):
        tasks.append(sample_task())
    tasks += [bitext_task(p, lg) for lg, p in map(split_spec, bitext)]
    tasks += [multiway_task(p, langs) for p in multiway]
    tasks += [sts_task(p, lg) for lg, p in map(split_spec, sts)]
    tasks += [mining_task(p, lg) for lg, p in map(split_spec, mining)]
    return tasks


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
        TaskKind.SAMPLE,
        None,
        None,
        "built-in anchor/positive pairs in 10 languages, written by the langgap team",
    )
)
