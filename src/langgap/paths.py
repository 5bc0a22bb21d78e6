"""Where langgap keeps files between runs: ``$XDG_CACHE_HOME/langgap`` (``~/.cache/langgap``)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """``$XDG_CACHE_HOME/langgap``, default ``~/.cache/langgap``: the embedding cache and the
    offline model copies live under it unless ``$LANGGAP_CACHE`` / ``$LANGGAP_MODELS_DIR`` say
    otherwise."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "langgap"


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub (``$HF_ENDPOINT``) answers within ``timeout`` seconds: checked
    before a download is attempted, so that an offline machine gets one clear line instead of
    minutes of retries."""
    import urllib.request

    try:
        urllib.request.urlopen(os.environ.get("HF_ENDPOINT", "https://huggingface.co"), timeout=timeout)
    except Exception:  # any failure to connect: unreachable for our purpose
        return False
    return True


def hub_offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` asks for no Hub access (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
