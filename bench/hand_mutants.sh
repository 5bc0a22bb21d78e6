# Sourced by bench/wiring_mutants.sh and bench/gpu_mutants.sh: `mutant FILE SED-EXPRESSION TEST...`
# puts one bug in by hand, runs the tests (pytest -m "$MARK"), says killed / SURVIVED and restores
# the file (also on Ctrl-C); `verdict` at the end exits 1 if any mutant survived.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-.venv/bin/python}
MARK=${MARK:-not real_model}
BAK=$(mktemp)
OUT=$(mktemp)
current=""
restore() { [ -n "$current" ] && cp "$BAK" "$current"; current=""; }
trap 'restore; rm -f "$BAK" "$OUT"' EXIT
survivors=0

mutant() { # FILE SED-EXPRESSION TEST...
  local f=$1 e=$2
  shift 2
  cp "$f" "$BAK"
  current=$f
  sed -i "$e" "$f"
  if cmp -s "$f" "$BAK"; then
    restore
    echo "NOT APPLIED (the code moved: update this script): $f :: $e"
    survivors=$((survivors + 1))
    return
  fi
  if "$PYTHON" -m pytest -q -x -p no:cacheprovider -m "$MARK" "$@" > "$OUT" 2>&1; then
    echo "SURVIVED: $f :: $e"
    survivors=$((survivors + 1))
  else
    echo "killed:   $f :: $e ($(grep -E '^FAILED' "$OUT" | head -1 | cut -c8-))"
  fi
  restore
}

verdict() { # WHAT
  [ "$survivors" -eq 0 ] && echo "all $1 killed" || { echo "$survivors not killed" >&2; exit 1; }
}
