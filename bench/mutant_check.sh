#!/usr/bin/env bash
# Run chosen tests against one mutant of the last bench/mutation.sh run, outside mutmut.
#
#   bench/mutant_check.sh 'langgap.losses.distributed.x_all_gather_with_grad__mutmut_3' tests/losses/test_loss_distributed.py
#
# For tests mutmut cannot map to a mutant: it learns which tests reach a function by recording
# calls in its own process, so code that only runs in processes a test starts (the 2-process gloo
# tests, the torchrun launch test) looks untested ("no tests") or is checked only against the
# in-process tests. The started processes inherit MUTANT_UNDER_TEST and PYTHONPATH, so the mutant
# is live in them. The tests are those of the checkout (tests/), so a new test can be tried on a
# mutant before the next full run. Exit status: pytest's (0: the mutant survived; 1: killed).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
case $PYTHON in /*) ;; *) PYTHON=$ROOT/$PYTHON ;; esac
[ $# -ge 2 ] || { echo "usage: $0 MUTANT_NAME TEST [TEST ...] (after bench/mutation.sh)" >&2; exit 2; }
[ -d "$ROOT/mutants/src" ] || { echo "no mutants/: run bench/mutation.sh first" >&2; exit 2; }
mutant=$1
shift

export LANGGAP_SHARED_DIR=${LANGGAP_SHARED_DIR:-$(cd "$ROOT/.." && pwd)/shared}
export PYTHONPATH="$ROOT/mutants/src" MUTANT_UNDER_TEST="$mutant"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 CUDA_VISIBLE_DEVICES=""
cd "$ROOT"
exec "$PYTHON" -m pytest -x -q -p no:cacheprovider "$@"
