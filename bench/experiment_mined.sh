#!/usr/bin/env bash
# Experiment g (docs/experiments.md; issue 24): training from monolingual text by mining, on
# MAFAND-MT's train split made unaligned (bench/mafand_mono.py), against the base model and the
# same recipe on the gold pairs. PIVOT=eng (hau ibo lug pcm tsn twi yor zul) or PIVOT=fra (bam
# bbj ewe fon mos wol). multilingual-e5-small = the offline 4-bit-derived copy.
# Usage: PIVOT=eng bash bench/experiment_mined.sh [STEP ...]   (steps: data base mined gold compare)
set -euo pipefail
. .venv/bin/activate
P=${PIVOT:-eng}
X=runs/exp-g/$P
ME5=intfloat/multilingual-e5-small
D=../shared/data
EVAL="--multiway $X/flores_eval --sts $D/sts17/en-en.tsv"
. "$(dirname "$0")/timed.sh"

measure() {  # measure NAME MODEL
  [ -f $X/$1/measure/results.json ] || timed measure-$P-$1 langgap measure --model $2 $EVAL --out $X/$1/measure -q
}

data() { [ -d $X/mono ] || python bench/mafand_mono.py runs/exp-g; }

base() { [ -f $X/base/results.json ] || timed measure-$P-base langgap measure --model $ME5 $EVAL --out $X/base -q; }

mined() {  # two rounds; round 1's model is the one-round result
  local dev=""
  for f in $X/dev/*.tsv; do dev="$dev --mine-dev $f"; done
  [ -f $X/mined/model/config.json ] || timed train-$P-mined langgap train --recipe many-languages --model $ME5 \
    --mine-from $X/mono --pivot $P --rounds 2 $dev --save-every 100 --out $X/mined -q
  measure mined/rounds/round-1 $X/mined/rounds/round-1/model
  measure mined/rounds/round-2 $X/mined/rounds/round-2/model
}

gold() {  # the upper bound: the same recipe and steps on every pair of the train split
  [ -f $X/gold-run/model/config.json ] || timed train-$P-gold langgap train --recipe many-languages --model $ME5 \
    --pairs $X/gold --priority $P --save-every 100 --out $X/gold-run -q
  measure gold-run $X/gold-run/model
}

compare() {  # each run against the base, and the mined rounds against gold, per item
  for r in mined/rounds/round-1 mined/rounds/round-2 gold-run; do
    langgap compare $X/base $X/$r/measure --out $X/cmp-${r##*/} -q
  done
  langgap table $X/mined/rounds/round-1/measure $X/mined/rounds/round-2/measure $X/gold-run/measure \
    --baseline $X/base --out $X/table -q
}

for step in "${@:-data base mined gold compare}"; do
  for s in $step; do $s; done
done
