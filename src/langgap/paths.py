"""Where langgap keeps files between runs: ``$XDG_CACHE_HOME/langgap`` (``~/.cache/langgap``)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/langgap``, default ``~/.cache/langgap``: the embedding cache and the
    offline model copies live under it unless ``$LANGGAP_CACHE`` / ``$LANGGAP_MODELS_DIR`` say
    otherwise."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "langgap"
