"""Which model to load: local folders, offline copies, the Hub, and the device to run on.

Checks that run before any model is loaded (a typo in a path, a training run folder instead of
its ``model/``, a Hub id with no Hub, a device this torch cannot use), each one clear line.
"""

from __future__ import annotations

import os
from pathlib import Path

from langgap.errors import InputError, did_you_mean
from langgap.paths import cache_home, hub_offline, hub_reachable

DEFAULT_MODEL = "intfloat/multilingual-e5-small"


def offline_models_dir() -> Path:
    """Where ``scripts/setup.sh`` puts offline model copies (``$LANGGAP_MODELS_DIR``)."""
    env = os.environ.get("LANGGAP_MODELS_DIR")
    return Path(env) if env else cache_home() / "models"


def resolve_model(name_or_path: str, what: str = "model") -> tuple[str, str | None]:
    """Map a model id or path to what to load: ``(load_from, offline_copy_note)``; check it first.
    ``what`` names it in the errors (``"model"``, ``"tokenizer"``).

    An existing folder loads as is (a langgap training run folder is refused with the path of
    its ``model/``). A name that looks like a path (``./``, ``/``, ``~``, more than one ``/``,
    or a first component that is a local folder, e.g. ``runs/alignedx``) must exist: the error
    suggests the closest sibling folder. An HF id (``org/name``) whose ``name`` exists as a folder
    in :func:`offline_models_dir` loads from there (the set-up puts offline copies there), and
    the note says so. Any other id must be downloadable: in the Hugging Face cache, or the Hub
    reachable and ``HF_HUB_OFFLINE`` unset; otherwise a clear error instead of minutes of retries.
    """
    path = Path(name_or_path).expanduser()
    if path.exists():
        _check_model_folder(path, name_or_path)
        return str(path), None
    first = Path(name_or_path).parts[0] if Path(name_or_path).parts else ""
    if (
        name_or_path.startswith((".", "/", "~"))
        or name_or_path.count("/") > 1
        or ("/" in name_or_path and Path(first).is_dir())
    ):
        raise InputError(f"{what} path {name_or_path}: no such file or directory{_sibling_hint(path)}")
    local = offline_models_dir() / name_or_path.split("/")[-1]
    if (local / "config.json").is_file():
        return str(local), f"offline copy of {name_or_path} at {local}"
    _check_downloadable(name_or_path, what)
    return name_or_path, None


def _sibling_hint(path: Path) -> str:
    parent = path.parent
    if not parent.is_dir():
        return ""
    return did_you_mean(str(path), [str(parent / c.name) for c in parent.iterdir() if c.is_dir()])


def _check_model_folder(path: Path, name: str) -> None:
    """A training run folder given instead of its ``model/`` gets the right path in the error."""
    if path.is_dir() and not (path / "modules.json").exists() and (path / "model" / "modules.json").exists():
        raise InputError(
            f"model path {name} is a langgap training run folder; its model is {path / 'model'} "
            f"(give --model {path / 'model'})"
        )


def _check_downloadable(model_id: str, what: str = "model") -> None:
    """An id that is neither local nor in the HF cache needs the Hub: refuse early without it."""
    from huggingface_hub import try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model_id, "config.json"), str):
        return
    offline = hub_offline()
    if offline or not hub_reachable():
        why = "HF_HUB_OFFLINE is set" if offline else "the Hugging Face Hub cannot be reached"
        raise InputError(
            f"{what} {model_id!r} is not a local folder, not an offline copy in {offline_models_dir()} "
            f"and not in the Hugging Face cache, and {why}; give a local path (e.g. ./models/x)"
        )


def planned_device(device: str | None) -> str:
    """The device a model will load on: ``device``, else what sentence-transformers picks (CUDA,
    then MPS, then the CPU)."""
    if device is not None:
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "mps" if torch.backends.mps.is_available() else "cpu"


def check_device(device: str | None) -> None:
    """``--device`` must name a device this torch build has (before any model is loaded)."""
    if device is None:
        return
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise InputError(f"--device {device!r}: not a device name (cpu, cuda, cuda:0, mps)") from None
    if dev.type == "cuda" and (
        not torch.cuda.is_available() or (dev.index or 0) >= torch.cuda.device_count()
    ):
        seen = torch.cuda.device_count() if torch.cuda.is_available() else 0
        raise InputError(
            f"--device {device}: this torch ({torch.__version__}) sees {seen} CUDA device(s); "
            "use --device cpu or leave --device out"
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"--device {device}: MPS is not available here; use --device cpu")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"--device {device}: langgap runs on cpu, cuda or mps")
