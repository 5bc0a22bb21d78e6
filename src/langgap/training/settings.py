"""Flat settings and TOML files: the names and types behind :class:`~langgap.training.config.TrainConfig`.

Every training setting has one *flat* name, the command-line option without its dashes
(``lr``, ``objective``, ``eval_bitext``; ``-`` and ``_`` are the same). The parts of the config
(``[model]``, ``[data]``, ...) each own some of these names. This module is generic over the
parts: :class:`Layout` maps flat names to ``(part, field)`` and back, checks a value's type
against the field's annotation, and reads a TOML file written either way:

.. code-block:: toml

    [train]                     # optional: the settings may also sit at the top level
    objective = "soft"          # flat: the option names
    lr = 5e-5

    [train.optim]               # or in sections: a part's field names
    batch_size = 256

A setting given both flat and in a section is an error, as is a key of another part's section
(``[optim] pairs``: "pairs belongs in [data]").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgap.errors import InputError, did_you_mean


def option(name: str) -> str:
    """The command-line option of flat setting ``name``: ``eval_every`` -> ``--eval-every``."""
    return "--" + name.replace("_", "-")


def flat_of(part: Any, field: str) -> str:
    """The flat name of ``part``'s ``field``: the field name, or its alias in ``part.FLAT``."""
    aliases: Mapping[str, str] = getattr(part, "FLAT", {})
    return aliases.get(field, field)


def option_of(part: Any, field: str) -> str:
    """The command-line option of ``part``'s ``field`` (for error messages)."""
    return option(flat_of(part, field))


@dataclass(frozen=True)
class Layout:
    """Which part owns each flat setting; ``parts`` maps a part's name to its dataclass."""

    parts: Mapping[str, type]

    @property
    def names(self) -> dict[str, tuple[str, str]]:
        """``{flat name: (part name, field name)}`` in declaration order."""
        return {
            flat_of(cls, f.name): (part, f.name)
            for part, cls in self.parts.items()
            for f in dataclasses.fields(cls)
        }

    def check(self, values: Mapping[str, Any], where: str) -> dict[str, Any]:
        """``values`` under their flat names (``-`` made ``_``), each name known and each type right."""
        names = self.names
        out: dict[str, Any] = {}
        for key, value in values.items():
            name = key.replace("-", "_")
            if name not in names:
                raise InputError(f"{where}: unknown setting {key!r}{did_you_mean(name, names)}")
            part, field = names[name]
            kind = {f.name: str(f.type) for f in dataclasses.fields(self.parts[part])}[field]
            out[name] = coerce(name, kind, value, where)
        return out

    def split(self, values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Checked flat ``values`` grouped by part, under the parts' field names."""
        names = self.names
        grouped: dict[str, dict[str, Any]] = {part: {} for part in self.parts}
        for name, value in values.items():
            part, field = names[name]
            grouped[part][field] = value
        return grouped

    def flatten(self, table: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The flat settings of a TOML table: flat keys, ``[part]`` sections of field names, or both."""
        out: dict[str, Any] = {}
        for key, value in table.items():
            if key in self.parts and isinstance(value, dict):
                for inner, v in value.items():
                    name = self._in_section(key, inner.replace("-", "_"), where)
                    _put(out, name, v, f"{where}: {name} is given twice (flat and in [{key}])")
            else:
                _put(out, key.replace("-", "_"), value, f"{where}: {key} is given twice")
        return out

    def _in_section(self, part: str, key: str, where: str) -> str:
        """The flat name of ``key`` in section ``[part]`` (a field name or its flat alias)."""
        cls = self.parts[part]
        fields = {f.name: flat_of(cls, f.name) for f in dataclasses.fields(cls)}
        if key in fields:
            return fields[key]
        if key in fields.values():
            return key
        owner = self.names.get(key)
        if owner is not None:
            raise InputError(f"{where}: [{part}] has no setting {key!r}; it belongs in [{owner[0]}]")
        raise InputError(f"{where}: [{part}] has no setting {key!r}{did_you_mean(key, fields)}")


def _put(out: dict[str, Any], name: str, value: Any, twice: str) -> None:
    if name in out:
        raise InputError(twice)
    out[name] = value


def read_toml_file(path: str | Path) -> dict[str, Any]:
    """The whole TOML file; a missing, unreadable or invalid file is an error naming it."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10; tomllib is in the standard library from 3.11
        raise InputError("TOML files need Python >= 3.11 (tomllib)") from None
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: invalid TOML: {e}") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """The settings table of a TOML file: its ``[train]`` table if it has one, else the top level."""
    data = read_toml_file(path)
    table = data.get("train", data)
    if not isinstance(table, dict):
        raise InputError(f"{path}: [train] must be a table")
    return dict(table)


def coerce(name: str, kind: str, value: Any, where: str) -> Any:
    """``value`` checked against the field's annotation ``kind`` (a string: annotations are lazy);
    ints are accepted for floats, one string for a tuple of strings."""
    bad = InputError(f"{where}: {name} = {value!r} is not a valid {kind}")
    if value is None:
        if "None" not in kind:
            raise bad
        return None
    kind = kind.removesuffix(" | None")
    if kind.startswith("tuple"):
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


# -- the parts' checks: messages name the option --------------------------------------------


def tuples(part: Any, *names: str) -> None:
    """Make tuple fields tuples of strings (one string is a 1-tuple)."""
    for name in names:
        value = getattr(part, name)
        value = (value,) if isinstance(value, str) else value
        object.__setattr__(part, name, tuple(str(v) for v in value))


def choice(part: Any, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(part, name)
    if value not in choices:
        raise InputError(
            f"unknown {option_of(part, name)} {value!r}{did_you_mean(str(value), choices)}; "
            f"expected one of: {', '.join(choices)}"
        )


def at_least(part: Any, low: int, *names: str) -> None:
    for name in names:
        if getattr(part, name) < low:
            raise InputError(f"{option_of(part, name)} must be >= {low}, got {getattr(part, name)}")


def positive(part: Any, *names: str) -> None:
    for name in names:
        if not getattr(part, name) > 0:
            raise InputError(f"{option_of(part, name)} must be > 0, got {getattr(part, name)}")


def non_negative(part: Any, *names: str) -> None:
    for name in names:
        if not getattr(part, name) >= 0:
            raise InputError(f"{option_of(part, name)} must be >= 0, got {getattr(part, name)}")
