# Sourced by the experiment scripts (bench/experiments.sh, experiments_many.sh, experiment_d.sh, experiment_mined.sh),
# which set X, their run folder, first.
timed() {  # timed NAME CMD...: run, append "NAME<TAB>wall seconds" to $X/times.tsv
  local name=$1; shift
  local t0=$SECONDS
  "$@"
  printf '%s\t%s\n' "$name" $((SECONDS - t0)) >> "$X/times.tsv"
}
