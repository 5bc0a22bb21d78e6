#!/usr/bin/env bash
# Mutation testing (mutmut 3) of the modules whose bugs are silent: a wrong number, not a crash.
#
#   bench/mutation.sh                       # every module of [tool.mutmut] only_mutate
#   bench/mutation.sh metrics/bitext.py losses scoring.py   # a subset (paths under src/langgap)
#   PYTHON=/other/python JOBS=2 bench/mutation.sh
#   QUICK=1 SURVIVORS=1 bench/mutation.sh metrics   # without the end-to-end tests (see below)
#
# Slow and not part of CI: adapt.py + compare.py (552 mutants) took 36 min on 2 shared cores, so all
# 4,965 mutants of the configured modules take hours (docs/testing.md).
# mutmut copies the project into mutants/ (git-ignored), runs the fast suite once to learn which
# tests reach which function, then runs, for each mutant, only those tests. The mutants of the
# named modules are always tested again (earlier verdicts are not reused); mutants/ keeps the
# generated code and the test map between runs: FRESH=1 starts from nothing; SURVIVORS=1 tests
# again only what the last run left alive (after adding tests) and what no run reached;
# SURVIVORS=1 UNTESTED=1 only the latter.
# At the end: per module, killed / survived / timeout / no tests and the kill rate
# (bench/mutation_stats.py; `--survivors` there lists what survived).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-.venv/bin/python}
case $PYTHON in /*) ;; *) PYTHON=$ROOT/$PYTHON ;; esac
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
if [ "${FRESH:-0}" = 1 ] && [ "${QUICK:-0}" != 1 ]; then rm -rf mutants; fi

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

# SURVIVORS=1: only the mutants of those modules that the last run did not kill (after new tests)
names=("${patterns[@]}")
if [ "${SURVIVORS:-0}" = 1 ]; then
  # with QUICK=1, what the quick copy's runs killed counts too
  roots=(--root "$ROOT")
  if [ "${QUICK:-0}" = 1 ]; then
    for d in "$ROOT"/runs/mutation-*/; do [ -d "$d/mutants" ] && roots+=(--root "${d%/}"); done
  fi
  # UNTESTED=1: only what no run has reached yet (the survivors are triaged already)
  untested=()
  [ "${UNTESTED:-0}" = 1 ] && untested=(--untested)
  mapfile -t names < <("$PYTHON" bench/mutation_stats.py "${roots[@]}" --names "${untested[@]}" "${patterns[@]}")
  echo "${#names[@]} mutants not killed last time${untested:+ (not tested before)}"
  [ ${#names[@]} -gt 0 ] || exit 0
fi

# QUICK=1: the same mutants against the fast suite without its end-to-end tests (QUICK_IGNORE:
# tests/faults, tests/cli, the torchrun launch, the architecture checks, the HTML rendering). They
# run whole commands in fresh processes, and for a mutant deep in measure or train they are 7x the
# test time of all the rest. mutmut keeps one mutants/ per project and drops every verdict when the
# test selection changes, so the quick run works in a copy of the checkout, runs/mutation-quick/,
# with its own mutants/ (SURVIVORS=1 takes the mutants neither this checkout's runs nor the quick ones killed);
# its statistics: `python bench/mutation_stats.py --root runs/mutation-quick`. A quick survivor
# may be killed by an end-to-end test: `bench/mutant_check.sh NAME tests/cli/...` tells.
# QUICK_DIR (default runs/mutation-quick) with a longer QUICK_IGNORE: another copy with another
# test selection (runs/mutation-unit: the unit tests alone, see docs/testing.md); with QUICK=1,
# SURVIVORS=1 counts what any runs/mutation-*/ copy killed.
QUICK_IGNORE=${QUICK_IGNORE:-tests/faults tests/cli tests/training/test_launch.py tests/test_architecture.py tests/report/test_report_html.py}
if [ "${QUICK:-0}" = 1 ]; then
  quick=$ROOT/${QUICK_DIR:-runs/mutation-quick}
  mkdir -p "$quick"
  rm -rf "$quick/src" "$quick/tests" "$quick/bench" "$quick/scripts"
  tar -C "$ROOT" --exclude=./.venv --exclude=./mutants --exclude=./runs --exclude=./.git -cf - . \
    | tar -C "$quick" -xf -
  # the copy's [tool.mutmut] test selection gets one --ignore per QUICK_IGNORE entry
  # shellcheck disable=SC2086
  "$PYTHON" -c '
import sys
path, ignore = sys.argv[1], sys.argv[2:]
text = open(path, encoding="utf-8").read()
key = "pytest_add_cli_args_test_selection = [\n"
assert text.count(key) == 1, f"{path}: no {key.strip()}"
text = text.replace(key, key + "".join(f"  \"--ignore={t}\",\n" for t in ignore))
open(path, "w", encoding="utf-8").write(text)
' "$quick/pyproject.toml" $QUICK_IGNORE
  echo "quick run in $quick (ignoring $QUICK_IGNORE)"
  ROOT=$quick
  cd "$ROOT"
  if [ "${FRESH:-0}" = 1 ]; then rm -rf mutants; fi
fi

# Processes the tests start (the 2-process launch test, lint-imports) import the mutated copy too;
# one thread each (JOBS workers share the cores; also keeps the CPU-time limits meaningful);
# never the network.
export PYTHONPATH="$ROOT/mutants/src"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 CUDA_VISIBLE_DEVICES=""
# before Python starts: a PYTHONPATH entry missing at start-up is skipped for good, and the
# langgap installed in the venv (an editable install points at the checkout's src/) would be tested
mkdir -p mutants/src

# Code mutmut cannot see run: at import time (the catalog's registrations happen before mutmut
# switches a mutant on) or in processes a test starts (the 2-process gloo tests). Whatever of it
# mutmut leaves alive is run again against the tests that reach it, in a fresh interpreter where
# the mutant is live from the start (bench/mutant_check.sh); mutants/recheck.tsv keeps the verdicts
# (pytest's exit status: 1 failed, 2 the import broke, 124 timed out: killed; 0 survived).
RECHECK=(
  "langgap.metrics.catalog.*|tests/test_scoring.py tests/metrics/test_registry.py"
  "langgap.losses.distributed.*|tests/losses/test_loss_distributed.py"
)

start=$(date +%s)
"$PYTHON" -m mutmut run --max-children "$JOBS" "${names[@]}" || echo "mutmut exited with $?" >&2
touch mutants/recheck.tsv
for rule in "${RECHECK[@]}"; do
  glob=${rule%%|*}
  read -r -a tests <<< "${rule#*|}"
  # the tests must pass without a mutant, or a failure says nothing
  PYTHON=$PYTHON bench/mutant_check.sh "${glob%.\*}.no_mutant" "${tests[@]}" > /dev/null 2>&1 \
    || { echo "recheck of $glob skipped: ${tests[*]} fail without a mutant" >&2; continue; }
  for name in $("$PYTHON" bench/mutation_stats.py --names --no-recheck "$glob"); do
    "$PYTHON" -c 'import fnmatch, sys; sys.exit(not any(fnmatch.fnmatch(sys.argv[1], p) for p in sys.argv[2:]))' \
      "$name" "${names[@]}" || continue  # not in this run
    code=0
    PYTHON=$PYTHON timeout 900 bench/mutant_check.sh "$name" "${tests[@]}" > /dev/null 2>&1 || code=$?
    grep -v "^$name	" mutants/recheck.tsv > mutants/recheck.tsv.tmp || true
    printf '%s\t%s\t%s\n' "$name" "$code" "${tests[*]}" >> mutants/recheck.tsv.tmp
    mv mutants/recheck.tsv.tmp mutants/recheck.tsv
    echo "rechecked $name: exit $code"
  done
done
end=$(date +%s)
echo
echo "wall time: $(( (end - start) / 60 )) min $(( (end - start) % 60 )) s"
"$PYTHON" bench/mutation_stats.py "${patterns[@]}"
