"""langgap: measure and close the language gap of multilingual text-embedding models.

The public API is imported lazily so that ``import langgap`` stays cheap (no torch, no
sentence-transformers until an encoder is loaded).

Example:
    >>> import langgap
    >>> enc = langgap.load_encoder("intfloat/multilingual-e5-small", prompt="query: ")
    >>> results = langgap.measure(enc, [langgap.sample_task()])
    >>> results.tasks[0].metrics["pair_cosine"]
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Encoder": "langgap.types",
    "InputError": "langgap.errors",
    "load_encoder": "langgap.encoders",
    "CachedEncoder": "langgap.encoders.cache",
    "read_bitext": "langgap.data.readers",
    "read_multiway": "langgap.data.readers",
    "read_sts": "langgap.data.readers",
    "load_sample": "langgap.data.sample",
    "Task": "langgap.tasks",
    "bitext_task": "langgap.tasks",
    "multiway_task": "langgap.tasks",
    "sts_task": "langgap.tasks",
    "sample_task": "langgap.tasks",
    "get_task": "langgap.tasks",
    "measure": "langgap.measure",
    "embed_file": "langgap.embed",
    "Results": "langgap.results",
    "load_results": "langgap.results",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'langgap' has no attribute {name!r}")
