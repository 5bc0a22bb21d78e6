"""Shipped recipes: named TOML files of training settings in the ``langgap.recipes`` package.

``langgap train --recipe many-languages`` reads ``many-languages.toml``; ``--recipe FILE.toml``
reads a recipe file of one's own (``langgap tune`` writes one). A ``--config`` file and the
options given on the command line override its values (in that order); the run records the
recipe and the sha256 of its file (``recipe_sha256``), as does the model card. Each file has a
top-level ``description`` and a ``[train]`` table: the shipped ones in sections of the config's
parts (``[train.objective] kind = "soft"``), though flat option names (``objective = "soft"``)
work as well (:mod:`langgap.training.settings`).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from langgap.errors import InputError, did_you_mean


def recipes_dir() -> Path:
    return Path(str(resources.files("langgap.recipes")))


def list_recipes() -> dict[str, str]:
    """``{name: description}`` of every shipped recipe."""
    import tomllib

    out = {}
    for path in sorted(recipes_dir().glob("*.toml")):
        out[path.stem] = str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
    return out


def recipe_path(name: str) -> Path:
    """The TOML file of recipe ``name``: a shipped recipe's name, or a path ending in ``.toml``;
    an unknown name is an error with "did you mean", a missing file one that names it."""
    if name.endswith(".toml"):
        path = Path(name)
        if not path.is_file():
            raise InputError(f"--recipe {name}: no such file")
        return path
    path = recipes_dir() / f"{name}.toml"
    if not path.is_file():
        names = list(list_recipes())
        raise InputError(f"unknown --recipe {name!r}{did_you_mean(name, names)}; known: {', '.join(names)}")
    return path


def recipe_sha256(path: str | Path) -> str:
    """The sha256 of a recipe file's bytes (hex), recorded with the run it set up."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
