"""Search spaces of ``langgap tune``: which training settings a study varies, and over what.

A search space is a TOML file with two tables:

.. code-block:: toml

    description = "temperature, lr and labels for my languages"   # optional

    [train]             # fixed settings of every trial: data, evaluation, anything not searched
    model = "intfloat/multilingual-e5-small"
    multiway = "data/flores_train"
    pivot = "eng_Latn"
    eval_bitext = ["val/deu-eng.tsv", "val/swa-eng.tsv"]   # the validation data: the score
    guard_sts = ["val/ar-ar.tsv"]                          # same-language files: the penalty

    [space]             # the searched settings, by their flat names (the options without dashes)
    temperature = { low = 0.01, high = 0.1, log = true }  # a float range (log scale)
    max_steps = { low = 100, high = 400, step = 50 }      # an int range: both bounds ints
    labels = ["priority", "average"]                      # a choice
    pairs = [[], ["tatoeba/deu-eng.tsv"]]                 # a choice of lists (the data mix)

``[train]`` is read like a ``--config`` file (flat names or ``[train.<part>]`` sections). A
range is ``{low, high}`` with optional ``log`` (true: sampled on a log scale) and ``step``;
a choice is a non-empty list. Everything is checked before the first trial: an unknown setting
or range key, an empty range (``low >= high``) or choice, and every bound and choice built into
a real :class:`~langgap.training.config.TrainConfig` with the fixed settings, so a value the
trainer would refuse (``labels = ["nope"]``, ``lr = {low = -1, ...}``) is refused here, naming
the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgap.errors import InputError, did_you_mean
from langgap.training.config import LAYOUT, TrainConfig
from langgap.training.settings import read_toml_file

# settings a search may not vary: where each trial goes and what it is recorded under
NOT_SEARCHED = ("out", "recipe", "recipe_sha256")
RANGE_KEYS = ("low", "high", "log", "step")


@dataclass(frozen=True)
class Range:
    """A numeric range: ints when both bounds are ints (and ``step`` is), floats otherwise."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) for v in (self.low, self.high)) and (
            self.step is None or isinstance(self.step, int)
        )


@dataclass(frozen=True)
class Choice:
    """A choice among values (strings, numbers, booleans, or lists of strings)."""

    values: tuple[Any, ...]

    @property
    def labels(self) -> list[Any]:
        """The values as a study stores them: lists as their JSON text."""
        return [json.dumps(v) if isinstance(v, list) else v for v in self.values]

    def value(self, label: Any) -> Any:
        """The value of one of :attr:`labels`."""
        return self.values[self.labels.index(label)]


Param = Range | Choice


@dataclass(frozen=True)
class SearchSpace:
    """A parsed, checked search space: the fixed settings and the searched ones (flat names)."""

    fixed: dict[str, Any]
    params: dict[str, Param]
    description: str = ""
    source: str = ""

    def trial_settings(self, sampled: Mapping[str, Any]) -> dict[str, Any]:
        """The flat settings of one trial: the fixed ones, then the sampled values."""
        return {**self.fixed, **sampled}


def read_space(path: str | Path, recipe: str | Path | None = None) -> SearchSpace:
    """Read and check the search space in ``path`` (``recipe``: the recipe trials start from,
    whose settings the checks build on). Raises :class:`InputError` naming the file."""
    where = str(path)
    raw = read_toml_file(path)
    unknown = sorted(set(raw) - {"description", "train", "space"})
    if unknown:
        raise InputError(f"{where}: unknown table {unknown[0]!r}; a search space has [train] and [space]")
    train, space = raw.get("train", {}), raw.get("space")
    if not isinstance(space, dict) or not space:
        raise InputError(f"{where}: no [space] table: nothing to search")
    if not isinstance(train, dict):
        raise InputError(f"{where}: [train] must be a table of settings")
    fixed = LAYOUT.check(LAYOUT.flatten(train, f"{where} [train]"), f"{where} [train]")
    params = {_name(key, where): _param(key, value, where) for key, value in space.items()}
    both = sorted(set(fixed) & set(params))
    if both:
        raise InputError(f"{where}: {both[0]} is both fixed in [train] and searched in [space]")
    result = SearchSpace(fixed, params, str(raw.get("description", "")), where)
    _check_values(result, recipe)
    return result


def _name(key: str, where: str) -> str:
    """The flat setting ``key`` names, if a search may vary it."""
    name = key.replace("-", "_")
    names = LAYOUT.names
    if name not in names:
        raise InputError(f"{where}: [space] unknown setting {key!r}{did_you_mean(name, names)}")
    if name in NOT_SEARCHED:
        raise InputError(f"{where}: [space] {key} cannot be searched (it is set by langgap tune)")
    return name


def _param(key: str, value: Any, where: str) -> Param:
    """One ``[space]`` entry as a :class:`Range` or :class:`Choice`."""
    at = f"{where}: [space] {key}"
    if isinstance(value, list):
        if not value:
            raise InputError(f"{at} = []: an empty choice")
        for v in value:
            if isinstance(v, dict) or (isinstance(v, list) and not all(isinstance(x, str) for x in v)):
                raise InputError(f"{at}: a choice is a string, number, boolean or list of strings, got {v!r}")
        choice = Choice(tuple(value))
        if len(set(map(repr, choice.labels))) != len(value):
            raise InputError(f"{at}: a value is given twice in {value!r}")
        return choice
    if not isinstance(value, dict):
        raise InputError(f"{at} = {value!r}: expected a range {{low = ..., high = ...}} or a list of choices")
    extra = sorted(set(value) - set(RANGE_KEYS))
    if extra:
        raise InputError(
            f"{at}: unknown key {extra[0]!r}{did_you_mean(extra[0], RANGE_KEYS)}; a range has low, high, log, step"
        )
    if "low" not in value or "high" not in value:
        raise InputError(f"{at}: a range needs low and high")
    low, high, log, step = value["low"], value["high"], value.get("log", False), value.get("step")
    for name, v in (("low", low), ("high", high), ("step", step)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise InputError(f"{at}: {name} = {v!r} is not a number")
    if not isinstance(log, bool):
        raise InputError(f"{at}: log = {log!r} is not true or false")
    if not low < high:
        raise InputError(f"{at}: an empty range (low = {low} is not below high = {high})")
    if step is not None and not step > 0:
        raise InputError(f"{at}: step must be > 0, got {step}")
    if log and step is not None:
        raise InputError(f"{at}: a range is either log or stepped, not both")
    if log and not low > 0:
        raise InputError(f"{at}: a log range needs low > 0, got {low}")
    return Range(low, high, log, step)


def _check_values(space: SearchSpace, recipe: str | Path | None) -> None:
    """Build a config with each bound and each choice, the others at their first value."""
    first = {name: (p.values[0] if isinstance(p, Choice) else p.low) for name, p in space.params.items()}
    for name, p in space.params.items():
        for value in p.values if isinstance(p, Choice) else (p.low, p.high):
            settings = space.trial_settings({**first, name: value})
            try:
                TrainConfig.from_sources(None, settings, recipe)
            except InputError as e:
                raise InputError(f"{space.source}: [space] {name} = {value!r}: {e}") from None
