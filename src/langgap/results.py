"""Results: typed values, written as ``results.json`` plus per-item arrays in ``items.npz``.

``results.json`` holds the schema version, the model (name, path, prompt, pooling,
dimension), package versions, every data file (path, sha256, rows) and per task its kind,
languages and metrics (fractions in [0, 1]). ``items.npz`` keeps the per-item outcomes
(``<task>/<key>`` arrays: which rows were retrieved correctly, per-pair cosines, ...) so that
later comparisons can resample.
"""

from __future__ import annotations

import io
import json
import math
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from langgap import atomic
from langgap.errors import InputError
from langgap.kinds import TaskKind

SCHEMA_VERSION = 1
RUN_FILES = ("results.json", "items.npz")  # what makes a folder a measure run
_PROVENANCE = ("langgap", "numpy", "scipy", "scikit-learn", "torch", "transformers", "sentence-transformers")


def package_versions() -> dict[str, str]:
    """Python and the installed versions of the packages that produce numbers (provenance)."""
    out = {"python": platform.python_version()}
    for pkg in _PROVENANCE:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def round_floats(x: Any, digits: int = 6) -> Any:
    """``x`` ready for JSON: floats rounded to ``digits`` (NaN/inf -> ``None``), numpy scalars as
    Python numbers, dicts and lists/tuples (as lists) converted recursively."""
    if isinstance(x, float | np.floating):
        x = float(x)
        return round(x, digits) if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: round_floats(v, digits) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [round_floats(v, digits) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    return x


@dataclass
class TaskResult:
    """One task's outcome.

    Attributes:
        name, kind, languages: what was measured.
        files: data files (``path``, ``sha256``, ``rows``).
        metrics: aggregate scores (fractions in [0, 1] unless the key says otherwise).
        main_score: the key in ``metrics`` that sums the task up; ``greater_is_better`` its sense.
        per_pair: ``{"a-b": {metric: value}}`` for multi-language tasks.
        per_language: ``{lang: {metric: value}}``.
        notes: free-text facts for reports (e.g. which projection was used).
        items: per-item arrays, written to ``items.npz`` (not to JSON).
    """

    name: str
    kind: TaskKind
    languages: list[str]
    files: list[dict[str, Any]]
    metrics: dict[str, float]
    main_score: str
    greater_is_better: bool = True
    per_pair: dict[str, dict[str, float]] = field(default_factory=dict)
    per_language: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    items: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        try:
            self.kind = TaskKind(self.kind)
        except ValueError:
            kinds = ", ".join(k.value for k in TaskKind)
            raise InputError(
                f"task {self.name!r}: unknown kind {self.kind!r}; expected one of {kinds}"
            ) from None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("items")
        d["kind"] = self.kind.value
        return round_floats(d)

    def pair_items(self, key: str) -> dict[str, np.ndarray]:
        """``{language pair: per-item array}`` of ``key``: one entry per pair of a multi-language
        task (``items["<pair>/<key>"]``), else the task's own ``items[key]`` under ``"a-b"``."""
        if self.kind.multilingual:
            return {p: self.items[f"{p}/{key}"] for p in self.per_pair if f"{p}/{key}" in self.items}
        return {"-".join(self.languages): self.items[key]} if key in self.items else {}


@dataclass
class Results:
    """Everything one ``measure`` run produced."""

    model: dict[str, Any]
    tasks: list[TaskResult]
    summary: dict[str, float]
    config: dict[str, Any]
    versions: dict[str, str]
    timing: dict[str, float]
    encoding: dict[str, int]
    created: str
    schema_version: int = SCHEMA_VERSION
    # tokenizer coverage per language (langgap.tokens.coverage_report), or {"skipped": why}
    coverage: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for t in self.tasks:
            for f in t.files:
                seen.setdefault(f["path"], f)
        return list(seen.values())

    def task(self, name: str) -> TaskResult:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "created": self.created,
            "model": round_floats(self.model),
            "versions": self.versions,
            "config": round_floats(self.config),
            "data": self.data,
            "summary": round_floats(self.summary),
            "timing_s": round_floats(self.timing, 3),
            "encoding": self.encoding,
            "tasks": [t.to_json() for t in self.tasks],
            "coverage": round_floats(self.coverage),
        }

    def save(self, out_dir: str | Path) -> Path:
        """Write ``results.json`` and ``items.npz`` as the run folder ``out_dir``.

        The folder is replaced as a whole, in one step (:func:`langgap.atomic.staged_dir`): files
        of an earlier run there (its report, figures) are gone, and a failure on the way leaves
        the earlier run intact. A non-empty folder that is not a measure run is refused.
        """
        out = atomic.check_out_dir(out_dir, RUN_FILES, "langgap measure run (results.json)")
        with atomic.staged_dir(out) as tmp:
            self.write_into(tmp)
        return out / "results.json"

    def write_into(self, folder: str | Path) -> None:
        """Write ``items.npz`` and ``results.json`` into an existing ``folder`` (each file atomically;
        :meth:`save` and the CLI call it inside a staged folder)."""
        folder = Path(folder)
        items = {f"{t.name}/{k}": v for t in self.tasks for k, v in t.items.items()}
        buf = io.BytesIO()
        np.savez_compressed(buf, **items)  # type: ignore[arg-type]
        atomic.write_bytes(folder / "items.npz", buf.getvalue())
        atomic.write_text(
            folder / "results.json", json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        )


def load_results(path: str | Path) -> Results:
    """Read a run directory (or its ``results.json``) back, with its per-item arrays."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise InputError(f"{p}: no results.json (is this a langgap run directory?)")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{p}:{e.lineno}: not valid JSON ({e.msg})") from None
    if d.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            f"{p}: schema version {d.get('schema_version')!r}, this langgap reads {SCHEMA_VERSION}"
        )
    items: dict[str, np.ndarray] = {}
    if (p.parent / "items.npz").is_file():
        with np.load(p.parent / "items.npz", allow_pickle=False) as z:
            items = {k: z[k] for k in z.files}
    tasks = []
    for t in d["tasks"]:
        prefix = t["name"] + "/"
        t_items = {k[len(prefix) :]: v for k, v in items.items() if k.startswith(prefix)}
        tasks.append(TaskResult(**t, items=t_items))
    return Results(
        model=d["model"],
        tasks=tasks,
        summary=d["summary"],
        config=d["config"],
        versions=d["versions"],
        timing=d.get("timing_s", {}),
        encoding=d.get("encoding", {}),
        created=d["created"],
        schema_version=d["schema_version"],
        coverage=d.get("coverage", {}),
    )
