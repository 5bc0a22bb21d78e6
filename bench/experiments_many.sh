#!/usr/bin/env bash
# Experiment e (docs/experiments.md): the many-languages recipe against the pilot, on a held-out
# protocol (bench/many_languages_data.py): 195 FLORES dev languages paired with English (408 rows
# each), evaluated on held-out rows and on 10 languages never trained (FLORES and Tatoeba), 8
# Tatoeba languages FLORES lacks, and STS17. multilingual-e5-small = the offline 4-bit-derived copy.
# Usage: bash bench/experiments_many.sh [STEP ...]
#        (steps: data base pilot recipe freeze compare colon guard merge preserve mono probe tune)
#        SEEDS="0 1 2" bash bench/experiments_many.sh pilot recipe
set -euo pipefail
. .venv/bin/activate
X=runs/exp-e
ME5=intfloat/multilingual-e5-small
SEEDS=${SEEDS:-0}
D=../shared/data
GUARDS="--guard-sts $D/sts17/ar-ar.tsv --guard-sts $D/sts17/es-es.tsv --guard-sts ko,ko=$D/korsts/ko-test.tsv"
mkdir -p $X
COMMON="--model $ME5 --multiway $X/flores_train --pivot eng_Latn --save-every 0 --quiet"

. "$(dirname "$0")/timed.sh"

run() {  # run NAME ARGS...: train (unless done), then measure
  local name=$1; shift
  [ -f $X/$name/model/config.json ] || timed train-$name langgap train $COMMON "$@" --out $X/$name
  [ -f $X/$name/measure/results.json ] || timed measure-$name langgap measure --model $X/$name/model \
    $(cat $X/eval.args) --out $X/$name/measure -q
}

data() { python bench/many_languages_data.py $X; }
base() { timed measure-base langgap measure --model $ME5 $(cat $X/eval.args) --out $X/base -q; }

pilot() {  # the configuration the issue reports: soft priority, flat pool, 150 steps of 32, frozen embeddings
  for s in $SEEDS; do
    run pilot-s$s --objective soft --labels priority --teacher SAME --freeze-embeddings \
      --max-steps 150 --batch-size 32 --max-length 64 --seed $s
  done
}

recipe() {
  for s in $SEEDS; do run recipe-s$s --recipe many-languages --seed $s; done
}

freeze() {  # issue 20: the recipe (seed 0) with --freeze-layers 0 / 4 / 6, and the recipe as it
  # ran before length buckets became the default (--length-buckets 1): quality; timing in bench_train.py
  for s in $SEEDS; do
    for n in 0 6 4; do run freeze$n-s$s --recipe many-languages --seed $s --freeze-layers $n; done
    run recipe-b1-s$s --recipe many-languages --seed $s --length-buckets 1
  done
}

colon() {  # the base model with the prompt experiment e's runs trained with ("query:", no space)
  [ -f $X/base-colon/results.json ] || timed measure-base-colon langgap measure --model $ME5 --prompt query: \
    $(cat $X/eval.args) --out $X/base-colon -q
}

guard() {  # issue 23: v1 as experiment e ran it, watching three same-language STS files
  for s in $SEEDS; do run guard-s$s --recipe many-languages-v1 --seed $s $GUARDS --eval-every 100; done
}

merge() {  # issue 23: WiSE-FT of the guarded run with the base model, ALPHAS="0.5 0.75"
  for s in $SEEDS; do
    for a in ${ALPHAS:-0.5 0.75}; do
      local m=$X/merge$a-s$s
      [ -f $m/model/config.json ] || timed merge-$a-s$s langgap merge $ME5 $X/guard-s$s/model --alpha $a --out $m/model -q
      [ -f $m/measure/results.json ] || timed measure-merge$a-s$s langgap measure --model $m/model \
        $(cat $X/eval.args) --out $m/measure -q
    done
  done
}

preserve() {  # issue 23: v1 plus the same-language relational term, W=10 (PRESERVE); BLOCK=8 adds
  # --language-block 8 (a batch of 32 then holds ~4 language pairs: same-language pairs beyond English)
  local w=${PRESERVE:-10} b=${BLOCK:-1}
  for s in $SEEDS; do
    run preserve$w-b$b-s$s --recipe many-languages-v1 --seed $s --preserve $w --language-block $b $GUARDS --eval-every 100
  done
}

mono() {  # every same-language STS file of the shared data, for the base and every model under $X
  local sts="--sts $D/sts17/ar-ar.tsv --sts $D/sts17/es-es.tsv --sts $D/sts17/en-en.tsv --sts ko,ko=$D/korsts/ko-test.tsv"
  for f in $D/stsb_multi_mt/*-test.tsv; do  # STS-B translations: the language is the file's prefix
    local l=$(basename $f -test.tsv); sts="$sts --sts $l,$l=$f"
  done
  [ -f $X/base-mono/results.json ] || langgap measure --model $ME5 $sts --out $X/base-mono -q
  for m in $X/*/model; do
    local d=${m%/model}
    [ -f $d/mono/results.json ] || langgap measure --model $m $sts --out $d/mono -q
  done
}

probe() {  # issue 23: 100-step probes on the validation split, v1 and one change each (PROBES="A B C")
  local val="" g="" name
  for f in cat gla kab lit nno spa cor kzj max wuu; do val="$val --eval-bitext $X/val/$f-eng.tsv"; done
  for l in ko pl ru ja; do g="$g --guard-sts $l,$l=$X/val/$l-$l-dev.tsv"; done
  for name in ${PROBES:-A B C}; do
    local change=""
    case $name in
      B) change="--temperature 0.01 --teacher-temperature 0.01" ;;
      C) change="--tcm-weight 1.0" ;;
      D) change="--objective mse" ;;
    esac
    [ -f runs/exp-f-probe/$name/model/config.json ] || timed probe-$name langgap train --recipe many-languages-v1 \
      --model $ME5 --multiway $X/flores_train --pivot eng_Latn --max-steps 100 --eval-every 50 --save-every 0 \
      --seed 0 $val $g $change --out runs/exp-f-probe/$name -q
  done
}

tune() {  # issue 23: langgap tune on the validation split (runs/exp-e/tune_space.toml), from v1
  timed tune langgap tune $X/tune_space.toml --recipe many-languages-v1 --trials ${TRIALS:-6} --out $X/tune
}

compare() {
  for d in $X/pilot-s* $X/recipe-s*; do
    [ -f $d/measure/results.json ] && langgap compare $X/base $d/measure --out $X/cmp-${d##*/} -q
  done
  for d in $X/recipe-s*; do  # the recipe against the pilot of the same seed, per item
    s=${d##*-s}
    [ -f $d/measure/results.json ] && [ -f $X/pilot-s$s/measure/results.json ] &&
      langgap compare $X/pilot-s$s/measure $d/measure --out $X/rvp-s$s -q
  done
  langgap table $X/pilot-s*/measure $X/recipe-s*/measure --baseline $X/base --group-seeds --out $X/table -q
  python bench/experiments_many_tables.py $X > $X/tables.md   # the docs' tables, built on langgap.table
}

for step in "${@:-data base pilot recipe compare}"; do
  for s in $step; do $s; done
done
