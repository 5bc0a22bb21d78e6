"""Metrics: pure numpy/scipy functions of embeddings.

Every function takes arrays and returns numbers or per-item arrays; none loads a model or
reads a file. Per-item outputs (one value per row) are what ``langgap compare`` resamples.
"""

from langgap.metrics import catalog as _catalog  # noqa: E402, F401  (fills the metric registry)
