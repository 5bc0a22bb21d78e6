#!/usr/bin/env bash
# Mutation testing (mutmut 3) of the modules whose bugs are silent: a wrong number, not a crash.
#
#   bench/mutation.sh                       # every module of [tool.mutmut] only_mutate
#   bench/mutation.sh metrics/bitext.py losses scoring.py   # a subset (paths under src/langgap)
#   PYTHON=/other/python JOBS=2 bench/mutation.sh
#
# Slow (about an hour and a half on 2 cores for everything; docs/testing.md) and not part of CI.
# mutmut copies the project into mutants/ (git-ignored), runs the fast suite once to learn which
# tests reach which function, then runs, for each mutant, only those tests. The mutants of the
# named modules are always tested again (earlier verdicts are not reused); mutants/ keeps the
# generated code and the test map between runs: FRESH=1 starts from nothing.
# At the end: per module, killed / survived / timeout / no tests and the kill rate
# (bench/mutation_stats.py; `--survivors` there lists what survived).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-.venv/bin/python}
JOBS=${JOBS:-2}
MUTMUT_VERSION=3.8.1

if ! "$PYTHON" -c 'import mutmut, sys; sys.exit(mutmut.__version__.split(".")[0] != "3")' 2>/dev/null; then
  echo "installing mutmut==$MUTMUT_VERSION into $("$PYTHON" -c 'import sys; print(sys.prefix)')"
  "$PYTHON" -m pip install --quiet "mutmut==$MUTMUT_VERSION"
fi
echo "mutmut $("$PYTHON" -c 'import mutmut; print(mutmut.__version__)')"

# The tests read ../shared/data next to the checkout; from mutants/ that is one level further up.
export LANGGAP_SHARED_DIR=${LANGGAP_SHARED_DIR:-$(cd "$ROOT/.." && pwd)/shared}
if [ ! -d "$LANGGAP_SHARED_DIR/data" ]; then
  echo "no shared data at $LANGGAP_SHARED_DIR/data (set LANGGAP_SHARED_DIR): the golden test would fail" >&2
  exit 2
fi
# Processes the tests start (the 2-process launch test, lint-imports) import the mutated copy too;
# one thread each (JOBS workers share the cores; also keeps the CPU-time limits meaningful);
# never the network.
export PYTHONPATH="$ROOT/mutants/src"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 CUDA_VISIBLE_DEVICES=""

if [ "${FRESH:-0}" = 1 ]; then rm -rf mutants; fi
# before Python starts: a PYTHONPATH entry missing at start-up is skipped for good, and the
# langgap installed in the venv (an editable install points at the checkout's src/) would be tested
mkdir -p mutants/src

# module paths (under src/langgap) -> mutant-name patterns; none: every configured module
patterns=()
if [ $# -eq 0 ]; then
  set -- $("$PYTHON" - <<'EOF'
try:
    import tomllib
except ImportError:  # Python 3.10: mutmut's own dependency
    import toml as tomllib
for p in tomllib.loads(open("pyproject.toml").read())["tool"]["mutmut"]["only_mutate"]:
    print(p.removeprefix("src/langgap/"))
EOF
)
fi
for m in "$@"; do
  m=${m#src/langgap/}; m=${m%.py}; m=${m%/\*}; m=${m%/}
  patterns+=("langgap.${m//\//.}.*")
done
echo "mutants: ${patterns[*]}"

start=$(date +%s)
"$PYTHON" -m mutmut run --max-children "$JOBS" "${patterns[@]}" || echo "mutmut exited with $?" >&2
end=$(date +%s)
echo
echo "wall time: $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s"
"$PYTHON" bench/mutation_stats.py "${patterns[@]}"
