"""langgap: measure and close the language gap of multilingual text-embedding models.

The public API is imported lazily so that ``import langgap`` stays cheap (no torch, no
sentence-transformers until an encoder is loaded). Every public name is a function or class, never
a submodule: the modules behind them have other names (``langgap.measuring``, ``langgap.comparison``,
``langgap.mining``, ``langgap.training``), so ``langgap.measure`` stays the function however often
it is used.

The defaults are the CLI's: ``load_encoder`` gives a model with a configured ``query`` prompt that
prompt (as ``langgap measure`` does), and ``save_run`` writes the folder ``langgap measure --out``
writes.

Example:
    >>> import langgap
    >>> enc = langgap.load_encoder("intfloat/multilingual-e5-small")  # its 'query: ' prompt
    >>> results = langgap.measure(enc, [langgap.sample_task()])
    >>> results.tasks[0].metrics["pair_cosine"]
    >>> langgap.save_run(results, "runs/me5")  # results.json, items.npz, report.md, report.html
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
    "measure": "langgap.measuring",
    "compare": "langgap.comparison",
    "Comparison": "langgap.comparison",
    "mine": "langgap.mining",
    "array_side": "langgap.mining",
    "train": "langgap.training.loop",
    "TrainConfig": "langgap.training.config",
    "embed_file": "langgap.embed",
    "Results": "langgap.results",
    "load_results": "langgap.results",
    "write_report": "langgap.report.document",
    "save_run": "langgap.report.document",
    "table": "langgap.report.table",
    "write_table": "langgap.report.table_page",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # the next access skips this hook
        return value
    raise AttributeError(f"module 'langgap' has no attribute {name!r}")
